#pragma once
#include <opencv2/core.hpp>

#include "edgessd/common/detection.h"
#include "edgessd/common/model_info.h"
#include "edgessd/model/ssd.h"

namespace edgessd {

// pytorch-ssd's Predictor on a LibTorch net: resize to the input size, normalise,
// forward in eval mode, softmax + decode, per-class NMS.
class SsdPredictor {
 public:
  SsdPredictor(Ssd net, const ModelInfo& info, PostprocessOptions options = {});
  std::vector<Detection> predict(const cv::Mat& rgb);

 private:
  Ssd net_;
  ModelInfo info_;
  PostprocessOptions options_;
};

}  // namespace edgessd
