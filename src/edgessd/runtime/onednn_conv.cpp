// The oneDNN engine's convolutions: a Conv with its BatchNormalization folded in and its
// activation fused, built as our depthwise kernel, a Winograd or a direct oneDNN
// primitive, in fp32 or int8.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "edgessd/runtime/internal/depthwise_conv.h"
#include "edgessd/runtime/internal/onednn_engine.h"
#include "edgessd/runtime/internal/xnnpack_conv.h"

namespace edgessd {

using dnnl::memory;

// One convolution as planned: shapes, folded parameters, fused activation, precision.
struct OneDnnEngine::Conv {
  const onnx::NodeProto* node = nullptr;
  std::string input, output;
  int64_t n = 0, ic = 0, h = 0, w = 0, oc = 0, kh = 0, kw = 0, group = 1;
  Window win;
  std::vector<float> weight, bias;
  bool activated = false;
  ActivationBounds act;
  bool quantize = false;
  float src_scale = 1, dst_scale = 1;
  std::vector<float> weight_scales;  // int8: per output channel

  memory::dims src_dims() const { return {n, ic, h, w}; }
  memory::dims dst_dims() const { return {n, oc, win.out_h, win.out_w}; }
  memory::dims weight_dims() const {
    return group == 1 ? memory::dims{oc, ic, kh, kw} : memory::dims{group, oc / group, ic / group, kh, kw};
  }
  memory::data_type activation_type() const { return quantize ? memory::data_type::u8 : memory::data_type::f32; }
};

ActivationBounds OneDnnEngine::bounds_of(const onnx::NodeProto& act) {
  ActivationBounds b;
  if (act.op_type() == "Relu") {
    b.relu = true;
    b.lo = 0.0f;
    return b;
  }
  b.lo = attr_float(act, "min", b.lo);
  b.hi = attr_float(act, "max", b.hi);
  auto bound = [&](int i, float& v) {
    if (act.input_size() > i && !act.input(i).empty()) {
      const Value& c = value(act.input(i), act);
      if (!c.is_const || c.floats.size() != 1) fail(act, "min/max must be constant scalars");
      v = c.floats[0];
    }
  };
  bound(1, b.lo);
  bound(2, b.hi);
  return b;
}

void OneDnnEngine::fold_batch_norm(const onnx::NodeProto& bn, Conv& c) {
  const auto get = [&](int i) {
    const Value& v = value(bn.input(i), bn);
    if (!v.is_const || static_cast<int64_t>(v.floats.size()) != c.oc)
      fail(bn, "parameters must be constants of size " + std::to_string(c.oc));
    return v.floats;
  };
  const auto gamma = get(1), beta = get(2), mean = get(3), var = get(4);
  const float eps = attr_float(bn, "epsilon", 1e-5f);
  const int64_t per = static_cast<int64_t>(c.weight.size()) / c.oc;
  for (int64_t o = 0; o < c.oc; ++o) {
    const double s = gamma[o] / std::sqrt(static_cast<double>(var[o]) + eps);
    for (int64_t k = 0; k < per; ++k) c.weight[o * per + k] = static_cast<float>(c.weight[o * per + k] * s);
    c.bias[o] = static_cast<float>((c.bias[o] - mean[o]) * s + beta[o]);
  }
}

OneDnnEngine::Conv OneDnnEngine::conv_of(const ConvFusion& f) {
  const onnx::NodeProto& node = *f.conv;
  const Value& x = value(node.input(0), node);
  const Value& w = value(node.input(1), node);
  if (!w.is_const || w.shape.size() != 4) fail(node, "weights must be a constant 4-d tensor");
  if (x.shape.size() != 4) fail(node, "input must be 4-d (N,C,H,W), is " + shape_text(x.shape));
  Conv c;
  c.node = &node;
  c.input = node.input(0), c.output = f.output;
  c.group = attr_int(node, "group", 1);
  c.n = x.shape[0], c.ic = x.shape[1], c.h = x.shape[2], c.w = x.shape[3];
  c.oc = w.shape[0], c.kh = w.shape[2], c.kw = w.shape[3];
  if (c.group < 1 || c.oc % c.group != 0) fail(node, "group must be a positive divisor of the output channels");
  if (w.shape[1] * c.group != c.ic)
    fail(node, "weights " + shape_text(w.shape) + " do not fit input " + shape_text(x.shape));
  c.win = window_of(node, c.kh, c.kw, c.h, c.w, false, [&](const std::string& why) { fail(node, why); }, true);
  c.weight = w.floats;
  c.bias.assign(c.oc, 0.0f);
  if (node.input_size() > 2 && !node.input(2).empty()) {
    const Value& b = value(node.input(2), node);
    if (!b.is_const || static_cast<int64_t>(b.floats.size()) != c.oc)
      fail(node, "bias must be a constant of size " + std::to_string(c.oc));
    c.bias = b.floats;
  }
  if (f.batch_norm) fold_batch_norm(*f.batch_norm, c);
  c.activated = f.activation != nullptr;
  if (f.activation) c.act = bounds_of(*f.activation);
  // int8 where the calibration table covers both ends; the first conv (3 input
  // channels, raw pixels) and the heads (no activation) stay fp32 for accuracy.
  c.quantize = int8_ && c.ic > 3 && calibration_.scales.count(c.input) && calibration_.scales.count(c.output) &&
               consumers_[c.output] >= 1 && c.activated;
  return c;
}

// The fused activation as a post-op; int8 works in destination units, where u8 starts at 0.
namespace {

dnnl::post_ops activation_post_ops(const ActivationBounds& act, bool activated, bool quantized, float dst_scale) {
  dnnl::post_ops post;
  if (!activated) return post;
  if (act.relu) {
    post.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    return post;
  }
  const float lo = quantized ? std::max(act.lo, 0.0f) * dst_scale : act.lo;
  const float hi = act.hi < 1e30f ? act.hi * (quantized ? dst_scale : 1.0f) : 3.4e38f;
  post.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, lo, hi);
  return post;
}

}  // namespace

// fp32 3x3 depthwise on channels-last input with outputs of at least 32x32: our kernel
// (depthwise_conv.h); on the small, deep layers oneDNN's is the faster one (README's
// measured table). False when the layer is not one of those.
bool OneDnnEngine::build_depthwise(const Conv& c, Value& x, Value& out) {
  const memory::desc nhwc(c.src_dims(), memory::data_type::f32, memory::format_tag::acdb);
  if (c.quantize || c.group != c.ic || c.oc != c.ic || c.n != 1 || c.win.out_h * c.win.out_w < 1024 || !x.blocked ||
      c.win.dilations != Shape{1, 1} ||
      x.blocked->get_desc() != nhwc ||
      !DepthwiseConv3x3::supports(c.kh, c.kw, c.win.strides[0], c.win.strides[1], c.win.pads) ||
      !DepthwiseConv3x3::available())
    return false;
  auto dw = std::make_shared<DepthwiseConv3x3>();
  dw->channels = c.ic, dw->height = c.h, dw->width = c.w, dw->out_height = c.win.out_h, dw->out_width = c.win.out_w;
  dw->stride = static_cast<int>(c.win.strides[0]);
  dw->pad_top = static_cast<int>(c.win.pads[0]), dw->pad_left = static_cast<int>(c.win.pads[1]);
  dw->lo = c.act.lo, dw->hi = c.act.hi;
  dw->set_weights(c.weight, c.bias);
  auto src = x.blocked;
  auto dst = activation(memory::desc(c.dst_dims(), memory::data_type::f32, memory::format_tag::acdb));
  add_step([dw, src, dst] {
    dw->run(static_cast<const float*>(src->get_data_handle()), static_cast<float*>(dst->get_data_handle()));
  }, {src, dst});
  out.blocked = dst;
  return true;
}

// Where XNNPACK is built in (AArch64: Debian's oneDNN has only a reference GEMM there),
// every fp32 convolution: channels-last in and out, so that a chain of them needs no
// reorder; the graph input and the heads' outputs are reordered as for oneDNN's layouts.
bool OneDnnEngine::build_xnnpack(const Conv& c, Value& x, Value& out) {
  if (!XnnpackConv::available() || c.quantize || c.n != 1) return false;
  XnnpackConvShape s;
  s.channels = c.ic, s.height = c.h, s.width = c.w, s.out_channels = c.oc, s.groups = c.group;
  s.kernel_h = c.kh, s.kernel_w = c.kw, s.stride_h = c.win.strides[0], s.stride_w = c.win.strides[1];
  s.pad_top = c.win.pads[0], s.pad_left = c.win.pads[1], s.pad_bottom = c.win.pads[2], s.pad_right = c.win.pads[3];
  s.dilation_h = c.win.dilations[0], s.dilation_w = c.win.dilations[1];
  s.lo = c.act.lo, s.hi = c.act.hi;
  if (!xnnpack_threads_) xnnpack_threads_ = make_xnnpack_threads(threads_);
  auto conv = std::make_shared<XnnpackConv>(s, c.weight, c.bias, xnnpack_threads_);
  auto src = conv_source(c, x, memory::desc(c.src_dims(), memory::data_type::f32, memory::format_tag::acdb));
  auto dst = activation(memory::desc(c.dst_dims(), memory::data_type::f32, memory::format_tag::acdb));
  add_step([conv, src, dst] {
    conv->run(static_cast<const float*>(src->get_data_handle()), static_cast<float*>(dst->get_data_handle()));
  }, {src, dst});
  out.blocked = dst;
  return true;
}

// Symmetric per-output-channel weights; activations (after ReLU, >= 0) as u8 with the
// calibrated scale: dst = (acc * src_scale^-1 * w_scale^-1) * dst_scale, the bias added
// to the int32 accumulator.
dnnl::primitive_attr OneDnnEngine::quantized_attr(Conv& c) {
  c.src_scale = activation_scale(c.input);
  c.dst_scale = activation_scale(c.output);
  const int64_t per = static_cast<int64_t>(c.weight.size()) / c.oc;
  c.weight_scales.resize(c.oc);
  std::vector<float> output_scales(c.oc);
  for (int64_t o = 0; o < c.oc; ++o) {
    float m = 0;
    for (int64_t k = 0; k < per; ++k) m = std::max(m, std::abs(c.weight[o * per + k]));
    c.weight_scales[o] = m > 0 ? 127.0f / m : 1.0f;
    output_scales[o] = c.dst_scale / (c.src_scale * c.weight_scales[o]);
    c.bias[o] *= c.src_scale * c.weight_scales[o];
  }
  dnnl::primitive_attr attr;
  attr.set_output_scales(2, output_scales);
  return attr;
}

// Winograd F(4x4, 3x3) for fp32 3x3 stride-1 convolutions with outputs of at least 10x10
// (the heads): fewer multiplies; below that its transforms cost more than they save
// (README's measured table). Direct otherwise, or when oneDNN has no Winograd here.
dnnl::convolution_forward::primitive_desc OneDnnEngine::conv_primitive(const Conv& c,
                                                                      const dnnl::primitive_attr& attr) {
  const auto type = c.activation_type();
  const memory::desc src_md(c.src_dims(), type, memory::format_tag::any);
  const memory::desc wei_md(c.weight_dims(), c.quantize ? memory::data_type::s8 : memory::data_type::f32,
                            memory::format_tag::any);
  const memory::desc bias_md({c.oc}, memory::data_type::f32, memory::format_tag::a);
  const memory::desc dst_md(c.dst_dims(), type, memory::format_tag::any);
  const Shape& s = c.win.strides;
  const Shape& p = c.win.pads;
  const memory::dims dilates = {c.win.dilations[0] - 1, c.win.dilations[1] - 1};  // oneDNN counts the gaps
  auto make = [&](dnnl::algorithm algorithm) {
    const dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm, src_md, wei_md, bias_md,
                                               dst_md, {s[0], s[1]}, dilates, {p[0], p[1]}, {p[2], p[3]});
    return dnnl::convolution_forward::primitive_desc(desc, attr, engine_);
  };
  if (!c.quantize && c.group == 1 && c.kh == 3 && c.kw == 3 && s[0] == 1 && s[1] == 1 && dilates == memory::dims{0, 0} &&
      c.win.out_h * c.win.out_w >= 100) {
    try {
      return make(dnnl::algorithm::convolution_winograd);
    } catch (const dnnl::error&) {
    }
  }
  try {
    return make(dnnl::algorithm::convolution_direct);
  } catch (const dnnl::error& e) {
    fail(*c.node, std::string("oneDNN has no implementation for it: ") + e.what());
  }
}

// The weights reordered once into the primitive's layout (quantized with their scales).
std::shared_ptr<memory> OneDnnEngine::conv_weights(const Conv& c,
                                                   const dnnl::convolution_forward::primitive_desc& pd) {
  const memory::desc plain_wei(c.weight_dims(), memory::data_type::f32,
                               c.group == 1 ? memory::format_tag::oihw : memory::format_tag::goihw);
  auto weights = std::make_shared<memory>(pd.weights_desc(), engine_);
  std::vector<float> weight = c.weight;
  memory source(plain_wei, engine_, weight.data());
  dnnl::primitive_attr attr;
  if (c.quantize) attr.set_output_scales(c.group == 1 ? 1 : 3, c.weight_scales);
  dnnl::reorder(dnnl::reorder::primitive_desc(source, *weights, attr)).execute(stream_, source, *weights);
  stream_.wait();
  return weights;
}

// The input in the primitive's layout: the previous conv's memory when the layout
// matches, a sibling's reorder of it (the other head), else a new reorder step.
std::shared_ptr<memory> OneDnnEngine::conv_source(const Conv& c, Value& x, const memory::desc& desc) {
  if (x.blocked && x.blocked->get_desc() == desc) return x.blocked;
  if (auto done = x.blocked ? reordered(x.blocked, desc) : nullptr) return done;
  std::shared_ptr<memory> from;
  dnnl::primitive_attr attr;
  if (x.blocked) {
    from = x.blocked;
    if (from->get_desc().data_type() != c.activation_type()) {
      // Between int8 and fp32 convs: rescale.
      const float in_scale = from->get_desc().data_type() == memory::data_type::f32 ? 1.0f : activation_scale(x.producer);
      const float out_scale = c.quantize ? c.src_scale : 1.0f;
      attr.set_output_scales(0, {out_scale / in_scale});
    }
  } else {
    auto data = plain(x, *c.node);
    from = std::make_shared<memory>(memory::desc(c.src_dims(), memory::data_type::f32, memory::format_tag::nchw),
                                    engine_, data->data());
    if (c.quantize) attr.set_output_scales(0, {c.src_scale});
  }
  auto src = activation(desc);
  auto r = std::make_shared<dnnl::reorder>(dnnl::reorder::primitive_desc(*from, *src, attr));
  add_step([this, r, from, src] { r->execute(stream_, *from, *src); }, {from, src});
  if (x.blocked) reorders_[x.blocked.get()].push_back(src);
  return src;
}

void OneDnnEngine::build_conv(const ConvFusion& fusion) {
  Conv c = conv_of(fusion);
  Value& x = value(c.input, *c.node);
  Value out;
  out.shape = {c.n, c.oc, c.win.out_h, c.win.out_w};
  out.producer = c.output;
  if (!build_xnnpack(c, x, out) && !build_depthwise(c, x, out)) {
    dnnl::primitive_attr attr = c.quantize ? quantized_attr(c) : dnnl::primitive_attr();
    attr.set_post_ops(activation_post_ops(c.act, c.activated, c.quantize, c.dst_scale));
    const auto pd = conv_primitive(c, attr);
    auto weights = conv_weights(c, pd);
    auto bias = std::make_shared<memory>(memory::desc({c.oc}, memory::data_type::f32, memory::format_tag::a), engine_);
    std::memcpy(bias->get_data_handle(), c.bias.data(), c.bias.size() * sizeof(float));
    auto src = conv_source(c, x, pd.src_desc());
    auto dst = activation(pd.dst_desc());
    auto conv = std::make_shared<dnnl::convolution_forward>(pd);
    add_step([this, conv, src, weights, bias, dst] {
      conv->execute(stream_, {{DNNL_ARG_SRC, *src}, {DNNL_ARG_WEIGHTS, *weights}, {DNNL_ARG_BIAS, *bias},
                              {DNNL_ARG_DST, *dst}});
    }, {src, dst});
    out.blocked = dst;
  }
  if (c.activated && !int8_) observed_.push_back({c.output, out.blocked, out.shape});
  values_[c.output] = std::move(out);
}

}  // namespace edgessd
