// The oneDNN engine's plain ops: everything but Conv, as a table from ONNX op name to the
// function that plans it. Shape arithmetic is folded now; the rest become run-time steps
// over row-major floats (or a oneDNN binary primitive for a residual add).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "edgessd/runtime/internal/onednn_engine.h"

namespace edgessd {

using dnnl::memory;

namespace {

std::shared_ptr<std::vector<float>> alloc(const Shape& s) { return std::make_shared<std::vector<float>>(numel(s)); }

// A value computed at run time into fresh row-major storage.
Value plain_value(const Shape& shape) {
  Value v;
  v.shape = shape;
  v.plain = alloc(shape);
  return v;
}

int64_t axis_in(int64_t axis, int64_t rank) { return axis < 0 ? axis + rank : axis; }

}  // namespace

void OneDnnEngine::build_plain(const onnx::NodeProto& node) {
  using Builder = void (OneDnnEngine::*)(const onnx::NodeProto&);
  static const std::map<std::string, Builder> table = {
      {"Constant", &OneDnnEngine::op_constant},     {"Identity", &OneDnnEngine::op_identity},
      {"Shape", &OneDnnEngine::op_shape},           {"Cast", &OneDnnEngine::op_cast},
      {"Gather", &OneDnnEngine::fold_integers},     {"Reshape", &OneDnnEngine::op_reshape},
      {"Flatten", &OneDnnEngine::op_reshape},       {"Squeeze", &OneDnnEngine::op_reshape},
      {"Unsqueeze", &OneDnnEngine::op_reshape},     {"Transpose", &OneDnnEngine::op_transpose},
      {"Concat", &OneDnnEngine::op_concat},         {"Softmax", &OneDnnEngine::op_softmax},
      {"Split", &OneDnnEngine::op_split},           {"Slice", &OneDnnEngine::op_slice},
      {"Add", &OneDnnEngine::op_binary},            {"Sub", &OneDnnEngine::op_binary},
      {"Mul", &OneDnnEngine::op_binary},            {"Div", &OneDnnEngine::op_binary},
      {"Exp", &OneDnnEngine::op_elementwise},       {"Relu", &OneDnnEngine::op_elementwise},
      {"Clip", &OneDnnEngine::op_elementwise},      {"MaxPool", &OneDnnEngine::op_max_pool},
  };
  auto it = table.find(node.op_type());
  if (it == table.end()) fail(node, "not supported by the onednn engine");
  const bool integers = node.input_size() > 0 && value(node.input(0), node).is_int;
  const std::string& op = node.op_type();
  if (integers && (op == "Squeeze" || op == "Unsqueeze" || op == "Concat")) return fold_integers(node);
  (this->*it->second)(node);
}

void OneDnnEngine::op_constant(const onnx::NodeProto& node) {
  const auto* a = attribute(node, "value");
  if (!a || !a->has_t()) fail(node, "only tensor constants are supported");
  set_output(node, 0, constant_value(a->t(), node.name()));
}

void OneDnnEngine::op_identity(const onnx::NodeProto& node) { set_output(node, 0, value(node.input(0), node)); }

void OneDnnEngine::op_shape(const onnx::NodeProto& node) {
  Value v;
  v.is_int = true;
  v.ints = value(node.input(0), node).shape;
  v.shape = {static_cast<int64_t>(v.ints.size())};
  set_output(node, 0, v);
}

void OneDnnEngine::op_cast(const onnx::NodeProto& node) {
  const Value& v = value(node.input(0), node);
  if (!v.is_int && !v.is_const) fail(node, "only constant casts are supported");
  set_output(node, 0, v);
}

// Integer shape arithmetic (Gather, Concat, Squeeze, Unsqueeze on folded integers).
void OneDnnEngine::fold_integers(const onnx::NodeProto& node) {
  auto in = [&](int i) -> Value& { return value(node.input(i), node); };
  if (!in(0).is_int) fail(node, "not supported by the onednn engine");
  Value v;
  v.is_int = true;
  if (node.op_type() == "Gather") {
    const Value& data = in(0);
    const Value& idx = in(1);
    if (!idx.is_int || data.shape.size() != 1) fail(node, "only 1-d constant gathers are supported");
    for (int64_t i : idx.ints) v.ints.push_back(data.ints.at(i < 0 ? i + data.ints.size() : i));
    v.shape = idx.shape;
  } else if (node.op_type() == "Concat") {
    for (int i = 0; i < node.input_size(); ++i) {
      if (!in(i).is_int) fail(node, "mixes integer and float inputs");
      v.ints.insert(v.ints.end(), in(i).ints.begin(), in(i).ints.end());
    }
    v.shape = {static_cast<int64_t>(v.ints.size())};
  } else {
    v.ints = in(0).ints;
    v.shape = {static_cast<int64_t>(v.ints.size())};
  }
  set_output(node, 0, v);
}

// Reshape's target with 0 (keep) and -1 (infer) resolved against `from`.
Shape OneDnnEngine::reshape_target(const onnx::NodeProto& node, const Shape& from) {
  const Value& target = value(node.input(1), node);
  if (!target.is_int) fail(node, "the target shape must be constant");
  Shape shape = target.ints;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0) shape[i] = from.at(i);
    if (shape[i] < -1 || shape[i] > (int64_t{1} << 31) || (shape[i] == -1 && infer >= 0))
      fail(node, "the target shape " + shape_text(target.ints) + " is not a valid shape");
    if (shape[i] == -1) infer = static_cast<int64_t>(i);
    else known *= shape[i];
    if (known > (int64_t{1} << 40)) fail(node, "the target shape " + shape_text(target.ints) + " is too large");
  }
  if (infer >= 0 && (known == 0 || numel(from) % known != 0))
    fail(node, "cannot reshape " + shape_text(from) + " to " + shape_text(target.ints));
  if (infer >= 0) shape[infer] = numel(from) / known;
  return shape;
}

namespace {

Shape flattened(const Shape& s, int64_t axis) {
  int64_t a = 1, b = 1;
  for (int64_t i = 0; i < static_cast<int64_t>(s.size()); ++i) (i < axis ? a : b) *= s[i];
  return {a, b};
}

Shape squeezed(const Shape& s, const Shape& axes) {
  Shape kept;
  for (int64_t i = 0; i < static_cast<int64_t>(s.size()); ++i) {
    const bool listed = axes.empty() ? s[i] == 1 : std::count(axes.begin(), axes.end(), i) > 0;
    if (!listed) kept.push_back(s[i]);
  }
  return kept;
}

}  // namespace

// Reshape, Flatten, Squeeze, Unsqueeze: the same data under a new shape.
void OneDnnEngine::op_reshape(const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  Value& x = value(node.input(0), node);
  Shape shape;
  if (op == "Reshape") {
    shape = reshape_target(node, x.shape);
  } else if (op == "Flatten") {
    const int64_t axis = attr_int(node, "axis", 1);
    if (axis < 0 || axis > static_cast<int64_t>(x.shape.size())) fail(node, "axis out of range");
    shape = flattened(x.shape, axis);
  } else {
    Shape axes = attr_ints(node, "axes");
    if (axes.empty() && node.input_size() > 1) axes = value(node.input(1), node).ints;
    shape = x.shape;
    if (op == "Squeeze") {
      shape = squeezed(shape, axes);
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
  set_output(node, 0, v);
}

void OneDnnEngine::op_transpose(const onnx::NodeProto& node) {
  Value& x = value(node.input(0), node);
  Shape perm = attr_ints(node, "perm");
  if (perm.empty())
    for (int64_t i = static_cast<int64_t>(x.shape.size()) - 1; i >= 0; --i) perm.push_back(i);
  std::vector<bool> used(x.shape.size(), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(x.shape.size()) || used[p] || perm.size() != x.shape.size())
      fail(node, "perm is not a permutation of the input's " + std::to_string(x.shape.size()) + " axes");
    used[p] = true;
  }
  Shape shape(perm.size()), permuted(perm.size());
  const Shape in_strides = strides_of(x.shape);
  for (size_t i = 0; i < perm.size(); ++i) shape[i] = x.shape[perm[i]], permuted[i] = in_strides[perm[i]];
  Value v = plain_value(shape);
  if (x.blocked && !x.plain) {
    // A convolution's output (a head): one reorder writes it out already transposed,
    // its destination described as x's dimensions with the permuted strides.
    const Shape out_strides = strides_of(shape);
    memory::dims dims(x.shape.begin(), x.shape.end()), strides(dims.size());
    for (size_t i = 0; i < perm.size(); ++i) strides[perm[i]] = out_strides[i];
    reorder_out(x, memory::desc(dims, memory::data_type::f32, strides), v.plain->data());
    return set_output(node, 0, v);
  }
  add_gather(plain(x, node), v.plain, strided_index(shape, permuted));
  set_output(node, 0, v);
}

// A step that copies src[index[i]] to dst[i]: for small tensors (after the heads).
void OneDnnEngine::add_gather(std::shared_ptr<std::vector<float>> src, std::shared_ptr<std::vector<float>> dst,
                              std::vector<int32_t> index) {
  auto shared = std::make_shared<std::vector<int32_t>>(std::move(index));
  steps_.push_back([src, dst, shared] {
    const std::vector<int32_t>& at = *shared;
    for (size_t i = 0; i < at.size(); ++i) (*dst)[i] = (*src)[at[i]];
  });
}

void OneDnnEngine::op_concat(const onnx::NodeProto& node) {
  auto in = [&](int i) -> Value& { return value(node.input(i), node); };
  const int64_t rank = static_cast<int64_t>(in(0).shape.size());
  const int64_t axis = axis_in(attr_int(node, "axis", 0), rank);
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
  Value v = plain_value(shape);
  steps_.push_back([parts, chunk, outer, dst = v.plain] {
    float* out = dst->data();
    for (int64_t o = 0; o < outer; ++o)
      for (size_t p = 0; p < parts.size(); ++p) {
        std::memcpy(out, parts[p]->data() + o * chunk[p], chunk[p] * sizeof(float));
        out += chunk[p];
      }
  });
  set_output(node, 0, v);
}

void OneDnnEngine::op_softmax(const onnx::NodeProto& node) {
  Value& x = value(node.input(0), node);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  const int64_t axis = axis_in(attr_int(node, "axis", opset_ >= 13 ? -1 : 1), rank);
  // Opset < 13 normalises over all axes from `axis` on; 13+ over `axis` alone.
  int64_t outer = 1, size = 1, inner = 1;
  for (int64_t d = 0; d < rank; ++d) {
    if (d < axis) outer *= x.shape[d];
    else if (d == axis || opset_ < 13) size *= x.shape[d];
    else inner *= x.shape[d];
  }
  Value v = plain_value(x.shape);
  steps_.push_back([src = plain(x, node), dst = v.plain, outer, size, inner] {
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
  set_output(node, 0, v);
}

// Output `i` of x as the box at `start` with `shape` (Split's parts, Slice's one part).
void OneDnnEngine::set_part(const onnx::NodeProto& node, int i, Value& x, const Shape& start, const Shape& shape) {
  const Shape in_strides = strides_of(x.shape);
  int64_t offset = 0;
  for (size_t d = 0; d < start.size(); ++d) offset += start[d] * in_strides[d];
  Value v = plain_value(shape);
  add_gather(plain(x, node), v.plain, strided_index(shape, in_strides, offset));
  set_output(node, i, v);
}

void OneDnnEngine::op_split(const onnx::NodeProto& node) {
  Value& x = value(node.input(0), node);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  const int64_t axis = axis_in(attr_int(node, "axis", 0), rank);
  Shape sizes = attr_ints(node, "split");
  if (sizes.empty() && node.input_size() > 1) sizes = value(node.input(1), node).ints;
  if (sizes.empty()) sizes.assign(node.output_size(), x.shape.at(axis) / node.output_size());
  int64_t at = 0;
  for (size_t o = 0; o < sizes.size(); ++o) {
    Shape start(rank, 0), shape = x.shape;
    start.at(axis) = at;
    if (sizes[o] < 0 || at + sizes[o] > x.shape[axis]) fail(node, "the parts do not fit the axis");
    shape[axis] = sizes[o];
    at += sizes[o];
    set_part(node, static_cast<int>(o), x, start, shape);
  }
}

void OneDnnEngine::op_slice(const onnx::NodeProto& node) {
  auto in = [&](int i) -> Value& { return value(node.input(i), node); };
  Value& x = in(0);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
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
  Shape start(rank, 0), shape = x.shape;
  for (size_t i = 0; i < axes.size(); ++i) {
    const int64_t a = axis_in(axes[i], rank), dim = x.shape.at(a);
    int64_t b = starts.at(i) < 0 ? starts[i] + dim : std::min(starts[i], dim);
    int64_t e = ends.at(i) < 0 ? ends[i] + dim : std::min(ends[i], dim);
    b = std::clamp<int64_t>(b, 0, dim), e = std::clamp<int64_t>(e, b, dim);
    start[a] = b;
    shape[a] = e - b;
  }
  set_part(node, 0, x, start, shape);
}

// Two fp32 activations in the same layout (a residual connection): one oneDNN binary
// primitive, and the result stays in that layout for the next convolution.
bool OneDnnEngine::binary_in_layout(const onnx::NodeProto& node, Value& a, Value& b) {
  if (!a.blocked || !b.blocked || a.shape != b.shape || a.blocked->get_desc() != b.blocked->get_desc() ||
      a.blocked->get_desc().data_type() != memory::data_type::f32)
    return false;
  const std::string& op = node.op_type();
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
  set_output(node, 0, v);
  return true;
}

// Add, Sub, Mul, Div with NumPy broadcasting.
void OneDnnEngine::op_binary(const onnx::NodeProto& node) {
  Value& a = value(node.input(0), node);
  Value& b = value(node.input(1), node);
  if (binary_in_layout(node, a, b)) return;
  const Shape shape = broadcast_shape(a.shape, b.shape, node.name());
  // Each input's strides in the output's axes, 0 where it is stretched.
  auto stretched = [&](const Shape& in) {
    Shape padded(shape.size(), 1);
    std::copy(in.begin(), in.end(), padded.begin() + (shape.size() - in.size()));
    Shape strides = strides_of(padded);
    for (size_t d = 0; d < shape.size(); ++d)
      if (padded[d] == 1) strides[d] = 0;
    return std::make_shared<std::vector<int32_t>>(strided_index(shape, strides));
  };
  auto ia = stretched(a.shape), ib = stretched(b.shape);
  auto pa = plain(a, node), pb = plain(b, node);
  Value v = plain_value(shape);
  const char kind = node.op_type()[0];
  steps_.push_back([pa, pb, ia, ib, dst = v.plain, kind] {
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
  set_output(node, 0, v);
}

// Exp, and Relu/Clip not fused into a convolution (bounds read as for a fused one).
void OneDnnEngine::op_elementwise(const onnx::NodeProto& node) {
  Value& x = value(node.input(0), node);
  const bool exp = node.op_type() == "Exp";
  const ActivationBounds bounds = exp ? ActivationBounds() : bounds_of(node);
  Value v = plain_value(x.shape);
  steps_.push_back([src = plain(x, node), dst = v.plain, exp, lo = bounds.lo, hi = bounds.hi] {
    const size_t n = dst->size();
    if (exp) for (size_t k = 0; k < n; ++k) (*dst)[k] = std::exp((*src)[k]);
    else for (size_t k = 0; k < n; ++k) (*dst)[k] = std::min(hi, std::max(lo, (*src)[k]));
  });
  set_output(node, 0, v);
}

// MaxPool (VGG-style SSD graphs) as a loop over plain NCHW floats.
void OneDnnEngine::op_max_pool(const onnx::NodeProto& node) {
  Value& x = value(node.input(0), node);
  if (x.shape.size() != 4) fail(node, "input must be 4-d (N,C,H,W), is " + shape_text(x.shape));
  if (node.output_size() != 1) fail(node, "the Indices output is not supported");
  if (attr_int(node, "storage_order", 0) != 0) fail(node, "storage_order 1 is not supported");
  const Shape kernel = attr_ints(node, "kernel_shape");
  if (kernel.size() != 2) fail(node, "kernel_shape must be two numbers");
  const Window win = window_of(node, kernel[0], kernel[1], x.shape[2], x.shape[3], attr_int(node, "ceil_mode", 0) != 0,
                               [&](const std::string& why) { fail(node, why); });
  Value v = plain_value({x.shape[0], x.shape[1], win.out_h, win.out_w});
  const int64_t planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3];
  steps_.push_back([src = plain(x, node), dst = v.plain, planes, h, w, win, kernel] {
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
  set_output(node, 0, v);
}

}  // namespace edgessd
