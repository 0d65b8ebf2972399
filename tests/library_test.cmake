# A test binary that links only the library it tests (no LibTorch, a main without torch):
# used by the full build and by a deploy-only one (tests/deploy_tests.cmake), where
# gtest_discover_tests and ctest run it through CMAKE_CROSSCOMPILING_EMULATOR.
# EDGESSD_LIBRARY_TEST_DEFINITIONS: the paths and programs the tests may use.
function(edgessd_library_test name library)
  add_executable(${name} ${ARGN} support/runtime_main.cpp)
  target_link_libraries(${name} PRIVATE ${library} GTest::gtest)
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_compile_definitions(${name} PRIVATE ${EDGESSD_LIBRARY_TEST_DEFINITIONS})
  # qemu runs the discovery too: give it time.
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 300 PROPERTIES TIMEOUT 1200)
endfunction()
