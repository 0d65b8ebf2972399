#include "edgessd/deploy/detector_model.h"

#include <onnx/onnx_pb.h>

#include <filesystem>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"

namespace edgessd {

std::string labels_beside(const std::string& model_path) {
  return (std::filesystem::path(model_path).parent_path() / "labels.txt").string();
}

namespace {

// The model JSON of the metadata; false when there is none (a pytorch-ssd export).
bool read_model_info(const OnnxGraph& graph, ModelInfo& info) {
  auto it = graph.metadata.find("edgessd");
  if (it == graph.metadata.end()) {
    info.net = "onnx";
    info.source = graph.path;
    return false;
  }
  info = model_info_from_json(it->second, graph.path + " (metadata)");
  return true;
}

// Labels from --labels, else the metadata, else labels.txt beside the model; their
// count must be the scores' class dimension (when the graph fixes it).
void attach_labels(DetectorModel& m, const std::string& labels_path, bool has_info, int64_t classes) {
  const std::string& path = m.path();
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

int64_t dim(const TensorShape& shape, size_t i) { return i < shape.size() ? shape[i] : 0; }

}  // namespace

DetectorModel load_detector_model(const std::string& path, const std::string& labels_path,
                                  const OnnxBlobNames& blobs) {
  DetectorModel m;
  m.graph = load_onnx_graph(path, blobs.input);
  if (m.graph.metadata.count("edgessd-reader"))
    throw Error(path + ": is a plate reader, not a detector (give it to --reader)");
  const std::string scores = blobs.scores.empty() ? "scores" : blobs.scores;
  const std::string boxes = blobs.boxes.empty() ? "boxes" : blobs.boxes;
  if (scores == boxes) throw Error(path + ": --output-cvg and --output-bbox both name '" + scores + "'");
  select_outputs(m.graph, {{scores, "--output-cvg"}, {boxes, "--output-bbox"}});
  const TensorShape& score_shape = m.graph.output_shapes[0];
  m.num_priors = dim(score_shape, 1);
  const bool has_info = read_model_info(m.graph, m.info);
  const int width = m.graph.input_width, height = m.graph.input_height;
  if (has_info && !m.info.prior_maps.empty() && m.num_priors > 0) {
    // The metadata's priors describe this graph only at the size they were exported for.
    const size_t count = priors_of(m.info, width, height).size();
    if (static_cast<int64_t>(count) != m.num_priors)
      throw Error(path + ": the metadata's priors give " + std::to_string(count) + " priors but the graph has " +
                  std::to_string(m.num_priors));
  }
  m.info.input_width = width;  // the graph's, whatever the metadata says
  m.info.input_height = height;
  attach_labels(m, labels_path, has_info, dim(score_shape, 2));
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

}  // namespace edgessd
