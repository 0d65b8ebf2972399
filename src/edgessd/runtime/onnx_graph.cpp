#include "edgessd/runtime/onnx_graph.h"

#include <onnx/onnx_pb.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/model_info.h"

namespace edgessd {

namespace {

// What the graphs from edgessd and from torch.onnx (opsets 9..13) are made of. Anything
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

std::string quoted_names(const std::vector<const onnx::ValueInfoProto*>& values) {
  std::string out;
  for (const auto* v : values) out += (out.empty() ? "'" : ", '") + v->name() + "'";
  return out.empty() ? "none" : out;
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

// The input's name, batch, height and width: a 4-d float N x 3 x H x W with H, W fixed.
void read_input_shape(const onnx::ValueInfoProto& input, const std::string& path, OnnxGraph& g) {
  g.input_name = input.name();
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
  g.batch_size = dim_value(input, 0) > 0 ? static_cast<int>(dim_value(input, 0)) : 1;
  g.input_height = static_cast<int>(height);
  g.input_width = static_cast<int>(width);
}

TensorShape declared(const onnx::ValueInfoProto& value) {
  TensorShape shape;
  const int rank = value.type().tensor_type().shape().dim_size();
  for (int i = 0; i < rank; ++i) shape.push_back(dim_value(value, i));
  return shape;
}

}  // namespace

OnnxGraph load_onnx_graph(const std::string& path, const std::string& input_blob) {
  OnnxGraph g;
  g.path = path;
  g.bytes = std::make_shared<const std::string>(read_file(path));
  onnx::ModelProto proto;
  if (!proto.ParseFromString(*g.bytes)) throw Error(path + ": not an ONNX model (protobuf parse failed)");
  for (const auto& prop : proto.metadata_props()) {
    g.metadata[prop.key()] = prop.value();
    if (prop.key() == "edgessd.int8") g.int8 = int8_calibration_from_json(prop.value(), path + " (edgessd.int8 metadata)");
  }
  const onnx::GraphProto& graph = proto.graph();
  g.op_types = checked_operators(graph, path);
  read_input_shape(image_input(graph, input_blob, path), path, g);
  for (const auto& o : graph.output()) {
    g.outputs.push_back(o.name());
    g.output_shapes.push_back(declared(o));
  }
  return g;
}

void select_outputs(OnnxGraph& g, const std::vector<OutputRequest>& wanted) {
  std::vector<std::string> names;
  std::vector<TensorShape> shapes;
  for (const OutputRequest& w : wanted) {
    size_t i = 0;
    while (i < g.outputs.size() && g.outputs[i] != w.name) ++i;
    if (i == g.outputs.size()) {
      std::string real;
      for (const auto& o : g.outputs) real += (real.empty() ? "'" : ", '") + o + "'";
      throw Error(g.path + ": no output named '" + w.name + "' (" + w.flag + "); the model's outputs are " +
                  (real.empty() ? "none" : real));
    }
    names.push_back(g.outputs[i]);
    shapes.push_back(g.output_shapes[i]);
  }
  g.outputs = std::move(names);
  g.output_shapes = std::move(shapes);
}

const TensorShape& declared_shape(const OnnxGraph& g, const std::string& name) {
  for (size_t i = 0; i < g.outputs.size(); ++i)
    if (g.outputs[i] == name) return g.output_shapes[i];
  throw Error(g.path + ": no output named '" + name + "'");
}

void write_with_metadata(const OnnxGraph& g, const std::string& key, const std::string& value,
                         const std::string& output_path) {
  if (!g.bytes) throw Error(g.path + ": its bytes were released before it could be written again");
  onnx::ModelProto proto;
  if (!proto.ParseFromString(*g.bytes)) throw Error(g.path + ": not an ONNX model (protobuf parse failed)");
  auto* props = proto.mutable_metadata_props();
  for (int i = props->size() - 1; i >= 0; --i)
    if (props->Get(i).key() == key) props->DeleteSubrange(i, 1);
  auto* prop = proto.add_metadata_props();
  prop->set_key(key);
  prop->set_value(value);
  std::string bytes;
  proto.SerializeToString(&bytes);
  write_file_atomic(output_path, bytes);
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

void check_input_size(const OnnxGraph& g, const std::string& resolution) {
  if (resolution.empty()) return;
  const auto [width, height] = parse_resolution(resolution);
  if (width != g.input_width || height != g.input_height)
    throw Error("--resolution " + resolution + ": " + g.path + " takes " + std::to_string(g.input_width) + "x" +
                std::to_string(g.input_height) + " (fixed at export); export the checkpoint again with --resolution " +
                resolution);
}

}  // namespace edgessd
