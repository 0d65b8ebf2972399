#include "edgessd/common/priors.h"

#include <algorithm>
#include <cmath>

namespace edgessd {

const SsdConfig& mobilenet_v1_ssd_config() {
  static const SsdConfig config = [] {
    SsdConfig c;
    c.image_size = 300;
    c.specs = {
        {19, 16, 60, 105, {2, 3}},   {10, 32, 105, 150, {2, 3}}, {5, 64, 150, 195, {2, 3}},
        {3, 100, 195, 240, {2, 3}},  {2, 150, 240, 285, {2, 3}}, {1, 300, 285, 330, {2, 3}},
    };
    return c;
  }();
  return config;
}

PriorBoxes::PriorBoxes(const SsdConfig& config) : config_(config) {
  // Computed in double and rounded once, as pytorch-ssd builds a Python list of floats
  // and converts it with torch.tensor.
  auto clamp01 = [](double v) { return static_cast<float>(std::min(1.0, std::max(0.0, v))); };
  auto add = [&](double cx, double cy, double w, double h) {
    priors_.push_back({clamp01(cx), clamp01(cy), clamp01(w), clamp01(h)});
  };
  const double image_size = config.image_size;
  for (const FeatureMapSpec& spec : config.specs) {
    const double scale = image_size / spec.shrinkage;
    for (int j = 0; j < spec.feature_map_size; ++j) {
      for (int i = 0; i < spec.feature_map_size; ++i) {
        const double cx = (i + 0.5) / scale;
        const double cy = (j + 0.5) / scale;
        double size = spec.min_box_size / image_size;
        add(cx, cy, size, size);
        size = std::sqrt(spec.max_box_size * spec.min_box_size) / image_size;
        add(cx, cy, size, size);
        size = spec.min_box_size / image_size;
        for (double ratio : spec.aspect_ratios) {
          const double r = std::sqrt(ratio);
          add(cx, cy, size * r, size / r);
          add(cx, cy, size / r, size * r);
        }
      }
    }
  }
}

std::vector<int> PriorBoxes::boxes_per_location() const {
  std::vector<int> counts;
  for (const FeatureMapSpec& spec : config_.specs)
    counts.push_back(2 + 2 * static_cast<int>(spec.aspect_ratios.size()));
  return counts;
}

}  // namespace edgessd
