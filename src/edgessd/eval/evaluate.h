#pragma once
#include <functional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "edgessd/common/detection.h"
#include "edgessd/common/model_info.h"
#include "edgessd/data/dataset.h"

namespace edgessd {

// Anything that turns an RGB image into detections in its pixels: a LibTorch net, an
// ONNX engine.
using DetectFunction = std::function<std::vector<Detection>(const cv::Mat& rgb)>;

// A model opened for scoring, whichever kind it is: how it detects, its classes and input,
// and what it is for the printout ("X.onnx (ONNX, engine onednn)").
struct OpenedDetector {
  DetectFunction detect;
  ModelInfo info;
  std::string what;
};

struct EvalOptions {
  float iou_threshold = 0.5f;
  bool use_2007_metric = true;
  std::string eval_dir;  // det_test_<class>.txt and pr_curve.png go here when set
};

// AP over the objects of one size (COCO's buckets by area in the image's own pixels:
// small < 32^2, medium 32^2..96^2, large >= 96^2).
struct SizeBucketResult {
  std::string name;                       // small, medium, large
  std::vector<size_t> objects;            // per class: boxes of this size that count
  std::vector<double> average_precision;  // per class; NaN where the class has no such box
  double mean_average_precision = 0;      // over the classes with such boxes; NaN if none
};

struct EvalResult {
  std::vector<std::string> class_names;   // without BACKGROUND
  std::vector<double> average_precision;  // per class
  double mean_average_precision = 0;
  // Per class, the share of its boxes that some detection matches at the IoU threshold
  // (every detection the model reports, whatever its confidence); and their mean.
  std::vector<double> recall;
  double mean_recall = 0;
  std::vector<SizeBucketResult> by_size;  // small, medium, large
  float iou_threshold = 0.5f;
  size_t images = 0;
  double seconds = 0;
};

// eval_ssd.py: detect every image of the dataset, then per-class AP (VOC07 11-point or
// area) and their mean. Difficult (VOC) and group-of (Open Images) boxes neither count
// nor penalise.
EvalResult evaluate(const DetectionDataset& dataset, const DetectFunction& detect, const EvalOptions& options);

// The article's printout: "Average Precision Per-class:", "<class>: <AP>", and
// "Average Precision Across All Classes:<mAP>"; then AP by object size and recall.
std::string format_eval_report(const EvalResult& result);
// The same as one JSON object (`eval --json`).
std::string eval_report_json(const EvalResult& result);

}  // namespace edgessd
