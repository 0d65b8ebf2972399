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
#include "edgessd/export/ssd_network.h"

namespace edgessd {

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
int64_t checked_classes(const SsdWeights& w, const ModelInfo& info) {
  const int64_t classes = info.num_classes();
  // The last head is a plain convolution in every net (the lite nets' others are separable),
  // of k x classes rows beside its box twin's k x 4.
  const std::string last = std::to_string(head_count(info.net) - 1);
  const int64_t per_cell = w.dims("regression_headers." + last + ".weight")[0] / 4;
  const int64_t head_classes = w.dims("classification_headers." + last + ".weight")[0] / std::max<int64_t>(per_cell, 1);
  if (classes != head_classes)
    throw Error("the labels name " + std::to_string(classes) + " classes but the checkpoint's heads have " +
                std::to_string(head_classes));
  return classes;
}

// The model's header: producer, opset, and our metadata (model JSON, labels, net).
void write_header(onnx::ModelProto& model, const ModelInfo& info) {
  write_model_header(model, "SSD (" + info.net + ") exported by edgessd");
  add_metadata(model, "edgessd", model_info_to_json(info));
  std::string labels;
  for (const auto& name : info.class_names) labels += name + "\n";
  add_metadata(model, "labels", labels);
  add_metadata(model, "net", info.net);
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
  const SsdWeights w(state, info.net);
  const int64_t classes = checked_classes(w, info);
  onnx::ModelProto model;
  write_header(model, info);
  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name(info.net);
  const int64_t n = options.batch_size;
  set_float_shape(graph->add_input(), "input_0", {n, 3, options.height, options.width});
  GraphBuilder g(graph);
  add_ssd_network(g, w, info.net, n, classes);
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
