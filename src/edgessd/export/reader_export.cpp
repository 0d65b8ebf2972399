#include "edgessd/export/reader_export.h"

#include <ATen/ATen.h>

#include <cmath>
#include <map>

#include "edgessd/common/error.h"
#include "edgessd/export/onnx_export.h"
#include "edgessd/export/onnx_graph.h"

namespace edgessd {

namespace {

constexpr double kBatchNormEps = 1e-5;  // nn::BatchNorm2d's default, what the reader trains with

std::vector<float> values_of(const std::map<std::string, at::Tensor>& w, const std::string& key,
                             std::vector<int64_t>* dims = nullptr) {
  auto it = w.find(key);
  if (it == w.end()) throw Error("checkpoint has no '" + key + "'; is it a plate reader?");
  const at::Tensor t = it->second.to(at::kFloat).contiguous();
  if (dims) *dims = t.sizes().vec();
  return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
}

// A Conv node with its (BatchNorm-folded) weight and bias.
std::string conv_node(GraphBuilder& g, const std::string& x, const std::string& name, const ReaderLayer& l,
                      const std::vector<int64_t>& dims, const std::vector<float>& weight, const std::vector<float>& bias) {
  auto* n = g.node("Conv", {x, g.constant(name + ".weight", dims, weight), g.constant(name + ".bias", {dims[0]}, bias)},
                   name + ".out", name);
  GraphBuilder::ints(n, "kernel_shape", {l.kernel_h, l.kernel_w});
  GraphBuilder::ints(n, "strides", {l.stride_h, l.stride_w});
  GraphBuilder::ints(n, "pads", {l.pad_h, l.pad_w, l.pad_h, l.pad_w});
  GraphBuilder::ints(n, "dilations", {1, 1});
  GraphBuilder::int_attr(n, "group", 1);
  return name + ".out";
}

std::string conv_bn_relu(GraphBuilder& g, const std::map<std::string, at::Tensor>& w, const std::string& x, size_t i,
                         const ReaderLayer& l) {
  const std::string conv = "conv" + std::to_string(i), bn = "bn" + std::to_string(i);
  std::vector<int64_t> dims;
  std::vector<float> weight = values_of(w, conv + ".weight", &dims);
  const std::vector<float> gamma = values_of(w, bn + ".weight"), beta = values_of(w, bn + ".bias"),
                           mean = values_of(w, bn + ".running_mean"), var = values_of(w, bn + ".running_var");
  const int64_t out = dims.at(0);
  if (static_cast<int64_t>(gamma.size()) != out || out != l.out_channels)
    throw Error(bn + ": its size disagrees with " + conv + " or the reader's layer table");
  const std::vector<float> bias = fold_batch_norm(weight, gamma, beta, mean, var, kBatchNormEps);
  const std::string y = conv_node(g, x, conv, l, dims, weight, bias);
  g.node("Relu", {y}, conv + ".relu", conv + ".relu");
  return conv + ".relu";
}

}  // namespace

void export_reader_onnx(const StateDict& state, const ReaderInfo& info, const std::string& output_path,
                        int batch_size) {
  if (batch_size < 1 || batch_size > 256) throw Error("--batch-size must be within 1..256");
  std::map<std::string, at::Tensor> w(state.begin(), state.end());
  onnx::ModelProto model;
  write_model_header(model, "plate reader (CTC, charset " + info.charset + ") exported by edgessd");
  add_metadata(model, kReaderMetadataKey, reader_info_to_json(info));
  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name("plate-reader");
  const int64_t n = batch_size, classes = info.num_classes(), columns = reader_columns(info.input_width);
  set_float_shape(graph->add_input(), "input_0", {n, 3, info.input_height, info.input_width});
  GraphBuilder g(graph);
  const auto& layers = reader_layers();
  std::string x = "input_0";
  for (size_t i = 0; i + 1 < layers.size(); ++i) x = conv_bn_relu(g, w, x, i, layers[i]);
  std::vector<int64_t> dims;
  const std::vector<float> weight = values_of(w, "classifier.weight", &dims), bias = values_of(w, "classifier.bias");
  if (dims.at(0) != classes)
    throw Error("the checkpoint reads " + std::to_string(dims.at(0) - 1) + " characters but its JSON's set has " +
                std::to_string(classes - 1));
  x = conv_node(g, x, "classifier", layers.back(), dims, weight, bias);  // (N, C, 1, T)
  GraphBuilder::ints(g.node("Transpose", {x}, "logits.nhwc", "transpose"), "perm", {0, 2, 3, 1});
  g.node("Reshape", {"logits.nhwc", g.constant_int64("logits.shape", {n, columns, classes})}, "logits", "reshape");
  GraphBuilder::int_attr(g.node("Softmax", {"logits"}, kReaderOutputName, "softmax"), "axis", 2);
  set_float_shape(graph->add_output(), kReaderOutputName, {n, columns, classes});
  write_checked_onnx(model, output_path);
}

}  // namespace edgessd
