#include "edgessd/model/ssd.h"

#include <torch/torch.h>

#include <thread>

#include "edgessd/common/error.h"
#include "edgessd/common/parallel.h"
#include "edgessd/model/cpu_autocast.h"
#include "edgessd/model/internal/ssd_layers.h"
#include "edgessd/common/model_info.h"

namespace edgessd {

namespace nn = torch::nn;

namespace {
constexpr NetKind kKinds[] = {NetKind::Mb1Ssd,       NetKind::Mb1SsdRelu6,    NetKind::Mb1SsdS8,
                              NetKind::Mb1SsdRelu6S8, NetKind::Mb1SsdLite,    NetKind::Mb2SsdLite,
                              NetKind::Vgg16Ssd,     NetKind::Mb1SsdLiteS8, NetKind::Mb2SsdLiteS8};
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

bool uses_relu6(NetKind kind) {
  return kind == NetKind::Mb1SsdRelu6 || kind == NetKind::Mb1SsdRelu6S8 || is_mb2_ssd_lite(kind);
}
bool has_stride8_head(NetKind kind) {
  return kind == NetKind::Mb1SsdS8 || kind == NetKind::Mb1SsdRelu6S8 || kind == NetKind::Mb1SsdLiteS8 ||
         kind == NetKind::Mb2SsdLiteS8;
}
bool is_mb2_ssd_lite(NetKind kind) { return kind == NetKind::Mb2SsdLite || kind == NetKind::Mb2SsdLiteS8; }

bool same_weight_layout(NetKind a, NetKind b) {
  auto without_relu6 = [](NetKind k) {
    return k == NetKind::Mb1SsdRelu6 ? NetKind::Mb1Ssd : k == NetKind::Mb1SsdRelu6S8 ? NetKind::Mb1SsdS8 : k;
  };
  return without_relu6(a) == without_relu6(b);
}

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

namespace {
ModelInfo info_at_300(NetKind kind, int num_classes) {
  ModelInfo info;
  info.net = net_kind_name(kind);
  info.class_names.resize(num_classes);
  return info;
}
}  // namespace

SsdImpl::SsdImpl(NetKind kind, int num_classes, double width_mult)
    : SsdImpl(kind, num_classes, width_mult, priors_of(info_at_300(kind, num_classes)),
              mobilenet_v1_ssd_config().center_variance, mobilenet_v1_ssd_config().size_variance) {}

SsdImpl::SsdImpl(const ModelInfo& info)
    : SsdImpl(parse_net_kind(info.net), info.num_classes(), info.width_mult, priors_of(info), info.center_variance,
              info.size_variance) {}

SsdImpl::SsdImpl(NetKind kind, int num_classes, double width_mult, const PriorBoxes& priors, float center_variance,
                 float size_variance)
    : kind_(kind), num_classes_(num_classes), center_variance_(center_variance), size_variance_(size_variance) {
  if (num_classes < 2) throw Error("a detector needs at least 2 classes (BACKGROUND + 1)");
  if (!net_has_width_mult(net_kind_name(kind)) && width_mult != 1.0)
    throw Error("a width multiplier is for mb2-ssd-lite; " + net_kind_name(kind) + " has none");
  const std::vector<int> per_location = priors.boxes_per_location();
  SsdLayers layers = is_mb2_ssd_lite(kind) ? mobilenet_v2_ssd_lite_layers(kind, num_classes, per_location, width_mult)
                     : kind == NetKind::Vgg16Ssd ? vgg16_ssd_layers(num_classes, per_location)
                                                 : mobilenet_v1_ssd_layers(kind, num_classes, per_location);
  // Registered in pytorch-ssd's attribute order so state_dict keys come out the same.
  base_net = register_module("base_net", layers.base_net);
  extras = register_module("extras", layers.extras);
  classification_headers = register_module("classification_headers", layers.classification_headers);
  regression_headers = register_module("regression_headers", layers.regression_headers);
  if (!layers.source_layer_add_ons) layers.source_layer_add_ons = nn::ModuleList();
  source_layer_add_ons = register_module("source_layer_add_ons", layers.source_layer_add_ons);
  taps_ = layers.taps;
  priors_ = priors_tensor(priors);
}

void SsdImpl::init_weights() {
  torch::NoGradGuard no_grad;
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* c = module->as<nn::Conv2d>()) nn::init::xavier_uniform_(c->weight);
  }
}

void SsdImpl::head(size_t index, torch::Tensor features, std::vector<torch::Tensor>& confidences,
                   std::vector<torch::Tensor>& locations) {
  // Under bf16 autocast the heads still run in fp32: they are a small part of the
  // work, and logits of magnitude 10-100 lose whole units in bf16, which the loss feels.
  const bool autocast = cpu_autocast_enabled();
  if (autocast) {
    set_cpu_autocast(false);
    features = features.to(torch::kFloat32);
  }
  auto c = run_layer(classification_headers[index], features);
  auto l = run_layer(regression_headers[index], features);
  if (autocast) set_cpu_autocast(true);
  const int64_t n = features.size(0);
  confidences.push_back(c.permute({0, 2, 3, 1}).contiguous().view({n, -1, num_classes_}));
  locations.push_back(l.permute({0, 2, 3, 1}).contiguous().view({n, -1, 4}));
}

std::pair<torch::Tensor, torch::Tensor> SsdImpl::forward(const torch::Tensor& images) {
  std::vector<torch::Tensor> confidences, locations;
  torch::Tensor x = images;
  size_t layer = 0, header = 0;
  for (const SourceTap& tap : taps_) {
    for (; layer < static_cast<size_t>(tap.end_layer); ++layer) x = run_layer(base_net[layer], x);
    if (tap.add_on >= 0) {
      head(header++, run_layer(source_layer_add_ons[tap.add_on], x), confidences, locations);
      continue;
    }
    if (tap.sublayer < 0) {
      head(header++, x, confidences, locations);
      continue;
    }
    auto [out, tapped] = base_net[layer++]->as<InvertedResidual>()->forward_tapped(x, tap.sublayer);
    head(header++, tapped, confidences, locations);
    x = out;
  }
  for (; layer < base_net->size(); ++layer) x = run_layer(base_net[layer], x);
  for (size_t e = 0; e < extras->size(); ++e) {
    x = run_layer(extras[e], x);
    head(header++, x, confidences, locations);
  }
  return {torch::cat(confidences, 1), torch::cat(locations, 1)};
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
