// How train-reader fills an epoch: real plates a given share beside the synthetic ones.
#include <gtest/gtest.h>

#include "edgessd/train/reader_trainer.h"

using namespace edgessd;

TEST(ReaderEpoch, RealPlatesTakeTheirShareOfTheEpoch) {
  ReaderTrainOptions o;
  o.synth_plates = 4000;
  o.real_share = 0.4;
  // 130 real plates: repeated to 2667, 40% of 6667 crops.
  EXPECT_EQ(real_crops_per_epoch({130}, o), (std::vector<size_t>{2667}));
  // Two sets share it by size, or equally with balance_data.
  EXPECT_EQ(real_crops_per_epoch({100, 300}, o), (std::vector<size_t>{667, 2000}));
  o.balance_data = true;
  EXPECT_EQ(real_crops_per_epoch({100, 300}, o), (std::vector<size_t>{1333, 1333}));
  // No share, or no synthetic plates: each plate once (or balanced).
  o.balance_data = false;
  o.real_share = 0;
  EXPECT_EQ(real_crops_per_epoch({100, 300}, o), (std::vector<size_t>{100, 300}));
  o.real_share = 0.4;
  o.synth_plates = 0;
  EXPECT_EQ(real_crops_per_epoch({100, 300}, o), (std::vector<size_t>{100, 300}));
  // A tiny share still keeps one crop of each set.
  o.synth_plates = 10;
  o.real_share = 0.01;
  EXPECT_EQ(real_crops_per_epoch({100, 300}, o), (std::vector<size_t>{1, 1}));
}
