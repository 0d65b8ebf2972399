#include "edgessd/runtime/engine.h"

#include "edgessd/common/error.h"
#include "edgessd/common/logging.h"
#include "edgessd/common/parallel.h"

namespace edgessd {

std::vector<std::string> available_engines() { return {"onednn", "opencv"}; }

std::unique_ptr<InferenceEngine> create_engine(const OnnxModel& model, const EngineOptions& options) {
  resolve_threads(options.threads);  // a bad count is the user's error, not a reason to fall back
  if (!model.bytes) throw Error(model.path + ": its bytes went to an earlier engine; load the model again");
  if (options.name == "onednn") return create_onednn_engine(model, options.threads);
  if (options.name == "opencv") return create_opencv_engine(model, options.threads);
  if (options.name == "auto") {
    // The fastest engine that takes the model; OpenCV DNN is the fallback.
    try {
      return create_onednn_engine(model, options.threads);
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
