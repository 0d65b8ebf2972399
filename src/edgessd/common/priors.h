#pragma once
#include <cstddef>
#include <utility>
#include <vector>

namespace edgessd {

// One SSD feature map: its size in cells, the pixel stride of a cell, the min/max sizes
// of its square priors and the extra aspect ratios (each adds a w:h and an h:w box).
struct FeatureMapSpec {
  int feature_map_size;
  double shrinkage;
  double min_box_size;
  double max_box_size;
  std::vector<double> aspect_ratios;
};

// What pytorch-ssd keeps in a `*_ssd_config` module.
struct SsdConfig {
  int image_size = 300;
  float center_variance = 0.1f;
  float size_variance = 0.2f;
  float iou_threshold = 0.5f;
  std::vector<FeatureMapSpec> specs;
};

// pytorch-ssd's mobilenetv1_ssd_config: six maps, 3000 priors at 300x300.
const SsdConfig& mobilenet_v1_ssd_config();
// The six (width, height) head feature maps of SSD-MobileNet-v1 for an input size: each
// stride-2 3x3 conv (padding 1) rounds up, four of them before the first head.
std::vector<std::pair<int, int>> mobilenet_v1_ssd_feature_maps(int width, int height);

// A prior or box in centre form: (cx, cy, w, h), normalised to the image.
struct CenterBox {
  float cx, cy, w, h;
};

// The priors of generate_ssd_priors(specs, image_size, clamp=true), in its order:
// per map, per cell (row-major), min square, max square, then each ratio's two boxes.
class PriorBoxes {
 public:
  explicit PriorBoxes(const SsdConfig& config);
  // The priors of `config` (trained at image_size) for a width x height input: the same
  // pixel sizes and strides, laid over feature maps of the given (width, height) cells.
  // At image_size x image_size with the config's own map sizes this equals the above.
  PriorBoxes(const SsdConfig& config, int width, int height, const std::vector<std::pair<int, int>>& map_sizes);
  const std::vector<CenterBox>& center_form() const { return priors_; }
  size_t size() const { return priors_.size(); }
  // priors per cell of each feature map, in head order (6 for mobilenet_v1_ssd_config)
  std::vector<int> boxes_per_location() const;

 private:
  SsdConfig config_;
  std::vector<CenterBox> priors_;
};

}  // namespace edgessd
