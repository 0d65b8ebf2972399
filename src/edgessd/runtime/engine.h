#pragma once
#include <memory>
#include <string>
#include <vector>

#include "edgessd/runtime/onnx_model.h"

namespace edgessd {

// The network part of a detector: NCHW floats in, softmaxed scores and corner-form
// boxes out. Implementations own whatever the backend needs; one instance serves one
// thread at a time.
class InferenceEngine {
 public:
  virtual ~InferenceEngine() = default;
  virtual std::string name() const = 0;
  // `input` holds batch_size x 3 x H x W floats. `scores` gets batch x P x C values,
  // `boxes` batch x P x 4; `num_priors` is set to P.
  virtual void forward(const float* input, std::vector<float>& scores, std::vector<float>& boxes,
                       int64_t& num_priors) = 0;
};

struct EngineOptions {
  std::string name = "auto";  // "auto" picks the best engine that loads the model
  int threads = 0;            // 0 = every core
};

// Engines this build has, best first.
std::vector<std::string> available_engines();
std::unique_ptr<InferenceEngine> create_engine(const OnnxModel& model, const EngineOptions& options);

// Each engine's constructor, for the factory.
std::unique_ptr<InferenceEngine> create_opencv_engine(const OnnxModel& model, int threads);
// oneDNN: fp32, or int8 when the model carries a calibration table (`edgessd quantize`).
std::unique_ptr<InferenceEngine> create_onednn_engine(const OnnxModel& model, int threads);

// Multiply-adds of one forward pass at the model's input size, of its convolutions (all
// but a sliver of an SSD's work): each output value costs its kernel's (Cin / group) x kh
// x kw. Counted on OpenCV DNN's import of the graph (OpenCV's own getFLOPS counts a
// depthwise convolution as a full one). What the cost model in README divides a CPU's
// multiply-add rate by.
double multiply_adds(const OnnxModel& model);

}  // namespace edgessd
