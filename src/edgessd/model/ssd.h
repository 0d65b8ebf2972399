#pragma once
#include <string>
#include <utility>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>

#include "edgessd/common/priors.h"

namespace edgessd {

// The nets edgessd builds. Both are pytorch-ssd's create_mobilenetv1_ssd graph; relu6
// clips every activation at 6 like TensorFlow's ssd_mobilenet_v1.
enum class NetKind { Mb1Ssd, Mb1SsdRelu6 };
NetKind parse_net_kind(const std::string& name);  // "mb1-ssd" | "mb1-ssd-relu6"
std::string net_kind_name(NetKind kind);

// SSD-MobileNet-v1 with pytorch-ssd's module tree, so that parameter and buffer names
// are its state_dict keys (base_net.0.0.weight, extras.0.2.bias, ...).
struct SsdImpl : torch::nn::Module {
  SsdImpl(NetKind kind, int num_classes);

  // Raw head outputs: confidences (N, 3000, C) and locations (N, 3000, 4), as pytorch-ssd
  // returns them with is_test=False.
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& images);

  // pytorch-ssd's is_test=True outputs: softmax scores (N, 3000, C) and corner-form
  // boxes (N, 3000, 4) decoded against the priors, normalised to the image.
  std::pair<torch::Tensor, torch::Tensor> predict(const torch::Tensor& images);

  // pytorch-ssd's net.init(): Xavier-uniform conv weights everywhere.
  void init_weights();

  NetKind kind() const { return kind_; }
  int num_classes() const { return num_classes_; }
  const torch::Tensor& priors() const { return priors_; }

  torch::nn::ModuleList base_net{nullptr};  // of Sequential blocks, as pytorch-ssd's nn.Sequential
  torch::nn::ModuleList extras{nullptr};
  torch::nn::ModuleList classification_headers{nullptr};
  torch::nn::ModuleList regression_headers{nullptr};

 private:
  NetKind kind_;
  int num_classes_;
  torch::Tensor priors_;  // centre form, (3000, 4); not a buffer: not in the state_dict
};
TORCH_MODULE(Ssd);

// Base-net indices where the first two heads read their feature maps.
constexpr int kSourceLayers[2] = {12, 14};
constexpr int kBaseNetLayers = 14;

// LibTorch's intra-op thread count; Debian's build starts with one. 0 = every core.
void set_torch_threads(int threads = 0);

torch::Tensor priors_tensor(const PriorBoxes& priors);  // (P, 4) float, centre form

// convert_locations_to_boxes followed by center_form_to_corner_form.
torch::Tensor decode_boxes(const torch::Tensor& locations, const torch::Tensor& center_priors,
                           float center_variance, float size_variance);

}  // namespace edgessd
