# A deploy-only build (EDGESSD_DEPLOY_ONLY, e.g. the arm64 cross build): the tests of
# what it builds, none of them LibTorch's. Each binary links only the library it tests;
# gtest_discover_tests and ctest run them through CMAKE_CROSSCOMPILING_EMULATOR.
function(edgessd_deploy_test name library)
  add_executable(${name} ${ARGN} support/runtime_main.cpp)
  target_link_libraries(${name} PRIVATE ${library} GTest::gtest)
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_compile_definitions(${name} PRIVATE EDGESSD_SHARED_DIR="${CMAKE_SOURCE_DIR}/../shared"
    EDGESSD_SOURCE_DIR="${CMAKE_SOURCE_DIR}" EDGESSD_FUZZ_READER_REPLAY="${EDGESSD_REPLAY_COMMAND}")
  # qemu runs the discovery too: give it time.
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 300 PROPERTIES TIMEOUT 1200)
endfunction()

# Tests start the reader's fuzz replay as a program: through the emulator when there is one.
set(EDGESSD_REPLAY_COMMAND "$<TARGET_FILE:fuzz_reader_text>")
if(CMAKE_CROSSCOMPILING_EMULATOR)
  list(JOIN CMAKE_CROSSCOMPILING_EMULATOR " " emulator)
  set(EDGESSD_REPLAY_COMMAND "${emulator} $<TARGET_FILE:fuzz_reader_text>")
endif()

edgessd_deploy_test(test_common_deploy edgessd_core common/test_csv.cpp common/test_files.cpp)
edgessd_deploy_test(test_data_deploy edgessd_core data/test_augmentation.cpp data/test_loader.cpp
                    data/test_plate_render.cpp data/test_synth.cpp)
edgessd_deploy_test(test_eval_deploy edgessd_core eval/test_plate_text.cpp eval/test_plate_pattern.cpp
                    eval/test_reader_eval.cpp)
add_dependencies(test_eval_deploy fuzz_reader_text)
edgessd_deploy_test(test_runtime_deploy edgessd_runtime runtime/test_depthwise_conv.cpp runtime/test_xnnpack_conv.cpp
                    runtime/test_engine_parts.cpp runtime/test_tracker.cpp runtime/test_made_video.cpp)

# The ONNX fuzz target (both engines) over its seeds and their mutations, as test_runtime runs it.
set(corpus ${CMAKE_SOURCE_DIR}/fuzz/corpus-onnx)
add_test(NAME OnnxModel.FuzzTargetSurvivesMutatedSeeds
         COMMAND fuzz_onnx_model --mutate 150 ${corpus}/seed-branchy-32.onnx ${corpus}/crash-transpose-perm.onnx
                 ${corpus}/crash-missing-initializer.onnx ${corpus}/crash-concat-shapes.onnx)
set_tests_properties(OnnxModel.FuzzTargetSurvivesMutatedSeeds PROPERTIES TIMEOUT 1200
                     PASS_REGULAR_EXPRESSION "replayed 604 inputs without a crash")
