#include "edgessd/runtime/engine.h"

#include "edgessd/common/error.h"
#include "edgessd/common/logging.h"
#include "edgessd/common/parallel.h"

namespace edgessd {

std::vector<std::string> available_engines() { return {"onednn", "opencv"}; }

namespace {

// What `auto` gives the oneDNN engine. On AArch64 its fp32 convolutions run on XNNPACK's
// NEON kernels, but Debian's oneDNN has only reference int8 kernels there (counted under
// qemu's Cortex-A72, bench/arm64_cost.sh: 9.35 G guest instructions a forward in int8
// against 0.42 G in fp32): an int8 model runs in fp32 unless --engine onednn asks for int8.
OnnxGraph model_for_auto(const OnnxGraph& model) {
#if defined(__aarch64__)
  if (!model.int8.scales.empty()) {
    log_info(model.path + ": its int8 table is for the oneDNN engine's int8 kernels, which are reference code on "
             "this CPU: running it in fp32, the faster here (--engine onednn runs int8)");
    OnnxGraph fp32 = model;
    fp32.int8 = {};
    return fp32;
  }
#endif
  return model;
}

}  // namespace

std::unique_ptr<InferenceEngine> create_engine(const OnnxGraph& model, const EngineOptions& options) {
  resolve_threads(options.threads);  // a bad count is the user's error, not a reason to fall back
  if (!model.bytes) throw Error(model.path + ": its bytes went to an earlier engine; load the model again");
  if (options.name == "onednn") return create_onednn_engine(model, options.threads);
  if (options.name == "opencv") return create_opencv_engine(model, options.threads);
  if (options.name == "auto") {
    // The fastest engine that takes the model; OpenCV DNN is the fallback.
    try {
      return create_onednn_engine(model_for_auto(model), options.threads);
    } catch (const Error& e) {
      log_warning(std::string("oneDNN engine unavailable for this model (") + e.what() + "); using OpenCV DNN");
      return create_opencv_engine(model, options.threads);
    }
  }
  std::string known;
  for (const auto& e : available_engines()) known += " " + e;
  throw Error("--engine " + options.name + ": unknown engine (this build has: auto" + known + ")");
}

}  // namespace edgessd
