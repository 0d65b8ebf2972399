#pragma once
// Reading plates with an exported reader (plate-reader.onnx) on the runtime's engines: a
// box of a frame cropped as in training (plates/plate_crops.h), the engine's column
// probabilities decoded greedily, or preferring --plate-pattern's formats when given
// (PlatePattern::read).
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "edgessd/common/boxes.h"
#include "edgessd/plates/plate_pattern.h"
#include "edgessd/plates/reader_info.h"
#include "edgessd/runtime/engine.h"
#include "edgessd/runtime/onnx_graph.h"

namespace edgessd {

// A plate reader exported by `edgessd export-reader`: input_0 (N,3,H,W) -> `chars` (N,T,C)
// column probabilities, with its reader JSON in the metadata.
struct ReaderModel {
  OnnxGraph graph;  // outputs: {chars}
  ReaderInfo info;
  const std::string& path() const { return graph.path; }
};
// load_onnx_graph's checks, then the reader's: its metadata, an input of the metadata's
// size, `chars` with the character set's classes; an Error naming the file for a
// detector or any other graph.
ReaderModel load_reader_model(const std::string& path);

class PlateReader {
 public:
  // `pattern`: --plate-pattern ("" = any text), checked against the reader's characters.
  PlateReader(const std::string& path, const EngineOptions& engine, const std::string& pattern = "");
  // The plate inside `pixels` (a detector's box) of an RGB or a BGR frame.
  PlateReading read_rgb(const cv::Mat& rgb, const CornerBox& pixels);
  PlateReading read_bgr(const cv::Mat& bgr, const CornerBox& pixels);
  const ReaderInfo& info() const { return model_.info; }
  const std::string& path() const { return model_.path(); }
  std::string engine_name() const { return engine_->name(); }
  double last_ms() const { return last_ms_; }  // the last read's crop + network + decode

 private:
  ReaderModel model_;
  std::unique_ptr<InferenceEngine> engine_;
  PlatePattern pattern_;
  std::vector<float> input_;
  std::vector<Tensor> outputs_;  // chars (N,T,C)
  double last_ms_ = 0;
};

}  // namespace edgessd
