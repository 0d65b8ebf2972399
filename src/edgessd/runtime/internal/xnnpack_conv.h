// One fp32 convolution (any kernel, stride, padding, groups; bias and clamp fused) over
// channels-last data, run by XNNPACK (Debian's libxnnpack, TFLite's CPU engine). The
// oneDNN engine uses it on AArch64, where Debian's oneDNN has only a reference GEMM and
// XNNPACK has NEON kernels (bench/arm64_cost.sh counts both); x86-64 keeps oneDNN's own
// JIT kernels, the faster there. `available()` is false in a build without XNNPACK.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace edgessd {

struct XnnpackConvShape {
  int64_t channels = 0, height = 0, width = 0;  // input (batch 1)
  int64_t out_channels = 0, groups = 1;
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  float lo = -3.4e38f, hi = 3.4e38f;  // fused Relu/Clip bounds
};

// The threads an engine's convolutions share (a pthreadpool; none for one thread).
struct XnnpackThreads;
std::shared_ptr<XnnpackThreads> make_xnnpack_threads(int threads);

class XnnpackConv {
 public:
  // weights: (out_channels, channels / groups, kh, kw) as in ONNX; bias: out_channels values.
  XnnpackConv(const XnnpackConvShape& shape, const std::vector<float>& weights, const std::vector<float>& bias,
              std::shared_ptr<XnnpackThreads> threads);
  ~XnnpackConv();
  XnnpackConv(const XnnpackConv&) = delete;
  XnnpackConv& operator=(const XnnpackConv&) = delete;

  // src: height x width x channels; dst: out_height x out_width x out_channels.
  void run(const float* src, float* dst);

  static bool available();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgessd
