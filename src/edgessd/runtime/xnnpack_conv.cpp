#include "edgessd/runtime/internal/xnnpack_conv.h"

#include <string>

#include "edgessd/common/error.h"

#ifdef EDGESSD_HAVE_XNNPACK
#include <pthreadpool.h>
#include <xnnpack.h>

#include <mutex>
#endif

namespace edgessd {

#ifdef EDGESSD_HAVE_XNNPACK

namespace {

void check(xnn_status status, const char* what) {
  if (status != xnn_status_success) throw Error(std::string("XNNPACK: ") + what + " failed (status " +
                                                std::to_string(static_cast<int>(status)) + ")");
}

// ONNX (O, I/g, kh, kw) to XNNPACK's (O, kh, kw, I/g).
std::vector<float> ohwi(const std::vector<float>& w, const XnnpackConvShape& s) {
  const int64_t in = s.channels / s.groups, area = s.kernel_h * s.kernel_w;
  std::vector<float> out(w.size());
  for (int64_t o = 0; o < s.out_channels; ++o)
    for (int64_t i = 0; i < in; ++i)
      for (int64_t k = 0; k < area; ++k) out[(o * area + k) * in + i] = w[(o * in + i) * area + k];
  return out;
}

}  // namespace

struct XnnpackThreads {
  pthreadpool_t pool = nullptr;
  ~XnnpackThreads() {
    if (pool) pthreadpool_destroy(pool);
  }
};

std::shared_ptr<XnnpackThreads> make_xnnpack_threads(int threads) {
  auto t = std::make_shared<XnnpackThreads>();
  if (threads > 1) t->pool = pthreadpool_create(threads);
  return t;
}

struct XnnpackConv::Impl {
  XnnpackConvShape shape;
  xnn_operator_t op = nullptr;
  std::shared_ptr<XnnpackThreads> threads;
  const float* bound_src = nullptr;  // the buffers the operator was last set up for
  float* bound_dst = nullptr;
};

XnnpackConv::XnnpackConv(const XnnpackConvShape& s, const std::vector<float>& weights, const std::vector<float>& bias,
                         std::shared_ptr<XnnpackThreads> threads)
    : impl_(std::make_unique<Impl>()) {
  static std::once_flag initialized;
  std::call_once(initialized, [] { check(xnn_initialize(nullptr), "xnn_initialize"); });
  if (s.groups < 1 || s.channels % s.groups || s.out_channels % s.groups ||
      static_cast<int64_t>(weights.size()) != s.out_channels * (s.channels / s.groups) * s.kernel_h * s.kernel_w ||
      static_cast<int64_t>(bias.size()) != s.out_channels)
    throw Error("XNNPACK convolution: weights/bias do not match the shape");
  impl_->shape = s;
  const std::vector<float> kernel = ohwi(weights, s);
  check(xnn_create_convolution2d_nhwc_f32(
            s.pad_top, s.pad_right, s.pad_bottom, s.pad_left, s.kernel_h, s.kernel_w, s.stride_h, s.stride_w, s.dilation_h,
            s.dilation_w,
            s.groups, s.channels / s.groups, s.out_channels / s.groups, s.channels, s.out_channels, kernel.data(),
            bias.data(), s.lo, s.hi, 0, &impl_->op),
        "creating a convolution");
  impl_->threads = std::move(threads);
}

XnnpackConv::~XnnpackConv() {
  if (impl_->op) xnn_delete_operator(impl_->op);
}

void XnnpackConv::run(const float* src, float* dst) {
  Impl& m = *impl_;
  if (src != m.bound_src || dst != m.bound_dst) {  // setup builds indirection buffers: once per buffer pair
    check(xnn_setup_convolution2d_nhwc_f32(m.op, 1, m.shape.height, m.shape.width, src, dst, m.threads->pool),
          "setting up a convolution");
    m.bound_src = src, m.bound_dst = dst;
  }
  check(xnn_run_operator(m.op, m.threads->pool), "running a convolution");
}

bool XnnpackConv::available() { return true; }

#else

struct XnnpackThreads {};
std::shared_ptr<XnnpackThreads> make_xnnpack_threads(int) { return std::make_shared<XnnpackThreads>(); }

struct XnnpackConv::Impl {};

XnnpackConv::XnnpackConv(const XnnpackConvShape&, const std::vector<float>&, const std::vector<float>&,
                         std::shared_ptr<XnnpackThreads>) {
  throw Error("XNNPACK convolution: this build has no XNNPACK");
}
XnnpackConv::~XnnpackConv() = default;
void XnnpackConv::run(const float*, float*) { throw Error("XNNPACK convolution: this build has no XNNPACK"); }
bool XnnpackConv::available() { return false; }

#endif

}  // namespace edgessd
