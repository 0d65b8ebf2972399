#include "edgessd/model/ssd_predictor.h"

#include <torch/torch.h>

#include "edgessd/common/image.h"

namespace edgessd {

SsdPredictor::SsdPredictor(Ssd net, const ModelInfo& info, PostprocessOptions options)
    : net_(std::move(net)), info_(info), options_(options) {
  net_->eval();
}

std::vector<Detection> SsdPredictor::predict(const cv::Mat& rgb) {
  torch::NoGradGuard no_grad;
  auto input = torch::empty({1, 3, info_.input_height, info_.input_width});
  to_network_input(rgb, info_.input_width, info_.input_height, info_.image_mean, info_.image_std, input.data_ptr<float>());
  const torch::Device device = net_->parameters().front().device();  // CUDA while training there
  auto [scores, boxes] = net_->predict(input.to(device));
  scores = scores.to(torch::kCPU).contiguous();
  boxes = boxes.to(torch::kCPU).contiguous();
  return postprocess_detections(scores.data_ptr<float>(), boxes.data_ptr<float>(), scores.size(1),
                                static_cast<int>(scores.size(2)), rgb.cols, rgb.rows, options_);
}

}  // namespace edgessd
