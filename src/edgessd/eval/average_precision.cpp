#include "edgessd/eval/average_precision.h"

#include <algorithm>
#include <numeric>
#include <set>

namespace edgessd {

bool AreaRange::contains(const CornerBox& b) const {
  const double area = static_cast<double>(b.x2 - b.x1) * (b.y2 - b.y1);
  return area >= min_area && area < max_area;
}

namespace {

// Difficult, or outside the size range: such a box neither counts nor penalises.
std::vector<std::vector<uint8_t>> ignored_boxes(const std::vector<std::vector<CornerBox>>& gt_boxes,
                                                const std::vector<std::vector<uint8_t>>& gt_difficult,
                                                const AreaRange& objects) {
  std::vector<std::vector<uint8_t>> ignored = gt_difficult;
  if (objects.everything()) return ignored;
  for (size_t i = 0; i < gt_boxes.size(); ++i)
    for (size_t g = 0; g < gt_boxes[i].size(); ++g)
      if (!objects.contains(gt_boxes[i][g])) ignored[i][g] = 1;
  return ignored;
}

}  // namespace

size_t counted_objects(const std::vector<std::vector<CornerBox>>& gt_boxes,
                       const std::vector<std::vector<uint8_t>>& gt_difficult, const AreaRange& objects) {
  size_t n = 0;
  for (const auto& image : ignored_boxes(gt_boxes, gt_difficult, objects))
    for (uint8_t flag : image) n += flag == 0;
  return n;
}

PrecisionRecall precision_recall(std::vector<ClassDetection> detections,
                                 const std::vector<std::vector<CornerBox>>& gt_boxes,
                                 const std::vector<std::vector<uint8_t>>& gt_difficult, float iou_threshold,
                                 const AreaRange& objects) {
  const std::vector<std::vector<uint8_t>> ignored = ignored_boxes(gt_boxes, gt_difficult, objects);
  const size_t num_true = counted_objects(gt_boxes, gt_difficult, objects);
  std::stable_sort(detections.begin(), detections.end(),
                   [](const ClassDetection& a, const ClassDetection& b) { return a.probability > b.probability; });
  std::set<std::pair<size_t, size_t>> matched;
  PrecisionRecall pr;
  double tp = 0, fp = 0;
  // A false positive, unless it lies outside the size range (then it is left out).
  auto false_positive = [&](const ClassDetection& d) {
    if (!objects.everything() && !objects.contains(d.box)) return false;
    fp += 1;
    return true;
  };
  for (const ClassDetection& d : detections) {
    const auto& boxes = gt_boxes[d.image_index];
    size_t best = 0;
    float best_iou = -1;
    for (size_t g = 0; g < boxes.size(); ++g) {
      const float o = iou(d.box, boxes[g]);
      if (o > best_iou) { best_iou = o; best = g; }
    }
    if (boxes.empty() || !(best_iou > iou_threshold)) {
      if (!false_positive(d)) continue;
    } else if (!ignored[d.image_index][best]) {
      if (matched.insert({d.image_index, best}).second) tp += 1;
      else if (!false_positive(d)) continue;
    }
    pr.precision.push_back(tp + fp > 0 ? tp / (tp + fp) : 0);
    pr.recall.push_back(num_true > 0 ? tp / num_true : 0);
  }
  return pr;
}

double voc2007_average_precision(const PrecisionRecall& pr) {
  double ap = 0;
  for (int k = 0; k <= 10; ++k) {
    const double t = k / 10.0;
    double p = 0;
    for (size_t i = 0; i < pr.recall.size(); ++i)
      if (pr.recall[i] >= t) p = std::max(p, pr.precision[i]);
    ap += p / 11.0;
  }
  return ap;
}

double area_average_precision(const PrecisionRecall& pr) {
  std::vector<double> precision = {0.0}, recall = {0.0};
  precision.insert(precision.end(), pr.precision.begin(), pr.precision.end());
  recall.insert(recall.end(), pr.recall.begin(), pr.recall.end());
  precision.push_back(0.0);
  recall.push_back(1.0);
  for (size_t i = precision.size() - 1; i-- > 0;) precision[i] = std::max(precision[i], precision[i + 1]);
  double area = 0;
  for (size_t i = 0; i + 1 < recall.size(); ++i)
    if (recall[i + 1] != recall[i]) area += (recall[i + 1] - recall[i]) * precision[i + 1];
  return area;
}

}  // namespace edgessd
