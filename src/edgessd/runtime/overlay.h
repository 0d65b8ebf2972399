#pragma once
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "edgessd/common/detection.h"

namespace edgessd {

// Boxes, class names and confidences drawn onto the frame, one colour per class.
void draw_detections(cv::Mat& bgr, const std::vector<Detection>& detections,
                     const std::vector<std::string>& class_names);

}  // namespace edgessd
