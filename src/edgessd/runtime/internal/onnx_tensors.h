#pragma once
// Reading an ONNX graph for the oneDNN engine: tensors and attributes as values, a
// Conv/MaxPool window checked against the input, and the one strided-index helper that
// transpose, slice and broadcasting share. No oneDNN here.
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace edgessd {

using Shape = std::vector<int64_t>;

int64_t numel(const Shape& s);
std::string shape_text(const Shape& s);  // "(1,3,300,300)"
Shape strides_of(const Shape& s);        // row-major

// A tensor's contents: float (FLOAT) or integer (INT64, INT32) data, raw or typed.
// `what` names it in the error for any other type.
struct TensorData {
  bool is_float = false;
  std::vector<float> floats;
  std::vector<int64_t> ints;
};
TensorData tensor_data(const onnx::TensorProto& t, const std::string& what);

const onnx::AttributeProto* attribute(const onnx::NodeProto& n, const std::string& name);
int64_t attr_int(const onnx::NodeProto& n, const std::string& name, int64_t fallback);
float attr_float(const onnx::NodeProto& n, const std::string& name, float fallback);
std::vector<int64_t> attr_ints(const onnx::NodeProto& n, const std::string& name);

// A Conv's or MaxPool's sliding window over an H x W input, its attributes checked
// (strides >= 1, dilations >= 1 where `dilation` allows them, else 1, pads >= 0 and
// smaller than the dilated kernel, no auto_pad) so that no engine divides by zero or
// reads outside the input. `fail` throws.
struct Window {
  Shape strides, pads;  // pads: top, left, bottom, right
  Shape dilations{1, 1};
  int64_t out_h = 0, out_w = 0;
};
Window window_of(const onnx::NodeProto& node, int64_t kh, int64_t kw, int64_t h, int64_t w, bool ceil_mode,
                 const std::function<void(const std::string&)>& fail, bool dilation = false);

// NumPy broadcasting of two shapes; an Error naming `node` when they do not broadcast.
Shape broadcast_shape(const Shape& a, const Shape& b, const std::string& node);

// For each element of a row-major `out` shape, the flat index offset + sum(coord[d] *
// in_strides[d]) into an input: a transpose passes the input's strides permuted, a slice
// its start as `offset`, a broadcast 0 for each stretched axis.
std::vector<int32_t> strided_index(const Shape& out, const Shape& in_strides, int64_t offset = 0);

}  // namespace edgessd
