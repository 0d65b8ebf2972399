#include "edgessd/deploy/quantize.h"

#include "edgessd/common/error.h"
#include "edgessd/common/image.h"
#include "edgessd/deploy/detector_model.h"
#include "edgessd/deploy/plate_reader.h"
#include "edgessd/plates/plate_crops.h"
#include "edgessd/runtime/engine.h"

namespace edgessd {

namespace {

size_t write_table(const OnnxGraph& graph, const Int8Calibration& table, const std::string& output_path) {
  write_with_metadata(graph, "edgessd.int8", int8_calibration_to_json(table), output_path);
  return table.scales.size();
}

}  // namespace

size_t quantize_onnx_model(const std::string& model_path, const std::string& labels_path,
                           const std::vector<std::string>& images, const std::string& output_path) {
  if (images.empty()) throw Error("--calibration: no images");
  DetectorModel model = load_detector_model(model_path, labels_path);
  model.graph.int8 = {};
  const ModelInfo& info = model.info;
  size_t next = 0;
  const Int8Calibration table = calibrate_int8(model.graph, [&](float* input) {
    if (next == images.size()) return false;
    const cv::Mat rgb = read_rgb_image(images[next++]);
    to_network_input(rgb, info.input_width, info.input_height, info.image_mean, info.image_std, input);
    return true;
  });
  return write_table(model.graph, table, output_path);
}

size_t quantize_reader_onnx(const std::string& model_path, const std::vector<PlateSample>& plates,
                            const std::string& output_path) {
  if (plates.empty()) throw Error("--calibration: no plate with a PlateText to calibrate on");
  ReaderModel model = load_reader_model(model_path);
  model.graph.int8 = {};
  size_t next = 0;
  std::string loaded_path;
  cv::Mat rgb;
  const Int8Calibration table = calibrate_int8(model.graph, [&](float* input) {
    if (next == plates.size()) return false;
    const PlateSample& p = plates[next++];
    if (p.image_path != loaded_path) rgb = read_rgb_image(p.image_path), loaded_path = p.image_path;
    reader_input(crop_plate(rgb, in_pixels(p.box, rgb), model.info), model.info, input);
    return true;
  });
  return write_table(model.graph, table, output_path);
}

}  // namespace edgessd
