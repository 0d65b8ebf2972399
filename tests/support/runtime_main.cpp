#include <gtest/gtest.h>

// The main of the test binaries that link no LibTorch (tests/deploy_tests.cmake).
int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
