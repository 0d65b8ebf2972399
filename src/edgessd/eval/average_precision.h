#pragma once
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "edgessd/common/detection.h"
#include "edgessd/data/dataset.h"

namespace edgessd {

// A detection of one class, as eval_ssd.py writes it to det_test_<class>.txt.
struct ClassDetection {
  size_t image_index;
  float probability;
  CornerBox box;  // pixels
};

struct PrecisionRecall {
  std::vector<double> precision, recall;
};

// Objects by area in the image's own pixels, [min_area, max_area): COCO's size buckets.
struct AreaRange {
  double min_area = 0;
  double max_area = std::numeric_limits<double>::infinity();
  bool everything() const { return min_area <= 0 && std::isinf(max_area); }
  bool contains(const CornerBox& b) const;
};
inline const AreaRange kSmallObjects{0, 32.0 * 32.0};
inline const AreaRange kMediumObjects{32.0 * 32.0, 96.0 * 96.0};
inline const AreaRange kLargeObjects{96.0 * 96.0, std::numeric_limits<double>::infinity()};

// pytorch-ssd's compute_average_precision_per_class: detections sorted by probability;
// a detection is a true positive when its best-IoU ground truth of the class in its image
// (IoU > iou_threshold) is not difficult and not matched before; a match with a difficult
// box counts neither way. `gt_boxes[i]` are image i's boxes of the class in pixels.
// With an `objects` range, as COCO's per-size AP: boxes outside it count as difficult, and
// a detection that matches no box and lies outside it is left out.
PrecisionRecall precision_recall(std::vector<ClassDetection> detections,
                                 const std::vector<std::vector<CornerBox>>& gt_boxes,
                                 const std::vector<std::vector<uint8_t>>& gt_difficult, float iou_threshold,
                                 const AreaRange& objects = {});
// The boxes that count (not difficult, inside `objects`).
size_t counted_objects(const std::vector<std::vector<CornerBox>>& gt_boxes,
                       const std::vector<std::vector<uint8_t>>& gt_difficult, const AreaRange& objects = {});

double voc2007_average_precision(const PrecisionRecall& pr);  // 11-point
double area_average_precision(const PrecisionRecall& pr);     // area under the interpolated curve

}  // namespace edgessd
