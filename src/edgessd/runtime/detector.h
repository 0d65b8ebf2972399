#pragma once
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "edgessd/common/detection.h"
#include "edgessd/runtime/engine.h"
#include "edgessd/runtime/onnx_model.h"

namespace edgessd {

// Milliseconds spent in each stage of the last detect() call (detectnet's timing report).
struct DetectorTimings {
  double preprocess_ms = 0;
  double network_ms = 0;
  double postprocess_ms = 0;
};

// pytorch-ssd's Predictor on an ONNX model: resize to the model's input, (x-mean)/std,
// the engine's forward, then per-class NMS and the probability threshold, boxes in the
// pixels of the given image.
class Detector {
 public:
  Detector(OnnxModel model, const EngineOptions& engine, PostprocessOptions options = {});
  std::vector<Detection> detect_rgb(const cv::Mat& rgb);
  std::vector<Detection> detect_bgr(const cv::Mat& bgr);

  const ModelInfo& info() const { return model_.info; }
  const OnnxModel& model() const { return model_; }
  std::string engine_name() const { return engine_->name(); }
  const DetectorTimings& last_timings() const { return timings_; }

 private:
  OnnxModel model_;
  std::unique_ptr<InferenceEngine> engine_;
  PostprocessOptions options_;
  std::vector<float> input_, scores_, boxes_;
  DetectorTimings timings_;
};

}  // namespace edgessd
