#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "edgessd/runtime/onnx_graph.h"

namespace edgessd {

// One output of a forward pass: its name, shape and values (row-major).
struct Tensor {
  std::string name;
  TensorShape shape;
  std::vector<float> data;
};

// A graph run on a CPU backend: NCHW floats in, the graph's selected outputs out. It knows
// no task; implementations own whatever the backend needs; one instance serves one thread
// at a time.
class InferenceEngine {
 public:
  virtual ~InferenceEngine() = default;
  virtual std::string name() const = 0;
  // `input` holds batch_size x 3 x H x W floats. `outputs` gets graph.outputs, in that
  // order, with the shapes the pass produced (its buffers reused from call to call).
  virtual void forward(const float* input, std::vector<Tensor>& outputs) = 0;
};

struct EngineOptions {
  std::string name = "auto";  // "auto" picks the best engine that loads the model
  int threads = 0;            // 0 = every core
};

// Engines this build has, best first.
std::vector<std::string> available_engines();
std::unique_ptr<InferenceEngine> create_engine(const OnnxGraph& graph, const EngineOptions& options);

// Each engine's constructor, for the factory.
std::unique_ptr<InferenceEngine> create_opencv_engine(const OnnxGraph& graph, int threads);
// oneDNN: fp32, or int8 when the model carries a calibration table (`edgessd quantize`).
std::unique_ptr<InferenceEngine> create_onednn_engine(const OnnxGraph& graph, int threads);

// Multiply-adds of one forward pass at the model's input size, of its convolutions (all
// but a sliver of an SSD's work): each output value costs its kernel's (Cin / group) x kh
// x kw. Counted on OpenCV DNN's import of the graph (OpenCV's own getFLOPS counts a
// depthwise convolution as a full one). What the cost model in README divides a CPU's
// multiply-add rate by.
double multiply_adds(const OnnxGraph& graph);

// Post-training int8 calibration on the oneDNN engine: the graph run in fp32 on every
// input `fill` writes (batch_size x 3 x H x W floats; it returns false when there are no
// more), the largest value of every activated convolution output as a u8 scale. Layers
// that never fire stay fp32.
Int8Calibration calibrate_int8(const OnnxGraph& graph, const std::function<bool(float*)>& fill);

}  // namespace edgessd
