#include "edgessd/runtime/plate_reader.h"

#include <opencv2/imgproc.hpp>

#include <chrono>

#include "edgessd/common/error.h"
#include "edgessd/common/progress.h"
#include "edgessd/data/plate_crops.h"

namespace edgessd {

PlateReader::PlateReader(const std::string& path, const EngineOptions& engine, const std::string& pattern)
    : model_(load_onnx_reader(path)) {
  if (!pattern.empty()) pattern_ = PlatePattern(pattern, model_.reader.charset);
  engine_ = create_engine(model_, engine);
  model_.bytes.reset();
  const ReaderInfo& info = model_.reader;
  input_.assign(static_cast<size_t>(model_.batch_size) * 3 * info.input_width * info.input_height, 0.0f);
}

PlateReading PlateReader::read_rgb(const cv::Mat& rgb, const CornerBox& pixels) {
  if (rgb.empty() || rgb.channels() != 3) throw Error("plate reader: expected a 3-channel image");
  const auto start = std::chrono::steady_clock::now();
  const ReaderInfo& info = model_.reader;
  reader_input(crop_plate(rgb, pixels, info), info, input_.data());
  int64_t columns = 0;
  engine_->forward(input_.data(), probs_, unused_, columns);
  const size_t classes = static_cast<size_t>(info.num_classes());
  if (columns <= 0 || probs_.size() < static_cast<size_t>(columns) * classes)
    throw Error(model_.path + ": the engine returned " + std::to_string(probs_.size()) + " scores for " +
                std::to_string(columns) + " columns of " + std::to_string(classes) + " classes");
  // Batch slot 0 only: a model exported for batch N reads one plate at a time here.
  PlateReading r = pattern_.empty() ? ctc_greedy_read(probs_.data(), static_cast<size_t>(columns), info.charset)
                                    : pattern_.decode(probs_.data(), static_cast<size_t>(columns));
  last_ms_ = ms_since(start);
  return r;
}

PlateReading PlateReader::read_bgr(const cv::Mat& bgr, const CornerBox& pixels) {
  // Only the crop is converted to RGB: the reader's own rectangle, the box inside it.
  const cv::Rect r = plate_crop_rect(pixels, model_.reader, bgr.cols, bgr.rows);
  cv::Mat rgb;
  cv::cvtColor(bgr(r), rgb, cv::COLOR_BGR2RGB);
  const CornerBox inside{pixels.x1 - r.x, pixels.y1 - r.y, pixels.x2 - r.x, pixels.y2 - r.y};
  return read_rgb(rgb, inside);
}

}  // namespace edgessd
