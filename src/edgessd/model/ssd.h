#pragma once
#include <string>
#include <utility>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>

#include "edgessd/common/model_info.h"
#include "edgessd/common/priors.h"

namespace edgessd {

// The nets edgessd builds: pytorch-ssd's create_mobilenetv1_ssd, create_mobilenetv1_ssd_lite,
// create_mobilenetv2_ssd_lite and create_vgg_ssd graphs; relu6 clips every activation of
// mb1-ssd at 6 like TensorFlow's ssd_mobilenet_v1. The -s8 variants add a seventh head,
// first, on the base net's stride-8 map (38x38 at 300; mb1's layer 5, 256 channels; mb2's
// block 7's expansion, 192 channels at width 1): pytorch-ssd cannot load them.
enum class NetKind {
  Mb1Ssd, Mb1SsdRelu6, Mb1SsdS8, Mb1SsdRelu6S8, Mb1SsdLite, Mb2SsdLite, Vgg16Ssd, Mb1SsdLiteS8, Mb2SsdLiteS8
};
NetKind parse_net_kind(const std::string& name);  // "mb1-ssd" | ... "-s8" | "mb1-ssd-lite" | ... "vgg16-ssd"
std::string net_kind_name(NetKind kind);
bool uses_relu6(NetKind kind);
bool has_stride8_head(NetKind kind);
bool is_mb2_ssd_lite(NetKind kind);  // with or without the stride-8 head
// Whether two nets' state_dicts have the same keys and shapes (relu6 changes activations only).
bool same_weight_layout(NetKind a, NetKind b);

// Where a head reads the base net: after base_net[end_layer - 1] (pytorch-ssd's source
// layer index), or, with sublayer >= 0, inside block end_layer's conv after `sublayer`
// modules (its GraphPath(end_layer, 'conv', sublayer)); with add_on >= 0 the head reads
// source_layer_add_ons[add_on] of it (vgg16-ssd's BatchNorm on conv4_3) while the base
// net goes on from the unchanged features.
struct SourceTap {
  int end_layer;
  int sublayer = -1;
  int add_on = -1;
};

// An SSD with pytorch-ssd's module tree, so that parameter and buffer names are its
// state_dict keys (base_net.0.0.weight, extras.0.2.bias, base_net.1.conv.0.weight, ...).
struct SsdImpl : torch::nn::Module {
  // pytorch-ssd's priors for the net at 300x300; width_mult: mb2-ssd-lite's channel scale.
  SsdImpl(NetKind kind, int num_classes, double width_mult = 1.0);
  // The model's net, class count and priors (at its input size, from its JSON).
  explicit SsdImpl(const ModelInfo& info);

  // Raw head outputs: confidences (N, P, C) and locations (N, P, 4), as pytorch-ssd
  // returns them with is_test=False (P = 3000 for mb1-ssd at 300x300).
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& images);

  // pytorch-ssd's is_test=True outputs: softmax scores (N, P, C) and corner-form
  // boxes (N, P, 4) decoded against the priors, normalised to the image.
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
  torch::nn::ModuleList source_layer_add_ons{nullptr};  // empty but for vgg16-ssd

 private:
  SsdImpl(NetKind kind, int num_classes, double width_mult, const PriorBoxes& priors, float center_variance,
          float size_variance);
  void head(size_t index, torch::Tensor features, std::vector<torch::Tensor>& confidences,
            std::vector<torch::Tensor>& locations);

  NetKind kind_;
  int num_classes_;
  float center_variance_, size_variance_;
  torch::Tensor priors_;  // centre form, (P, 4); not a buffer: not in the state_dict
  std::vector<SourceTap> taps_;  // where the heads before the extras read the base net
};
TORCH_MODULE(Ssd);

constexpr int kBaseNetLayers = 14;  // MobileNetV1's: conv_bn and 13 conv_dw

// LibTorch's intra-op thread count; Debian's build starts with one. 0 = every core.
void set_torch_threads(int threads = 0);

torch::Tensor priors_tensor(const PriorBoxes& priors);  // (P, 4) float, centre form

// convert_locations_to_boxes followed by center_form_to_corner_form.
torch::Tensor decode_boxes(const torch::Tensor& locations, const torch::Tensor& center_priors,
                           float center_variance, float size_variance);

}  // namespace edgessd
