#pragma once
#include <map>
#include <string>

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

}  // namespace edgessd
