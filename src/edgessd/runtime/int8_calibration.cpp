// The int8 calibration table (JSON in the model's metadata) and the calibration pass
// that fills it by running the fp32 model through the oneDNN engine.
#include "edgessd/runtime/int8_calibration.h"

#include <onnx/onnx_pb.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/image.h"
#include "edgessd/runtime/onnx_model.h"
#include "edgessd/runtime/onednn_engine.h"

namespace edgessd {

std::string int8_calibration_to_json(const Int8Calibration& table) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, scale] : table.scales) j[name] = scale;
  return j.dump();
}

Int8Calibration int8_calibration_from_json(const std::string& text, const std::string& what) {
  Int8Calibration table;
  try {
    const nlohmann::json parsed = nlohmann::json::parse(text);
    for (const auto& [name, scale] : parsed.items()) {
      const float s = scale.get<float>();
      if (!(s > 0) || !std::isfinite(s)) throw Error(what + ": scale of '" + name + "' is not a positive number");
      table.scales[name] = s;
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(what + ": " + e.what());
  }
  return table;
}

std::map<std::string, float> OneDnnEngine::observe(const float* input) {
  std::vector<float> scores, boxes;
  int64_t priors = 0;
  forward(input, scores, boxes, priors);
  std::map<std::string, float> peaks;
  for (const auto& o : observed_) {
    std::vector<float> data(numel(o.shape));
    const memory::dims dims(o.shape.begin(), o.shape.end());
    memory dst(memory::desc(dims, memory::data_type::f32, memory::format_tag::abcd), engine_, data.data());
    dnnl::reorder(*o.mem, dst).execute(stream_, *o.mem, dst);
    stream_.wait();
    peaks[o.name] = *std::max_element(data.begin(), data.end());
  }
  return peaks;
}

namespace {

// The largest value of every convolution output over the inputs `fill` writes (it
// returns false when there are no more), as a table of u8 scales; then the model written
// again with the table in its metadata. Returns the number of tensors covered.
size_t calibrate_and_write(OnnxModel model, const std::function<bool(float*)>& fill, const std::string& output_path) {
  model.int8 = {};
  OneDnnEngine engine(model, 0, nullptr, /*share_activations=*/false);
  const ModelInfo& info = model.info;
  std::vector<float> input(static_cast<size_t>(model.batch_size) * 3 * info.input_width * info.input_height, 0.0f);
  std::map<std::string, float> peaks;
  while (fill(input.data()))
    for (const auto& [name, peak] : engine.observe(input.data())) peaks[name] = std::max(peaks[name], peak);
  Int8Calibration table;
  for (const auto& [name, peak] : peaks)
    if (std::isfinite(peak) && peak > 1e-6f) table.scales[name] = 255.0f / peak;  // dead layers stay fp32
  onnx::ModelProto proto;
  proto.ParseFromString(*model.bytes);
  auto* props = proto.mutable_metadata_props();
  for (int i = props->size() - 1; i >= 0; --i)
    if (props->Get(i).key() == "edgessd.int8") props->DeleteSubrange(i, 1);
  auto* prop = proto.add_metadata_props();
  prop->set_key("edgessd.int8");
  prop->set_value(int8_calibration_to_json(table));
  std::string bytes;
  proto.SerializeToString(&bytes);
  write_file_atomic(output_path, bytes);
  return table.scales.size();
}

}  // namespace

size_t quantize_onnx_model(const std::string& model_path, const std::string& labels_path,
                           const std::vector<std::string>& images, const std::string& output_path) {
  if (images.empty()) throw Error("--calibration: no images");
  const OnnxModel model = load_onnx_model(model_path, labels_path);
  const ModelInfo& info = model.info;
  size_t next = 0;
  return calibrate_and_write(model, [&](float* input) {
    if (next == images.size()) return false;
    const cv::Mat rgb = read_rgb_image(images[next++]);
    to_network_input(rgb, info.input_width, info.input_height, info.image_mean, info.image_std, input);
    return true;
  }, output_path);
}

size_t quantize_reader_onnx(const std::string& model_path, const std::vector<PlateSample>& plates,
                            const std::string& output_path) {
  if (plates.empty()) throw Error("--calibration: no plate with a PlateText to calibrate on");
  const OnnxModel model = load_onnx_reader(model_path);
  size_t next = 0;
  std::string loaded_path;
  cv::Mat rgb;
  return calibrate_and_write(model, [&](float* input) {
    if (next == plates.size()) return false;
    const PlateSample& p = plates[next++];
    if (p.image_path != loaded_path) rgb = read_rgb_image(p.image_path), loaded_path = p.image_path;
    const CornerBox px = in_pixels(p.box, rgb);
    reader_input(crop_plate(rgb, px, model.reader), model.reader, input);
    return true;
  }, output_path);
}

}  // namespace edgessd
