#include "edgessd/runtime/detector.h"

#include <opencv2/imgproc.hpp>

#include <chrono>

#include "edgessd/common/error.h"
#include "edgessd/common/image.h"
#include "edgessd/common/progress.h"

namespace edgessd {

Detector::Detector(OnnxModel model, const EngineOptions& engine, PostprocessOptions options)
    : model_(std::move(model)), engine_(create_engine(model_, engine)), options_(options) {
  model_.bytes.reset();  // the engine holds what it needs; the file goes
  const ModelInfo& info = model_.info;
  input_.assign(static_cast<size_t>(model_.batch_size) * 3 * info.input_width * info.input_height, 0.0f);
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

std::vector<Detection> Detector::detect_rgb(const cv::Mat& rgb) {
  if (rgb.empty() || rgb.channels() != 3) throw Error("detector: expected a 3-channel image");
  const ModelInfo& info = model_.info;
  auto start = std::chrono::steady_clock::now();
  // A model exported for batch N gets the image in its first slot; the rest stay zero.
  to_network_input(rgb, info.input_width, info.input_height, info.image_mean, info.image_std, input_.data());
  timings_.preprocess_ms = ms_since(start);

  start = std::chrono::steady_clock::now();
  int64_t priors = 0;
  engine_->forward(input_.data(), scores_, boxes_, priors);
  timings_.network_ms = ms_since(start);

  start = std::chrono::steady_clock::now();
  const int classes = info.num_classes();
  const int64_t per_prior = priors > 0 ? static_cast<int64_t>(scores_.size()) / (priors * model_.batch_size) : 0;
  if (per_prior != classes || static_cast<int64_t>(boxes_.size()) != priors * 4 * model_.batch_size)
    throw Error(model_.path + ": the scores output has " + std::to_string(per_prior) +
                " classes per prior but the labels name " + std::to_string(classes));
  std::vector<Detection> detections =
      postprocess_detections(scores_.data(), boxes_.data(), priors, classes, rgb.cols, rgb.rows, options_);
  timings_.postprocess_ms = ms_since(start);
  return detections;
}

}  // namespace edgessd
