// The oneDNN engine: a small ONNX interpreter for SSD graphs. Convolutions (with a
// following BatchNormalization folded in and Relu/Clip fused as a post-op) run as oneDNN
// primitives in its blocked layouts (Winograd for the large 3x3 heads), optionally in
// int8 from a calibration table; large fp32 depthwise layers run our own kernel
// (depthwise_conv.h). All activations share one arena, placed by lifetime. A head's
// transpose is folded into the reorder out of oneDNN's layout; the few cheap ops after it
// (reshape, concat, softmax, box decoding) run as plain loops. Shape arithmetic
// (Shape/Gather/Unsqueeze/Concat on integers, as torch.onnx writes for view()) is folded
// once at load time.
#include <omp.h>
#include <onnx/onnx_pb.h>

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <thread>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/image.h"
#include "edgessd/common/threads.h"
#include "edgessd/runtime/depthwise_conv.h"
#include "edgessd/runtime/engine.h"
#include "edgessd/runtime/int8_calibration.h"

namespace edgessd {

namespace {

using dnnl::memory;
using Shape = std::vector<int64_t>;

int64_t numel(const Shape& s) { return std::accumulate(s.begin(), s.end(), int64_t{1}, std::multiplies<>()); }

std::string shape_text(const Shape& s) {
  std::string t = "(";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? "," : "") + std::to_string(s[i]);
  return t + ")";
}

// A value of the graph while it is being planned.
struct Value {
  Shape shape;
  bool is_int = false;               // a folded integer constant (shapes, indices)
  std::vector<int64_t> ints;
  bool is_const = false;             // a float constant (weights)
  std::vector<float> floats;
  std::shared_ptr<std::vector<float>> plain;  // run-time storage, row-major
  std::shared_ptr<memory> blocked;            // a convolution's output, oneDNN layout
  std::string producer;              // node name, for errors
};

std::vector<float> tensor_floats(const onnx::TensorProto& t, const std::string& what) {
  if (t.data_type() != onnx::TensorProto::FLOAT) throw Error(what + ": expected a float tensor");
  std::vector<float> v;
  if (!t.raw_data().empty()) {
    v.resize(t.raw_data().size() / sizeof(float));
    std::memcpy(v.data(), t.raw_data().data(), v.size() * sizeof(float));
  } else {
    v.assign(t.float_data().begin(), t.float_data().end());
  }
  return v;
}

std::vector<int64_t> tensor_ints(const onnx::TensorProto& t, const std::string& what) {
  std::vector<int64_t> v;
  if (t.data_type() == onnx::TensorProto::INT64) {
    if (!t.raw_data().empty()) {
      v.resize(t.raw_data().size() / sizeof(int64_t));
      std::memcpy(v.data(), t.raw_data().data(), v.size() * sizeof(int64_t));
    } else {
      v.assign(t.int64_data().begin(), t.int64_data().end());
    }
  } else if (t.data_type() == onnx::TensorProto::INT32) {
    if (!t.raw_data().empty()) {
      std::vector<int32_t> w(t.raw_data().size() / sizeof(int32_t));
      std::memcpy(w.data(), t.raw_data().data(), w.size() * sizeof(int32_t));
      v.assign(w.begin(), w.end());
    } else {
      v.assign(t.int32_data().begin(), t.int32_data().end());
    }
  } else {
    throw Error(what + ": expected an integer tensor");
  }
  return v;
}

const onnx::AttributeProto* attribute(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
int64_t attr_int(const onnx::NodeProto& n, const std::string& name, int64_t fallback) {
  const auto* a = attribute(n, name);
  return a ? a->i() : fallback;
}
float attr_float(const onnx::NodeProto& n, const std::string& name, float fallback) {
  const auto* a = attribute(n, name);
  return a ? a->f() : fallback;
}
std::vector<int64_t> attr_ints(const onnx::NodeProto& n, const std::string& name) {
  const auto* a = attribute(n, name);
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : std::vector<int64_t>{};
}

// A Conv's or MaxPool's sliding window over an H x W input, its attributes checked
// (strides >= 1, pads >= 0 and smaller than the kernel, no dilation, no auto_pad) so that
// no engine divides by zero or reads outside the input.
struct Window {
  Shape strides, pads;  // pads: top, left, bottom, right
  int64_t out_h = 0, out_w = 0;
};
Window window_of(const onnx::NodeProto& node, int64_t kh, int64_t kw, int64_t h, int64_t w, bool ceil_mode,
                 const std::function<void(const std::string&)>& fail) {
  Window win;
  win.pads = attr_ints(node, "pads");
  win.strides = attr_ints(node, "strides");
  if (win.pads.empty()) win.pads = {0, 0, 0, 0};
  if (win.strides.empty()) win.strides = {1, 1};
  if (kh < 1 || kw < 1 || kh > 1024 || kw > 1024) fail("the kernel must be 1..1024 pixels a side");
  if (win.strides.size() != 2 || win.strides[0] < 1 || win.strides[1] < 1 || win.strides[0] > 1024 ||
      win.strides[1] > 1024)
    fail("strides must be two numbers within 1..1024");
  if (win.pads.size() != 4) fail("pads must be four numbers");
  for (int i = 0; i < 4; ++i)
    if (win.pads[i] < 0 || win.pads[i] >= (i % 2 ? kw : kh)) fail("pads must be within 0..kernel-1");
  for (int64_t d : attr_ints(node, "dilations"))
    if (d != 1) fail("dilations other than 1 are not supported");
  const auto* auto_pad = attribute(node, "auto_pad");
  if (auto_pad && auto_pad->s() != "NOTSET") fail("auto_pad is not supported");
  auto out = [&](int64_t in, int64_t k, int64_t s, int64_t p0, int64_t p1) {
    const int64_t span = in + p0 + p1 - k;
    if (span < 0) fail("the kernel is larger than the padded input");
    int64_t n = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (n - 1) * s >= in + p0) --n;  // no window may start in the end padding
    return n;
  };
  win.out_h = out(h, kh, win.strides[0], win.pads[0], win.pads[2]);
  win.out_w = out(w, kw, win.strides[1], win.pads[1], win.pads[3]);
  return win;
}

// Row-major strides of a shape.
Shape strides_of(const Shape& s) {
  Shape st(s.size(), 1);
  for (int i = static_cast<int>(s.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * s[i + 1];
  return st;
}

Shape broadcast_shape(const Shape& a, const Shape& b, const std::string& node) {
  Shape out(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t da = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
    const int64_t db = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
    if (da != db && da != 1 && db != 1)
      throw Error("node '" + node + "': shapes " + shape_text(a) + " and " + shape_text(b) + " do not broadcast");
    out[i] = std::max(da, db);
  }
  return out;
}

// For each output element, the flat index into an input broadcast to `out`.
std::vector<int32_t> broadcast_index(const Shape& in, const Shape& out) {
  Shape padded(out.size(), 1);
  std::copy(in.begin(), in.end(), padded.begin() + (out.size() - in.size()));
  const Shape in_strides = strides_of(padded);
  const Shape out_strides = strides_of(out);
  std::vector<int32_t> index(numel(out));
  for (int64_t i = 0; i < static_cast<int64_t>(index.size()); ++i) {
    int64_t rest = i, flat = 0;
    for (size_t d = 0; d < out.size(); ++d) {
      const int64_t c = rest / out_strides[d];
      rest %= out_strides[d];
      if (padded[d] != 1) flat += c * in_strides[d];
    }
    index[i] = static_cast<int32_t>(flat);
  }
  return index;
}

class OneDnnEngine : public InferenceEngine {
 public:
  // share_activations: convolution outputs whose lifetimes do not overlap share memory
  // (off for calibration, which reads every activation after the pass).
  OneDnnEngine(const OnnxModel& model, int threads, const Int8Calibration* int8, bool share_activations = true)
      : model_(model), engine_(dnnl::engine::kind::cpu, 0), stream_(engine_), int8_(int8 != nullptr),
        share_activations_(share_activations) {
    threads = resolve_threads(threads);
    threads_ = threads;
    omp_set_num_threads(threads);
    if (int8) calibration_ = *int8;
    try {
      build();
    } catch (const dnnl::error& e) {
      throw Error(model_.path + ": oneDNN cannot run it: " + e.what());
    } catch (const std::out_of_range& e) {
      // An index the checks above did not foresee (found by fuzzing): a malformed graph.
      throw Error(model_.path + ": malformed graph (an index out of range: " + e.what() + ")");
    } catch (const std::bad_alloc&) {
      throw Error(model_.path + ": the graph's tensors do not fit in memory");
    }
  }

  std::string name() const override { return int8_ ? "onednn-int8" : "onednn"; }

  // For calibration: the largest value of each activated convolution output on `input`.
  std::map<std::string, float> observe(const float* input) {
    std::vector<float> scores, boxes;
    int64_t priors = 0;
    forward(input, scores, boxes, priors);
    std::map<std::string, float> peaks;
    for (const auto& o : observed_) {
      std::vector<float> data(numel(o.shape));
      const memory::dims dims(o.shape.begin(), o.shape.end());
      memory dst(memory::desc(dims, memory::data_type::f32, memory::format_tag::abcd), engine_, data.data());
      dnnl::reorder(*o.mem, dst).execute(stream_, *o.mem, dst);
      stream_.wait();
      peaks[o.name] = *std::max_element(data.begin(), data.end());
    }
    return peaks;
  }

  void forward(const float* input, std::vector<float>& scores, std::vector<float>& boxes,
               int64_t& num_priors) override {
    omp_set_num_threads(threads_);
    std::memcpy(input_->data(), input, input_->size() * sizeof(float));
    for (auto& step : steps_) step();
    stream_.wait();
    scores.assign(scores_->begin(), scores_->end());
    boxes.assign(boxes_->begin(), boxes_->end());
    num_priors = num_priors_;
  }

 private:
  Value& value(const std::string& name, const onnx::NodeProto& node) {
    auto it = values_.find(name);
    if (it == values_.end())
      throw Error(model_.path + ": node '" + node.name() + "' reads '" + name + "', which nothing produces");
    return it->second;
  }

  [[noreturn]] void fail(const onnx::NodeProto& node, const std::string& why) {
    throw Error(model_.path + ": node '" + node.name() + "' (" + node.op_type() + "): " + why);
  }

  // Run-time plain storage of a value (reordered out of a oneDNN layout when needed).
  std::shared_ptr<std::vector<float>> plain(Value& v, const onnx::NodeProto& node) {
    if (v.plain) return v.plain;
    if (v.is_const) {
      v.plain = std::make_shared<std::vector<float>>(v.floats);
      return v.plain;
    }
    if (!v.blocked) fail(node, "an input has no data");
    v.plain = std::make_shared<std::vector<float>>(numel(v.shape));
    const memory::dims dims(v.shape.begin(), v.shape.end());
    reorder_out(v, memory::desc(dims, memory::data_type::f32, memory::format_tag::abcd), v.plain->data());
    return v.plain;
  }

  // A step that reorders a convolution's output into `data`, laid out as `layout` says
  // (int8 activations scaled back to float).
  void reorder_out(const Value& v, const memory::desc& layout, float* data) {
    auto src = v.blocked;
    auto dst = std::make_shared<memory>(layout, engine_, data);
    dnnl::primitive_attr attr;
    if (src->get_desc().data_type() != memory::data_type::f32)
      attr.set_output_scales(0, {1.0f / activation_scale(v.producer)});
    auto r = std::make_shared<dnnl::reorder>(dnnl::reorder::primitive_desc(*src, *dst, attr));
    add_step([this, r, src, dst] { r->execute(stream_, *src, *dst); }, {src});
  }

  float activation_scale(const std::string& tensor) const {
    auto it = calibration_.scales.find(tensor);
    return it == calibration_.scales.end() ? 1.0f : it->second;
  }

  // A convolution output or a reordered input: memory placed in the shared arena at the
  // end of build(), once every step that reads or writes it is known.
  std::shared_ptr<memory> activation(const memory::desc& desc) {
    auto m = std::make_shared<memory>(desc, engine_, static_cast<void*>(DNNL_MEMORY_NONE));
    activations_.push_back({m, SIZE_MAX, 0});
    return m;
  }
  // Appends a step and notes which activations it touches.
  void add_step(std::function<void()> step, std::initializer_list<std::shared_ptr<memory>> touched) {
    const size_t index = steps_.size();
    steps_.push_back(std::move(step));
    for (const auto& m : touched)
      for (auto& a : activations_)
        if (a.mem == m) a.first = std::min(a.first, index), a.last = std::max(a.last, index);
  }
  void place_activations();
  // A reorder of `from` into `desc` made for an earlier consumer, if any.
  std::shared_ptr<memory> reordered(const std::shared_ptr<memory>& from, const memory::desc& desc) {
    for (const auto& m : reorders_[from.get()])
      if (m->get_desc() == desc) return m;
    return nullptr;
  }

  void build();
  void build_conv(const onnx::NodeProto& node, const std::vector<const onnx::NodeProto*>& fused_bn,
                  const onnx::NodeProto* fused_act, const std::string& output);
  void build_plain(const onnx::NodeProto& node);
  void build_max_pool(const onnx::NodeProto& node);

  OnnxModel model_;
  dnnl::engine engine_;
  dnnl::stream stream_;
  bool int8_;
  Int8Calibration calibration_;
  int threads_ = 1;
  int opset_ = 13;
  std::map<std::string, Value> values_;
  std::vector<std::function<void()>> steps_;
  bool share_activations_ = true;
  struct Activation {
    std::shared_ptr<memory> mem;
    size_t first, last;  // steps that use it
  };
  std::vector<Activation> activations_;
  std::map<const memory*, std::vector<std::shared_ptr<memory>>> reorders_;
  std::shared_ptr<void> arena_;
  std::shared_ptr<std::vector<float>> input_, scores_, boxes_;
  int64_t num_priors_ = 0;
  std::map<std::string, int> consumers_;
  struct Observed {
    std::string name;
    std::shared_ptr<memory> mem;
    Shape shape;
  };
  std::vector<Observed> observed_;
};

void OneDnnEngine::build() {
  onnx::ModelProto proto;
  if (!proto.ParseFromString(model_.bytes)) throw Error(model_.path + ": not an ONNX model (protobuf parse failed)");
  for (const auto& o : proto.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset_ = static_cast<int>(o.version());
  const onnx::GraphProto& graph = proto.graph();
  for (const auto& t : graph.initializer()) {
    Value v;
    v.shape.assign(t.dims().begin(), t.dims().end());
    if (t.data_type() == onnx::TensorProto::FLOAT) {
      v.is_const = true;
      v.floats = tensor_floats(t, model_.path + " initializer '" + t.name() + "'");
    } else {
      v.is_int = true;
      v.ints = tensor_ints(t, model_.path + " initializer '" + t.name() + "'");
    }
    values_[t.name()] = std::move(v);
  }
  Value input;
  input.shape = {model_.batch_size, 3, model_.info.input_height, model_.info.input_width};
  input.plain = std::make_shared<std::vector<float>>(numel(input.shape));
  input_ = input.plain;
  values_[model_.input_name] = input;

  for (const auto& node : graph.node())
    for (const auto& in : node.input()) ++consumers_[in];
  for (const auto& o : graph.output()) ++consumers_[o.name()];

  // Fusion: Conv -> [BatchNormalization] -> [Relu | Clip], each the sole consumer.
  std::map<std::string, const onnx::NodeProto*> producer;
  for (const auto& node : graph.node())
    for (const auto& out : node.output()) producer[out] = &node;
  std::map<std::string, const onnx::NodeProto*> sole_consumer;
  for (const auto& node : graph.node())
    for (const auto& in : node.input())
      if (consumers_[in] == 1) sole_consumer[in] = &node;
  std::set<const onnx::NodeProto*> absorbed;
  // Constants first: a fused Clip reads its bounds from Constant nodes (torch.onnx, opset
  // 11+) that the graph may list after the Conv the Clip is fused into.
  for (const auto& node : graph.node())
    if (node.op_type() == "Constant") {
      build_plain(node);
      absorbed.insert(&node);
    }

  for (const auto& node : graph.node()) {
    if (absorbed.count(&node)) continue;
    if (node.op_type() == "Conv") {
      std::vector<const onnx::NodeProto*> bn;
      const onnx::NodeProto* act = nullptr;
      std::string out = node.output(0);
      auto next = [&](const std::string& name) -> const onnx::NodeProto* {
        auto it = sole_consumer.find(name);
        return it == sole_consumer.end() ? nullptr : it->second;
      };
      if (const auto* n = next(out); n && n->op_type() == "BatchNormalization" && n->input(0) == out) {
        bn.push_back(n);
        absorbed.insert(n);
        out = n->output(0);
      }
      if (const auto* n = next(out); n && (n->op_type() == "Relu" || n->op_type() == "Clip") && n->input(0) == out) {
        act = n;
        absorbed.insert(n);
        out = n->output(0);
      }
      build_conv(node, bn, act, out);
    } else if (node.op_type() == "MaxPool") {
      build_max_pool(node);
    } else {
      build_plain(node);
    }
  }
  auto output = [&](const std::string& name) {
    auto it = values_.find(name);
    if (it == values_.end()) throw Error(model_.path + ": no output '" + name + "'");
    onnx::NodeProto none;
    none.set_name(name);
    return plain(it->second, none);
  };
  scores_ = output(model_.scores_name);
  boxes_ = output(model_.boxes_name);
  const Shape& box_shape = values_[model_.boxes_name].shape;
  if (box_shape.size() != 3 || box_shape[2] != 4) throw Error(model_.path + ": 'boxes' is not (N,P,4)");
  num_priors_ = box_shape[1];
  place_activations();
  reorders_.clear();
  // The steps hold what they use; the planning state (weights as parsed, the file) goes.
  values_.clear();
  consumers_.clear();
  std::string().swap(model_.bytes);
}

// Offsets in one arena: largest first, each at the lowest offset that overlaps no placed
// activation whose steps overlap its own. The layers run one after another, so the early
// layers' megabytes are reused and stay in cache instead of streaming a fresh buffer per
// layer (and peak memory falls from the sum of all activations to about two of them).
void OneDnnEngine::place_activations() {
  constexpr size_t kAlign = 64;
  std::vector<size_t> order(activations_.size()), offset(activations_.size()), size(activations_.size());
  for (size_t i = 0; i < activations_.size(); ++i) {
    order[i] = i;
    size[i] = (activations_[i].mem->get_desc().get_size() + kAlign - 1) / kAlign * kAlign;
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return size[a] > size[b]; });
  size_t total = 0;
  std::vector<size_t> placed;
  for (size_t i : order) {
    const Activation& a = activations_[i];
    std::vector<std::pair<size_t, size_t>> taken;  // [begin, end) of live neighbours
    for (size_t j : placed) {
      const Activation& b = activations_[j];
      if (!share_activations_ || (a.first <= b.last && b.first <= a.last)) taken.push_back({offset[j], offset[j] + size[j]});
    }
    std::sort(taken.begin(), taken.end());
    size_t at = 0;
    for (const auto& [begin, end] : taken) {
      if (at + size[i] <= begin) break;
      at = std::max(at, end);
    }
    offset[i] = at;
    total = std::max(total, at + size[i]);
    placed.push_back(i);
  }
  arena_.reset(std::aligned_alloc(4096, std::max<size_t>(4096, (total + 4095) / 4096 * 4096)), std::free);
  if (!arena_) throw Error(model_.path + ": cannot allocate " + std::to_string(total >> 20) + " MB for activations");
  for (size_t i = 0; i < activations_.size(); ++i)
    activations_[i].mem->set_data_handle(static_cast<char*>(arena_.get()) + offset[i]);
  activations_.clear();
}

void OneDnnEngine::build_conv(const onnx::NodeProto& node, const std::vector<const onnx::NodeProto*>& fused_bn,
                              const onnx::NodeProto* fused_act, const std::string& output) {
  Value& x = value(node.input(0), node);
  const Value& w = value(node.input(1), node);
  if (!w.is_const || w.shape.size() != 4) fail(node, "weights must be a constant 4-d tensor");
  if (x.shape.size() != 4) fail(node, "input must be 4-d (N,C,H,W), is " + shape_text(x.shape));
  const int64_t group = attr_int(node, "group", 1);
  const int64_t oc = w.shape[0], ic = x.shape[1], kh = w.shape[2], kw = w.shape[3];
  if (group < 1 || oc % group != 0) fail(node, "group must be a positive divisor of the output channels");
  if (w.shape[1] * group != ic) fail(node, "weights " + shape_text(w.shape) + " do not fit input " + shape_text(x.shape));
  const Window win = window_of(node, kh, kw, x.shape[2], x.shape[3], false, [&](const std::string& why) { fail(node, why); });
  const Shape& pads = win.pads;
  const Shape& strides = win.strides;

  std::vector<float> weight = w.floats;
  std::vector<float> bias(oc, 0.0f);
  if (node.input_size() > 2 && !node.input(2).empty()) {
    const Value& b = value(node.input(2), node);
    if (!b.is_const || static_cast<int64_t>(b.floats.size()) != oc) fail(node, "bias must be a constant of size " + std::to_string(oc));
    bias = b.floats;
  }
  for (const onnx::NodeProto* bn : fused_bn) {
    const auto get = [&](int i) {
      const Value& v = value(bn->input(i), *bn);
      if (!v.is_const || static_cast<int64_t>(v.floats.size()) != oc) fail(*bn, "parameters must be constants of size " + std::to_string(oc));
      return v.floats;
    };
    const auto gamma = get(1), beta = get(2), mean = get(3), var = get(4);
    const float eps = attr_float(*bn, "epsilon", 1e-5f);
    const int64_t per = static_cast<int64_t>(weight.size()) / oc;
    for (int64_t c = 0; c < oc; ++c) {
      const double s = gamma[c] / std::sqrt(static_cast<double>(var[c]) + eps);
      for (int64_t k = 0; k < per; ++k) weight[c * per + k] = static_cast<float>(weight[c * per + k] * s);
      bias[c] = static_cast<float>((bias[c] - mean[c]) * s + beta[c]);
    }
  }
  // The fused activation as bounds: Relu is [0, inf), Clip [min, max].
  float act_lo = -3.4e38f, act_hi = 3.4e38f;
  dnnl::post_ops post;
  if (fused_act) {
    if (fused_act->op_type() == "Relu") {
      act_lo = 0.0f;
      post.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    } else {
      act_lo = attr_float(*fused_act, "min", act_lo), act_hi = attr_float(*fused_act, "max", act_hi);
      auto bound = [&](int i, float& v) {
        if (fused_act->input_size() > i && !fused_act->input(i).empty()) {
          const Value& c = value(fused_act->input(i), *fused_act);
          if (!c.is_const || c.floats.size() != 1) fail(*fused_act, "min/max must be constant scalars");
          v = c.floats[0];
        }
      };
      bound(1, act_lo);
      bound(2, act_hi);
      post.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, act_lo, act_hi);
    }
  }

  const int64_t n = x.shape[0], h = x.shape[2], wd = x.shape[3];
  const int64_t oh = win.out_h, ow = win.out_w;
  Value out;
  out.shape = {n, oc, oh, ow};
  out.producer = output;

  // int8 where the calibration table covers both ends; the first conv (3 input
  // channels, raw pixels) and the heads stay fp32 for accuracy.
  const bool quantize = int8_ && ic > 3 && calibration_.scales.count(node.input(0)) && calibration_.scales.count(output) &&
                        consumers_[output] >= 1 && fused_act != nullptr;
  const auto f32 = memory::data_type::f32;
  const memory::dims src_dims = {n, ic, h, wd}, dst_dims = {n, oc, oh, ow}, bias_dims = {oc};
  const memory::dims weight_dims = group == 1 ? memory::dims{oc, ic, kh, kw} : memory::dims{group, oc / group, ic / group, kh, kw};
  const auto src_type = quantize ? memory::data_type::u8 : f32;
  const auto dst_type = quantize ? memory::data_type::u8 : f32;
  const auto wei_type = quantize ? memory::data_type::s8 : f32;
  const memory::desc src_md(src_dims, src_type, memory::format_tag::any);
  const memory::desc wei_md(weight_dims, wei_type, memory::format_tag::any);
  const memory::desc bias_md(bias_dims, f32, memory::format_tag::a);
  const memory::desc dst_md(dst_dims, dst_type, memory::format_tag::any);
  const dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                             src_md, wei_md, bias_md, dst_md, {strides[0], strides[1]},
                                             {pads[0], pads[1]}, {pads[2], pads[3]});
  dnnl::primitive_attr attr;
  std::vector<float> weight_scales;
  float src_scale = 1, dst_scale = 1;
  if (quantize) {
    // Symmetric per-output-channel weights; activations (after ReLU, >= 0) as u8 with the
    // calibrated scale. dst = (acc * src_scale^-1 * w_scale^-1) * dst_scale.
    src_scale = activation_scale(node.input(0));
    dst_scale = activation_scale(output);
    const int64_t per = static_cast<int64_t>(weight.size()) / oc;
    weight_scales.resize(oc);
    std::vector<float> output_scales(oc);
    for (int64_t c = 0; c < oc; ++c) {
      float m = 0;
      for (int64_t k = 0; k < per; ++k) m = std::max(m, std::abs(weight[c * per + k]));
      weight_scales[c] = m > 0 ? 127.0f / m : 1.0f;
      output_scales[c] = dst_scale / (src_scale * weight_scales[c]);
      bias[c] *= src_scale * weight_scales[c];  // bias is added to the int32 accumulator
    }
    attr.set_output_scales(2, output_scales);
    // The post-op clip/relu then works in dst units.
    dnnl::post_ops scaled;
    if (fused_act->op_type() == "Relu") {
      scaled.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    } else {
      // The bounds as fp32 read them (attributes or constant inputs); u8 starts at 0.
      const float lo = std::max(act_lo, 0.0f) * dst_scale;
      const float hi = act_hi < 1e30f ? act_hi * dst_scale : 3.4e38f;
      scaled.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, lo, hi);
    }
    attr.set_post_ops(scaled);
  } else {
    attr.set_post_ops(post);
  }
  // fp32 3x3 depthwise on channels-last input with at least 32x32 outputs: our kernel
  // (see depthwise_conv.h). On the small, deep layers (19x19x512, 10x10x1024) oneDNN's
  // is the faster one: 0.065 against 0.068 ms at 1 thread, 0.047 against 0.057 at 2.
  const memory::desc nhwc(src_dims, f32, memory::format_tag::acdb);
  if (!quantize && group == ic && oc == ic && n == 1 && oh * ow >= 1024 && x.blocked && x.blocked->get_desc() == nhwc &&
      DepthwiseConv3x3::supports(kh, kw, strides[0], strides[1], pads) && DepthwiseConv3x3::available()) {
    auto dw = std::make_shared<DepthwiseConv3x3>();
    dw->channels = ic, dw->height = h, dw->width = wd, dw->out_height = oh, dw->out_width = ow;
    dw->stride = static_cast<int>(strides[0]);
    dw->pad_top = static_cast<int>(pads[0]), dw->pad_left = static_cast<int>(pads[1]);
    dw->lo = act_lo, dw->hi = act_hi;
    dw->set_weights(weight, bias);
    auto src = x.blocked;
    auto dst = activation(memory::desc(dst_dims, f32, memory::format_tag::acdb));
    add_step([dw, src, dst] {
      dw->run(static_cast<const float*>(src->get_data_handle()), static_cast<float*>(dst->get_data_handle()));
    }, {src, dst});
    out.blocked = dst;
    if (fused_act && !int8_) observed_.push_back({output, dst, out.shape});
    values_[output] = std::move(out);
    return;
  }

  dnnl::convolution_forward::primitive_desc pd;
  // Winograd F(4x4, 3x3) for fp32 3x3 stride-1 convolutions (the heads): 2-4x fewer
  // multiplies. Measured on the 19x19 and 10x10 heads it saves 0.35 ms of 2.4 (1 thread,
  // reorder into its layout included); from 5x5 down its transforms cost more than they
  // save, hence the size floor. The parity tests' worst errors are unchanged by it.
  if (!quantize && group == 1 && kh == 3 && kw == 3 && strides[0] == 1 && strides[1] == 1 && oh * ow >= 100) {
    try {
      const dnnl::convolution_forward::desc wdesc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_winograd,
                                                  src_md, wei_md, bias_md, dst_md, {strides[0], strides[1]},
                                                  {pads[0], pads[1]}, {pads[2], pads[3]});
      pd = dnnl::convolution_forward::primitive_desc(wdesc, attr, engine_);
    } catch (const dnnl::error&) {
    }
  }
  if (!pd) try {
    pd = dnnl::convolution_forward::primitive_desc(desc, attr, engine_);
  } catch (const dnnl::error& e) {
    fail(node, std::string("oneDNN has no implementation for it: ") + e.what());
  }

  // Weights: reorder once into the primitive's layout (quantized with their scales).
  const memory::desc plain_wei(weight_dims, f32, group == 1 ? memory::format_tag::oihw : memory::format_tag::goihw);
  auto weight_mem = std::make_shared<memory>(pd.weights_desc(), engine_);
  {
    memory source(plain_wei, engine_, weight.data());
    dnnl::primitive_attr wattr;
    if (quantize) wattr.set_output_scales(group == 1 ? 1 : 3, weight_scales);
    dnnl::reorder(dnnl::reorder::primitive_desc(source, *weight_mem, wattr)).execute(stream_, source, *weight_mem);
    stream_.wait();
  }
  auto bias_mem = std::make_shared<memory>(bias_md, engine_);
  std::memcpy(bias_mem->get_data_handle(), bias.data(), bias.size() * sizeof(float));

  // Source: the previous conv's memory when the layout matches, else a reorder.
  std::shared_ptr<memory> src;
  if (x.blocked && x.blocked->get_desc() == pd.src_desc()) {
    src = x.blocked;
  } else if (auto done = x.blocked ? reordered(x.blocked, pd.src_desc()) : nullptr) {
    src = done;  // a sibling (the other head) already reordered it so
  } else {
    std::shared_ptr<memory> from;
    dnnl::primitive_attr rattr;
    if (x.blocked) {
      from = x.blocked;
      if (from->get_desc().data_type() != src_type) {
        // Between int8 and fp32 convs: rescale.
        const float in_scale = from->get_desc().data_type() == f32 ? 1.0f : activation_scale(x.producer);
        const float out_scale = quantize ? src_scale : 1.0f;
        rattr.set_output_scales(0, {out_scale / in_scale});
      }
    } else {
      auto data = plain(x, node);
      from = std::make_shared<memory>(memory::desc(src_dims, f32, memory::format_tag::nchw), engine_, data->data());
      if (quantize) rattr.set_output_scales(0, {src_scale});
    }
    src = activation(pd.src_desc());
    auto r = std::make_shared<dnnl::reorder>(dnnl::reorder::primitive_desc(*from, *src, rattr));
    add_step([this, r, from, src] { r->execute(stream_, *from, *src); }, {from, src});
    if (x.blocked) reorders_[x.blocked.get()].push_back(src);
  }
  auto dst = activation(pd.dst_desc());
  auto conv = std::make_shared<dnnl::convolution_forward>(pd);
  add_step([this, conv, src, weight_mem, bias_mem, dst] {
    conv->execute(stream_, {{DNNL_ARG_SRC, *src}, {DNNL_ARG_WEIGHTS, *weight_mem}, {DNNL_ARG_BIAS, *bias_mem},
                            {DNNL_ARG_DST, *dst}});
  }, {src, dst});
  out.blocked = dst;
  if (fused_act && !int8_) observed_.push_back({output, dst, out.shape});
  values_[output] = std::move(out);
}

// MaxPool (VGG-style SSD graphs) as a loop over plain NCHW floats.
void OneDnnEngine::build_max_pool(const onnx::NodeProto& node) {
  Value& x = value(node.input(0), node);
  if (x.shape.size() != 4) fail(node, "input must be 4-d (N,C,H,W), is " + shape_text(x.shape));
  if (node.output_size() != 1) fail(node, "the Indices output is not supported");
  if (attr_int(node, "storage_order", 0) != 0) fail(node, "storage_order 1 is not supported");
  const Shape kernel = attr_ints(node, "kernel_shape");
  if (kernel.size() != 2) fail(node, "kernel_shape must be two numbers");
  const Window win = window_of(node, kernel[0], kernel[1], x.shape[2], x.shape[3], attr_int(node, "ceil_mode", 0) != 0,
                               [&](const std::string& why) { fail(node, why); });
  Value v;
  v.shape = {x.shape[0], x.shape[1], win.out_h, win.out_w};
  v.plain = std::make_shared<std::vector<float>>(numel(v.shape));
  v.producer = node.output(0);
  auto src = plain(x, node);
  auto dst = v.plain;
  const int64_t planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3];
  steps_.push_back([src, dst, planes, h, w, win, kernel] {
    float* out = dst->data();
    for (int64_t p = 0; p < planes; ++p) {
      const float* in = src->data() + p * h * w;
      for (int64_t oy = 0; oy < win.out_h; ++oy)
        for (int64_t ox = 0; ox < win.out_w; ++ox) {
          const int64_t y0 = oy * win.strides[0] - win.pads[0], x0 = ox * win.strides[1] - win.pads[1];
          float m = -std::numeric_limits<float>::infinity();
          for (int64_t y = std::max<int64_t>(y0, 0); y < std::min(y0 + kernel[0], h); ++y)
            for (int64_t xx = std::max<int64_t>(x0, 0); xx < std::min(x0 + kernel[1], w); ++xx)
              m = std::max(m, in[y * w + xx]);
          *out++ = m;
        }
    }
  });
  values_[node.output(0)] = std::move(v);
}

void OneDnnEngine::build_plain(const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  auto in = [&](int i) -> Value& { return value(node.input(i), node); };
  auto set = [&](int i, Value v) {
    v.producer = node.output(i);
    values_[node.output(i)] = std::move(v);
  };
  auto alloc = [](const Shape& s) { return std::make_shared<std::vector<float>>(numel(s)); };

  if (op == "Constant") {
    const auto* a = attribute(node, "value");
    if (!a || !a->has_t()) fail(node, "only tensor constants are supported");
    Value v;
    v.shape.assign(a->t().dims().begin(), a->t().dims().end());
    if (a->t().data_type() == onnx::TensorProto::FLOAT) {
      v.is_const = true;
      v.floats = tensor_floats(a->t(), node.name());
    } else {
      v.is_int = true;
      v.ints = tensor_ints(a->t(), node.name());
    }
    set(0, v);
    return;
  }
  if (op == "Identity") {
    set(0, in(0));
    return;
  }
  if (op == "Shape") {
    Value v;
    v.is_int = true;
    v.ints = in(0).shape;
    v.shape = {static_cast<int64_t>(v.ints.size())};
    set(0, v);
    return;
  }
  if (op == "Cast") {
    Value v = in(0);
    if (!v.is_int && !v.is_const) fail(node, "only constant casts are supported");
    set(0, v);
    return;
  }
  // Integer shape arithmetic, folded now.
  if ((op == "Gather" || op == "Unsqueeze" || op == "Squeeze" || op == "Concat") && in(0).is_int) {
    Value v;
    v.is_int = true;
    if (op == "Gather") {
      const Value& data = in(0);
      const Value& idx = in(1);
      if (!idx.is_int || data.shape.size() != 1) fail(node, "only 1-d constant gathers are supported");
      for (int64_t i : idx.ints) v.ints.push_back(data.ints.at(i < 0 ? i + data.ints.size() : i));
      v.shape = idx.shape;
    } else if (op == "Concat") {
      for (int i = 0; i < node.input_size(); ++i) {
        if (!in(i).is_int) fail(node, "mixes integer and float inputs");
        v.ints.insert(v.ints.end(), in(i).ints.begin(), in(i).ints.end());
      }
      v.shape = {static_cast<int64_t>(v.ints.size())};
    } else {
      v.ints = in(0).ints;
      v.shape = {static_cast<int64_t>(v.ints.size())};
    }
    set(0, v);
    return;
  }
  if (op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze") {
    Value& x = in(0);
    Shape shape;
    if (op == "Reshape") {
      const Value& target = in(1);
      if (!target.is_int) fail(node, "the target shape must be constant");
      shape = target.ints;
      int64_t known = 1, infer = -1;
      for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == 0) shape[i] = x.shape.at(i);
        if (shape[i] < -1 || shape[i] > (int64_t{1} << 31) || (shape[i] == -1 && infer >= 0))
          fail(node, "the target shape " + shape_text(target.ints) + " is not a valid shape");
        if (shape[i] == -1) infer = static_cast<int64_t>(i);
        else known *= shape[i];
        if (known > (int64_t{1} << 40)) fail(node, "the target shape " + shape_text(target.ints) + " is too large");
      }
      if (infer >= 0 && (known == 0 || numel(x.shape) % known != 0))
        fail(node, "cannot reshape " + shape_text(x.shape) + " to " + shape_text(target.ints));
      if (infer >= 0) shape[infer] = numel(x.shape) / known;
    } else if (op == "Flatten") {
      const int64_t axis = attr_int(node, "axis", 1);
      if (axis < 0 || axis > static_cast<int64_t>(x.shape.size())) fail(node, "axis out of range");
      int64_t a = 1, b = 1;
      for (int64_t i = 0; i < static_cast<int64_t>(x.shape.size()); ++i) (i < axis ? a : b) *= x.shape[i];
      shape = {a, b};
    } else {
      Shape axes = attr_ints(node, "axes");
      if (axes.empty() && node.input_size() > 1) axes = in(1).ints;
      shape = x.shape;
      if (op == "Squeeze") {
        Shape kept;
        for (int64_t i = 0; i < static_cast<int64_t>(shape.size()); ++i) {
          const bool listed = axes.empty() ? shape[i] == 1 : std::count(axes.begin(), axes.end(), i) > 0;
          if (!listed) kept.push_back(shape[i]);
        }
        shape = kept;
      } else {
        std::sort(axes.begin(), axes.end());
        for (int64_t a : axes) {
          const int64_t at = a < 0 ? a + static_cast<int64_t>(shape.size()) + 1 : a;
          if (at < 0 || at > static_cast<int64_t>(shape.size())) fail(node, "axes out of range");
          shape.insert(shape.begin() + at, 1);
        }
      }
    }
    if (numel(shape) != numel(x.shape)) fail(node, "cannot reshape " + shape_text(x.shape) + " to " + shape_text(shape));
    Value v;
    v.shape = shape;
    if (x.is_const) {
      v.is_const = true;
      v.floats = x.floats;
    } else {
      v.plain = plain(x, node);  // same buffer, new shape
    }
    set(0, v);
    return;
  }
  if (op == "Transpose") {
    Value& x = in(0);
    Shape perm = attr_ints(node, "perm");
    if (perm.empty())
      for (int64_t i = static_cast<int64_t>(x.shape.size()) - 1; i >= 0; --i) perm.push_back(i);
    std::vector<bool> used(x.shape.size(), false);
    for (int64_t p : perm) {
      if (p < 0 || p >= static_cast<int64_t>(x.shape.size()) || used[p] || perm.size() != x.shape.size())
        fail(node, "perm is not a permutation of the input's " + std::to_string(x.shape.size()) + " axes");
      used[p] = true;
    }
    Shape shape(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) shape[i] = x.shape[perm[i]];
    const Shape in_strides = strides_of(x.shape), out_strides = strides_of(shape);
    if (x.blocked && !x.plain && perm.size() == x.shape.size()) {
      // A convolution's output (a head): one reorder writes it out already transposed,
      // its destination described as x's dimensions with the permuted strides.
      memory::dims dims(x.shape.begin(), x.shape.end()), strides(dims.size());
      for (size_t i = 0; i < perm.size(); ++i) strides[perm[i]] = out_strides[i];
      Value v;
      v.shape = shape;
      v.plain = alloc(shape);
      reorder_out(x, memory::desc(dims, memory::data_type::f32, strides), v.plain->data());
      set(0, v);
      return;
    }
    // Otherwise a precomputed gather index: small tensors only.
    auto index = std::make_shared<std::vector<int32_t>>(numel(shape));
    for (int64_t i = 0; i < static_cast<int64_t>(index->size()); ++i) {
      int64_t rest = i, flat = 0;
      for (size_t d = 0; d < shape.size(); ++d) {
        flat += (rest / out_strides[d]) * in_strides[perm[d]];
        rest %= out_strides[d];
      }
      (*index)[i] = static_cast<int32_t>(flat);
    }
    auto src = plain(x, node);
    Value v;
    v.shape = shape;
    v.plain = alloc(shape);
    auto dst = v.plain;
    steps_.push_back([src, dst, index] {
      for (size_t i = 0; i < index->size(); ++i) (*dst)[i] = (*src)[(*index)[i]];
    });
    set(0, v);
    return;
  }
  if (op == "Concat") {
    const int64_t rank = static_cast<int64_t>(in(0).shape.size());
    int64_t axis = attr_int(node, "axis", 0);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank) fail(node, "axis out of range");
    for (int i = 1; i < node.input_size(); ++i) {
      const Shape& other = in(i).shape;
      bool fits = static_cast<int64_t>(other.size()) == rank;
      for (int64_t d = 0; fits && d < rank; ++d) fits = d == axis || other[d] == in(0).shape[d];
      if (!fits) fail(node, "input shapes " + shape_text(in(0).shape) + " and " + shape_text(other) + " do not concatenate");
    }
    Shape shape = in(0).shape;
    shape[axis] = 0;
    std::vector<std::shared_ptr<std::vector<float>>> parts;
    std::vector<int64_t> chunk;
    int64_t outer = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= shape[d];
    for (int i = 0; i < node.input_size(); ++i) {
      Value& x = in(i);
      shape[axis] += x.shape.at(axis);
      parts.push_back(plain(x, node));
      chunk.push_back(numel(x.shape) / outer);
    }
    Value v;
    v.shape = shape;
    v.plain = alloc(shape);
    auto dst = v.plain;
    steps_.push_back([parts, chunk, outer, dst] {
      float* out = dst->data();
      for (int64_t o = 0; o < outer; ++o)
        for (size_t p = 0; p < parts.size(); ++p) {
          std::memcpy(out, parts[p]->data() + o * chunk[p], chunk[p] * sizeof(float));
          out += chunk[p];
        }
    });
    set(0, v);
    return;
  }
  if (op == "Softmax") {
    Value& x = in(0);
    const int64_t rank = static_cast<int64_t>(x.shape.size());
    int64_t axis = attr_int(node, "axis", opset_ >= 13 ? -1 : 1);
    if (axis < 0) axis += rank;
    // Opset < 13 normalises over all axes from `axis` on; 13+ over `axis` alone.
    int64_t outer = 1, size = 1, inner = 1;
    for (int64_t d = 0; d < rank; ++d) {
      if (d < axis) outer *= x.shape[d];
      else if (d == axis || opset_ < 13) size *= x.shape[d];
      else inner *= x.shape[d];
    }
    auto src = plain(x, node);
    Value v;
    v.shape = x.shape;
    v.plain = alloc(x.shape);
    auto dst = v.plain;
    steps_.push_back([src, dst, outer, size, inner] {
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          const float* s = src->data() + o * size * inner + i;
          float* d = dst->data() + o * size * inner + i;
          float m = s[0];
          for (int64_t k = 1; k < size; ++k) m = std::max(m, s[k * inner]);
          float sum = 0;
          for (int64_t k = 0; k < size; ++k) sum += d[k * inner] = std::exp(s[k * inner] - m);
          for (int64_t k = 0; k < size; ++k) d[k * inner] /= sum;
        }
    });
    set(0, v);
    return;
  }
  if (op == "Split" || op == "Slice") {
    Value& x = in(0);
    const int64_t rank = static_cast<int64_t>(x.shape.size());
    struct Part { Shape start, shape; };
    std::vector<Part> parts;
    if (op == "Split") {
      int64_t axis = attr_int(node, "axis", 0);
      if (axis < 0) axis += rank;
      Shape sizes = attr_ints(node, "split");
      if (sizes.empty() && node.input_size() > 1) sizes = in(1).ints;
      if (sizes.empty()) sizes.assign(node.output_size(), x.shape[axis] / node.output_size());
      int64_t at = 0;
      for (int64_t s : sizes) {
        Part p{Shape(rank, 0), x.shape};
        p.start[axis] = at;
        p.shape[axis] = s;
        at += s;
        parts.push_back(p);
      }
    } else {
      Shape starts, ends, axes, steps;
      if (opset_ < 10) {
        starts = attr_ints(node, "starts"), ends = attr_ints(node, "ends"), axes = attr_ints(node, "axes");
      } else {
        starts = in(1).ints, ends = in(2).ints;
        if (node.input_size() > 3 && !node.input(3).empty()) axes = in(3).ints;
        if (node.input_size() > 4 && !node.input(4).empty()) steps = in(4).ints;
      }
      for (int64_t s : steps)
        if (s != 1) fail(node, "only step 1 slices are supported");
      if (axes.empty())
        for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
      Part p{Shape(rank, 0), x.shape};
      for (size_t i = 0; i < axes.size(); ++i) {
        const int64_t a = axes[i] < 0 ? axes[i] + rank : axes[i], dim = x.shape[a];
        int64_t b = starts[i] < 0 ? starts[i] + dim : std::min(starts[i], dim);
        int64_t e = ends[i] < 0 ? ends[i] + dim : std::min(ends[i], dim);
        b = std::clamp<int64_t>(b, 0, dim), e = std::clamp<int64_t>(e, b, dim);
        p.start[a] = b;
        p.shape[a] = e - b;
      }
      parts.push_back(p);
    }
    auto src = plain(x, node);
    const Shape in_strides = strides_of(x.shape);
    for (size_t o = 0; o < parts.size(); ++o) {
      const Part p = parts[o];
      Value v;
      v.shape = p.shape;
      v.plain = alloc(p.shape);
      auto dst = v.plain;
      const Shape out_strides = strides_of(p.shape);
      auto index = std::make_shared<std::vector<int32_t>>(numel(p.shape));
      for (int64_t i = 0; i < static_cast<int64_t>(index->size()); ++i) {
        int64_t rest = i, flat = 0;
        for (int64_t d = 0; d < rank; ++d) {
          flat += (rest / out_strides[d] + p.start[d]) * in_strides[d];
          rest %= out_strides[d];
        }
        (*index)[i] = static_cast<int32_t>(flat);
      }
      steps_.push_back([src, dst, index] {
        for (size_t i = 0; i < index->size(); ++i) (*dst)[i] = (*src)[(*index)[i]];
      });
      set(static_cast<int>(o), v);
    }
    return;
  }
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    Value& a = in(0);
    Value& b = in(1);
    if (a.blocked && b.blocked && a.shape == b.shape && a.blocked->get_desc() == b.blocked->get_desc() &&
        a.blocked->get_desc().data_type() == memory::data_type::f32) {
      // Two fp32 activations in the same layout (a residual connection): one oneDNN
      // binary primitive, and the result stays in that layout for the next convolution.
      const auto alg = op == "Add" ? dnnl::algorithm::binary_add
                       : op == "Sub" ? dnnl::algorithm::binary_sub
                       : op == "Mul" ? dnnl::algorithm::binary_mul
                                     : dnnl::algorithm::binary_div;
      const memory::desc& layout = a.blocked->get_desc();
      auto pd = dnnl::binary::primitive_desc(dnnl::binary::desc(alg, layout, layout, layout), engine_);
      auto binary = std::make_shared<dnnl::binary>(pd);
      auto src0 = a.blocked, src1 = b.blocked, dst = activation(layout);
      add_step([this, binary, src0, src1, dst] {
        binary->execute(stream_, {{DNNL_ARG_SRC_0, *src0}, {DNNL_ARG_SRC_1, *src1}, {DNNL_ARG_DST, *dst}});
      }, {src0, src1, dst});
      Value v;
      v.shape = a.shape;
      v.blocked = dst;
      set(0, v);
      return;
    }
    const Shape shape = broadcast_shape(a.shape, b.shape, node.name());
    auto ia = std::make_shared<std::vector<int32_t>>(broadcast_index(a.shape, shape));
    auto ib = std::make_shared<std::vector<int32_t>>(broadcast_index(b.shape, shape));
    auto pa = plain(a, node), pb = plain(b, node);
    Value v;
    v.shape = shape;
    v.plain = alloc(shape);
    auto dst = v.plain;
    const char kind = op[0];
    steps_.push_back([pa, pb, ia, ib, dst, kind] {
      float* d = dst->data();
      const float *x = pa->data(), *y = pb->data();
      const int32_t *i = ia->data(), *j = ib->data();
      const size_t n = dst->size();
      switch (kind) {
        case 'A': for (size_t k = 0; k < n; ++k) d[k] = x[i[k]] + y[j[k]]; break;
        case 'S': for (size_t k = 0; k < n; ++k) d[k] = x[i[k]] - y[j[k]]; break;
        case 'M': for (size_t k = 0; k < n; ++k) d[k] = x[i[k]] * y[j[k]]; break;
        default: for (size_t k = 0; k < n; ++k) d[k] = x[i[k]] / y[j[k]];
      }
    });
    set(0, v);
    return;
  }
  if (op == "Exp" || op == "Relu" || op == "Clip") {
    Value& x = in(0);
    float lo = attr_float(node, "min", -3.4e38f), hi = attr_float(node, "max", 3.4e38f);
    if (op == "Clip") {
      if (node.input_size() > 1 && !node.input(1).empty()) lo = in(1).floats.at(0);
      if (node.input_size() > 2 && !node.input(2).empty()) hi = in(2).floats.at(0);
    }
    if (op == "Relu") lo = 0;
    auto src = plain(x, node);
    Value v;
    v.shape = x.shape;
    v.plain = alloc(x.shape);
    auto dst = v.plain;
    const bool exp = op == "Exp";
    steps_.push_back([src, dst, exp, lo, hi] {
      const size_t n = dst->size();
      if (exp) for (size_t k = 0; k < n; ++k) (*dst)[k] = std::exp((*src)[k]);
      else for (size_t k = 0; k < n; ++k) (*dst)[k] = std::min(hi, std::max(lo, (*src)[k]));
    });
    set(0, v);
    return;
  }
  fail(node, "not supported by the onednn engine");
}

}  // namespace

size_t quantize_onnx_model(const std::string& model_path, const std::string& labels_path,
                           const std::vector<std::string>& images, const std::string& output_path) {
  if (images.empty()) throw Error("--calibration: no images");
  OnnxModel model = load_onnx_model(model_path, labels_path);
  model.int8 = {};
  OneDnnEngine engine(model, 0, nullptr, /*share_activations=*/false);
  const ModelInfo& info = model.info;
  std::vector<float> input(static_cast<size_t>(model.batch_size) * 3 * info.input_width * info.input_height, 0.0f);
  std::map<std::string, float> peaks;
  for (const auto& path : images) {
    const cv::Mat rgb = read_rgb_image(path);
    to_network_input(rgb, info.input_width, info.input_height, info.image_mean, info.image_std, input.data());
    for (const auto& [name, peak] : engine.observe(input.data())) peaks[name] = std::max(peaks[name], peak);
  }
  Int8Calibration table;
  for (const auto& [name, peak] : peaks)
    if (std::isfinite(peak) && peak > 1e-6f) table.scales[name] = 255.0f / peak;  // dead layers stay fp32
  onnx::ModelProto proto;
  proto.ParseFromString(model.bytes);
  auto* props = proto.mutable_metadata_props();
  for (int i = props->size() - 1; i >= 0; --i)
    if (props->Get(i).key() == "edgessd.int8") props->DeleteSubrange(i, 1);
  auto* prop = proto.add_metadata_props();
  prop->set_key("edgessd.int8");
  prop->set_value(int8_calibration_to_json(table));
  std::string bytes;
  proto.SerializeToString(&bytes);
  write_file_atomic(output_path, bytes);
  return table.scales.size();
}

std::unique_ptr<InferenceEngine> create_onednn_engine(const OnnxModel& model, int threads) {
  const Int8Calibration* table = model.int8.scales.empty() ? nullptr : &model.int8;
  return std::make_unique<OneDnnEngine>(model, threads, table);
}

}  // namespace edgessd
