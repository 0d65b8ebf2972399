// The int8 calibration table (JSON in the model's metadata) and the calibration pass
// that fills it by running the fp32 model through the oneDNN engine.
#include "edgessd/runtime/int8_calibration.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>

#include "edgessd/common/error.h"
#include "edgessd/runtime/engine.h"
#include "edgessd/runtime/internal/onednn_engine.h"

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
  std::vector<Tensor> outputs;
  forward(input, outputs);
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

Int8Calibration calibrate_int8(const OnnxGraph& graph, const std::function<bool(float*)>& fill) {
  OneDnnEngine engine(graph, 0, nullptr, /*share_activations=*/false);
  std::vector<float> input(static_cast<size_t>(graph.batch_size) * 3 * graph.input_width * graph.input_height, 0.0f);
  std::map<std::string, float> peaks;
  while (fill(input.data()))
    for (const auto& [name, peak] : engine.observe(input.data())) peaks[name] = std::max(peaks[name], peak);
  Int8Calibration table;
  for (const auto& [name, peak] : peaks)
    if (std::isfinite(peak) && peak > 1e-6f) table.scales[name] = 255.0f / peak;
  return table;
}

}  // namespace edgessd
