#include "edgessd/export/onnx_export.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "edgessd/common/error.h"
#include "edgessd/common/version.h"
#include "edgessd/common/files.h"
#include "edgessd/common/priors.h"
#include "edgessd/export/onnx_graph.h"

namespace edgessd {

namespace {

constexpr float kBatchNormEps = 1e-5f;  // nn.BatchNorm2d's default, what pytorch-ssd trains with

// The state_dict by key, with the key named in the error when one is missing.
class Weights {
 public:
  explicit Weights(const StateDict& state) {
    for (const auto& [key, tensor] : state) tensors_[key] = tensor.to(at::kFloat).contiguous();
  }
  const at::Tensor& get(const std::string& key) const {
    auto it = tensors_.find(key);
    if (it == tensors_.end()) throw Error("checkpoint has no '" + key + "'; is it an SSD-MobileNet-v1?");
    return it->second;
  }
  std::vector<int64_t> dims(const std::string& key) const { return get(key).sizes().vec(); }
  std::vector<float> values(const std::string& key) const {
    const at::Tensor& t = get(key);
    return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  }

 private:
  std::map<std::string, at::Tensor> tensors_;
};

class SsdGraph {
 public:
  SsdGraph(GraphBuilder& g, const Weights& w, bool relu6) : g_(g), w_(w), relu6_(relu6) {}

  // conv (no bias) + BatchNorm + activation, BN folded: W' = W*s, b' = beta - mean*s
  // with s = gamma / sqrt(var + eps) per output channel.
  std::string conv_bn_act(const std::string& x, const std::string& conv, const std::string& bn, int stride,
                          int group) {
    std::vector<int64_t> dims = w_.dims(conv + ".weight");
    std::vector<float> weight = w_.values(conv + ".weight");
    const std::vector<float> gamma = w_.values(bn + ".weight"), beta = w_.values(bn + ".bias"),
                             mean = w_.values(bn + ".running_mean"), var = w_.values(bn + ".running_var");
    if (static_cast<int64_t>(gamma.size()) != dims[0]) throw Error(bn + ": BatchNorm size disagrees with " + conv);
    const std::vector<float> bias = fold_batch_norm(weight, gamma, beta, mean, var, kBatchNormEps);
    const std::string y = conv_node(x, conv, dims, weight, bias, stride, group);
    return activation(y, conv);
  }

  std::string conv_bias(const std::string& x, const std::string& conv, int stride, bool act) {
    const std::string y =
        conv_node(x, conv, w_.dims(conv + ".weight"), w_.values(conv + ".weight"), w_.values(conv + ".bias"), stride, 1);
    return act ? activation(y, conv) : y;
  }

  // A head's (N, A*K, h, w) map as (N, h*w*A, K), as pytorch-ssd's permute + view.
  std::string head(const std::string& x, const std::string& conv, int64_t batch, int64_t k) {
    const std::string y = conv_bias(x, conv, 1, false);
    auto* t = g_.node("Transpose", {y}, y + ".nhwc", conv + ".transpose");
    GraphBuilder::ints(t, "perm", {0, 2, 3, 1});
    const std::string shape = g_.constant_int64(conv + ".shape", {batch, -1, k});
    g_.node("Reshape", {y + ".nhwc", shape}, y + ".flat", conv + ".reshape");
    return y + ".flat";
  }

 private:
  std::string conv_node(const std::string& x, const std::string& conv, const std::vector<int64_t>& dims,
                        const std::vector<float>& weight, const std::vector<float>& bias, int stride, int group) {
    const std::string wname = g_.constant(conv + ".weight", dims, weight);
    const std::string bname = g_.constant(conv + ".bias", {dims[0]}, bias);
    auto* n = g_.node("Conv", {x, wname, bname}, conv + ".out", conv);
    const int64_t k = dims[2], pad = k / 2;
    GraphBuilder::ints(n, "kernel_shape", {k, dims[3]});
    GraphBuilder::ints(n, "strides", {stride, stride});
    GraphBuilder::ints(n, "pads", {pad, pad, pad, pad});
    GraphBuilder::ints(n, "dilations", {1, 1});
    GraphBuilder::int_attr(n, "group", group);
    return conv + ".out";
  }

  std::string activation(const std::string& x, const std::string& conv) {
    if (!relu6_) {
      g_.node("Relu", {x}, conv + ".relu", conv + ".relu");
      return conv + ".relu";
    }
    auto* n = g_.node("Clip", {x}, conv + ".relu6", conv + ".relu6");
    GraphBuilder::float_attr(n, "min", 0.0f);
    GraphBuilder::float_attr(n, "max", 6.0f);
    return conv + ".relu6";
  }

  GraphBuilder& g_;
  const Weights& w_;
  bool relu6_;
};

}  // namespace

namespace {

void check_export_options(const ModelInfo& info, const OnnxExportOptions& options) {
  if (options.width < 32 || options.height < 32 || options.width > 4096 || options.height > 4096)
    throw Error("the input size must be within 32..4096");
  if (options.batch_size < 1 || options.batch_size > 256) throw Error("--batch-size must be within 1..256");
  const auto& nets = known_net_names();
  if (std::find(nets.begin(), nets.end(), info.net) == nets.end())
    throw Error("cannot export net '" + info.net + "' (expected " + known_net_names_text() + ")");
}

// The heads' class count, once the labels are known to name as many.
int64_t checked_classes(const Weights& w, const ModelInfo& info) {
  const int64_t classes = info.num_classes();
  const int64_t head_classes = w.dims("classification_headers.0.weight")[0] / 6;
  if (classes != head_classes)
    throw Error("the labels name " + std::to_string(classes) + " classes but the checkpoint's heads have " +
                std::to_string(head_classes));
  return classes;
}

// The model's header: producer, opset, and our metadata (model JSON, labels, net).
void write_header(onnx::ModelProto& model, const ModelInfo& info) {
  write_model_header(model, "SSD-MobileNet-v1 (" + info.net + ") exported by edgessd");
  add_metadata(model, "edgessd", model_info_to_json(info));
  std::string labels;
  for (const auto& name : info.class_names) labels += name + "\n";
  add_metadata(model, "labels", labels);
  add_metadata(model, "net", info.net);
}

// Base net, extras and the six heads; the heads' outputs concatenated into
// "confidences" -> Softmax -> "scores", and "locations".
void add_network(GraphBuilder& g, const Weights& w, const ModelInfo& info, int64_t n, int64_t classes) {
  SsdGraph ssd(g, w, info.net.find("relu6") != std::string::npos);
  std::vector<std::string> confidences, locations;
  auto add_head = [&](const std::string& x, int index) {
    const std::string i = std::to_string(index);
    confidences.push_back(ssd.head(x, "classification_headers." + i, n, classes));
    locations.push_back(ssd.head(x, "regression_headers." + i, n, 4));
  };
  // base_net.0 is conv_bn; 1..13 are conv_dw (depthwise .0/.1, pointwise .3/.4). The
  // heads read layer 11's output and layer 13's (-s8 nets: layer 5's first).
  const int strides[14] = {2, 1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1};
  const bool stride8 = net_has_stride8_head(info.net);
  int head = 0;
  std::string x = ssd.conv_bn_act("input_0", "base_net.0.0", "base_net.0.1", strides[0], 1);
  for (int layer = 1; layer < 14; ++layer) {
    const std::string p = "base_net." + std::to_string(layer);
    const int channels = static_cast<int>(w.dims(p + ".0.weight")[0]);
    x = ssd.conv_bn_act(x, p + ".0", p + ".1", strides[layer], channels);
    x = ssd.conv_bn_act(x, p + ".3", p + ".4", 1, 1);
    if ((layer == 5 && stride8) || layer == 11) add_head(x, head++);
  }
  add_head(x, head++);
  for (int e = 0; e < 4; ++e) {
    const std::string p = "extras." + std::to_string(e);
    x = ssd.conv_bias(x, p + ".0", 1, true);
    x = ssd.conv_bias(x, p + ".2", 2, true);
    add_head(x, head++);
  }
  auto* cat = g.node("Concat", confidences, "confidences", "concat_confidences");
  GraphBuilder::int_attr(cat, "axis", 1);
  auto* softmax = g.node("Softmax", {"confidences"}, "scores", "softmax");
  GraphBuilder::int_attr(softmax, "axis", 2);  // the last axis: opset < 13 flattens (N*P, C)
  cat = g.node("Concat", locations, "locations", "concat_locations");
  GraphBuilder::int_attr(cat, "axis", 1);
}

// convert_locations_to_boxes + center_form_to_corner_form against constant priors:
// "locations" -> "boxes". Returns the prior count.
int64_t add_box_decoding(GraphBuilder& g, const ModelInfo& info) {
  const PriorBoxes priors = priors_of(info);
  const int64_t p = static_cast<int64_t>(priors.size());
  std::vector<float> prior_xy, prior_wh, xy_scale;
  for (const CenterBox& b : priors.center_form()) {
    prior_xy.insert(prior_xy.end(), {b.cx, b.cy});
    prior_wh.insert(prior_wh.end(), {b.w, b.h});
    xy_scale.insert(xy_scale.end(), {b.w * info.center_variance, b.h * info.center_variance});
  }
  auto* split = g.node("Split", {"locations"}, "location_xy", "split_locations");
  split->add_output("location_wh");
  GraphBuilder::int_attr(split, "axis", 2);
  GraphBuilder::ints(split, "split", {2, 2});
  g.node("Mul", {"location_xy", g.constant("prior_xy_scale", {1, p, 2}, xy_scale)}, "offset_xy", "scale_xy");
  g.node("Add", {"offset_xy", g.constant("prior_xy", {1, p, 2}, prior_xy)}, "center_xy", "center_xy");
  g.node("Mul", {"location_wh", g.constant("size_variance", {1}, {info.size_variance})}, "log_wh", "scale_wh");
  g.node("Exp", {"log_wh"}, "ratio_wh", "exp_wh");
  g.node("Mul", {"ratio_wh", g.constant("prior_wh", {1, p, 2}, prior_wh)}, "size_wh", "size_wh");
  g.node("Mul", {"size_wh", g.constant("half", {1}, {0.5f})}, "half_wh", "half_wh");
  g.node("Sub", {"center_xy", "half_wh"}, "min_xy", "min_xy");
  g.node("Add", {"center_xy", "half_wh"}, "max_xy", "max_xy");
  auto* cat = g.node("Concat", {"min_xy", "max_xy"}, "boxes", "corner_form");
  GraphBuilder::int_attr(cat, "axis", 2);
  return p;
}

}  // namespace

void export_onnx(const StateDict& state, const ModelInfo& model_info, const std::string& output_path,
                 const OnnxExportOptions& given) {
  OnnxExportOptions options = given;
  if (options.width == 0) options.width = model_info.input_width;
  if (options.height == 0) options.height = model_info.input_height;
  check_export_options(model_info, options);
  const ModelInfo info = at_input_size(model_info, options.width, options.height);
  const Weights w(state);
  const int64_t classes = checked_classes(w, info);
  onnx::ModelProto model;
  write_header(model, info);
  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name(info.net);
  const int64_t n = options.batch_size;
  set_float_shape(graph->add_input(), "input_0", {n, 3, options.height, options.width});
  GraphBuilder g(graph);
  add_network(g, w, info, n, classes);
  const int64_t p = add_box_decoding(g, info);
  set_float_shape(graph->add_output(), "scores", {n, p, classes});
  set_float_shape(graph->add_output(), "boxes", {n, p, 4});
  write_checked_onnx(model, output_path);
}

void write_model_header(onnx::ModelProto& model, const std::string& doc_string) {
  model.set_ir_version(5);  // the IR version of opset 10's release
  model.set_producer_name("edgessd");
  model.set_producer_version(EDGESSD_VERSION);
  model.set_doc_string(doc_string);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
}

void add_metadata(onnx::ModelProto& model, const std::string& key, const std::string& value) {
  auto* p = model.add_metadata_props();
  p->set_key(key);
  p->set_value(value);
}

void write_checked_onnx(onnx::ModelProto& model, const std::string& output_path) {
  try {
    onnx::checker::check_model(model);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(/*check_type=*/true, /*error_mode=*/1));
  } catch (const std::exception& e) {
    throw Error(output_path + ": the exported graph fails ONNX's checks: " + std::string(e.what()));
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw Error(output_path + ": cannot serialise the ONNX model");
  write_file_atomic(output_path, bytes);
}

}  // namespace edgessd
