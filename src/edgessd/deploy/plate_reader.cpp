#include "edgessd/deploy/plate_reader.h"

#include <opencv2/imgproc.hpp>

#include <chrono>

#include "edgessd/common/error.h"
#include "edgessd/common/progress.h"
#include "edgessd/plates/plate_crops.h"

namespace edgessd {

ReaderModel load_reader_model(const std::string& path) {
  ReaderModel m;
  m.graph = load_onnx_graph(path);
  auto json = m.graph.metadata.find("edgessd-reader");
  if (json == m.graph.metadata.end())
    throw Error(path + ": not a plate reader (no edgessd-reader metadata); make one with edgessd export-reader");
  m.info = reader_info_from_json(json->second, path + " (edgessd-reader metadata)");
  const int width = m.graph.input_width, height = m.graph.input_height;
  if (width != m.info.input_width || height != m.info.input_height)
    throw Error(path + ": its input is " + std::to_string(width) + "x" + std::to_string(height) +
                " but its metadata says " + std::to_string(m.info.input_width) + "x" +
                std::to_string(m.info.input_height));
  select_outputs(m.graph, {{"chars", "the reader's output"}});
  const TensorShape& chars = m.graph.output_shapes[0];
  const int64_t classes = chars.size() > 2 ? chars[2] : 0;
  if (classes != m.info.num_classes())
    throw Error(path + ": 'chars' has " + std::to_string(classes) + " classes but the character set " +
                "needs " + std::to_string(m.info.num_classes()) + " (blank included)");
  m.info.source = path;
  return m;
}

PlateReader::PlateReader(const std::string& path, const EngineOptions& engine, const std::string& pattern)
    : model_(load_reader_model(path)) {
  if (!pattern.empty()) pattern_ = PlatePattern(pattern, model_.info.charset);
  engine_ = create_engine(model_.graph, engine);
  model_.graph.bytes.reset();
  const ReaderInfo& info = model_.info;
  input_.assign(static_cast<size_t>(model_.graph.batch_size) * 3 * info.input_width * info.input_height, 0.0f);
}

PlateReading PlateReader::read_rgb(const cv::Mat& rgb, const CornerBox& pixels) {
  if (rgb.empty() || rgb.channels() != 3) throw Error("plate reader: expected a 3-channel image");
  const auto start = std::chrono::steady_clock::now();
  const ReaderInfo& info = model_.info;
  reader_input(crop_plate(rgb, pixels, info), info, input_.data());
  engine_->forward(input_.data(), outputs_);
  const Tensor& chars = outputs_[0];
  if (chars.shape.size() != 3 || chars.shape[1] <= 0 || chars.shape[2] != info.num_classes())
    throw Error(model_.path() + ": 'chars' is not (N,T," + std::to_string(info.num_classes()) + ") column scores");
  // Batch slot 0 only: a model exported for batch N reads one plate at a time here.
  const size_t columns = static_cast<size_t>(chars.shape[1]);
  PlateReading r = pattern_.empty() ? ctc_greedy_read(chars.data.data(), columns, info.charset)
                                    : pattern_.read(chars.data.data(), columns);
  last_ms_ = ms_since(start);
  return r;
}

PlateReading PlateReader::read_bgr(const cv::Mat& bgr, const CornerBox& pixels) {
  // Only the crop is converted to RGB: the reader's own rectangle, the box inside it.
  const cv::Rect r = plate_crop_rect(pixels, model_.info, bgr.cols, bgr.rows);
  cv::Mat rgb;
  cv::cvtColor(bgr(r), rgb, cv::COLOR_BGR2RGB);
  const CornerBox inside{pixels.x1 - r.x, pixels.y1 - r.y, pixels.x2 - r.x, pixels.y2 - r.y};
  return read_rgb(rgb, inside);
}

}  // namespace edgessd
