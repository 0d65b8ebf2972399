#pragma once
// The module trees of pytorch-ssd's nets (vision/ssd/mobilenetv1_ssd.py,
// mobilenetv1_ssd_lite.py, mobilenet_v2_ssd_lite.py and vision/nn/mobilenet_v2.py), built
// so that parameter and buffer names are its state_dict keys.
#include <utility>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>

#include "edgessd/model/ssd.h"

namespace edgessd {

// MobileNetV2's block: `conv` holds [expand 1x1, BN, ReLU6] (when expand_ratio != 1),
// depthwise 3x3, BN, ReLU6, linear 1x1, BN; the input is added back when the block keeps
// stride 1 and its channel count.
struct InvertedResidualImpl : torch::nn::Module {
  InvertedResidualImpl(int in, int out, int stride, double expand_ratio);
  torch::Tensor forward(const torch::Tensor& x);
  // forward's output, and conv[:tap]'s (where mb2-ssd-lite's first head reads).
  std::pair<torch::Tensor, torch::Tensor> forward_tapped(const torch::Tensor& x, int tap);

  torch::nn::Sequential conv{nullptr};
  int hidden_channels;
  bool residual;
};
TORCH_MODULE(InvertedResidual);

struct SsdLayers {
  torch::nn::ModuleList base_net, extras, classification_headers, regression_headers, source_layer_add_ons;
  std::vector<SourceTap> taps;  // the heads before the extras, in head order
};

// per_location: priors a cell of each head, in head order (6 or 7 heads).
SsdLayers mobilenet_v1_ssd_layers(NetKind kind, int num_classes, const std::vector<int>& per_location);
SsdLayers mobilenet_v2_ssd_lite_layers(NetKind kind, int num_classes, const std::vector<int>& per_location,
                                       double width_mult);
// VGG16 as amdegroot's ssd.pytorch lays it out (a flat list: Conv2d, ReLU, MaxPool2d;
// pool5 3x3 stride 1, the dilated conv6 and conv7), conv4_3's map read through a BatchNorm.
SsdLayers vgg16_ssd_layers(int num_classes, const std::vector<int>& per_location);

// One base-net layer, extra or head: a Conv2d, ReLU, MaxPool2d, BatchNorm, Sequential or
// InvertedResidual.
torch::Tensor run_layer(const std::shared_ptr<torch::nn::Module>& layer, const torch::Tensor& x);

}  // namespace edgessd
