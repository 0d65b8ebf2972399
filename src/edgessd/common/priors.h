#pragma once
#include <cstddef>
#include <utility>
#include <vector>

namespace edgessd {

// One SSD feature map: its size in cells (at the config's image size), the pixel stride
// of a cell, the min/max sizes of its square priors and the extra aspect ratios (each adds
// a w:h and an h:w box). Fitted priors (--priors auto) list their (w, h) boxes in input
// pixels instead of min/max/ratios; a stride_y of 0 means the same as the x stride.
struct FeatureMapSpec {
  int feature_map_size = 0;
  double shrinkage = 0;
  double min_box_size = 0;
  double max_box_size = 0;
  std::vector<double> aspect_ratios;
  std::vector<std::pair<double, double>> boxes;
  double shrinkage_y = 0;

  int boxes_per_location() const {
    return boxes.empty() ? 2 + 2 * static_cast<int>(aspect_ratios.size()) : static_cast<int>(boxes.size());
  }
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
// The (width, height) head feature maps of SSD-MobileNet-v1 for an input size: each
// stride-2 3x3 conv (padding 1) rounds up, four of them before the first of pytorch-ssd's
// six heads; `stride8` adds the base net's stride-8 map (three halvings) in front.
std::vector<std::pair<int, int>> mobilenet_v1_ssd_feature_maps(int width, int height, bool stride8 = false);

// pytorch-ssd's priors for a width x height input: at 300x300 its six maps exactly; at any
// other size the same pixel sizes, each map's stride the input over its cells. `stride8`
// adds a map of 30 px priors (max 60) on the stride-8 cells for objects of 10-40 px.
std::vector<FeatureMapSpec> ssd_prior_maps(int width, int height, bool stride8);

// pytorch-ssd's vgg_ssd_config: six maps from conv4_3's 38x38, 8732 priors at 300x300.
const SsdConfig& vgg_ssd_config();
// The head feature maps of SSD-VGG16: 2x2 poolings halve rounding down, except the third
// (ceil_mode) which rounds up, conv4_3's map after it; a fourth pooling; two stride-2 3x3
// extras (padding 1) round up; the last two extras (3x3, no padding) take 2 cells each.
// Empty when an input side is too small to leave the last map a cell.
std::vector<std::pair<int, int>> vgg_ssd_feature_maps(int width, int height);
// `config`'s priors laid over `cells` for a width x height input, as ssd_prior_maps.
std::vector<FeatureMapSpec> config_prior_maps(const SsdConfig& config, std::vector<FeatureMapSpec> maps,
                                              int width, int height, const std::vector<std::pair<int, int>>& cells);

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
  // The priors of `maps` (strides and sizes in input pixels) for a width x height input.
  PriorBoxes(const std::vector<FeatureMapSpec>& maps, int width, int height,
             const std::vector<std::pair<int, int>>& map_sizes);
  const std::vector<CenterBox>& center_form() const { return priors_; }
  size_t size() const { return priors_.size(); }
  // priors per cell of each feature map, in head order (6 for mobilenet_v1_ssd_config)
  std::vector<int> boxes_per_location() const;

 private:
  std::vector<FeatureMapSpec> maps_;
  std::vector<CenterBox> priors_;
};

}  // namespace edgessd
