#include "edgessd/common/boxes.h"

#include <algorithm>
#include <cmath>

#include "edgessd/common/error.h"

namespace edgessd {

CornerBox center_to_corner(const CenterBox& b) {
  return {b.cx - b.w / 2, b.cy - b.h / 2, b.cx + b.w / 2, b.cy + b.h / 2};
}

CenterBox corner_to_center(const CornerBox& b) {
  return {(b.x1 + b.x2) / 2, (b.y1 + b.y2) / 2, b.x2 - b.x1, b.y2 - b.y1};
}

namespace {
float clamped_area(float x1, float y1, float x2, float y2) {
  return std::max(x2 - x1, 0.0f) * std::max(y2 - y1, 0.0f);
}
}  // namespace

float iou(const CornerBox& a, const CornerBox& b, float eps) {
  const float overlap = clamped_area(std::max(a.x1, b.x1), std::max(a.y1, b.y1),
                                     std::min(a.x2, b.x2), std::min(a.y2, b.y2));
  const float area_a = clamped_area(a.x1, a.y1, a.x2, a.y2);
  const float area_b = clamped_area(b.x1, b.y1, b.x2, b.y2);
  return overlap / (area_a + area_b - overlap + eps);
}

Location encode(const CenterBox& box, const CenterBox& prior, float center_variance,
                float size_variance) {
  return {(box.cx - prior.cx) / prior.w / center_variance,
          (box.cy - prior.cy) / prior.h / center_variance,
          std::log(box.w / prior.w) / size_variance, std::log(box.h / prior.h) / size_variance};
}

CenterBox decode(const Location& loc, const CenterBox& prior, float center_variance,
                 float size_variance) {
  return {loc.dx * center_variance * prior.w + prior.cx,
          loc.dy * center_variance * prior.h + prior.cy,
          std::exp(loc.dw * size_variance) * prior.w, std::exp(loc.dh * size_variance) * prior.h};
}

PriorMatcher::PriorMatcher(const PriorBoxes& priors, float center_variance, float size_variance,
                           float iou_threshold)
    : center_priors_(priors.center_form()),
      center_variance_(center_variance),
      size_variance_(size_variance),
      iou_threshold_(iou_threshold) {
  corner_priors_.reserve(center_priors_.size());
  for (const CenterBox& p : center_priors_) corner_priors_.push_back(center_to_corner(p));
}

PriorTargets PriorMatcher::match(const std::vector<CornerBox>& gt_boxes,
                                 const std::vector<int64_t>& gt_labels) const {
  if (gt_boxes.size() != gt_labels.size())
    throw Error("prior matching: " + std::to_string(gt_boxes.size()) + " boxes but " +
                std::to_string(gt_labels.size()) + " labels");
  const size_t num_priors = corner_priors_.size();
  const size_t num_targets = gt_boxes.size();
  PriorTargets targets;
  targets.labels.assign(num_priors, 0);
  targets.locations.resize(num_priors);
  if (num_targets == 0) {
    // No object: all background; the locations are never used by the loss.
    for (size_t p = 0; p < num_priors; ++p) targets.locations[p] = {0, 0, 0, 0};
    return targets;
  }

  std::vector<float> best_target_iou(num_priors, -1.0f);
  std::vector<size_t> best_target(num_priors, 0);
  std::vector<float> best_prior_iou(num_targets, -1.0f);
  std::vector<size_t> best_prior(num_targets, 0);
  for (size_t p = 0; p < num_priors; ++p) {
    for (size_t t = 0; t < num_targets; ++t) {
      const float v = iou(gt_boxes[t], corner_priors_[p]);
      // strict '>' keeps the first maximum, as torch.max does
      if (v > best_target_iou[p]) { best_target_iou[p] = v; best_target[p] = t; }
      if (v > best_prior_iou[t]) { best_prior_iou[t] = v; best_prior[t] = p; }
    }
  }
  for (size_t t = 0; t < num_targets; ++t) {
    best_target[best_prior[t]] = t;
    best_target_iou[best_prior[t]] = 2.0f;
  }
  for (size_t p = 0; p < num_priors; ++p) {
    const size_t t = best_target[p];
    targets.labels[p] = best_target_iou[p] < iou_threshold_ ? 0 : gt_labels[t];
    targets.locations[p] = encode(corner_to_center(gt_boxes[t]), center_priors_[p],
                                  center_variance_, size_variance_);
  }
  return targets;
}

}  // namespace edgessd
