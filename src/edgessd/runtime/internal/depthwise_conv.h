// A 3x3 depthwise convolution over channels-last (NHWC) float data, with bias and a
// clamp fused. It keeps each channel block's nine weights in registers and computes two
// output rows per pass over their shared input rows, which pays on MobileNet's large
// early layers, where the depthwise step is bound by memory traffic (README's measured
// table has it against oneDNN's kernel per layer). x86-64 with AVX-512 only: where
// `available()` is false the engine keeps oneDNN's kernel (on AArch64, XNNPACK's: a NEON
// form of this one, tried there, executed no fewer instructions; README's measured table).
#pragma once

#include <cstdint>
#include <vector>

namespace edgessd {

struct DepthwiseConv3x3 {
  int64_t channels = 0, height = 0, width = 0;  // input (batch 1)
  int64_t out_height = 0, out_width = 0;
  int stride = 1;                               // 1 or 2, both axes
  int pad_top = 1, pad_left = 1;                // bottom/right padding follows from the output size
  float lo = -3.4e38f, hi = 3.4e38f;            // fused Relu/Clip bounds

  // weights: (channels, 1, 3, 3) as in ONNX; bias: channels values.
  void set_weights(const std::vector<float>& weights, const std::vector<float>& bias);
  // src: height x width x channels; dst: out_height x out_width x channels.
  void run(const float* src, float* dst) const;

  static bool available();
  // Shapes this kernel takes: 3x3 kernel, stride 1 or 2, pads 0 or 1.
  static bool supports(int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w,
                       const std::vector<int64_t>& pads);

 private:
  std::vector<float> packed_;  // [channel block][9 taps][16 lanes], zero-padded
  std::vector<float> bias_;    // padded to whole blocks
  std::vector<float> zeros_;   // one input row of zeros, read for rows in the padding
};

}  // namespace edgessd
