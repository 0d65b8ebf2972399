#include <gtest/gtest.h>

#include "edgessd/model/ssd.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // ctest runs two test processes at once on this 2-core machine: one thread each.
  edgessd::set_torch_threads(1);
  return RUN_ALL_TESTS();
}
