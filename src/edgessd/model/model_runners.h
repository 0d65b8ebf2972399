#pragma once
// A model file opened for scoring, whichever kind it is: a checkpoint (.pth, on LibTorch)
// or an export (.onnx, on the runtime's engines). eval-reader uses both kinds for both
// the reader and the detector; `what` gets a description for the printout.
#include <string>

#include "edgessd/eval/evaluate.h"
#include "edgessd/eval/reader_eval.h"
#include "edgessd/runtime/engine.h"

namespace edgessd {

DetectFunction open_detect_function(const std::string& path, const EngineOptions& engine,
                                    const PostprocessOptions& post, std::string& what);
// `charset` gets the reader's character set.
ReadFunction open_read_function(const std::string& path, const EngineOptions& engine, const std::string& pattern,
                                std::string& what, std::string* charset = nullptr);

}  // namespace edgessd
