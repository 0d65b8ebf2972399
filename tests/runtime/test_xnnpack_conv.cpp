// XNNPACK convolutions (the oneDNN engine's on AArch64) against the direct definition.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "edgessd/runtime/internal/xnnpack_conv.h"

using edgessd::XnnpackConv;
using edgessd::XnnpackConvShape;

namespace {

int64_t out_size(int64_t in, int64_t k, int64_t stride, int64_t before, int64_t after) {
  return (in + before + after - k) / stride + 1;
}

// out[y][x][o] = clamp(b[o] + sum over the group's inputs i and taps of w[o][i][ky][kx] * in[..][..][g*I+i]).
std::vector<float> reference(const XnnpackConvShape& s, const std::vector<float>& in, const std::vector<float>& w,
                             const std::vector<float>& b) {
  const int64_t oh = out_size(s.height, s.kernel_h, s.stride_h, s.pad_top, s.pad_bottom);
  const int64_t ow = out_size(s.width, s.kernel_w, s.stride_w, s.pad_left, s.pad_right);
  const int64_t gi = s.channels / s.groups, go = s.out_channels / s.groups;
  std::vector<float> out(oh * ow * s.out_channels);
  for (int64_t y = 0; y < oh; ++y)
    for (int64_t x = 0; x < ow; ++x)
      for (int64_t o = 0; o < s.out_channels; ++o) {
        double acc = b[o];
        const int64_t g = o / go;
        for (int64_t i = 0; i < gi; ++i)
          for (int64_t ky = 0; ky < s.kernel_h; ++ky)
            for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
              const int64_t iy = y * s.stride_h - s.pad_top + ky, ix = x * s.stride_w - s.pad_left + kx;
              if (iy < 0 || iy >= s.height || ix < 0 || ix >= s.width) continue;
              acc += w[((o * gi + i) * s.kernel_h + ky) * s.kernel_w + kx] *
                     in[(iy * s.width + ix) * s.channels + g * gi + i];
            }
        out[(y * ow + x) * s.out_channels + o] = std::min<float>(s.hi, std::max<float>(s.lo, acc));
      }
  return out;
}

}  // namespace

// MobileNet-SSD's kinds: the first 3x3 stride-2 layer, depthwise stride 1 and 2, 1x1, a
// grouped one, TensorFlow's asymmetric padding, ReLU6 and no clamp, odd sizes.
TEST(XnnpackConv, EqualsTheDirectDefinition) {
  if (!XnnpackConv::available()) GTEST_SKIP() << "this build has no XNNPACK (x86-64 keeps oneDNN's kernels)";
  struct Case { int64_t c, h, w, oc, g, k, stride, pt, pl, pb, pr; bool relu6; };
  const std::vector<Case> cases = {{3, 19, 17, 8, 1, 3, 2, 1, 1, 1, 1, true},  {5, 9, 11, 5, 5, 3, 1, 1, 1, 1, 1, true},
                                   {6, 10, 10, 6, 6, 3, 2, 0, 0, 1, 1, true},  {16, 7, 5, 12, 1, 1, 1, 0, 0, 0, 0, false},
                                   {8, 6, 7, 4, 2, 3, 1, 1, 1, 1, 1, false},   {32, 3, 3, 24, 1, 3, 1, 1, 1, 1, 1, false}};
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  auto threads = edgessd::make_xnnpack_threads(2);
  for (const Case& t : cases) {
    XnnpackConvShape s;
    s.channels = t.c, s.height = t.h, s.width = t.w, s.out_channels = t.oc, s.groups = t.g;
    s.kernel_h = s.kernel_w = t.k, s.stride_h = s.stride_w = t.stride;
    s.pad_top = t.pt, s.pad_left = t.pl, s.pad_bottom = t.pb, s.pad_right = t.pr;
    if (t.relu6) s.lo = 0.0f, s.hi = 6.0f;
    std::vector<float> in(t.h * t.w * t.c), w(t.oc * (t.c / t.g) * t.k * t.k), b(t.oc);
    for (float& v : in) v = 4 * uniform(rng);
    for (float& v : w) v = uniform(rng);
    for (float& v : b) v = uniform(rng);
    XnnpackConv conv(s, w, b, threads);
    const std::vector<float> expected = reference(s, in, w, b);
    std::vector<float> out(expected.size(), -99.0f);
    for (int pass = 0; pass < 2; ++pass) {  // the second run reuses the set-up for the same buffers
      conv.run(in.data(), out.data());
      for (size_t i = 0; i < out.size(); ++i)
        ASSERT_NEAR(out[i], expected[i], 1e-4) << "case c" << t.c << " oc" << t.oc << " g" << t.g << " k" << t.k
                                               << " s" << t.stride << " at " << i;
    }
  }
  EXPECT_THROW(XnnpackConv(XnnpackConvShape{}, {1.0f}, {}, threads), std::exception);
}
