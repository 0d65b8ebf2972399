#include "edgessd/runtime/engine.h"

#include "edgessd/common/error.h"
#include "edgessd/common/logging.h"
#include "edgessd/common/parallel.h"

namespace edgessd {

// Best first, by what each engine has for this CPU. x86-64: oneDNN's JIT kernels (and our
// AVX-512 depthwise one) beat OpenCV DNN 1.8x (README's measured table). AArch64: Debian's
// oneDNN 2.6 is built without the Arm Compute Library, so its convolutions there are a
// reference GEMM in C++ (~3.9 guest instructions a multiply-add, counted under qemu's
// Cortex-A72: bench/arm64_cost.sh), while OpenCV DNN's are NEON.
std::vector<std::string> available_engines() {
#if defined(__aarch64__)
  return {"opencv", "onednn"};
#else
  return {"onednn", "opencv"};
#endif
}

std::unique_ptr<InferenceEngine> create_engine(const OnnxModel& model, const EngineOptions& options) {
  resolve_threads(options.threads);  // a bad count is the user's error, not a reason to fall back
  if (!model.bytes) throw Error(model.path + ": its bytes went to an earlier engine; load the model again");
  if (options.name == "onednn") return create_onednn_engine(model, options.threads);
  if (options.name == "opencv") return create_opencv_engine(model, options.threads);
  if (options.name == "auto") {
    // The fastest engine for this CPU that takes the model; the other is the fallback.
    const std::vector<std::string> order = available_engines();
    if (!model.int8.scales.empty() && order[0] != "onednn")
      log_info(model.path + ": its int8 table is for the oneDNN engine, which has only reference kernels on this CPU: running it "
               "in fp32 on " + order[0] + ", the faster here (--engine onednn runs int8)");
    try {
      return create_engine(model, {order[0], options.threads});
    } catch (const Error& e) {
      log_warning(order[0] + " engine unavailable for this model (" + e.what() + "); using " + order[1]);
      return create_engine(model, {order[1], options.threads});
    }
  }
  std::string known;
  for (const auto& e : available_engines()) known += " " + e;
  throw Error("--engine " + options.name + ": unknown engine (this build has: auto" + known + ")");
}

}  // namespace edgessd
