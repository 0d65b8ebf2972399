#pragma once
#include <cstdint>
#include <vector>

#include "edgessd/common/priors.h"

namespace edgessd {

// A box in corner form: (x1, y1, x2, y2), normalised to the image unless said otherwise.
struct CornerBox {
  float x1, y1, x2, y2;
};

CornerBox center_to_corner(const CenterBox& b);
CenterBox corner_to_center(const CornerBox& b);

// pytorch-ssd's iou_of: intersection / (area0 + area1 - intersection + eps).
float iou(const CornerBox& a, const CornerBox& b, float eps = 1e-5f);

// SSD box regression targets relative to a prior, with the variances.
struct Location {
  float dx, dy, dw, dh;
};
Location encode(const CenterBox& box, const CenterBox& prior, float center_variance,
                float size_variance);
CenterBox decode(const Location& loc, const CenterBox& prior, float center_variance,
                 float size_variance);

// The training targets of one image: an encoded location and a label per prior.
struct PriorTargets {
  std::vector<Location> locations;
  std::vector<int64_t> labels;  // 0 = background
};

// pytorch-ssd's MatchPrior: every ground-truth box claims its best prior; every other
// prior takes its best ground truth if their IoU reaches `iou_threshold`, else background.
// With no ground truth at all every prior is background.
class PriorMatcher {
 public:
  PriorMatcher(const PriorBoxes& priors, float center_variance, float size_variance,
               float iou_threshold);
  PriorTargets match(const std::vector<CornerBox>& gt_boxes,
                     const std::vector<int64_t>& gt_labels) const;
  size_t num_priors() const { return center_priors_.size(); }

 private:
  std::vector<CenterBox> center_priors_;
  std::vector<CornerBox> corner_priors_;
  float center_variance_, size_variance_, iou_threshold_;
};

}  // namespace edgessd
