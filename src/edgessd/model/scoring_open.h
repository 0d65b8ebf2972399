#pragma once
// Checkpoints (.pth, on LibTorch) opened for scoring by eval and eval-reader; ONNX files
// open on the runtime's engines in deploy/scoring_open.h.
#include <string>

#include "edgessd/eval/evaluate.h"
#include "edgessd/eval/reader_eval.h"
#include "edgessd/model/model_open.h"

namespace edgessd {

// A detector checkpoint with the command line's --net/--labels/--resolution over its JSON.
OpenedDetector open_checkpoint_detector(const std::string& path, const ModelFlags& flags,
                                        const PostprocessOptions& post);

// A train-reader checkpoint; `pattern` as --plate-pattern ("" = any text). `what` gets a
// description for the printout, `charset` (when given) the reader's character set.
ReadFunction open_checkpoint_reader(const std::string& path, const std::string& pattern, std::string& what,
                                    std::string* charset = nullptr);

}  // namespace edgessd
