#pragma once
// Reading plates with an exported reader (plate-reader.onnx) on the runtime's engines: a
// box of a frame cropped as in training (data/plate_crops.h), the engine's column
// probabilities decoded greedily, or by --plate-pattern's formats when given.
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "edgessd/common/boxes.h"
#include "edgessd/eval/plate_pattern.h"
#include "edgessd/runtime/engine.h"
#include "edgessd/runtime/onnx_model.h"

namespace edgessd {

class PlateReader {
 public:
  // `pattern`: --plate-pattern ("" = any text), checked against the reader's characters.
  PlateReader(const std::string& path, const EngineOptions& engine, const std::string& pattern = "");
  // The plate inside `pixels` (a detector's box) of an RGB or a BGR frame.
  PlateReading read_rgb(const cv::Mat& rgb, const CornerBox& pixels);
  PlateReading read_bgr(const cv::Mat& bgr, const CornerBox& pixels);
  const ReaderInfo& info() const { return model_.reader; }
  const std::string& path() const { return model_.path; }
  std::string engine_name() const { return engine_->name(); }
  double last_ms() const { return last_ms_; }  // the last read's crop + network + decode

 private:
  OnnxModel model_;
  std::unique_ptr<InferenceEngine> engine_;
  PlatePattern pattern_;
  std::vector<float> input_, probs_, unused_;
  double last_ms_ = 0;
};

}  // namespace edgessd
