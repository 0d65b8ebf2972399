#include "edgessd/runtime/internal/depthwise_conv.h"

#include <algorithm>

#include "edgessd/common/error.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define EDGESSD_DW_AVX512 1
#endif

namespace edgessd {

namespace {

constexpr int kLanes = 16;

#ifdef EDGESSD_DW_AVX512

constexpr int kMaxRows = 2;  // output rows computed together, sharing the input rows between them

// The pointers and sizes for R output rows.
struct Rows {
  const float* in[(kMaxRows - 1) * 2 + 3];  // input rows (a row of zeros where padding)
  float* out[kMaxRows];
  int64_t channels, width, out_width;
  int pad_left;
  const float* weights;  // packed: [block][9][16]
  const float* bias;
  float lo, hi;
};

#define EDGESSD_AVX512_FN __attribute__((target("avx512f"))) inline

// U x R output pixels (U along the row from ow, R rows), one 16-channel block: each input
// column is loaded once for all the pixels and taps that read it. Checked: the window may
// leave the row (columns outside read as zero) and only the first n pixels are stored.
template <int S, int U, int R, bool Checked>
EDGESSD_AVX512_FN void depthwise_tile(const Rows& r, int64_t offset, __mmask16 mask, int64_t ow, int n) {
  constexpr int kColumns = (U - 1) * S + 3;
  constexpr int kInputRows = (R - 1) * S + 3;
  const float* wp = r.weights + offset * 9;
  const __m512 bias = _mm512_loadu_ps(r.bias + offset);
  __m512 acc[R][U];
#pragma GCC unroll 16
  for (int o = 0; o < R * U; ++o) acc[o / U][o % U] = bias;
  const int64_t iw0 = ow * S - r.pad_left;
#pragma GCC unroll 8
  for (int i = 0; i < kInputRows; ++i) {
    __m512 col[kColumns];
    const float* row = r.in[i] + offset;
#pragma GCC unroll 16
    for (int c = 0; c < kColumns; ++c) {
      const int64_t iw = iw0 + c;
      col[c] = !Checked || (iw >= 0 && iw < r.width) ? _mm512_maskz_loadu_ps(mask, row + iw * r.channels)
                                                     : _mm512_setzero_ps();
    }
#pragma GCC unroll 4
    for (int o = 0; o < R; ++o) {
      const int kh = i - o * S;  // this input row's tap for output row o
      if (kh < 0 || kh > 2) continue;
#pragma GCC unroll 3
      for (int kw = 0; kw < 3; ++kw) {
        const __m512 w = _mm512_loadu_ps(wp + (kh * 3 + kw) * kLanes);
#pragma GCC unroll 16
        for (int u = 0; u < U; ++u) acc[o][u] = _mm512_fmadd_ps(col[u * S + kw], w, acc[o][u]);
      }
    }
  }
  const __m512 lo = _mm512_set1_ps(r.lo), hi = _mm512_set1_ps(r.hi);
#pragma GCC unroll 4
  for (int o = 0; o < R; ++o)
#pragma GCC unroll 16
    for (int u = 0; u < U; ++u)
      if (!Checked || u < n)
        _mm512_mask_storeu_ps(r.out[o] + (ow + u) * r.channels + offset, mask,
                              _mm512_min_ps(_mm512_max_ps(acc[o][u], lo), hi));
}

// R output rows: tiles of U pixels along them, all channel blocks of a tile before the
// next, so that the reads of a tile's input columns stream through consecutive memory.
template <int S, int R>
EDGESSD_AVX512_FN void depthwise_rows(const Rows& r) {
  constexpr int U = S == 1 ? 4 : 3;
  const int64_t blocks = (r.channels + kLanes - 1) / kLanes;
  const int tail = static_cast<int>(r.channels % kLanes);
  const __mmask16 tail_mask = static_cast<__mmask16>(tail ? (1u << tail) - 1 : 0xFFFF);
  for (int64_t ow = 0; ow < r.out_width; ow += U) {
    const int n = static_cast<int>(std::min<int64_t>(U, r.out_width - ow));
    const bool inside = n == U && ow * S - r.pad_left >= 0 && (ow + U - 1) * S - r.pad_left + 2 < r.width;
    for (int64_t b = 0; b < blocks; ++b) {
      const __mmask16 mask = b == blocks - 1 ? tail_mask : static_cast<__mmask16>(0xFFFF);
      if (inside) depthwise_tile<S, U, R, false>(r, b * kLanes, mask, ow, n);
      else depthwise_tile<S, U, R, true>(r, b * kLanes, mask, ow, n);
    }
  }
}

#endif

}  // namespace

bool DepthwiseConv3x3::available() {
#ifdef EDGESSD_DW_AVX512
  return __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

bool DepthwiseConv3x3::supports(int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w,
                                const std::vector<int64_t>& pads) {
  if (kernel_h != 3 || kernel_w != 3 || stride_h != stride_w || (stride_h != 1 && stride_h != 2)) return false;
  return std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0 || p == 1; });
}

void DepthwiseConv3x3::set_weights(const std::vector<float>& weights, const std::vector<float>& bias) {
  if (static_cast<int64_t>(weights.size()) != channels * 9 || static_cast<int64_t>(bias.size()) != channels)
    throw Error("depthwise 3x3: weights/bias do not match " + std::to_string(channels) + " channels");
  const int64_t blocks = (channels + kLanes - 1) / kLanes;
  packed_.assign(blocks * 9 * kLanes, 0.0f);
  bias_.assign(blocks * kLanes, 0.0f);
  for (int64_t c = 0; c < channels; ++c) {
    for (int k = 0; k < 9; ++k) packed_[((c / kLanes) * 9 + k) * kLanes + c % kLanes] = weights[c * 9 + k];
    bias_[c] = bias[c];
  }
  zeros_.assign(width * channels, 0.0f);
}

void DepthwiseConv3x3::run(const float* src, float* dst) const {
  if (zeros_.size() != static_cast<size_t>(width * channels)) throw Error("depthwise 3x3: run before set_weights");
#ifdef EDGESSD_DW_AVX512
  const int64_t pairs = (out_height + kMaxRows - 1) / kMaxRows;
#pragma omp parallel for schedule(static)
  for (int64_t pair = 0; pair < pairs; ++pair) {
    const int64_t oh = pair * kMaxRows;
    const bool two = oh + 1 < out_height;
    Rows r;
    for (int i = 0; i < (kMaxRows - 1) * 2 + 3; ++i) {
      const int64_t ih = oh * stride - pad_top + i;
      r.in[i] = ih >= 0 && ih < height ? src + ih * width * channels : zeros_.data();
    }
    for (int o = 0; o < kMaxRows; ++o) r.out[o] = oh + o < out_height ? dst + (oh + o) * out_width * channels : nullptr;
    r.channels = channels, r.width = width, r.out_width = out_width, r.pad_left = pad_left;
    r.weights = packed_.data(), r.bias = bias_.data();
    r.lo = lo, r.hi = hi;
    if (stride == 1) two ? depthwise_rows<1, 2>(r) : depthwise_rows<1, 1>(r);
    else two ? depthwise_rows<2, 2>(r) : depthwise_rows<2, 1>(r);
  }
#else
  (void)src, (void)dst;
  throw Error("depthwise 3x3: this build has no AVX-512 kernel");
#endif
}

}  // namespace edgessd
