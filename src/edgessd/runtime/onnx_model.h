#pragma once
#include <memory>
#include <string>
#include <vector>

#include "edgessd/common/model_info.h"
#include "edgessd/common/reader_info.h"
#include "edgessd/runtime/int8_calibration.h"

namespace edgessd {

// An SSD detector in ONNX form as the runtime sees it: ours (model JSON in the metadata)
// or pytorch-ssd's onnx_export.py output (labels from a labels.txt).
struct OnnxModel {
  std::string path;
  // The file as read, shared by copies: an engine parses it while it is built, and the
  // Detector lets it go once its engine exists, so a running detector holds no copy.
  std::shared_ptr<const std::string> bytes;
  ModelInfo info;     // net, labels, input size, normalisation
  int batch_size = 1;
  std::string input_name = "input_0";
  std::string scores_name = "scores";
  std::string boxes_name = "boxes";
  int64_t num_priors = 0;  // 0 when the file leaves it symbolic
  std::vector<std::string> op_types;  // distinct, in first-use order
  Int8Calibration int8;               // empty unless `edgessd quantize` wrote one
  // A plate reader (load_onnx_reader): boxes_name is empty and scores_name its (N,T,C)
  // column probabilities; num_priors is T.
  bool is_reader = false;
  ReaderInfo reader;
};

// detectNet's --input-blob / --output-cvg / --output-bbox: which graph input and outputs
// are the image, the scores and the boxes. Empty = the one image input, `scores`, `boxes`.
struct OnnxBlobNames {
  std::string input;
  std::string scores;
  std::string boxes;
};

// Reads and checks the file: one 4-d float input with 3 channels, outputs `scores` and
// `boxes` (or the names `blobs` gives; a name the graph lacks is an Error listing the real
// ones). Labels come from `labels_path` when given, else the model's metadata, else
// labels.txt beside the model; their count must match the scores' class dimension.
// Every problem is an Error naming the file (and the node, where one is at fault).
OnnxModel load_onnx_model(const std::string& path, const std::string& labels_path = "",
                          const OnnxBlobNames& blobs = {});
// The labels.txt that load_onnx_model falls back on: the one beside the model.
std::string labels_beside(const std::string& model_path);

// A plate reader exported by `edgessd export-reader`: input_0 (N,3,32,96) -> `chars`
// (N,T,C), with its reader JSON in the metadata; the same checks as a detector's, and an
// Error naming the file for a detector or any other graph.
OnnxModel load_onnx_reader(const std::string& path);
// Whether the file carries a plate reader's metadata (false for anything else, unreadable included).
bool is_plate_reader(const std::string& path);

// --resolution against an ONNX model: its input size is fixed at export, so another size
// is an Error naming the file and the way to get one ("" passes).
void check_input_size(const OnnxModel& model, const std::string& resolution);

// The model rewritten for OpenCV DNN 4.6, which rejects two things PyTorch exports:
// Identity nodes (removed, their consumers rewired) and Clip with min/max as inputs
// (turned into the attribute form). Other bytes are unchanged.
std::string onnx_for_opencv(const std::string& bytes, const std::string& what);

}  // namespace edgessd
