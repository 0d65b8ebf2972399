#!/usr/bin/env bash
# The deploy side for 64-bit ARM boards (Raspberry Pi 4/5, Jetson, Rockchip) on Debian 12
# arm64, cross-built on an amd64 Debian 12 machine:
#
#   scripts/arm64.sh [all|sysroot|build|test|package] [--workdir DIR]
#
#   sysroot  Debian 12 arm64 -dev packages unpacked into WORKDIR/sysroot (mmdebstrap
#            --variant=extract: no arm64 code runs to make it), kept for reruns
#   build    build-arm64/: edgessd_core, edgessd_runtime, edgessd_deploy, edgessd-detect, their
#            tests and benches (EDGESSD_DEPLOY_ONLY: no LibTorch, so no training on the board)
#   test     the runtime tests under qemu-aarch64-static -cpu cortex-a72 -L SYSROOT (QEMU_CPU
#            picks another core: cortex-a76, cortex-a57), then detections of the
#            x86 build (build/) and the arm64 build compared on the same ONNX models and
#            photos: fp32, int8 and the plate reader (scripts/compare_detections.py)
#   package  build-arm64/edgessd_VERSION_arm64.deb, its Depends read off the program's
#            NEEDED libraries and the arm64 packages that hold them
#
# `all` (the default) does the four in turn. Needs root for apt-get (the host's
# crossbuild-essential-arm64, qemu-user-static and mmdebstrap are installed if missing);
# `test` needs the x86 build (scripts/setup.sh) to export the models it compares.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
WORKDIR=/var/tmp/edgessd-arm64
STEP=all
while [ $# -gt 0 ]; do
  case "$1" in
    all | sysroot | build | test | package) STEP=$1; shift ;;
    --workdir) [ $# -ge 2 ] || { echo "arm64.sh: error: --workdir needs a folder" >&2; exit 1; }
               WORKDIR=$2; shift 2 ;;
    *) echo "arm64.sh: error: unknown argument '$1' (steps: all sysroot build test package; --workdir DIR)" >&2; exit 1 ;;
  esac
done
WORKDIR=$(realpath -m "$WORKDIR")  # as given, from where the script was started
cd "$REPO"
SYSROOT=$WORKDIR/sysroot
# The core qemu emulates: a board's (cmake/aarch64-linux-gnu.cmake says why not "max").
export QEMU_CPU=${QEMU_CPU:-cortex-a72}
BUILD=$REPO/build-arm64
TRIPLE=aarch64-linux-gnu
log() { echo "[arm64] $(date +%T) $*"; }
die() { echo "arm64.sh: error: $*" >&2; exit 1; }

# The arm64 packages the deploy side builds and runs against (scripts/setup.sh has the why
# of each); libc/libstdc++ come from the sysroot, not the cross toolchain's own copies, so
# the programs link against exactly what a board's Debian 12 has.
SYSROOT_PACKAGES=(
  libc6-dev libstdc++-12-dev libgcc-12-dev libgomp1
  libopencv-dev libdnnl-dev ocl-icd-opencl-dev libonnx-dev libprotobuf-dev
  libxnnpack-dev libpthreadpool-dev zlib1g-dev libtinyxml2-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev
)
HOST_PACKAGES=(crossbuild-essential-arm64 qemu-user-static mmdebstrap ninja-build cmake file)

host_packages() {
  local missing=() p
  for p in "${HOST_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  [ "$(id -u)" -eq 0 ] || die "needs root to apt-get install ${missing[*]}"
  log "apt-get install ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Absolute symlinks in the unpacked packages (and the update-alternatives links that only
# maintainer scripts would make: libblas.so.3, liblapack.so.3) re-pointed inside the
# sysroot, so the cross linker and qemu -L never follow one out to the host's files.
fix_links() {
  local root=$1 link target
  while IFS= read -r -d '' link; do
    target=$(readlink "$link")
    [[ $target == /* ]] || continue
    ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$root$target")" "$link"
  done < <(find "$root" -type l -print0)
  local lib=$root/usr/lib/$TRIPLE name dir
  for name in libblas.so.3 liblapack.so.3; do
    [ -e "$lib/$name" ] && continue
    for dir in openblas-pthread blas lapack atlas; do
      if [ -e "$lib/$dir/$name" ]; then ln -sfn "$dir/$name" "$lib/$name"; break; fi
    done
  done
}

# soname -> package index of every unpacked .deb, for the .deb's Depends (dpkg-shlibdeps
# needs an installed arm64 dpkg database, which an extract-only sysroot does not have).
index_sonames() {
  local root=$1 deb
  : >"$root/.edgessd-sonames"
  for deb in "$root"/var/cache/apt/archives/*.deb; do
    dpkg-deb -c "$deb" | awk -v pkg="$(dpkg-deb -f "$deb" Package)" -v ver="$(dpkg-deb -f "$deb" Version)" \
      '{ n = split($6, p, "/"); if (p[n] ~ /\.so(\.[0-9]+)*$/) print p[n], pkg, ver }' >>"$root/.edgessd-sonames"
  done
}

make_sysroot() {
  [ -f "$SYSROOT/.edgessd-complete" ] && { log "sysroot: reusing $SYSROOT"; return; }
  local t0=$SECONDS part=$SYSROOT.part
  rm -rf "$part" && mkdir -p "$WORKDIR"
  log "sysroot: mmdebstrap --arch=arm64 --variant=extract bookworm (${#SYSROOT_PACKAGES[@]} packages and their dependencies)"
  local include
  include=$(IFS=,; echo "${SYSROOT_PACKAGES[*]}")
  mmdebstrap --arch=arm64 --variant=extract --include="$include" --skip=cleanup/apt/cache \
    bookworm "$part" >"$WORKDIR/mmdebstrap.log" 2>&1 ||
    { tail -n 20 "$WORKDIR/mmdebstrap.log" >&2; die "mmdebstrap failed (log: $WORKDIR/mmdebstrap.log)"; }
  fix_links "$part"
  index_sonames "$part"
  rm -f "$part"/var/cache/apt/archives/*.deb
  rm -rf "$SYSROOT" && mv "$part" "$SYSROOT" && touch "$SYSROOT/.edgessd-complete"
  log "sysroot: $(du -sh "$SYSROOT" | cut -f1) in $((SECONDS - t0)) s"
}

build_arm64() {
  [ -f "$SYSROOT/.edgessd-complete" ] || die "no sysroot at $SYSROOT: run scripts/arm64.sh sysroot first"
  local t0=$SECONDS launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  log "build: cmake (aarch64-linux-gnu, EDGESSD_DEPLOY_ONLY) into $BUILD"
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_TOOLCHAIN_FILE="$REPO/cmake/aarch64-linux-gnu.cmake" \
    -DEDGESSD_SYSROOT="$SYSROOT" -DEDGESSD_QEMU_CPU="$QEMU_CPU" -DEDGESSD_DEPLOY_ONLY=ON "${launcher[@]}" >"$WORKDIR/cmake.log" 2>&1 ||
    { tail -n 30 "$WORKDIR/cmake.log" >&2; die "cmake failed (log: $WORKDIR/cmake.log)"; }
  cmake --build "$BUILD" -j"$(nproc)"
  file "$BUILD/edgessd-detect" | grep -q "ARM aarch64" || die "$BUILD/edgessd-detect is not an aarch64 program"
  log "build: $(file -b "$BUILD/edgessd-detect" | cut -d, -f1-2) in $((SECONDS - t0)) s"
}

qemu() { qemu-aarch64-static -L "$SYSROOT" "$@"; }

# The models the parity check runs: a trained plate detector (pytorch-ssd's, from ../shared)
# or, without ../shared, face-api's face detector; its int8 calibration; a plate reader
# trained for two epochs on synthetic plates (its numbers, not its reading, are compared).
make_models() {
  local p=$1 x86=$REPO/build shared=$REPO/../shared
  local ref=$shared/fixtures/pytorch-ssd/ref-trained.pth
  mkdir -p "$p/images"
  if [ -f "$ref" ] && ls "$shared"/datasets/plates-us/test/*.jpg >/dev/null 2>&1; then
    "$x86/edgessd" export --input "$ref" --net mb1-ssd-relu6 --labels "${ref%.pth}-labels.txt" --output "$p/detector.onnx"
    cp $(ls "$shared"/datasets/plates-us/test/*.jpg | head -n 6) "$p/images/"
    "$x86/edgessd" quantize --model "$p/detector.onnx" --calibration "$shared/datasets/plates-us/train" --images 32 \
      --output "$p/detector-int8.onnx"
  else
    log "test: no ../shared: the parity check uses face-api's face detector and photos"
    "$x86/edgessd" convert --from face-api --output "$p/face.pth"
    "$x86/edgessd" export --input "$p/face.pth" --output "$p/detector.onnx"
    cp "$REPO"/node_modules/@vladmandic/face-api/demo/*.jpg "$p/images/"
    "$x86/edgessd" quantize --model "$p/detector.onnx" --calibration "$p/images" --output "$p/detector-int8.onnx"
  fi
  "$x86/edgessd" synth --out "$p/synth" --count 40 --seed 3
  "$x86/edgessd" train-reader --data "$p/synth" --model-dir "$p/reader" --synth-plates 64 --num-epochs 2 \
    --batch-size 16 --threads 2
  "$x86/edgessd" export-reader --model-dir "$p/reader" --output "$p/reader.onnx"
}

# One case: the same edgessd-detect command on x86 and under qemu, compared.
parity_case() {
  local name=$1 confidence=$2 pixels=$3; shift 3
  local p=$WORKDIR/parity args=(--headless --json --threshold 0.3 "$@" "$WORKDIR/parity/images" "$WORKDIR/parity/out-$name")
  "$REPO/build/edgessd-detect" "${args[@]}" >"$p/$name-x86.jsonl" 2>"$p/$name-x86.log" ||
    { tail -n 5 "$p/$name-x86.log" >&2; die "parity $name: the x86 edgessd-detect failed"; }
  rm -rf "$p/out-$name"
  qemu "$BUILD/edgessd-detect" "${args[@]}" >"$p/$name-arm64.jsonl" 2>"$p/$name-arm64.log" ||
    { tail -n 5 "$p/$name-arm64.log" >&2; die "parity $name: the arm64 edgessd-detect failed under qemu"; }
  local result
  result=$("$REPO/scripts/compare_detections.py" "$p/$name-x86.jsonl" "$p/$name-arm64.jsonl" \
           --confidence "$confidence" --pixels "$pixels" --threshold 0.3) ||
    { echo "$result" >&2; die "parity $name: the arm64 detections differ from x86's"; }
  log "test: parity $name: $result"
}

test_arm64() {
  [ -x "$BUILD/edgessd-detect" ] || die "no arm64 build in $BUILD: run scripts/arm64.sh build first"
  [ -x "$REPO/build/edgessd" ] || die "the parity check needs the x86 build (scripts/setup.sh): no $REPO/build/edgessd"
  local t0=$SECONDS
  log "test: the runtime tests under qemu-aarch64-static (ctest in $BUILD)"
  (cd "$BUILD" && ctest -j"$(nproc)" --output-on-failure) >"$WORKDIR/ctest.log" 2>&1 ||
    { tail -n 40 "$WORKDIR/ctest.log" >&2; die "ctest under qemu failed (log: $WORKDIR/ctest.log)"; }
  log "test: $(grep -E "tests passed" "$WORKDIR/ctest.log")"
  rm -rf "$WORKDIR/parity" && mkdir -p "$WORKDIR/parity"
  make_models "$WORKDIR/parity" >"$WORKDIR/models.log" 2>&1 ||
    { tail -n 20 "$WORKDIR/models.log" >&2; die "making the parity models with the x86 build failed (log: $WORKDIR/models.log)"; }
  local p=$WORKDIR/parity
  # Tolerances: the fp32 engines' parity (1e-3 on a score); int8 rounds each layer to a
  # step, which a different kernel may round the other way.
  parity_case fp32-onednn 2e-3 0.5 --model "$p/detector.onnx" --engine onednn --threads 2
  parity_case fp32-opencv 2e-3 0.5 --model "$p/detector.onnx" --engine opencv --threads 2
  parity_case int8-onednn 3e-2 3 --model "$p/detector-int8.onnx" --engine onednn --threads 2
  parity_case reader 2e-3 0.5 --model "$p/detector.onnx" --engine onednn --threads 2 --reader "$p/reader.onnx"
  log "test: passed in $((SECONDS - t0)) s"
}

# Depends of the .deb: the arm64 package holding each library the programs need.
deb_depends() {
  local index=$SYSROOT/.edgessd-sonames lib deps=()
  for lib in $(aarch64-linux-gnu-readelf -d "$BUILD/edgessd-detect" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
    local row
    row=$(awk -v so="$lib" '$1 == so { print $2, $3; exit }' "$index")
    [ -n "$row" ] || die "package: no arm64 package in the sysroot holds $lib"
    local version=${row#* }
    deps+=("${row% *} (>= ${version%%-*})")  # the upstream version: any Debian 12 point release
  done
  printf '%s\n' "${deps[@]}" | sort -u | paste -sd, | sed 's/,/, /g'
}

package_arm64() {
  [ -x "$BUILD/edgessd-detect" ] || die "no arm64 build in $BUILD: run scripts/arm64.sh build first"
  local depends
  depends=$(deb_depends)
  (cd "$BUILD" && cpack -G DEB -D CPACK_DEBIAN_PACKAGE_DEPENDS="$depends") >"$WORKDIR/cpack.log" 2>&1 ||
    { tail -n 20 "$WORKDIR/cpack.log" >&2; die "cpack failed (log: $WORKDIR/cpack.log)"; }
  local deb
  deb=$(ls "$BUILD"/edgessd_*_arm64.deb)
  log "package: $deb ($(du -h "$deb" | cut -f1)); Depends: $depends"
  check_deb "$deb"
}

# mmdebstrap's file-mirror-automount hook bind-mounts the .deb into the root and, in an
# extract-only run, leaves it mounted.
unmount_under() {
  local m
  while read -r m; do umount -l "$m"; done < \
    <(awk -v r="$(realpath -m "$1")" 'index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r)
}

# The .deb as a board gets it: apt resolves its Depends from Debian's arm64 packages into
# an empty root (nothing else installed), and its edgessd-detect runs one detection there.
check_deb() {
  local deb=$1 root=$WORKDIR/deb-root t0=$SECONDS
  unmount_under "$root"
  rm -rf --one-file-system "$root"
  mmdebstrap --arch=arm64 --variant=extract --include="$deb" --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
    bookworm "$root" >"$WORKDIR/deb-root.log" 2>&1 ||
    { tail -n 20 "$WORKDIR/deb-root.log" >&2; die "package: apt could not install $deb with its Depends (log: $WORKDIR/deb-root.log)"; }
  unmount_under "$root"
  fix_links "$root"
  local image
  image=$(ls "$WORKDIR"/parity/images/*.jpg 2>/dev/null | head -n 1 || true)
  qemu-aarch64-static -L "$root" "$root/usr/bin/edgessd-detect" --version >/dev/null ||
    die "package: the installed edgessd-detect does not start with only its Depends"
  if [ -n "$image" ]; then
    qemu-aarch64-static -L "$root" "$root/usr/bin/edgessd-detect" --headless --model "$WORKDIR/parity/detector.onnx" \
      "$image" "$WORKDIR/deb-detect.jpg" >"$WORKDIR/deb-detect.log" 2>&1 && [ -s "$WORKDIR/deb-detect.jpg" ] ||
      { tail -n 5 "$WORKDIR/deb-detect.log" >&2; die "package: the installed edgessd-detect failed a detection"; }
  fi
  log "package: installed with its Depends alone into an empty arm64 root and ran${image:+ a detection} in $((SECONDS - t0)) s"
  rm -rf --one-file-system "$root"
}

host_packages
case "$STEP" in
  sysroot) make_sysroot ;;
  build) build_arm64 ;;
  test) test_arm64 ;;
  package) package_arm64 ;;
  all) make_sysroot; build_arm64; test_arm64; package_arm64 ;;
esac
