# EDGESSD_DEPLOY_ONLY: what a board needs (scripts/arm64.sh): edgessd_core, edgessd_runtime,
# edgessd_deploy and edgessd-detect, the fuzz replays and benches that need no LibTorch, the tests of
# those libraries, install and the .deb. Included from CMakeLists.txt after the runtime.
foreach(target fuzz_onnx_model fuzz_voc_annotation fuzz_reader_text)
  add_executable(${target} fuzz/${target}.cpp fuzz/replay_main.cpp)
endforeach()
target_link_libraries(fuzz_onnx_model PRIVATE edgessd_deploy)
target_link_libraries(fuzz_voc_annotation PRIVATE edgessd_core)
target_link_libraries(fuzz_reader_text PRIVATE edgessd_core)

add_executable(reader_time bench/reader_time.cpp)
target_link_libraries(reader_time PRIVATE edgessd_deploy)
add_executable(make_pan_video bench/make_pan_video.cpp)
target_link_libraries(make_pan_video PRIVATE edgessd_core)
find_library(XNNPACK_LIBRARY XNNPACK)
find_library(PTHREADPOOL_LIBRARY pthreadpool)
if(XNNPACK_LIBRARY AND PTHREADPOOL_LIBRARY)
  add_executable(xnnpack_convs bench/xnnpack_convs.cpp)
  target_link_libraries(xnnpack_convs PRIVATE ${XNNPACK_LIBRARY} ${PTHREADPOOL_LIBRARY})
endif()

include(cmake/install.cmake)
if(EDGESSD_BUILD_TESTS)
  enable_testing()
  add_subdirectory(tests)
endif()
