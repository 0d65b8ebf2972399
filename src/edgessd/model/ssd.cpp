#include "edgessd/model/ssd.h"

#include <torch/torch.h>

#include <thread>

#include "edgessd/common/error.h"
#include "edgessd/common/parallel.h"
#include "edgessd/model/cpu_autocast.h"
#include "edgessd/model/sync_batch_norm.h"
#include "edgessd/common/model_info.h"

namespace edgessd {

namespace nn = torch::nn;

namespace {
constexpr NetKind kKinds[] = {NetKind::Mb1Ssd, NetKind::Mb1SsdRelu6, NetKind::Mb1SsdS8, NetKind::Mb1SsdRelu6S8};
}

NetKind parse_net_kind(const std::string& name) {
  const auto& names = known_net_names();  // in kKinds' order
  for (size_t i = 0; i < names.size(); ++i)
    if (name == names[i]) return kKinds[i];
  throw Error("unknown net '" + name + "' (expected " + known_net_names_text() + ")");
}

std::string net_kind_name(NetKind kind) {
  for (size_t i = 0; i < std::size(kKinds); ++i)
    if (kKinds[i] == kind) return known_net_names()[i];
  throw Error("unknown net kind");
}

bool uses_relu6(NetKind kind) { return kind == NetKind::Mb1SsdRelu6 || kind == NetKind::Mb1SsdRelu6S8; }
bool has_stride8_head(NetKind kind) { return kind == NetKind::Mb1SsdS8 || kind == NetKind::Mb1SsdRelu6S8; }

namespace {

// ReLU6 as a clamp: LibTorch 1.13 has no bf16 CPU kernel for hardtanh's backward (what
// nn::ReLU6 uses), and clamp's backward works in every dtype.
struct ClampRelu6Impl : nn::Module {
  torch::Tensor forward(const torch::Tensor& x) { return x.clamp(0, 6); }
};
TORCH_MODULE(ClampRelu6);

nn::AnyModule activation(NetKind kind) {
  if (uses_relu6(kind)) return nn::AnyModule(ClampRelu6());
  return nn::AnyModule(nn::ReLU(nn::ReLUOptions().inplace(true)));
}

nn::Conv2d conv(int in, int out, int kernel, int stride, int padding, bool bias, int groups = 1) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(bias).groups(groups));
}

// MobileNetV1's conv_bn: 3x3 conv, BN, activation.
nn::Sequential conv_bn(NetKind kind, int in, int out, int stride) {
  nn::Sequential s;
  s->push_back(conv(in, out, 3, stride, 1, false));
  s->push_back(SyncableBatchNorm2d(out));
  s->push_back(activation(kind));
  return s;
}

// MobileNetV1's conv_dw: depthwise 3x3 + BN + act, pointwise 1x1 + BN + act.
nn::Sequential conv_dw(NetKind kind, int in, int out, int stride) {
  nn::Sequential s;
  s->push_back(conv(in, in, 3, stride, 1, false, in));
  s->push_back(SyncableBatchNorm2d(in));
  s->push_back(activation(kind));
  s->push_back(conv(in, out, 1, 1, 0, false));
  s->push_back(SyncableBatchNorm2d(out));
  s->push_back(activation(kind));
  return s;
}

nn::Sequential extra_layer(NetKind kind, int in, int mid, int out) {
  nn::Sequential s;
  s->push_back(conv(in, mid, 1, 1, 0, true));
  s->push_back(activation(kind));
  s->push_back(conv(mid, out, 3, 2, 1, true));
  s->push_back(activation(kind));
  return s;
}

constexpr int kHeadChannels[6] = {512, 1024, 512, 256, 256, 256};
constexpr int kStride8Channels = 256;

}  // namespace

void set_torch_threads(int threads) {
  torch::set_num_threads(resolve_threads(threads));
}

torch::Tensor priors_tensor(const PriorBoxes& priors) {
  const auto& boxes = priors.center_form();
  return torch::from_blob(const_cast<CenterBox*>(boxes.data()),
                          {static_cast<int64_t>(boxes.size()), 4}, torch::kFloat32)
      .clone();
}

torch::Tensor decode_boxes(const torch::Tensor& locations, const torch::Tensor& center_priors,
                           float center_variance, float size_variance) {
  using torch::indexing::None;
  using torch::indexing::Slice;
  auto prior_xy = center_priors.index({"...", Slice(None, 2)});
  auto prior_wh = center_priors.index({"...", Slice(2, None)});
  auto xy = locations.index({"...", Slice(None, 2)}) * center_variance * prior_wh + prior_xy;
  auto wh = torch::exp(locations.index({"...", Slice(2, None)}) * size_variance) * prior_wh;
  return torch::cat({xy - wh / 2, xy + wh / 2}, -1);
}

SsdImpl::SsdImpl(NetKind kind, int num_classes)
    : SsdImpl(kind, num_classes,
              PriorBoxes(ssd_prior_maps(300, 300, has_stride8_head(kind)), 300, 300,
                         mobilenet_v1_ssd_feature_maps(300, 300, has_stride8_head(kind))),
              mobilenet_v1_ssd_config().center_variance, mobilenet_v1_ssd_config().size_variance) {}

SsdImpl::SsdImpl(const ModelInfo& info)
    : SsdImpl(parse_net_kind(info.net), info.num_classes(), priors_of(info), info.center_variance,
              info.size_variance) {}

SsdImpl::SsdImpl(NetKind kind, int num_classes, const PriorBoxes& priors, float center_variance,
                 float size_variance)
    : kind_(kind), num_classes_(num_classes), center_variance_(center_variance), size_variance_(size_variance) {
  if (num_classes < 2) throw Error("a detector needs at least 2 classes (BACKGROUND + 1)");
  base_net = nn::ModuleList();
  base_net->push_back(conv_bn(kind, 3, 32, 2));
  const int dw[13][3] = {{32, 64, 1},   {64, 128, 2},  {128, 128, 1}, {128, 256, 2}, {256, 256, 1},
                         {256, 512, 2}, {512, 512, 1}, {512, 512, 1}, {512, 512, 1}, {512, 512, 1},
                         {512, 512, 1}, {512, 1024, 2}, {1024, 1024, 1}};
  for (const auto& l : dw) base_net->push_back(conv_dw(kind, l[0], l[1], l[2]));
  register_module("base_net", base_net);

  extras = nn::ModuleList();
  extras->push_back(extra_layer(kind, 1024, 256, 512));
  extras->push_back(extra_layer(kind, 512, 128, 256));
  extras->push_back(extra_layer(kind, 256, 128, 256));
  extras->push_back(extra_layer(kind, 256, 128, 256));
  register_module("extras", extras);

  std::vector<int> channels(std::begin(kHeadChannels), std::end(kHeadChannels));
  if (has_stride8_head(kind)) channels.insert(channels.begin(), kStride8Channels);
  const std::vector<int> per_location = priors.boxes_per_location();
  if (per_location.size() != channels.size())
    throw Error(net_kind_name(kind) + " has " + std::to_string(channels.size()) + " heads but " +
                std::to_string(per_location.size()) + " prior maps");
  classification_headers = nn::ModuleList();
  regression_headers = nn::ModuleList();
  for (size_t h = 0; h < channels.size(); ++h) {
    regression_headers->push_back(conv(channels[h], per_location[h] * 4, 3, 1, 1, true));
    classification_headers->push_back(conv(channels[h], per_location[h] * num_classes, 3, 1, 1, true));
  }
  // Registered in pytorch-ssd's attribute order so state_dict keys come out the same.
  register_module("classification_headers", classification_headers);
  register_module("regression_headers", regression_headers);

  priors_ = priors_tensor(priors);
}

void SsdImpl::init_weights() {
  torch::NoGradGuard no_grad;
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* c = module->as<nn::Conv2d>()) nn::init::xavier_uniform_(c->weight);
  }
}

std::pair<torch::Tensor, torch::Tensor> SsdImpl::forward(const torch::Tensor& images) {
  const int64_t n = images.size(0);
  std::vector<torch::Tensor> confidences, locations;
  auto head = [&](size_t index, torch::Tensor features) {
    // Under bf16 autocast the heads still run in fp32: they are a small part of the
    // work, and logits of magnitude 10-100 lose whole units in bf16, which the loss feels.
    const bool autocast = cpu_autocast_enabled();
    if (autocast) {
      set_cpu_autocast(false);
      features = features.to(torch::kFloat32);
    }
    auto c = classification_headers[index]->as<nn::Conv2d>()->forward(features);
    auto l = regression_headers[index]->as<nn::Conv2d>()->forward(features);
    if (autocast) set_cpu_autocast(true);
    confidences.push_back(c.permute({0, 2, 3, 1}).contiguous().view({n, -1, num_classes_}));
    locations.push_back(l.permute({0, 2, 3, 1}).contiguous().view({n, -1, 4}));
  };
  torch::Tensor x = images;
  size_t layer = 0, header = 0;
  for (int end : source_layers()) {
    for (; layer < static_cast<size_t>(end); ++layer) x = base_net[layer]->as<nn::Sequential>()->forward(x);
    head(header++, x);
  }
  for (; layer < base_net->size(); ++layer) x = base_net[layer]->as<nn::Sequential>()->forward(x);
  for (size_t e = 0; e < extras->size(); ++e) {
    x = extras[e]->as<nn::Sequential>()->forward(x);
    head(header++, x);
  }
  return {torch::cat(confidences, 1), torch::cat(locations, 1)};
}

std::vector<int> SsdImpl::source_layers() const {
  std::vector<int> layers(std::begin(kSourceLayers), std::end(kSourceLayers));
  if (has_stride8_head(kind_)) layers.insert(layers.begin(), kStride8SourceLayer);
  return layers;
}

std::pair<torch::Tensor, torch::Tensor> SsdImpl::predict(const torch::Tensor& images) {
  auto [confidences, locations] = forward(images);
  if (priors_.size(0) != locations.size(1))
    throw Error("the net has " + std::to_string(locations.size(1)) + " prior positions for this input but " +
                std::to_string(priors_.size(0)) + " priors (an input of another size than the model's?)");
  if (priors_.device() != locations.device()) priors_ = priors_.to(locations.device());
  auto scores = torch::softmax(confidences, 2);
  auto boxes = decode_boxes(locations, priors_.to(locations.dtype()), center_variance_, size_variance_);
  return {scores, boxes};
}

}  // namespace edgessd
