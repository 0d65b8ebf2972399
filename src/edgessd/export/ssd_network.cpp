#include "edgessd/export/ssd_network.h"

#include "edgessd/common/error.h"
#include "edgessd/common/model_info.h"
#include "edgessd/common/vgg16_layers.h"

namespace edgessd {

SsdWeights::SsdWeights(const StateDict& state, const std::string& net) : net_(net) {
  for (const auto& [key, tensor] : state) tensors_[key] = tensor.to(at::kFloat).contiguous();
}

const at::Tensor& SsdWeights::get(const std::string& key) const {
  auto it = tensors_.find(key);
  if (it == tensors_.end()) throw Error("checkpoint has no '" + key + "'; is it an " + net_ + "?");
  return it->second;
}

std::vector<float> SsdWeights::values(const std::string& key) const {
  const at::Tensor& t = get(key);
  return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
}

namespace {

constexpr float kBatchNormEps = 1e-5f;  // nn.BatchNorm2d's default, what pytorch-ssd trains with

enum class Act { None, Relu, Relu6 };

// Writes one net's nodes; each returns the name of the value it made.
class SsdNodes {
 public:
  SsdNodes(GraphBuilder& g, const SsdWeights& w, int64_t batch, int64_t classes)
      : g_(g), w_(w), batch_(batch), classes_(classes) {}

  // `conv`'s convolution (its bias when it has one), then BatchNorm `bn` folded into it
  // (none when empty), then the activation. Padding < 0: kernel / 2, which keeps the size.
  std::string conv(const std::string& x, const std::string& conv, const std::string& bn, int stride, int group,
                   Act act, int pad = -1, int dilation = 1) {
    const std::vector<int64_t> dims = w_.dims(conv + ".weight");
    std::vector<float> weight = w_.values(conv + ".weight");
    std::vector<float> bias =
        w_.has(conv + ".bias") ? w_.values(conv + ".bias") : std::vector<float>(static_cast<size_t>(dims[0]), 0.0f);
    if (!bn.empty()) {
      std::vector<float> mean = w_.values(bn + ".running_mean");
      if (mean.size() != bias.size()) throw Error(bn + ": BatchNorm size disagrees with " + conv);
      // BN(Wx + b) = s W x + beta - (mean - b) s: fold with mean - b as the mean.
      for (size_t c = 0; c < mean.size(); ++c) mean[c] -= bias[c];
      bias = fold_batch_norm(weight, w_.values(bn + ".weight"), w_.values(bn + ".bias"), mean,
                             w_.values(bn + ".running_var"), kBatchNormEps);
    }
    const std::string y = conv_node(x, conv, dims, weight, bias, stride, group, pad, dilation);
    return activation(y, conv, act);
  }

  // BatchNorm `bn` on its own (vgg16-ssd's add-on, after a ReLU: nothing to fold it into),
  // as the per-channel affine it is in inference: a 1x1 depthwise convolution, which
  // every runtime runs.
  std::string batch_norm(const std::string& x, const std::string& bn) {
    std::vector<float> scale(w_.values(bn + ".weight").size(), 1.0f);
    const std::vector<float> bias = fold_batch_norm(scale, w_.values(bn + ".weight"), w_.values(bn + ".bias"),
                                                    w_.values(bn + ".running_mean"), w_.values(bn + ".running_var"),
                                                    kBatchNormEps);
    const int64_t channels = static_cast<int64_t>(scale.size());
    return conv_node(x, bn, {channels, 1, 1, 1}, scale, bias, 1, static_cast<int>(channels), 0, 1);
  }

  // MaxPool2d(kernel, stride, pad, ceil_mode) as torch has it.
  std::string max_pool(const std::string& x, const std::string& name, int kernel, int stride, int pad, bool ceil) {
    auto* n = g_.node("MaxPool", {x}, name + ".out", name);
    GraphBuilder::ints(n, "kernel_shape", {kernel, kernel});
    GraphBuilder::ints(n, "strides", {stride, stride});
    GraphBuilder::ints(n, "pads", {pad, pad, pad, pad});
    GraphBuilder::int_attr(n, "ceil_mode", ceil ? 1 : 0);
    return name + ".out";
  }

  // The lite nets' SeperableConv2d at `p`: depthwise .0, [BN .1,] act, pointwise.
  std::string separable(const std::string& x, const std::string& p, int stride, bool batch_norm, Act act) {
    const int channels = static_cast<int>(w_.dims(p + ".0.weight")[0]);
    const std::string y = conv(x, p + ".0", batch_norm ? p + ".1" : "", stride, channels, act);
    return conv(y, p + (batch_norm ? ".3" : ".2"), "", 1, 1, Act::None);
  }

  // MobileNetV2's InvertedResidual at `p` (its conv holds 5 modules, or 8 with the
  // expansion); `tapped` gets the expansion's output when asked.
  std::string inverted_residual(const std::string& x, const std::string& p, int stride, std::string* tapped = nullptr) {
    const bool expand = w_.has(p + ".conv.6.weight");
    std::string y = x;
    int i = 0;
    if (expand) {
      y = conv(y, p + ".conv.0", p + ".conv.1", 1, 1, Act::Relu6);
      if (tapped) *tapped = y;
      i = 3;
    }
    const int hidden = static_cast<int>(w_.dims(p + ".conv." + std::to_string(i) + ".weight")[0]);
    y = conv(y, p + ".conv." + std::to_string(i), p + ".conv." + std::to_string(i + 1), stride, hidden, Act::Relu6);
    const std::string linear = p + ".conv." + std::to_string(i + 3);
    y = conv(y, linear, p + ".conv." + std::to_string(i + 4), 1, 1, Act::None);
    const int64_t in = w_.dims(p + ".conv.0.weight")[expand ? 1 : 0], out = w_.dims(linear + ".weight")[0];
    if (stride != 1 || in != out) return y;
    g_.node("Add", {x, y}, p + ".add", p + ".add");
    return p + ".add";
  }

  // Head `index` on x: `make` writes the convolution(s) of a header list's entry.
  template <typename Make>
  void head(const std::string& x, int index, Make make) {
    const std::string i = std::to_string(index);
    confidences_.push_back(flatten(make(x, "classification_headers." + i), "classification_headers." + i, classes_));
    locations_.push_back(flatten(make(x, "regression_headers." + i), "regression_headers." + i, 4));
  }

  // "confidences" -> Softmax -> "scores", and "locations".
  void finish() {
    auto* cat = g_.node("Concat", confidences_, "confidences", "concat_confidences");
    GraphBuilder::int_attr(cat, "axis", 1);
    auto* softmax = g_.node("Softmax", {"confidences"}, "scores", "softmax");
    GraphBuilder::int_attr(softmax, "axis", 2);  // the last axis: opset < 13 flattens (N*P, C)
    cat = g_.node("Concat", locations_, "locations", "concat_locations");
    GraphBuilder::int_attr(cat, "axis", 1);
  }

 private:
  // A head's (N, A*K, h, w) map as (N, h*w*A, K).
  std::string flatten(const std::string& y, const std::string& p, int64_t k) {
    auto* t = g_.node("Transpose", {y}, p + ".nhwc", p + ".transpose");
    GraphBuilder::ints(t, "perm", {0, 2, 3, 1});
    const std::string shape = g_.constant_int64(p + ".shape", {batch_, -1, k});
    g_.node("Reshape", {p + ".nhwc", shape}, p + ".flat", p + ".reshape");
    return p + ".flat";
  }

  std::string conv_node(const std::string& x, const std::string& conv, const std::vector<int64_t>& dims,
                        const std::vector<float>& weight, const std::vector<float>& bias, int stride, int group,
                        int pad, int dilation) {
    const std::string wname = g_.constant(conv + ".weight", dims, weight);
    const std::string bname = g_.constant(conv + ".bias", {dims[0]}, bias);
    auto* n = g_.node("Conv", {x, wname, bname}, conv + ".out", conv);
    const int64_t k = dims[2], p = pad < 0 ? k / 2 : pad;
    GraphBuilder::ints(n, "kernel_shape", {k, dims[3]});
    GraphBuilder::ints(n, "strides", {stride, stride});
    GraphBuilder::ints(n, "pads", {p, p, p, p});
    GraphBuilder::ints(n, "dilations", {dilation, dilation});
    GraphBuilder::int_attr(n, "group", group);
    return conv + ".out";
  }

  std::string activation(const std::string& x, const std::string& conv, Act act) {
    if (act == Act::None) return x;
    if (act == Act::Relu) {
      g_.node("Relu", {x}, conv + ".relu", conv + ".relu");
      return conv + ".relu";
    }
    auto* n = g_.node("Clip", {x}, conv + ".relu6", conv + ".relu6");
    GraphBuilder::float_attr(n, "min", 0.0f);
    GraphBuilder::float_attr(n, "max", 6.0f);
    return conv + ".relu6";
  }

  GraphBuilder& g_;
  const SsdWeights& w_;
  int64_t batch_, classes_;
  std::vector<std::string> confidences_, locations_;
};

// mb1-ssd (and its relu6, -s8 variants) and mb1-ssd-lite: base_net.0 is conv_bn; 1..13
// are conv_dw (depthwise .0/.1, pointwise .3/.4). The heads read layer 11's output and
// layer 13's (-s8 nets: layer 5's first).
void mobilenet_v1_ssd(SsdNodes& ssd, const SsdWeights& w, const std::string& net) {
  const bool lite = net.rfind("mb1-ssd-lite", 0) == 0, stride8 = net_has_stride8_head(net);
  const Act act = net.find("relu6") != std::string::npos ? Act::Relu6 : Act::Relu;
  auto head_conv = [&](const std::string& x, const std::string& p) {
    if (!lite || w.has(p + ".weight")) return ssd.conv(x, p, "", 1, 1, Act::None);
    return ssd.separable(x, p, 1, false, Act::Relu);
  };
  const int strides[14] = {2, 1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1};
  int head = 0;
  std::string x = ssd.conv("input_0", "base_net.0.0", "base_net.0.1", strides[0], 1, act);
  for (int layer = 1; layer < 14; ++layer) {
    const std::string p = "base_net." + std::to_string(layer);
    const int channels = static_cast<int>(w.dims(p + ".0.weight")[0]);
    x = ssd.conv(x, p + ".0", p + ".1", strides[layer], channels, act);
    x = ssd.conv(x, p + ".3", p + ".4", 1, 1, act);
    if ((layer == 5 && stride8) || layer == 11) ssd.head(x, head++, head_conv);
  }
  ssd.head(x, head++, head_conv);
  for (int e = 0; e < 4; ++e) {
    const std::string p = "extras." + std::to_string(e);
    x = ssd.conv(x, p + ".0", "", 1, 1, act);
    x = lite ? ssd.separable(x, p + ".2", 2, false, Act::Relu) : ssd.conv(x, p + ".2", "", 2, 1, act);
    ssd.head(x, head++, head_conv);
  }
}

// mb2-ssd-lite: base_net.0 conv_bn, 1..17 InvertedResidual, 18 conv_1x1_bn; the first
// head reads block 14's expansion (-s8: block 7's first), the next the base net's output.
void mobilenet_v2_ssd_lite(SsdNodes& ssd, const SsdWeights& w, bool stride8) {
  auto head_conv = [&](const std::string& x, const std::string& p) {
    if (w.has(p + ".weight")) return ssd.conv(x, p, "", 1, 1, Act::None);
    return ssd.separable(x, p, 1, true, Act::Relu6);
  };
  const int strides[18] = {2, 1, 2, 1, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1};
  std::string x = ssd.conv("input_0", "base_net.0.0", "base_net.0.1", strides[0], 1, Act::Relu6);
  int head = 0;
  for (int layer = 1; layer < 18; ++layer) {
    std::string tapped;
    const bool tap = layer == 14 || (layer == 7 && stride8);
    x = ssd.inverted_residual(x, "base_net." + std::to_string(layer), strides[layer], tap ? &tapped : nullptr);
    if (tap) ssd.head(tapped, head++, head_conv);
  }
  x = ssd.conv(x, "base_net.18.0", "base_net.18.1", 1, 1, Act::Relu6);
  ssd.head(x, head++, head_conv);
  for (int e = 0; e < 4; ++e) {
    x = ssd.inverted_residual(x, "extras." + std::to_string(e), 2);
    ssd.head(x, head++, head_conv);
  }
}

// vgg16-ssd: base_net is a flat list (conv, ReLU pairs and poolings); the first head reads
// conv4_3's ReLU (base_net.22) through the BatchNorm add-on, the second conv7's ReLU.
void vgg16_ssd(SsdNodes& ssd) {
  auto head_conv = [&](const std::string& x, const std::string& p) { return ssd.conv(x, p, "", 1, 1, Act::None); };
  std::string x = "input_0";
  int layer = 0;
  for (const int v : kVgg16BaseLayers) {
    const std::string p = "base_net." + std::to_string(layer);
    if (v <= 0) {  // 2x2 pooling; -1: ceil_mode
      x = ssd.max_pool(x, p, 2, 2, 0, v < 0);
      layer += 1;
      continue;
    }
    x = ssd.conv(x, p, "", 1, 1, Act::Relu);
    layer += 2;
    if (layer == 23) ssd.head(ssd.batch_norm(x, "source_layer_add_ons.0"), 0, head_conv);
  }
  x = ssd.max_pool(x, "base_net.30", 3, 1, 1, false);
  x = ssd.conv(x, "base_net.31", "", 1, 1, Act::Relu, 6, 6);
  x = ssd.conv(x, "base_net.33", "", 1, 1, Act::Relu);
  ssd.head(x, 1, head_conv);
  for (int e = 0; e < 4; ++e) {
    const std::string p = "extras." + std::to_string(e);
    x = ssd.conv(x, p + ".0", "", 1, 1, Act::Relu);
    x = ssd.conv(x, p + ".2", "", e < 2 ? 2 : 1, 1, Act::Relu, e < 2 ? 1 : 0);
    ssd.head(x, 2 + e, head_conv);
  }
}

}  // namespace

void add_ssd_network(GraphBuilder& g, const SsdWeights& w, const std::string& net, int64_t batch, int64_t classes) {
  SsdNodes ssd(g, w, batch, classes);
  if (net.rfind("mb2-ssd-lite", 0) == 0) mobilenet_v2_ssd_lite(ssd, w, net_has_stride8_head(net));
  else if (net == "vgg16-ssd") vgg16_ssd(ssd);
  else mobilenet_v1_ssd(ssd, w, net);
  ssd.finish();
}

}  // namespace edgessd
