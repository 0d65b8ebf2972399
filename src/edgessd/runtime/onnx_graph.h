#pragma once
// An ONNX graph as the engines see it: one image input (N,3,H,W) and the float outputs a
// caller asks for, by name. No task: a detector (deploy/detector_model.h) or a plate
// reader (deploy/plate_reader.h) reads what its outputs mean from the graph's metadata.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "edgessd/runtime/int8_calibration.h"

namespace edgessd {

using TensorShape = std::vector<int64_t>;

struct OnnxGraph {
  std::string path;
  // The file as read, shared by copies: an engine parses it while it is built, and the
  // caller lets it go once its engine exists, so a running model holds no copy.
  std::shared_ptr<const std::string> bytes;
  std::string input_name;
  int batch_size = 1;
  int input_height = 0, input_width = 0;
  // What InferenceEngine::forward returns, in this order (select_outputs; all of the
  // graph's outputs until then), and their shapes as the graph declares them (0 where a
  // dimension is symbolic).
  std::vector<std::string> outputs;
  std::vector<TensorShape> output_shapes;
  std::vector<std::string> op_types;            // distinct, in first-use order
  std::map<std::string, std::string> metadata;  // the model's metadata_props
  Int8Calibration int8;                         // empty unless `edgessd quantize` wrote one
};

// Reads and checks the file: every operator one the engines have, tensors the size their
// dimensions say, every value made once before it is read, one 4-d float input with 3
// channels and a fixed height and width (`input_blob` picks it by name when the graph has
// several). Every problem is an Error naming the file (and the node, where one is at fault).
OnnxGraph load_onnx_graph(const std::string& path, const std::string& input_blob = "");

// An output the caller needs; `flag` says where the name came from, for the error.
struct OutputRequest {
  std::string name;
  std::string flag;
};
// Narrows graph.outputs to `wanted`, in that order; a name the graph lacks is an Error
// listing the real ones.
void select_outputs(OnnxGraph& graph, const std::vector<OutputRequest>& wanted);

// The declared shape of output `name` (an Error naming the file when there is none).
const TensorShape& declared_shape(const OnnxGraph& graph, const std::string& name);

// --resolution against an ONNX model: its input size is fixed at export, so another size
// is an Error naming the file and the way to get one ("" passes).
void check_input_size(const OnnxGraph& graph, const std::string& resolution);

// The model rewritten for OpenCV DNN 4.6, which rejects two things PyTorch exports:
// Identity nodes (removed, their consumers rewired) and Clip with min/max as inputs
// (turned into the attribute form). Other bytes are unchanged.
std::string onnx_for_opencv(const std::string& bytes, const std::string& what);

// The file with `key` set to `value` in its metadata (an earlier value replaced), written
// atomically to `output_path`.
void write_with_metadata(const OnnxGraph& graph, const std::string& key, const std::string& value,
                         const std::string& output_path);

}  // namespace edgessd
