#include <gtest/gtest.h>

#include <random>

#include "edgessd/runtime/internal/depthwise_conv.h"

using edgessd::DepthwiseConv3x3;

namespace {

// Direct definition: out[y][x][c] = clamp(b[c] + sum w[c][i][j] * in[y*s-pt+i][x*s-pl+j][c]).
std::vector<float> reference(const DepthwiseConv3x3& d, const std::vector<float>& in, const std::vector<float>& w,
                             const std::vector<float>& b) {
  std::vector<float> out(d.out_height * d.out_width * d.channels);
  for (int64_t y = 0; y < d.out_height; ++y)
    for (int64_t x = 0; x < d.out_width; ++x)
      for (int64_t c = 0; c < d.channels; ++c) {
        double acc = b[c];
        for (int i = 0; i < 3; ++i)
          for (int j = 0; j < 3; ++j) {
            const int64_t iy = y * d.stride - d.pad_top + i, ix = x * d.stride - d.pad_left + j;
            if (iy >= 0 && iy < d.height && ix >= 0 && ix < d.width)
              acc += w[c * 9 + i * 3 + j] * in[(iy * d.width + ix) * d.channels + c];
          }
        out[(y * d.out_width + x) * d.channels + c] = std::min<float>(d.hi, std::max<float>(d.lo, acc));
      }
  return out;
}

}  // namespace

// Channel counts with and without a partial last block, both strides, both paddings,
// rows shorter than one tile and rows with interior tiles, odd and even sizes; pad 2
// stands for TensorFlow's asymmetric "same" padding: none before, one after.
TEST(DepthwiseConv3x3, EqualsTheDirectDefinition) {
  if (!DepthwiseConv3x3::available()) GTEST_SKIP() << "no AVX-512 on this CPU: the engine uses oneDNN's kernel";
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  int cases = 0;
  for (int64_t channels : {1, 16, 21, 48, 512})
    for (int64_t size : {1, 2, 3, 7, 19, 38})
      for (int stride : {1, 2})
        for (int pad : {0, 1, 2}) {
          DepthwiseConv3x3 d;
          d.channels = channels, d.height = size, d.width = size + 3, d.stride = stride;
          const int before = pad == 1 ? 1 : 0, total = pad == 0 ? 0 : pad == 1 ? 2 : 1;
          d.pad_top = d.pad_left = before;
          d.out_height = (d.height + total - 3) / stride + 1;
          d.out_width = (d.width + total - 3) / stride + 1;
          if (d.height + total < 3) continue;
          d.lo = pad ? 0.0f : -3.4e38f, d.hi = pad ? 6.0f : 3.4e38f;
          std::vector<float> in(d.height * d.width * channels), w(channels * 9), b(channels);
          for (float& v : in) v = 4 * uniform(rng);
          for (float& v : w) v = uniform(rng);
          for (float& v : b) v = uniform(rng);
          d.set_weights(w, b);
          std::vector<float> out(d.out_height * d.out_width * channels, -99.0f);
          d.run(in.data(), out.data());
          const std::vector<float> expected = reference(d, in, w, b);
          for (size_t i = 0; i < out.size(); ++i)
            ASSERT_NEAR(out[i], expected[i], 1e-4) << "channels " << channels << " size " << size << " stride " << stride
                                                   << " pad " << pad << " at " << i;
          ++cases;
        }
  EXPECT_EQ(cases, 150);
}

TEST(DepthwiseConv3x3, SupportsOnlyWhatItComputes) {
  EXPECT_TRUE(DepthwiseConv3x3::supports(3, 3, 2, 2, {1, 1, 1, 1}));
  EXPECT_TRUE(DepthwiseConv3x3::supports(3, 3, 1, 1, {0, 0, 0, 0}));
  EXPECT_FALSE(DepthwiseConv3x3::supports(5, 5, 1, 1, {2, 2, 2, 2}));
  EXPECT_FALSE(DepthwiseConv3x3::supports(3, 3, 1, 2, {1, 1, 1, 1}));
  EXPECT_FALSE(DepthwiseConv3x3::supports(3, 3, 3, 3, {1, 1, 1, 1}));
  EXPECT_FALSE(DepthwiseConv3x3::supports(3, 3, 1, 1, {2, 2, 2, 2}));
  EXPECT_THROW(DepthwiseConv3x3().set_weights({1.0f}, {}), std::exception);
  DepthwiseConv3x3 unset;
  unset.channels = 16, unset.height = unset.width = unset.out_height = unset.out_width = 5;
  EXPECT_THROW(unset.run(nullptr, nullptr), std::exception);
}
