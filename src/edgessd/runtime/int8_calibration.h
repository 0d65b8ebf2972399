#pragma once
#include <map>
#include <string>
#include <vector>

#include "edgessd/data/plate_crops.h"

namespace edgessd {

// Activation scales for int8 inference, by tensor name: q = round(x * scale), u8 (the
// activations quantized are all ReLU/ReLU6 outputs, so >= 0). Stored in the model's
// metadata as "edgessd.int8" (JSON), next to the unchanged fp32 graph, the way TensorRT
// keeps a calibration cache: other runtimes still run the file in fp32.
struct Int8Calibration {
  std::map<std::string, float> scales;
};

std::string int8_calibration_to_json(const Int8Calibration& table);
Int8Calibration int8_calibration_from_json(const std::string& text, const std::string& what);

// Post-training int8 calibration: runs the fp32 model on `images` (the detector's
// pre-processing) and records the largest value of every convolution output; writes
// the model again with the table in its metadata. Returns the number of tensors covered.
size_t quantize_onnx_model(const std::string& model_path, const std::string& labels_path,
                           const std::vector<std::string>& images,
                           const std::string& output_path);

// The same for a plate reader (export-reader's ONNX), on the reader's crops of `plates`.
size_t quantize_reader_onnx(const std::string& model_path, const std::vector<PlateSample>& plates,
                            const std::string& output_path);

}  // namespace edgessd
