#pragma once
// An SSD detector in ONNX form: ours (model JSON in the metadata) or pytorch-ssd's
// onnx_export.py output (labels from a labels.txt). What its two outputs mean is known
// here, not to the engines: scores (N,P,C) softmaxed, boxes (N,P,4) corner form.
#include <cstdint>
#include <string>

#include "edgessd/common/model_info.h"
#include "edgessd/runtime/onnx_graph.h"

namespace edgessd {

struct DetectorModel {
  OnnxGraph graph;    // outputs: {scores, boxes}
  ModelInfo info;     // net, labels, input size (the graph's), normalisation
  int64_t num_priors = 0;  // 0 when the file leaves it symbolic
  const std::string& path() const { return graph.path; }
};

// detectNet's --input-blob / --output-cvg / --output-bbox: which graph input and outputs
// are the image, the scores and the boxes. Empty = the one image input, `scores`, `boxes`.
struct OnnxBlobNames {
  std::string input;
  std::string scores;
  std::string boxes;
};

// load_onnx_graph's checks, then: outputs `scores` and `boxes` (or the names `blobs`
// gives), not a plate reader. Labels come from `labels_path` when given, else the model's
// metadata, else labels.txt beside the model; their count must match the scores' class
// dimension, and the metadata's priors the graph's prior count. Every problem is an Error
// naming the file.
DetectorModel load_detector_model(const std::string& path, const std::string& labels_path = "",
                                  const OnnxBlobNames& blobs = {});
// The labels.txt that load_detector_model falls back on: the one beside the model.
std::string labels_beside(const std::string& model_path);

// Whether the file carries a plate reader's metadata (false for anything else, unreadable included).
bool is_plate_reader(const std::string& path);

}  // namespace edgessd
