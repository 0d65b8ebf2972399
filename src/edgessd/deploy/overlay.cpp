#include "edgessd/deploy/overlay.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "edgessd/common/error.h"

namespace edgessd {

namespace {

cv::Scalar class_colour(int64_t label) {
  // Well-separated hues; BACKGROUND never shows.
  static const cv::Scalar palette[] = {{0, 255, 0},   {0, 128, 255}, {255, 0, 255}, {255, 255, 0},
                                       {0, 0, 255},   {255, 128, 0}, {128, 0, 255}, {0, 255, 255}};
  return palette[static_cast<size_t>(label) % (sizeof palette / sizeof palette[0])];
}

std::string label_text(const Detection& d, const std::vector<std::string>& class_names, const OverlayOptions& o) {
  std::string text;
  if (o.labels)
    text = d.label >= 0 && d.label < static_cast<int64_t>(class_names.size()) ? class_names[d.label]
                                                                              : std::to_string(d.label);
  if (o.labels && d.track_id >= 0) text += " #" + std::to_string(d.track_id);  // the tracker's id
  if (o.labels && !d.text.empty()) text += " " + d.text;                        // the plate reader's read
  if (o.conf) {
    char conf[32];
    std::snprintf(conf, sizeof conf, "%.0f%%", d.probability * 100.0);
    text += (text.empty() ? "" : " ") + std::string(conf);
  }
  return text;
}

void draw_label(cv::Mat& bgr, const std::string& text, const cv::Rect& box, const cv::Scalar& colour,
                double font_scale, int thickness) {
  int baseline = 0;
  const cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, font_scale, thickness, &baseline);
  const cv::Rect label = place_label(cv::Size(size.width, size.height + 2 * baseline), box, bgr.size());
  cv::rectangle(bgr, label, colour, cv::FILLED);
  cv::putText(bgr, text, cv::Point(label.x, label.y + size.height + baseline / 2), cv::FONT_HERSHEY_SIMPLEX,
              font_scale, cv::Scalar(0, 0, 0), thickness, cv::LINE_AA);
}

}  // namespace

cv::Rect place_label(cv::Size text, const cv::Rect& box, cv::Size frame) {
  const int top = box.y - text.height >= 0 ? box.y - text.height : box.y;
  return {std::clamp(box.x, 0, std::max(0, frame.width - text.width)),
          std::clamp(top, 0, std::max(0, frame.height - text.height)), text.width, text.height};
}

OverlayOptions parse_overlay(const std::string& flags, int alpha) {
  if (alpha < 0 || alpha > 255) throw Error("--alpha " + std::to_string(alpha) + ": must be within 0..255");
  OverlayOptions o;
  o.box = o.lines = o.labels = o.conf = false;
  o.alpha = alpha;
  std::stringstream list(flags);
  std::string flag;
  while (std::getline(list, flag, ',')) {
    if (flag == "box") o.box = true;
    else if (flag == "lines") o.lines = true;
    else if (flag == "labels") o.labels = true;
    else if (flag == "conf") o.conf = true;
    else if (flag != "none") throw Error("--overlay " + flags + ": unknown flag '" + flag + "' (box, labels, conf, lines, none)");
  }
  return o;
}

void draw_detections(cv::Mat& bgr, const std::vector<Detection>& detections,
                     const std::vector<std::string>& class_names, const OverlayOptions& options) {
  const int thickness = std::max(1, std::min(bgr.cols, bgr.rows) / 300);
  const double font_scale = std::max(0.4, std::min(bgr.cols, bgr.rows) / 800.0);
  const cv::Rect frame(0, 0, bgr.cols, bgr.rows);
  for (const Detection& d : detections) {
    const cv::Scalar colour = class_colour(d.label);
    const cv::Point top_left(static_cast<int>(d.box.x1), static_cast<int>(d.box.y1));
    const cv::Point bottom_right(static_cast<int>(d.box.x2), static_cast<int>(d.box.y2));
    const cv::Rect box = cv::Rect(top_left, bottom_right) & frame;
    if (options.box && options.alpha > 0 && box.area() > 0) {
      cv::Mat region = bgr(box);
      cv::Mat fill(region.size(), region.type(), colour);
      cv::addWeighted(fill, options.alpha / 255.0, region, 1.0 - options.alpha / 255.0, 0.0, region);
    }
    if (options.lines) cv::rectangle(bgr, top_left, bottom_right, colour, thickness);
    const std::string text = label_text(d, class_names, options);
    if (!text.empty()) draw_label(bgr, text, box.area() > 0 ? box : cv::Rect(top_left, cv::Size(0, 0)) & frame,
                                  colour, font_scale, thickness);
  }
}

}  // namespace edgessd
