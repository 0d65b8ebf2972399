#pragma once
// The oneDNN engine's inside, shared by its source files (not installed): a small ONNX
// interpreter for SSD graphs. Convolutions (with a following BatchNormalization folded in
// and Relu/Clip fused as a post-op) run as oneDNN primitives in its blocked layouts
// (Winograd for the large 3x3 heads), optionally in int8 from a calibration table; large
// fp32 depthwise layers run our own kernel (depthwise_conv.h); on AArch64 every fp32
// convolution runs on XNNPACK (xnnpack_conv.h) in channels-last. All activations share one
// arena, placed by lifetime (activation_arena.h). A head's transpose is folded into the
// reorder out of oneDNN's layout; the few cheap ops after it (reshape, concat, softmax,
// box decoding) run as plain loops. Shape arithmetic (Shape/Gather/Unsqueeze/Concat on
// integers, as torch.onnx writes for view()) is folded once at load time.
//
//   onednn_engine.cpp     graph walk, fusion, run-time plan (steps, arena), forward
//   onednn_conv.cpp       convolutions: BN folding, activation bounds, int8, kernel choice
//   onednn_plain_ops.cpp  every other op, a table from op name to builder
//   int8_calibration.cpp  the calibration pass (observe) and its table
#include <oneapi/dnnl/dnnl.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "edgessd/runtime/engine.h"
#include "edgessd/runtime/int8_calibration.h"
#include "edgessd/runtime/internal/onnx_tensors.h"

namespace edgessd {

struct XnnpackThreads;

// A value of the graph while it is being planned.
struct Value {
  Shape shape;
  bool is_int = false;  // a folded integer constant (shapes, indices)
  std::vector<int64_t> ints;
  bool is_const = false;  // a float constant (weights)
  std::vector<float> floats;
  std::shared_ptr<std::vector<float>> plain;  // run-time storage, row-major
  std::shared_ptr<dnnl::memory> blocked;      // a convolution's output, oneDNN layout
  std::string producer;                       // the tensor's name, for calibration scales
};
Value constant_value(const onnx::TensorProto& t, const std::string& what);

// A fused activation as bounds: Relu is [0, inf), Clip [min, max] from its attributes
// (opset < 11) or its constant scalar inputs (11+). The fp32 and int8 post-ops, the
// depthwise kernel and the plain Clip op all read them here.
struct ActivationBounds {
  bool relu = false;
  float lo = -3.4e38f, hi = 3.4e38f;
};

// Conv -> [BatchNormalization] -> [Relu | Clip], each the sole consumer of the one before.
struct ConvFusion {
  const onnx::NodeProto* conv = nullptr;
  const onnx::NodeProto* batch_norm = nullptr;
  const onnx::NodeProto* activation = nullptr;
  std::string output;  // the last fused node's output
};

class OneDnnEngine : public InferenceEngine {
 public:
  // share_activations: outputs whose lifetimes do not overlap share memory (off for
  // calibration, which reads every activation after the pass).
  OneDnnEngine(const OnnxGraph& graph, int threads, const Int8Calibration* int8, bool share_activations = true);
  std::string name() const override { return int8_ ? "onednn-int8" : "onednn"; }
  void forward(const float* input, std::vector<Tensor>& outputs) override;
  // For calibration: the largest value of each activated convolution output on `input`.
  std::map<std::string, float> observe(const float* input);

 private:
  using memory = dnnl::memory;
  struct Conv;  // onednn_conv.cpp

  // onednn_engine.cpp
  void build();
  void read_initializers(const onnx::GraphProto& graph);
  void build_nodes(const onnx::GraphProto& graph);
  void bind_outputs();
  Value& value(const std::string& name, const onnx::NodeProto& node);
  void set_output(const onnx::NodeProto& node, int i, Value v);
  [[noreturn]] void fail(const onnx::NodeProto& node, const std::string& why) const;
  std::shared_ptr<std::vector<float>> plain(Value& v, const onnx::NodeProto& node);
  void reorder_out(const Value& v, const memory::desc& layout, float* data);
  float activation_scale(const std::string& tensor) const;
  std::shared_ptr<memory> activation(const memory::desc& desc);
  void add_step(std::function<void()> step, std::initializer_list<std::shared_ptr<memory>> touched);
  void place_arena();
  std::shared_ptr<memory> reordered(const std::shared_ptr<memory>& from, const memory::desc& desc);

  // onednn_conv.cpp
  void build_conv(const ConvFusion& fusion);
  ActivationBounds bounds_of(const onnx::NodeProto& act);
  Conv conv_of(const ConvFusion& fusion);
  void fold_batch_norm(const onnx::NodeProto& bn, Conv& c);
  bool build_depthwise(const Conv& c, Value& x, Value& out);
  bool build_xnnpack(const Conv& c, Value& x, Value& out);
  dnnl::primitive_attr quantized_attr(Conv& c);
  dnnl::convolution_forward::primitive_desc conv_primitive(const Conv& c, const dnnl::primitive_attr& attr);
  std::shared_ptr<memory> conv_weights(const Conv& c, const dnnl::convolution_forward::primitive_desc& pd);
  std::shared_ptr<memory> conv_source(const Conv& c, Value& x, const memory::desc& desc);

  // onednn_plain_ops.cpp
  void build_plain(const onnx::NodeProto& node);
  void op_constant(const onnx::NodeProto& node);
  void op_identity(const onnx::NodeProto& node);
  void op_shape(const onnx::NodeProto& node);
  void op_cast(const onnx::NodeProto& node);
  void fold_integers(const onnx::NodeProto& node);
  void op_reshape(const onnx::NodeProto& node);
  Shape reshape_target(const onnx::NodeProto& node, const Shape& from);
  void op_transpose(const onnx::NodeProto& node);
  void op_concat(const onnx::NodeProto& node);
  void op_softmax(const onnx::NodeProto& node);
  void add_gather(std::shared_ptr<std::vector<float>> src, std::shared_ptr<std::vector<float>> dst,
                  std::vector<int32_t> index);
  void op_split(const onnx::NodeProto& node);
  void op_slice(const onnx::NodeProto& node);
  void set_part(const onnx::NodeProto& node, int i, Value& x, const Shape& start, const Shape& shape);
  void op_binary(const onnx::NodeProto& node);
  bool binary_in_layout(const onnx::NodeProto& node, Value& a, Value& b);
  void op_elementwise(const onnx::NodeProto& node);
  void op_max_pool(const onnx::NodeProto& node);

  OnnxGraph model_;
  dnnl::engine engine_;
  dnnl::stream stream_;
  bool int8_;
  Int8Calibration calibration_;
  int threads_ = 1;
  std::shared_ptr<XnnpackThreads> xnnpack_threads_;  // AArch64: the pool its convolutions share
  int opset_ = 13;
  bool share_activations_ = true;
  std::map<std::string, Value> values_;
  std::map<std::string, int> consumers_;
  std::vector<std::function<void()>> steps_;
  struct Activation {
    std::shared_ptr<memory> mem;
    size_t first, last;  // steps that use it
  };
  std::vector<Activation> activations_;
  std::map<const memory*, std::vector<std::shared_ptr<memory>>> reorders_;
  std::shared_ptr<void> arena_;
  std::shared_ptr<std::vector<float>> input_;
  struct Output {
    std::shared_ptr<std::vector<float>> data;
    Shape shape;
  };
  std::vector<Output> outputs_;  // model_.outputs, in order
  struct Observed {
    std::string name;
    std::shared_ptr<memory> mem;
    Shape shape;
  };
  std::vector<Observed> observed_;
};

}  // namespace edgessd
