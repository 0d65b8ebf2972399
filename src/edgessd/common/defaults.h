#pragma once
// What train makes when not told otherwise (issue 14's small-object geometry); `priors`
// reports on the same. The net's activation does not change its priors.

namespace edgessd {

constexpr const char* kDefaultResolution = "384";
constexpr const char* kDefaultPriors = "auto";
constexpr const char* kDefaultNet = "mb1-ssd-s8";  // train: --pretrained-ssd's net + "-s8" when given
// Issue 29's shape jitter (data/augmentation.h, ShapeJitter): plates of other aspects and
// sizes than the training set's. pytorch-ssd's augmentation is --stretch 1 --zoom-in 0.
constexpr double kDefaultStretch = 2.5;
constexpr double kDefaultZoomIn = 0.15;

}  // namespace edgessd
