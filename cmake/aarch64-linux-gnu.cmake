# Cross build for 64-bit ARM boards on Debian 12 (scripts/arm64.sh makes the sysroot):
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DEDGESSD_SYSROOT=DIR -DEDGESSD_DEPLOY_ONLY=ON
# Compilers from crossbuild-essential-arm64; headers and libraries only from the sysroot;
# tests and try_run go through qemu-aarch64-static -L SYSROOT (no binfmt_misc needed).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# try_compile projects re-read this file without the cache: the environment carries it.
if(EDGESSD_SYSROOT)
  set(ENV{EDGESSD_SYSROOT} "${EDGESSD_SYSROOT}")
else()
  set(EDGESSD_SYSROOT "$ENV{EDGESSD_SYSROOT}")
endif()
if(NOT EDGESSD_SYSROOT OR NOT EXISTS "${EDGESSD_SYSROOT}/usr/include")
  message(FATAL_ERROR "EDGESSD_SYSROOT='${EDGESSD_SYSROOT}' is not an arm64 sysroot (scripts/arm64.sh sysroot makes one)")
endif()
set(CMAKE_SYSROOT "${EDGESSD_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH "${EDGESSD_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# The sysroot's shared libraries pull in others (OpenCV -> GTK, FFmpeg, ...): the linker
# must find those inside the sysroot too.
set(CMAKE_EXE_LINKER_FLAGS_INIT
    "-Wl,-rpath-link,${EDGESSD_SYSROOT}/usr/lib/aarch64-linux-gnu -Wl,-rpath-link,${EDGESSD_SYSROOT}/lib/aarch64-linux-gnu")
# The emulated core is a board's, not qemu's default "max": that one has SVE, and oneDNN
# would run its SVE kernels (A64FX's), which no Raspberry Pi or Jetson has.
# cortex-a72: Raspberry Pi 4; cortex-a76: Pi 5; cortex-a57: Jetson Nano.
set(EDGESSD_QEMU_CPU cortex-a72 CACHE STRING "The core qemu emulates for tests")
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static -cpu ${EDGESSD_QEMU_CPU} -L "${EDGESSD_SYSROOT}")
