#include "edgessd/deploy/detector.h"

#include <opencv2/imgproc.hpp>

#include <chrono>

#include "edgessd/common/error.h"
#include "edgessd/common/image.h"
#include "edgessd/common/progress.h"

namespace edgessd {

Detector::Detector(DetectorModel model, const EngineOptions& engine, PostprocessOptions options)
    : model_(std::move(model)), engine_(create_engine(model_.graph, engine)), options_(options) {
  model_.graph.bytes.reset();  // the engine holds what it needs; the file goes
  const ModelInfo& info = model_.info;
  input_.assign(static_cast<size_t>(model_.graph.batch_size) * 3 * info.input_width * info.input_height, 0.0f);
}

std::vector<Detection> Detector::detect_bgr(const cv::Mat& bgr) {
  const auto start = std::chrono::steady_clock::now();
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  const double convert_ms = ms_since(start);
  std::vector<Detection> detections = detect_rgb(rgb);
  timings_.preprocess_ms += convert_ms;
  return detections;
}

// The prior count P of the pass's outputs, once they are (N,P,C) scores with the labels'
// C and (N,P,4) boxes.
int64_t Detector::checked_priors() const {
  const TensorShape& s = outputs_[0].shape;
  const TensorShape& b = outputs_[1].shape;
  if (s.size() != 3 || b.size() != 3 || b[2] != 4 || s[1] != b[1])
    throw Error(model_.path() + ": outputs are not (N,P,C) scores and (N,P,4) boxes");
  const int classes = model_.info.num_classes();
  if (s[2] != classes)
    throw Error(model_.path() + ": the scores output has " + std::to_string(s[2]) +
                " classes per prior but the labels name " + std::to_string(classes));
  return b[1];
}

std::vector<Detection> Detector::detect_rgb(const cv::Mat& rgb) {
  if (rgb.empty() || rgb.channels() != 3) throw Error("detector: expected a 3-channel image");
  const ModelInfo& info = model_.info;
  auto start = std::chrono::steady_clock::now();
  // A model exported for batch N gets the image in its first slot; the rest stay zero.
  to_network_input(rgb, info.input_width, info.input_height, info.image_mean, info.image_std, input_.data());
  timings_.preprocess_ms = ms_since(start);

  start = std::chrono::steady_clock::now();
  engine_->forward(input_.data(), outputs_);
  timings_.network_ms = ms_since(start);

  start = std::chrono::steady_clock::now();
  const int64_t priors = checked_priors();
  std::vector<Detection> detections = postprocess_detections(outputs_[0].data.data(), outputs_[1].data.data(), priors,
                                                             info.num_classes(), rgb.cols, rgb.rows, options_);
  timings_.postprocess_ms = ms_since(start);
  return detections;
}

}  // namespace edgessd
