#include "edgessd/runtime/engine.h"

#include "edgessd/common/error.h"

namespace edgessd {

std::vector<std::string> available_engines() { return {"opencv"}; }

std::unique_ptr<InferenceEngine> create_engine(const OnnxModel& model, const EngineOptions& options) {
  if (options.name == "auto" || options.name == "opencv") return create_opencv_engine(model, options.threads);
  std::string known;
  for (const auto& e : available_engines()) known += " " + e;
  throw Error("--engine " + options.name + ": unknown engine (this build has: auto" + known + ")");
}

}  // namespace edgessd
