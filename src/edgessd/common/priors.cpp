#include "edgessd/common/priors.h"

#include <stdexcept>

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

std::vector<std::pair<int, int>> mobilenet_v1_ssd_feature_maps(int width, int height, bool stride8) {
  auto half = [](int v) { return (v + 1) / 2; };
  for (int i = 0; i < 3; ++i) width = half(width), height = half(height);
  std::vector<std::pair<int, int>> maps;
  if (stride8) maps.emplace_back(width, height);
  width = half(width), height = half(height);
  for (int i = 0; i < 6; ++i) {
    maps.emplace_back(width, height);
    width = half(width), height = half(height);
  }
  return maps;
}

std::vector<FeatureMapSpec> ssd_prior_maps(int width, int height, bool stride8) {
  const SsdConfig& config = mobilenet_v1_ssd_config();
  std::vector<FeatureMapSpec> maps = config.specs;
  if (stride8) maps.insert(maps.begin(), FeatureMapSpec{0, 0, 30, 60, {2, 3}});
  return config_prior_maps(config, maps, width, height, mobilenet_v1_ssd_feature_maps(width, height, stride8));
}

const SsdConfig& vgg_ssd_config() {
  static const SsdConfig config = [] {
    SsdConfig c;
    c.image_size = 300;
    c.specs = {
        {38, 8, 30, 60, {2}},        {19, 16, 60, 111, {2, 3}},  {10, 32, 111, 162, {2, 3}},
        {5, 64, 162, 213, {2, 3}},   {3, 100, 213, 264, {2}},    {1, 300, 264, 315, {2}},
    };
    return c;
  }();
  return config;
}

std::vector<std::pair<int, int>> vgg_ssd_feature_maps(int width, int height) {
  auto maps_of = [](int v) {
    std::vector<int> m;
    v = v / 2 / 2;
    v = (v + 1) / 2;  // the ceil_mode pooling
    m.push_back(v);
    v /= 2;
    m.push_back(v);  // pool5 (3x3, stride 1, padding 1) and the dilated conv6 keep the size
    for (int i = 0; i < 2; ++i) m.push_back(v = (v + 1) / 2);
    for (int i = 0; i < 2; ++i) m.push_back(v = v - 2);
    return m;
  };
  const auto w = maps_of(width), h = maps_of(height);
  if (w.back() < 1 || h.back() < 1) return {};
  std::vector<std::pair<int, int>> maps;
  for (size_t i = 0; i < w.size(); ++i) maps.emplace_back(w[i], h[i]);
  return maps;
}

std::vector<FeatureMapSpec> config_prior_maps(const SsdConfig& config, std::vector<FeatureMapSpec> maps,
                                              int width, int height, const std::vector<std::pair<int, int>>& cells) {
  const bool native = width == config.image_size && height == config.image_size;
  for (size_t m = 0; m < maps.size(); ++m) {
    if (native && maps[m].shrinkage > 0) continue;  // pytorch-ssd's own strides
    maps[m].feature_map_size = cells[m].first;
    maps[m].shrinkage = static_cast<double>(width) / cells[m].first;
    maps[m].shrinkage_y = static_cast<double>(height) / cells[m].second;
  }
  return maps;
}

namespace {
std::vector<std::pair<int, int>> square_maps(const SsdConfig& config) {
  std::vector<std::pair<int, int>> maps;
  for (const FeatureMapSpec& spec : config.specs) maps.emplace_back(spec.feature_map_size, spec.feature_map_size);
  return maps;
}
}  // namespace

PriorBoxes::PriorBoxes(const SsdConfig& config)
    : PriorBoxes(config, config.image_size, config.image_size, square_maps(config)) {}

PriorBoxes::PriorBoxes(const SsdConfig& config, int width, int height,
                       const std::vector<std::pair<int, int>>& map_sizes)
    : PriorBoxes(config.specs, width, height, map_sizes) {}

PriorBoxes::PriorBoxes(const std::vector<FeatureMapSpec>& maps, int width, int height,
                       const std::vector<std::pair<int, int>>& map_sizes)
    : maps_(maps) {
  if (map_sizes.size() != maps.size()) throw std::invalid_argument("PriorBoxes: one map size per spec");
  // Computed in double and rounded once, as pytorch-ssd builds a Python list of floats
  // and converts it with torch.tensor.
  auto clamp01 = [](double v) { return static_cast<float>(std::min(1.0, std::max(0.0, v))); };
  auto add = [&](double cx, double cy, double w, double h) {
    priors_.push_back({clamp01(cx), clamp01(cy), clamp01(w), clamp01(h)});
  };
  const double image_w = width, image_h = height;
  for (size_t m = 0; m < maps.size(); ++m) {
    const FeatureMapSpec& spec = maps[m];
    const double stride_y = spec.shrinkage_y > 0 ? spec.shrinkage_y : spec.shrinkage;
    const double scale_x = image_w / spec.shrinkage, scale_y = image_h / stride_y;
    for (int j = 0; j < map_sizes[m].second; ++j) {
      for (int i = 0; i < map_sizes[m].first; ++i) {
        const double cx = (i + 0.5) / scale_x;
        const double cy = (j + 0.5) / scale_y;
        if (!spec.boxes.empty()) {
          for (const auto& [bw, bh] : spec.boxes) add(cx, cy, bw / image_w, bh / image_h);
          continue;
        }
        double w = spec.min_box_size / image_w, h = spec.min_box_size / image_h;
        add(cx, cy, w, h);
        const double max_size = std::sqrt(spec.max_box_size * spec.min_box_size);
        add(cx, cy, max_size / image_w, max_size / image_h);
        for (double ratio : spec.aspect_ratios) {
          const double r = std::sqrt(ratio);
          add(cx, cy, w * r, h / r);
          add(cx, cy, w / r, h * r);
        }
      }
    }
  }
}

std::vector<int> PriorBoxes::boxes_per_location() const {
  std::vector<int> counts;
  for (const FeatureMapSpec& spec : maps_) counts.push_back(spec.boxes_per_location());
  return counts;
}

}  // namespace edgessd
