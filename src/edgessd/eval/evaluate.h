#pragma once
#include <functional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "edgessd/common/detection.h"
#include "edgessd/data/dataset.h"

namespace edgessd {

// Anything that turns an RGB image into detections in its pixels: a LibTorch net, an
// ONNX engine.
using DetectFunction = std::function<std::vector<Detection>(const cv::Mat& rgb)>;

struct EvalOptions {
  float iou_threshold = 0.5f;
  bool use_2007_metric = true;
  std::string eval_dir;  // det_test_<class>.txt and pr_curve.png go here when set
};

struct EvalResult {
  std::vector<std::string> class_names;   // without BACKGROUND
  std::vector<double> average_precision;  // per class
  double mean_average_precision = 0;
  size_t images = 0;
  double seconds = 0;
};

// eval_ssd.py: detect every image of the dataset, then per-class AP (VOC07 11-point or
// area) and their mean. Difficult (VOC) and group-of (Open Images) boxes neither count
// nor penalise.
EvalResult evaluate(const DetectionDataset& dataset, const DetectFunction& detect, const EvalOptions& options);

// The article's printout: "Average Precision Per-class:", "<class>: <AP>", and
// "Average Precision Across All Classes:<mAP>".
std::string format_eval_report(const EvalResult& result);

}  // namespace edgessd
