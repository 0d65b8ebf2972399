#include "edgessd/model/internal/ssd_layers.h"

#include <torch/torch.h>

#include <cmath>

#include "edgessd/common/error.h"
#include "edgessd/common/vgg16_layers.h"
#include "edgessd/model/sync_batch_norm.h"

namespace edgessd {

namespace nn = torch::nn;

namespace {

// ReLU6 as a clamp: LibTorch 1.13 has no bf16 CPU kernel for hardtanh's backward (what
// nn::ReLU6 uses), and clamp's backward works in every dtype.
struct ClampRelu6Impl : nn::Module {
  torch::Tensor forward(const torch::Tensor& x) { return x.clamp(0, 6); }
};
TORCH_MODULE(ClampRelu6);

nn::AnyModule activation(bool relu6) {
  if (relu6) return nn::AnyModule(ClampRelu6());
  return nn::AnyModule(nn::ReLU(nn::ReLUOptions().inplace(true)));
}

nn::Conv2d conv(int in, int out, int kernel, int stride, int padding, bool bias, int groups = 1) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(bias).groups(groups));
}

// A convolution, then BN and the activation: MobileNet's conv_bn, conv_1x1_bn.
void push_conv_bn(nn::Sequential& s, int in, int out, int kernel, int stride, int groups, bool relu6, bool act = true) {
  s->push_back(conv(in, out, kernel, stride, kernel / 2, false, groups));
  s->push_back(SyncableBatchNorm2d(out));
  if (act) s->push_back(activation(relu6));
}

// MobileNetV1's conv_dw: depthwise 3x3 + BN + act, pointwise 1x1 + BN + act.
nn::Sequential conv_dw(bool relu6, int in, int out, int stride) {
  nn::Sequential s;
  push_conv_bn(s, in, in, 3, stride, in, relu6);
  push_conv_bn(s, in, out, 1, 1, 1, relu6);
  return s;
}

// A Sequential that a Sequential can hold (AnyModule needs a forward of fixed types).
struct NestedSequentialImpl : nn::SequentialImpl {
  torch::Tensor forward(torch::Tensor x) { return nn::SequentialImpl::forward(std::move(x)); }
};
TORCH_MODULE(NestedSequential);

// The lite nets' SeperableConv2d: depthwise (with bias), [BN,] activation, pointwise.
NestedSequential separable(int in, int out, int stride, bool batch_norm, bool relu6) {
  NestedSequential s;
  s->push_back(conv(in, in, 3, stride, 1, true, in));
  if (batch_norm) s->push_back(SyncableBatchNorm2d(in));
  s->push_back(activation(relu6));
  s->push_back(conv(in, out, 1, 1, 0, true));
  return s;
}

// mb1-ssd's extra: 1x1 + act, 3x3 stride 2 + act; mb1-ssd-lite's ends in a separable
// convolution without activation.
nn::Sequential mobilenet_v1_extra(bool lite, bool relu6, int in, int mid, int out) {
  nn::Sequential s;
  s->push_back(conv(in, mid, 1, 1, 0, true));
  s->push_back(activation(relu6));
  if (lite) {
    s->push_back(separable(mid, out, 2, false, false));
  } else {
    s->push_back(conv(mid, out, 3, 2, 1, true));
    s->push_back(activation(relu6));
  }
  return s;
}

// Heads in head order: 3x3 convolutions (mb1-ssd), or separable ones and a last 1x1 (lite).
void add_heads(SsdLayers& layers, const std::vector<int>& channels, const std::vector<int>& per_location,
               int num_classes, bool lite, bool batch_norm, bool relu6) {
  if (per_location.size() != channels.size())
    throw Error("the net has " + std::to_string(channels.size()) + " heads but " +
                std::to_string(per_location.size()) + " prior maps");
  auto push_head = [&](nn::ModuleList& list, size_t h, int out) {
    if (!lite) list->push_back(conv(channels[h], out, 3, 1, 1, true));
    else if (h + 1 < channels.size()) list->push_back(separable(channels[h], out, 1, batch_norm, relu6));
    else list->push_back(conv(channels[h], out, 1, 1, 0, true));
  };
  layers.classification_headers = nn::ModuleList();
  layers.regression_headers = nn::ModuleList();
  for (size_t h = 0; h < channels.size(); ++h) {
    push_head(layers.regression_headers, h, per_location[h] * 4);
    push_head(layers.classification_headers, h, per_location[h] * num_classes);
  }
}

}  // namespace

InvertedResidualImpl::InvertedResidualImpl(int in, int out, int stride, double expand_ratio)
    : hidden_channels(static_cast<int>(std::nearbyint(in * expand_ratio))),  // Python's round()
      residual(stride == 1 && in == out) {
  conv = nn::Sequential();
  if (expand_ratio != 1) push_conv_bn(conv, in, hidden_channels, 1, 1, 1, true);
  push_conv_bn(conv, hidden_channels, hidden_channels, 3, stride, hidden_channels, true);
  push_conv_bn(conv, hidden_channels, out, 1, 1, 1, true, /*act=*/false);
  register_module("conv", conv);
}

torch::Tensor InvertedResidualImpl::forward(const torch::Tensor& x) {
  return residual ? x + conv->forward(x) : conv->forward(x);
}

std::pair<torch::Tensor, torch::Tensor> InvertedResidualImpl::forward_tapped(const torch::Tensor& x, int tap) {
  torch::Tensor y = x, tapped;
  int i = 0;
  for (auto& layer : *conv) {
    if (i++ == tap) tapped = y;
    y = layer.forward(y);
  }
  return {residual ? x + y : y, tapped};
}

SsdLayers mobilenet_v1_ssd_layers(NetKind kind, int num_classes, const std::vector<int>& per_location) {
  const bool relu6 = uses_relu6(kind), lite = kind == NetKind::Mb1SsdLite || kind == NetKind::Mb1SsdLiteS8;
  SsdLayers layers;
  layers.base_net = nn::ModuleList();
  nn::Sequential first;
  push_conv_bn(first, 3, 32, 3, 2, 1, relu6);
  layers.base_net->push_back(first);
  const int dw[13][3] = {{32, 64, 1},   {64, 128, 2},  {128, 128, 1}, {128, 256, 2}, {256, 256, 1},
                         {256, 512, 2}, {512, 512, 1}, {512, 512, 1}, {512, 512, 1}, {512, 512, 1},
                         {512, 512, 1}, {512, 1024, 2}, {1024, 1024, 1}};
  for (const auto& l : dw) layers.base_net->push_back(conv_dw(relu6, l[0], l[1], l[2]));
  layers.extras = nn::ModuleList();
  const int extras[4][3] = {{1024, 256, 512}, {512, 128, 256}, {256, 128, 256}, {256, 128, 256}};
  for (const auto& e : extras) layers.extras->push_back(mobilenet_v1_extra(lite, relu6, e[0], e[1], e[2]));
  std::vector<int> channels = {512, 1024, 512, 256, 256, 256};
  layers.taps = {{12}, {14}};
  if (has_stride8_head(kind)) {
    channels.insert(channels.begin(), 256);  // layer 5's output, 38x38 at 300
    layers.taps.insert(layers.taps.begin(), SourceTap{6});
  }
  add_heads(layers, channels, per_location, num_classes, lite, false, false);
  return layers;
}

SsdLayers mobilenet_v2_ssd_lite_layers(NetKind kind, int num_classes, const std::vector<int>& per_location,
                                       double width_mult) {
  SsdLayers layers;
  layers.base_net = nn::ModuleList();
  int channels = static_cast<int>(32 * width_mult);  // Python's int(): towards zero
  nn::Sequential first;
  push_conv_bn(first, 3, channels, 3, 2, 1, true);
  layers.base_net->push_back(first);
  const int settings[7][4] = {{1, 16, 1, 1},  {6, 24, 2, 2},  {6, 32, 3, 2},  {6, 64, 4, 2},
                              {6, 96, 3, 1},  {6, 160, 3, 2}, {6, 320, 1, 1}};  // t, c, n, s
  int tap_channels = 0, stride8_channels = 0;
  for (const auto& [t, c, n, s] : settings) {
    const int out = static_cast<int>(c * width_mult);
    for (int i = 0; i < n; ++i) {
      InvertedResidual block(channels, out, i == 0 ? s : 1, t);
      if (layers.base_net->size() == 14) tap_channels = block->hidden_channels;
      if (layers.base_net->size() == 7) stride8_channels = block->hidden_channels;
      layers.base_net->push_back(block);
      channels = out;
    }
  }
  const int last = width_mult > 1.0 ? static_cast<int>(1280 * width_mult) : 1280;
  nn::Sequential final_conv;
  push_conv_bn(final_conv, channels, last, 1, 1, 1, true);
  layers.base_net->push_back(final_conv);
  layers.extras = nn::ModuleList();
  layers.extras->push_back(InvertedResidual(last, 512, 2, 0.2));
  layers.extras->push_back(InvertedResidual(512, 256, 2, 0.25));
  layers.extras->push_back(InvertedResidual(256, 256, 2, 0.5));
  layers.extras->push_back(InvertedResidual(256, 64, 2, 0.25));
  layers.taps = {{14, 3}, {19}};
  std::vector<int> head_channels = {tap_channels, last, 512, 256, 256, 64};
  if (has_stride8_head(kind)) {  // block 7's expansion: the last map at stride 8, like block 14's at 16
    head_channels.insert(head_channels.begin(), stride8_channels);
    layers.taps.insert(layers.taps.begin(), SourceTap{7, 3});
  }
  add_heads(layers, head_channels, per_location, num_classes, true, true, true);
  return layers;
}

SsdLayers vgg16_ssd_layers(int num_classes, const std::vector<int>& per_location) {
  SsdLayers layers;
  layers.base_net = nn::ModuleList();
  auto relu = [] { return nn::ReLU(nn::ReLUOptions().inplace(true)); };
  int in = 3;
  for (const int v : kVgg16BaseLayers) {
    if (v <= 0) {
      layers.base_net->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2).ceil_mode(v < 0)));
      continue;
    }
    layers.base_net->push_back(conv(in, v, 3, 1, 1, true));
    layers.base_net->push_back(relu());
    in = v;
  }
  layers.base_net->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(1).padding(1)));
  layers.base_net->push_back(nn::Conv2d(nn::Conv2dOptions(512, 1024, 3).padding(6).dilation(6)));
  layers.base_net->push_back(relu());
  layers.base_net->push_back(conv(1024, 1024, 1, 1, 0, true));
  layers.base_net->push_back(relu());
  layers.extras = nn::ModuleList();
  const int extras[4][4] = {{1024, 256, 512, 2}, {512, 128, 256, 2}, {256, 128, 256, 0}, {256, 128, 256, 0}};
  for (const auto& [from, mid, out, stride] : extras) {
    nn::Sequential e;
    e->push_back(conv(from, mid, 1, 1, 0, true));
    e->push_back(nn::ReLU());
    e->push_back(conv(mid, out, 3, stride ? stride : 1, stride ? 1 : 0, true));
    e->push_back(nn::ReLU());
    layers.extras->push_back(e);
  }
  layers.source_layer_add_ons = nn::ModuleList();
  layers.source_layer_add_ons->push_back(SyncableBatchNorm2d(512));
  layers.taps = {{23, -1, 0}, {static_cast<int>(layers.base_net->size())}};
  add_heads(layers, {512, 1024, 512, 256, 256, 256}, per_location, num_classes, false, false, false);
  return layers;
}

torch::Tensor run_layer(const std::shared_ptr<nn::Module>& layer, const torch::Tensor& x) {
  if (auto* s = layer->as<nn::Sequential>()) return s->forward(x);
  if (auto* c = layer->as<nn::Conv2d>()) return c->forward(x);
  if (auto* r = layer->as<InvertedResidual>()) return r->forward(x);
  if (auto* r = layer->as<nn::ReLU>()) return r->forward(x);
  if (auto* p = layer->as<nn::MaxPool2d>()) return p->forward(x);
  if (auto* b = layer->as<SyncableBatchNorm2d>()) return b->forward(x);
  throw Error("run_layer: an SSD layer of an unknown type");
}

}  // namespace edgessd
