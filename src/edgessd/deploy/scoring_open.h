#pragma once
// Exported models (.onnx) opened for scoring by eval and eval-reader on the runtime's
// engines; checkpoints open on LibTorch in model/scoring_open.h.
#include <string>

#include "edgessd/deploy/detector_model.h"
#include "edgessd/eval/evaluate.h"
#include "edgessd/eval/reader_eval.h"
#include "edgessd/runtime/engine.h"

namespace edgessd {

// `labels` over the model's own; `resolution` must be the one it was exported at ("" passes).
OpenedDetector open_onnx_detector(const std::string& path, const std::string& labels, const std::string& resolution,
                                  const EngineOptions& engine, const PostprocessOptions& post);

// export-reader's .onnx; the rest as open_checkpoint_reader.
ReadFunction open_onnx_reader(const std::string& path, const EngineOptions& engine, const std::string& pattern,
                              std::string& what, std::string* charset = nullptr);

}  // namespace edgessd
