#pragma once
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "edgessd/common/detection.h"

namespace edgessd {

// detectNet's --overlay and --alpha: what is drawn for each detection.
struct OverlayOptions {
  bool box = true;     // the box filled with the class colour at `alpha`
  bool lines = false;  // the box's outline
  bool labels = true;  // the class name
  bool conf = true;    // the confidence
  int alpha = 120;     // 0..255, the fill's opacity
};

// Parses detectNet's comma-separated --overlay flags (box, labels, conf, lines, none) and
// --alpha (0..255); an unknown flag or an alpha out of range is an Error.
OverlayOptions parse_overlay(const std::string& flags, int alpha);

// Where a label of `text` pixels goes for `box` in a `frame`-sized image: above the box
// where there is room, else inside it at its top; shifted so that all of it is inside.
cv::Rect place_label(cv::Size text, const cv::Rect& box, cv::Size frame);

// Boxes, class names and confidences drawn onto the frame, one colour per class. Every
// label stays inside the frame, however close to an edge its box is.
void draw_detections(cv::Mat& bgr, const std::vector<Detection>& detections,
                     const std::vector<std::string>& class_names, const OverlayOptions& options = {});

}  // namespace edgessd
