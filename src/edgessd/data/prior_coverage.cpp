#include "edgessd/data/prior_coverage.h"

#include <algorithm>
#include <cstdio>

#include "edgessd/common/boxes.h"
#include "edgessd/common/model_info.h"

namespace edgessd {

namespace {

// The value at fraction q of sorted `v` (nearest rank); 0 for none.
double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
}

}  // namespace

PriorCoverage prior_coverage(const DetectionDataset& data, const std::vector<CenterBox>& priors, int input_width,
                             int input_height, float iou_threshold) {
  std::vector<CornerBox> corners;
  corners.reserve(priors.size());
  for (const CenterBox& p : priors) corners.push_back(center_to_corner(p));
  std::vector<double> best, widths, heights;
  size_t matched = 0;
  for (const AnnotatedImage& image : data.images)
    for (size_t b = 0; b < image.boxes.size(); ++b) {
      if (image.difficult.size() > b && image.difficult[b]) continue;
      const CornerBox& box = image.boxes[b];
      float top = 0;
      for (const CornerBox& p : corners) top = std::max(top, iou(box, p));
      best.push_back(top);
      matched += top >= iou_threshold;
      widths.push_back((box.x2 - box.x1) * input_width);
      heights.push_back((box.y2 - box.y1) * input_height);
    }
  PriorCoverage c;
  c.smallest_prior = 1e9;
  for (const CenterBox& p : priors)
    c.smallest_prior = std::min({c.smallest_prior, static_cast<double>(p.w) * input_width,
                                 static_cast<double>(p.h) * input_height});
  c.boxes = best.size();
  if (c.boxes == 0) return c;
  c.best_possible_recall = static_cast<double>(matched) / c.boxes;
  c.median_best_iou = quantile(best, 0.5);
  const double qs[3] = {0.1, 0.5, 0.9};
  for (int i = 0; i < 3; ++i) {
    c.width[i] = quantile(widths, qs[i]);
    c.height[i] = quantile(heights, qs[i]);
  }
  return c;
}

std::string format_prior_coverage(const std::string& split, const PriorCoverage& c, float iou_threshold) {
  char text[512];
  std::snprintf(text, sizeof text,
                "%s: %zu boxes; best possible recall %.3f (a prior at IoU >= %.2f), median best IoU %.3f\n"
                "%s: box width %.0f / %.0f / %.0f px, height %.0f / %.0f / %.0f px (10th / 50th / 90th percentile, "
                "input pixels)\n",
                split.c_str(), c.boxes, c.best_possible_recall, iou_threshold, c.median_best_iou, split.c_str(),
                c.width[0], c.width[1], c.width[2], c.height[0], c.height[1], c.height[2]);
  return text;
}

std::string prior_coverage_warning(const PriorCoverage& c, const ModelInfo& model) {
  if (c.boxes == 0 || c.best_possible_recall >= 0.9) return "";
  std::vector<std::string> fixes = {"a larger input (--resolution, now " + std::to_string(model.input_width) + "x" +
                                    std::to_string(model.input_height) + ")"};
  if (model.priors != "auto") fixes.push_back("priors fitted to the data (--priors auto)");
  if (!stride8_twin_of(model.net).empty()) fixes.push_back("a stride-8 head (--net " + stride8_twin_of(model.net) + ")");
  std::string remedies = fixes[0];
  for (size_t i = 1; i < fixes.size(); ++i) remedies += (i + 1 == fixes.size() ? " or " : ", ") + fixes[i];
  char text[1024];
  std::snprintf(text, sizeof text,
                "only %.0f%% of the boxes have a prior at IoU >= 0.5 (median best IoU %.2f): most objects "
                "will train through one forced match and be missed. Their median size is %.0fx%.0f input pixels "
                "and the smallest prior's side %.0f px: %s brings the priors to the objects",
                100 * c.best_possible_recall, c.median_best_iou, c.width[1], c.height[1], c.smallest_prior,
                remedies.c_str());
  return text;
}

}  // namespace edgessd
