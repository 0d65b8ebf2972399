#pragma once
// How well a detector's priors can fit a data set's boxes, before any training: the share
// of boxes some prior matches at the matcher's IoU (Ultralytics' "best possible recall"),
// the median best IoU, and the boxes' sizes in input pixels. A box no prior reaches trains
// only through its one forced best match, and is rarely found.
#include <string>
#include <vector>

#include "edgessd/common/priors.h"
#include "edgessd/data/dataset.h"

namespace edgessd {

struct ModelInfo;

struct PriorCoverage {
  size_t boxes = 0;                  // not difficult / group-of
  double best_possible_recall = 0;   // share of boxes with a prior at IoU >= the threshold
  double median_best_iou = 0;
  double smallest_prior = 0;         // the smallest prior's side, input pixels
  // Box width and height in input pixels (the image resized to the network's input):
  // 10th, 50th and 90th percentiles.
  double width[3] = {0, 0, 0};
  double height[3] = {0, 0, 0};
};

// `priors` in normalised centre form, as PriorBoxes gives them for the input size.
PriorCoverage prior_coverage(const DetectionDataset& data, const std::vector<CenterBox>& priors, int input_width,
                             int input_height, float iou_threshold = 0.5f);

// Two lines for a split: recall and IoU, then the box sizes.
std::string format_prior_coverage(const std::string& split, const PriorCoverage& coverage, float iou_threshold = 0.5f);

// A warning when fewer than 9 in 10 boxes can be matched, naming the remedies `model`
// (the geometry measured) does not use yet: a larger input, fitted priors, the stride-8
// head; "" otherwise.
std::string prior_coverage_warning(const PriorCoverage& coverage, const ModelInfo& model);

}  // namespace edgessd
