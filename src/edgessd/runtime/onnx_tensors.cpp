#include "edgessd/runtime/internal/onnx_tensors.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "edgessd/common/error.h"

namespace edgessd {

int64_t numel(const Shape& s) { return std::accumulate(s.begin(), s.end(), int64_t{1}, std::multiplies<>()); }

std::string shape_text(const Shape& s) {
  std::string t = "(";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? "," : "") + std::to_string(s[i]);
  return t + ")";
}

Shape strides_of(const Shape& s) {
  Shape st(s.size(), 1);
  for (int i = static_cast<int>(s.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * s[i + 1];
  return st;
}

namespace {

// The raw bytes as `Stored`, widened to `Out`; else the typed field.
template <typename Stored, typename Out, typename Field>
std::vector<Out> tensor_values(const onnx::TensorProto& t, const Field& typed) {
  if (t.raw_data().empty()) return std::vector<Out>(typed.begin(), typed.end());
  std::vector<Stored> raw(t.raw_data().size() / sizeof(Stored));
  std::memcpy(raw.data(), t.raw_data().data(), raw.size() * sizeof(Stored));
  return std::vector<Out>(raw.begin(), raw.end());
}

}  // namespace

TensorData tensor_data(const onnx::TensorProto& t, const std::string& what) {
  TensorData d;
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      d.is_float = true;
      d.floats = tensor_values<float, float>(t, t.float_data());
      break;
    case onnx::TensorProto::INT64: d.ints = tensor_values<int64_t, int64_t>(t, t.int64_data()); break;
    case onnx::TensorProto::INT32: d.ints = tensor_values<int32_t, int64_t>(t, t.int32_data()); break;
    default: throw Error(what + ": expected a float or integer tensor");
  }
  return d;
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

Window window_of(const onnx::NodeProto& node, int64_t kh, int64_t kw, int64_t h, int64_t w, bool ceil_mode,
                 const std::function<void(const std::string&)>& fail, bool dilation) {
  Window win;
  win.pads = attr_ints(node, "pads");
  win.strides = attr_ints(node, "strides");
  if (win.pads.empty()) win.pads = {0, 0, 0, 0};
  if (win.strides.empty()) win.strides = {1, 1};
  if (!attr_ints(node, "dilations").empty()) win.dilations = attr_ints(node, "dilations");
  if (kh < 1 || kw < 1 || kh > 1024 || kw > 1024) fail("the kernel must be 1..1024 pixels a side");
  if (win.strides.size() != 2 || win.strides[0] < 1 || win.strides[1] < 1 || win.strides[0] > 1024 ||
      win.strides[1] > 1024)
    fail("strides must be two numbers within 1..1024");
  if (win.dilations.size() != 2 || win.dilations[0] < 1 || win.dilations[1] < 1 || win.dilations[0] > 64 ||
      win.dilations[1] > 64)
    fail("dilations must be two numbers within 1..64");
  if (!dilation && (win.dilations[0] != 1 || win.dilations[1] != 1)) fail("dilations other than 1 are not supported");
  const int64_t span_h = (kh - 1) * win.dilations[0] + 1, span_w = (kw - 1) * win.dilations[1] + 1;
  if (win.pads.size() != 4) fail("pads must be four numbers");
  for (int i = 0; i < 4; ++i)
    if (win.pads[i] < 0 || win.pads[i] >= (i % 2 ? span_w : span_h)) fail("pads must be within 0..kernel-1");
  const auto* auto_pad = attribute(node, "auto_pad");
  if (auto_pad && auto_pad->s() != "NOTSET") fail("auto_pad is not supported");
  auto out = [&](int64_t in, int64_t k, int64_t s, int64_t p0, int64_t p1) {
    const int64_t span = in + p0 + p1 - k;
    if (span < 0) fail("the kernel is larger than the padded input");
    int64_t n = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (n - 1) * s >= in + p0) --n;  // no window may start in the end padding
    return n;
  };
  win.out_h = out(h, span_h, win.strides[0], win.pads[0], win.pads[2]);
  win.out_w = out(w, span_w, win.strides[1], win.pads[1], win.pads[3]);
  return win;
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

std::vector<int32_t> strided_index(const Shape& out, const Shape& in_strides, int64_t offset) {
  const Shape out_strides = strides_of(out);
  std::vector<int32_t> index(numel(out));
  for (int64_t i = 0; i < static_cast<int64_t>(index.size()); ++i) {
    int64_t rest = i, flat = offset;
    for (size_t d = 0; d < out.size(); ++d) {
      flat += (rest / out_strides[d]) * in_strides[d];
      rest %= out_strides[d];
    }
    index[i] = static_cast<int32_t>(flat);
  }
  return index;
}

}  // namespace edgessd
