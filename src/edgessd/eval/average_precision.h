#pragma once
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

// pytorch-ssd's compute_average_precision_per_class: detections sorted by probability;
// a detection is a true positive when its best-IoU ground truth of the class in its image
// (IoU > iou_threshold) is not difficult and not matched before; a match with a difficult
// box counts neither way. `gt_boxes[i]` are image i's boxes of the class in pixels.
PrecisionRecall precision_recall(std::vector<ClassDetection> detections,
                                 const std::vector<std::vector<CornerBox>>& gt_boxes,
                                 const std::vector<std::vector<uint8_t>>& gt_difficult, float iou_threshold);

double voc2007_average_precision(const PrecisionRecall& pr);  // 11-point
double area_average_precision(const PrecisionRecall& pr);     // area under the interpolated curve

}  // namespace edgessd
