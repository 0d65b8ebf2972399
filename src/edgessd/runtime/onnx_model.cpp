#include "edgessd/runtime/onnx_model.h"

#include <onnx/onnx_pb.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"

namespace edgessd {

namespace {

// What SSD graphs from edgessd and from torch.onnx (opsets 9..13) are made of. Anything
// else is refused by name up front rather than failing somewhere inside an engine.
const std::set<std::string>& supported_ops() {
  static const std::set<std::string> ops = {
      "Add",     "BatchNormalization", "Clip",  "Concat", "Constant", "Conv",     "Div",       "Exp",
      "Flatten", "Gather",             "Identity", "Mul", "Relu",     "Reshape",  "Shape",     "Slice",
      "Softmax", "Split",              "Squeeze", "Sub",  "Transpose", "Unsqueeze", "Cast",    "MaxPool"};
  return ops;
}

// A tensor's stored data must be what its dims say: engines read numel elements from it
// (OpenCV DNN trusts the dims). External data is refused: a model is one file here.
void check_tensor(const onnx::TensorProto& t, const std::string& what) {
  if (t.data_location() == onnx::TensorProto::EXTERNAL || t.external_data_size() > 0)
    throw Error(what + ": external tensor data is not supported (give a self-contained .onnx)");
  int64_t count = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || d > (int64_t{1} << 31) || (d > 0 && count > (int64_t{1} << 31) / d))
      throw Error(what + ": dimensions out of range");
    count *= d;
  }
  int64_t element = 0, stored = 0;
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT: element = 4, stored = t.float_data_size(); break;
    case onnx::TensorProto::INT64: element = 8, stored = t.int64_data_size(); break;
    case onnx::TensorProto::INT32: element = 4, stored = t.int32_data_size(); break;
    case onnx::TensorProto::DOUBLE: element = 8, stored = t.double_data_size(); break;
    default: throw Error(what + ": tensor type " + std::to_string(t.data_type()) + " is not supported");
  }
  const int64_t have = t.has_raw_data() ? static_cast<int64_t>(t.raw_data().size()) / element : stored;
  if ((t.has_raw_data() && static_cast<int64_t>(t.raw_data().size()) != count * element) || have != count)
    throw Error(what + ": holds " + std::to_string(have) + " values but its dimensions need " + std::to_string(count));
}

// The windowed ops' attributes, checked before any engine sees them (OpenCV DNN divides by
// `group` and the strides unchecked).
void check_window_attributes(const onnx::NodeProto& node, const std::string& path) {
  auto fail = [&](const std::string& why) {
    throw Error(path + ": node '" + node.name() + "' (" + node.op_type() + "): " + why);
  };
  for (const auto& a : node.attribute()) {
    const std::string& name = a.name();
    if (name == "group" && (a.i() < 1 || a.i() > 65536)) fail("group must be within 1..65536");
    for (int64_t v : a.ints()) {
      if ((name == "strides" || name == "dilations" || name == "kernel_shape") && (v < 1 || v > 1024))
        fail(name + " must be within 1..1024");
      if (name == "pads" && (v < 0 || v > 1024)) fail("pads must be within 0..1024");
    }
  }
}

// Every value a node reads is a graph input, an initializer or an earlier node's output,
// and every value is made once (ONNX's own rule; OpenCV DNN's importer dereferences a
// missing one, found by fuzzing).
void check_dataflow(const onnx::GraphProto& graph, const std::string& path) {
  std::set<std::string> defined;
  for (const auto& in : graph.input()) defined.insert(in.name());
  for (const auto& t : graph.initializer()) defined.insert(t.name());
  for (const auto& node : graph.node()) {
    for (const auto& in : node.input())
      if (!in.empty() && !defined.count(in))
        throw Error(path + ": node '" + node.name() + "' reads '" + in + "', which no earlier node, input or "
                    "initializer makes");
    for (const auto& out : node.output())
      if (!out.empty() && !defined.insert(out).second)
        throw Error(path + ": node '" + node.name() + "' makes '" + out + "', which is already defined");
  }
  for (const auto& out : graph.output())
    if (!defined.count(out.name())) throw Error(path + ": output '" + out.name() + "' is made by no node");
}

int64_t dim_value(const onnx::ValueInfoProto& value, int index) {
  const auto& shape = value.type().tensor_type().shape();
  if (index >= shape.dim_size() || !shape.dim(index).has_dim_value()) return 0;
  return shape.dim(index).dim_value();
}

// A value, or what a pointer to one points at (quoted_names takes either).
template <typename T>
const T& value_of(const T& v) { return v; }
template <typename T>
const T& value_of(const T* v) { return *v; }

template <typename Values>
std::string quoted_names(const Values& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "'" : ", '") + value_of(v).name() + "'";
  return out.empty() ? "none" : out;
}

// The graph output called `name` (`flag` names where the name came from, for the error).
const onnx::ValueInfoProto& find_output(const onnx::GraphProto& graph, const std::string& name, const char* flag,
                                        const std::string& path) {
  for (const auto& o : graph.output())
    if (o.name() == name) return o;
  throw Error(path + ": no output named '" + name + "' (" + flag + "); the model's outputs are " +
              quoted_names(graph.output()));
}

// Every node an operator the runtime has, with well-formed windows and tensors, and
// every input produced by something; the distinct operators in first-use order.
std::vector<std::string> checked_operators(const onnx::GraphProto& graph, const std::string& path) {
  if (graph.node_size() == 0) throw Error(path + ": the ONNX graph has no nodes");
  std::vector<std::string> ops;
  std::set<std::string> seen;
  for (const auto& node : graph.node()) {
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      throw Error(path + ": node '" + node.name() + "' uses operator domain '" + node.domain() + "', not supported");
    if (!supported_ops().count(node.op_type()))
      throw Error(path + ": node '" + node.name() + "' has operator " + node.op_type() +
                  ", which the runtime does not support");
    if (seen.insert(node.op_type()).second) ops.push_back(node.op_type());
    if (node.op_type() == "Conv" || node.op_type() == "MaxPool") check_window_attributes(node, path);
    for (const auto& a : node.attribute())
      if (a.has_t()) check_tensor(a.t(), path + ": node '" + node.name() + "' attribute '" + a.name() + "'");
  }
  for (const auto& t : graph.initializer()) check_tensor(t, path + ": initializer '" + t.name() + "'");
  check_dataflow(graph, path);
  return ops;
}

// The one graph input that is not an initializer (or the one --input-blob names).
const onnx::ValueInfoProto& image_input(const onnx::GraphProto& graph, const std::string& blob,
                                        const std::string& path) {
  std::set<std::string> initializers;
  for (const auto& t : graph.initializer()) initializers.insert(t.name());
  std::vector<const onnx::ValueInfoProto*> inputs;
  for (const auto& in : graph.input())
    if (!initializers.count(in.name())) inputs.push_back(&in);
  if (!blob.empty()) {
    std::vector<const onnx::ValueInfoProto*> named;
    for (const auto* in : inputs)
      if (in->name() == blob) named.push_back(in);
    if (named.empty())
      throw Error(path + ": no input named '" + blob + "' (--input-blob); the model's inputs are " + quoted_names(inputs));
    inputs = named;
  }
  if (inputs.size() != 1) throw Error(path + ": expected one image input, found " + std::to_string(inputs.size()));
  return *inputs[0];
}

// The input's name and batch, and its height and width: a 4-d float N x 3 x H x W with
// H, W fixed.
std::pair<int, int> read_input_shape(const onnx::ValueInfoProto& input, const std::string& path, OnnxModel& m) {
  m.input_name = input.name();
  if (input.type().tensor_type().elem_type() != onnx::TensorProto::FLOAT ||
      input.type().tensor_type().shape().dim_size() != 4)
    throw Error(path + ": input '" + input.name() + "' must be a 4-d float tensor (N,3,H,W)");
  if (dim_value(input, 1) != 3)
    throw Error(path + ": input '" + input.name() + "' must have 3 channels (N,3,H,W), has " +
                std::to_string(dim_value(input, 1)));
  const int64_t height = dim_value(input, 2), width = dim_value(input, 3);
  if (height <= 0 || width <= 0)
    throw Error(path + ": input '" + input.name() + "' needs a fixed height and width");
  // A 100000x100000 input ended in std::bad_alloc: the bounds export writes within.
  if (height > 4096 || width > 4096 || dim_value(input, 0) > 256)
    throw Error(path + ": input '" + input.name() + "' is " + std::to_string(dim_value(input, 0)) + "x3x" +
                std::to_string(height) + "x" + std::to_string(width) +
                "; the runtime takes at most 4096x4096 and a batch of 256");
  m.batch_size = dim_value(input, 0) > 0 ? static_cast<int>(dim_value(input, 0)) : 1;
  return {static_cast<int>(height), static_cast<int>(width)};
}

// Our metadata (model JSON, int8 table); false when there is no model JSON.
bool read_metadata(const onnx::ModelProto& proto, const std::string& path, OnnxModel& m) {
  bool has_info = false;
  for (const auto& prop : proto.metadata_props()) {
    if (prop.key() == "edgessd.int8") m.int8 = int8_calibration_from_json(prop.value(), path + " (edgessd.int8 metadata)");
    if (prop.key() != "edgessd") continue;
    m.info = model_info_from_json(prop.value(), path + " (metadata)");
    has_info = true;
  }
  if (!has_info) {
    m.info.net = "onnx";
    m.info.source = path;
  }
  return has_info;
}

}  // namespace

std::string labels_beside(const std::string& model_path) {
  return (std::filesystem::path(model_path).parent_path() / "labels.txt").string();
}

namespace {

// Labels from --labels, else the metadata, else labels.txt beside the model; their
// count must be the scores' class dimension (when the graph fixes it).
void attach_labels(OnnxModel& m, const std::string& labels_path, bool has_info, int64_t classes) {
  const std::string& path = m.path;
  std::string labels_from = path + " metadata";
  if (!labels_path.empty()) {
    m.info.class_names = read_labels(labels_path);
    labels_from = labels_path;
  } else if (!has_info) {
    const std::string beside = labels_beside(path);
    std::error_code ec;
    if (!std::filesystem::exists(beside, ec))
      throw Error(path + ": the model carries no labels and there is no labels.txt beside it; give --labels");
    m.info.class_names = read_labels(beside);
    labels_from = beside;
  }
  if (classes > 0 && classes != m.info.num_classes())
    throw Error(labels_from + " names " + std::to_string(m.info.num_classes()) + " classes (BACKGROUND included) but " +
                path + " outputs " + std::to_string(classes));
}

}  // namespace

OnnxModel load_onnx_model(const std::string& path, const std::string& labels_path, const OnnxBlobNames& blobs) {
  OnnxModel m;
  m.path = path;
  m.bytes = std::make_shared<const std::string>(read_file(path));
  onnx::ModelProto proto;
  if (!proto.ParseFromString(*m.bytes)) throw Error(path + ": not an ONNX model (protobuf parse failed)");
  for (const auto& prop : proto.metadata_props())
    if (prop.key() == "edgessd-reader")
      throw Error(path + ": is a plate reader, not a detector (give it to --reader)");
  const onnx::GraphProto& graph = proto.graph();
  m.op_types = checked_operators(graph, path);
  const auto [height, width] = read_input_shape(image_input(graph, blobs.input, path), path, m);
  m.scores_name = blobs.scores.empty() ? "scores" : blobs.scores;
  m.boxes_name = blobs.boxes.empty() ? "boxes" : blobs.boxes;
  if (m.scores_name == m.boxes_name)
    throw Error(path + ": --output-cvg and --output-bbox both name '" + m.scores_name + "'");
  const onnx::ValueInfoProto& scores = find_output(graph, m.scores_name, "--output-cvg", path);
  find_output(graph, m.boxes_name, "--output-bbox", path);
  m.num_priors = dim_value(scores, 1);
  const bool has_info = read_metadata(proto, path, m);
  if (has_info && !m.info.prior_maps.empty() && m.num_priors > 0) {
    // The metadata's priors describe this graph only at the size they were exported for.
    const size_t count = priors_of(m.info, width, height).size();
    if (static_cast<int64_t>(count) != m.num_priors)
      throw Error(path + ": the metadata's priors give " + std::to_string(count) + " priors but the graph has " +
                  std::to_string(m.num_priors));
  }
  m.info.input_width = width;  // the graph's, whatever the metadata says
  m.info.input_height = height;
  attach_labels(m, labels_path, has_info, dim_value(scores, 2));
  return m;
}

OnnxModel load_onnx_reader(const std::string& path) {
  OnnxModel m;
  m.path = path;
  m.bytes = std::make_shared<const std::string>(read_file(path));
  onnx::ModelProto proto;
  if (!proto.ParseFromString(*m.bytes)) throw Error(path + ": not an ONNX model (protobuf parse failed)");
  std::string json;
  for (const auto& prop : proto.metadata_props()) {
    if (prop.key() == "edgessd-reader") json = prop.value();
    if (prop.key() == "edgessd.int8") m.int8 = int8_calibration_from_json(prop.value(), path + " (edgessd.int8 metadata)");
  }
  if (json.empty())
    throw Error(path + ": not a plate reader (no edgessd-reader metadata); make one with edgessd export-reader");
  m.reader = reader_info_from_json(json, path + " (edgessd-reader metadata)");
  m.is_reader = true;
  const onnx::GraphProto& graph = proto.graph();
  m.op_types = checked_operators(graph, path);
  const auto [height, width] = read_input_shape(image_input(graph, "", path), path, m);
  if (width != m.reader.input_width || height != m.reader.input_height)
    throw Error(path + ": its input is " + std::to_string(width) + "x" + std::to_string(height) +
                " but its metadata says " + std::to_string(m.reader.input_width) + "x" +
                std::to_string(m.reader.input_height));
  m.scores_name = "chars";
  m.boxes_name.clear();
  const onnx::ValueInfoProto& chars = find_output(graph, m.scores_name, "the reader's output", path);
  m.num_priors = dim_value(chars, 1);
  if (dim_value(chars, 2) != m.reader.num_classes())
    throw Error(path + ": 'chars' has " + std::to_string(dim_value(chars, 2)) + " classes but the character set " +
                "needs " + std::to_string(m.reader.num_classes()) + " (blank included)");
  m.info.net = "plate-reader";
  m.info.input_width = width;
  m.info.input_height = height;
  m.info.image_mean = m.reader.image_mean;
  m.info.image_std = m.reader.image_std;
  m.info.source = path;
  return m;
}

bool is_plate_reader(const std::string& path) {
  onnx::ModelProto proto;
  try {
    if (!proto.ParseFromString(read_file(path))) return false;
  } catch (const Error&) {
    return false;
  }
  for (const auto& prop : proto.metadata_props())
    if (prop.key() == "edgessd-reader") return true;
  return false;
}

std::string onnx_for_opencv(const std::string& bytes, const std::string& what) {
  onnx::ModelProto proto;
  if (!proto.ParseFromString(bytes)) throw Error(what + ": not an ONNX model (protobuf parse failed)");
  onnx::GraphProto* graph = proto.mutable_graph();
  std::map<std::string, const onnx::TensorProto*> constants;
  for (const auto& t : graph->initializer()) constants[t.name()] = &t;
  for (const auto& node : graph->node())
    if (node.op_type() == "Constant" && node.attribute_size() == 1 && node.attribute(0).has_t())
      constants[node.output(0)] = &node.attribute(0).t();

  auto scalar = [&](const std::string& name, float& value) {
    auto it = constants.find(name);
    if (it == constants.end()) return false;
    const onnx::TensorProto& t = *it->second;
    if (t.data_type() != onnx::TensorProto::FLOAT) return false;
    if (t.float_data_size() == 1) value = t.float_data(0);
    else if (t.raw_data().size() == sizeof(float)) std::memcpy(&value, t.raw_data().data(), sizeof(float));
    else return false;
    return true;
  };

  std::set<std::string> graph_outputs;
  for (const auto& o : graph->output()) graph_outputs.insert(o.name());
  std::map<std::string, std::string> renamed;  // Identity output -> its input
  auto resolve = [&](std::string name) {
    for (auto it = renamed.find(name); it != renamed.end(); it = renamed.find(name)) name = it->second;
    return name;
  };
  google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
  for (onnx::NodeProto& node : *graph->mutable_node()) {
    for (auto& in : *node.mutable_input()) in = resolve(in);
    if (node.op_type() == "Identity" && node.input_size() == 1 && !graph_outputs.count(node.output(0))) {
      renamed[node.output(0)] = node.input(0);
      continue;
    }
    if (node.op_type() == "Clip" && node.input_size() > 1) {
      float lo = -3.4e38f, hi = 3.4e38f;
      const bool has_lo = node.input_size() > 1 && !node.input(1).empty();
      const bool has_hi = node.input_size() > 2 && !node.input(2).empty();
      if ((!has_lo || scalar(node.input(1), lo)) && (!has_hi || scalar(node.input(2), hi))) {
        node.mutable_input()->DeleteSubrange(1, node.input_size() - 1);
        auto* a = node.add_attribute();
        a->set_name("min");
        a->set_type(onnx::AttributeProto::FLOAT);
        a->set_f(lo);
        a = node.add_attribute();
        a->set_name("max");
        a->set_type(onnx::AttributeProto::FLOAT);
        a->set_f(hi);
      }
    }
    *kept.Add() = node;
  }
  graph->mutable_node()->Swap(&kept);
  std::string out;
  proto.SerializeToString(&out);
  return out;
}

void check_input_size(const OnnxModel& model, const std::string& resolution) {
  if (resolution.empty()) return;
  const auto [width, height] = parse_resolution(resolution);
  if (width != model.info.input_width || height != model.info.input_height)
    throw Error("--resolution " + resolution + ": " + model.path + " takes " + std::to_string(model.info.input_width) +
                "x" + std::to_string(model.info.input_height) +
                " (fixed at export); export the checkpoint again with --resolution " + resolution);
}

}  // namespace edgessd
