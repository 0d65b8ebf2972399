#include "edgessd/common/image.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "edgessd/common/error.h"

namespace edgessd {

cv::Mat read_rgb_image(const std::string& path) {
  cv::Mat bgr = cv::imread(path, cv::IMREAD_COLOR);
  if (bgr.empty()) throw Error(path + ": missing or not a decodable image");
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

void to_network_input(const cv::Mat& rgb, int width, int height, float mean, float std, float* out) {
  cv::Mat resized;
  if (rgb.cols == width && rgb.rows == height) resized = rgb;
  else cv::resize(rgb, resized, cv::Size(width, height), 0, 0, cv::INTER_LINEAR);
  cv::Mat as_float;
  resized.convertTo(as_float, CV_32FC3, 1.0 / std, -mean / std);
  // Split straight into the three planes of the output.
  std::vector<cv::Mat> planes;
  for (int c = 0; c < 3; ++c) planes.emplace_back(height, width, CV_32FC1, out + static_cast<size_t>(c) * width * height);
  cv::split(as_float, planes);
}

}  // namespace edgessd
