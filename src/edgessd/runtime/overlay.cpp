#include "edgessd/runtime/overlay.h"

#include <opencv2/imgproc.hpp>

#include <cstdio>

namespace edgessd {

namespace {
cv::Scalar class_colour(int64_t label) {
  // Well-separated hues; BACKGROUND never shows.
  static const cv::Scalar palette[] = {{0, 255, 0},   {0, 128, 255}, {255, 0, 255}, {255, 255, 0},
                                       {0, 0, 255},   {255, 128, 0}, {128, 0, 255}, {0, 255, 255}};
  return palette[static_cast<size_t>(label) % (sizeof palette / sizeof palette[0])];
}
}  // namespace

void draw_detections(cv::Mat& bgr, const std::vector<Detection>& detections,
                     const std::vector<std::string>& class_names) {
  const int thickness = std::max(1, std::min(bgr.cols, bgr.rows) / 300);
  const double font_scale = std::max(0.4, std::min(bgr.cols, bgr.rows) / 800.0);
  for (const Detection& d : detections) {
    const cv::Scalar colour = class_colour(d.label);
    const cv::Point top_left(static_cast<int>(d.box.x1), static_cast<int>(d.box.y1));
    const cv::Point bottom_right(static_cast<int>(d.box.x2), static_cast<int>(d.box.y2));
    cv::rectangle(bgr, top_left, bottom_right, colour, thickness);
    const std::string name =
        d.label >= 0 && d.label < static_cast<int64_t>(class_names.size()) ? class_names[d.label] : std::to_string(d.label);
    char text[256];
    std::snprintf(text, sizeof text, "%s %.0f%%", name.c_str(), d.probability * 100.0);
    int baseline = 0;
    const cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, font_scale, thickness, &baseline);
    cv::Point origin(top_left.x, std::max(size.height + baseline, top_left.y));
    cv::rectangle(bgr, origin + cv::Point(0, baseline), origin + cv::Point(size.width, -size.height - baseline),
                  colour, cv::FILLED);
    cv::putText(bgr, text, origin, cv::FONT_HERSHEY_SIMPLEX, font_scale, cv::Scalar(0, 0, 0), thickness, cv::LINE_AA);
  }
}

}  // namespace edgessd
