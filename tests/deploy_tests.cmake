# A deploy-only build (EDGESSD_DEPLOY_ONLY, e.g. the arm64 cross build): the tests of
# what it builds, none of them LibTorch's, each binary linking only the library it tests.
include(library_test.cmake)

# Tests start the reader's fuzz replay as a program: through the emulator when there is one.
set(EDGESSD_REPLAY_COMMAND "$<TARGET_FILE:fuzz_reader_text>")
if(CMAKE_CROSSCOMPILING_EMULATOR)
  list(JOIN CMAKE_CROSSCOMPILING_EMULATOR " " emulator)
  set(EDGESSD_REPLAY_COMMAND "${emulator} $<TARGET_FILE:fuzz_reader_text>")
endif()

set(EDGESSD_LIBRARY_TEST_DEFINITIONS EDGESSD_SHARED_DIR="${CMAKE_SOURCE_DIR}/../shared"
    EDGESSD_SOURCE_DIR="${CMAKE_SOURCE_DIR}" EDGESSD_FUZZ_READER_REPLAY="${EDGESSD_REPLAY_COMMAND}")
edgessd_library_test(test_common edgessd_core common/test_csv.cpp common/test_files.cpp)
edgessd_library_test(test_plates edgessd_core plates/test_plate_text.cpp plates/test_plate_pattern.cpp
                     plates/test_plate_render.cpp plates/test_plate_crops.cpp)
edgessd_library_test(test_data edgessd_core data/test_augmentation.cpp data/test_loader.cpp data/test_synth.cpp)
edgessd_library_test(test_reader_eval edgessd_core eval/test_reader_eval.cpp)
add_dependencies(test_reader_eval fuzz_reader_text)
edgessd_library_test(test_engine edgessd_runtime runtime/test_depthwise_conv.cpp runtime/test_xnnpack_conv.cpp
                     runtime/test_engine_parts.cpp)
edgessd_library_test(test_deploy edgessd_deploy deploy/test_tracker.cpp deploy/test_made_video.cpp)

# The ONNX fuzz target (both engines) over its seeds and their mutations, as test_runtime runs it.
set(corpus ${CMAKE_SOURCE_DIR}/fuzz/corpus-onnx)
add_test(NAME OnnxGraph.FuzzTargetSurvivesMutatedSeeds
         COMMAND fuzz_onnx_model --mutate 150 ${corpus}/seed-branchy-32.onnx ${corpus}/crash-transpose-perm.onnx
                 ${corpus}/crash-missing-initializer.onnx ${corpus}/crash-concat-shapes.onnx)
set_tests_properties(OnnxGraph.FuzzTargetSurvivesMutatedSeeds PROPERTIES TIMEOUT 1200
                     PASS_REGULAR_EXPRESSION "replayed 604 inputs without a crash")
