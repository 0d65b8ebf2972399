#pragma once
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "edgessd/common/detection.h"
#include "edgessd/deploy/detector_model.h"
#include "edgessd/runtime/engine.h"

namespace edgessd {

// Milliseconds spent in each stage of the last detect() call (detectnet's timing report).
struct DetectorTimings {
  double preprocess_ms = 0;
  double network_ms = 0;
  double postprocess_ms = 0;
};

// pytorch-ssd's Predictor on an ONNX model: resize to the model's input, (x-mean)/std,
// the engine's forward, then per-class NMS and the probability threshold, boxes in the
// pixels of the given image. The engine runs the graph; what its outputs mean is here.
class Detector {
 public:
  Detector(DetectorModel model, const EngineOptions& engine, PostprocessOptions options = {});
  std::vector<Detection> detect_rgb(const cv::Mat& rgb);
  std::vector<Detection> detect_bgr(const cv::Mat& bgr);

  const ModelInfo& info() const { return model_.info; }
  const DetectorModel& model() const { return model_; }
  std::string engine_name() const { return engine_->name(); }
  const DetectorTimings& last_timings() const { return timings_; }

 private:
  int64_t checked_priors() const;

  DetectorModel model_;
  std::unique_ptr<InferenceEngine> engine_;
  PostprocessOptions options_;
  std::vector<float> input_;
  std::vector<Tensor> outputs_;  // scores (N,P,C), boxes (N,P,4)
  DetectorTimings timings_;
};

}  // namespace edgessd
