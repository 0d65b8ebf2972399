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

void to_network_input(const cv::Mat& rgb, int width, int height, const std::array<float, 3>& mean, float std,
                      float* out) {
  cv::Mat resized;
  if (rgb.cols == width && rgb.rows == height) resized = rgb;
  else cv::resize(rgb, resized, cv::Size(width, height), 0, 0, cv::INTER_LINEAR);
  normalise_to_chw(resized, mean, std, out);
}

void normalise_to_chw(const cv::Mat& image, const std::array<float, 3>& mean, float std, float* out) {
  cv::Mat as_float;
  if (mean[0] == mean[1] && mean[1] == mean[2]) {
    image.convertTo(as_float, CV_32FC3, 1.0 / std, -mean[0] / std);
  } else {
    image.convertTo(as_float, CV_32FC3);
    as_float -= cv::Scalar(mean[0], mean[1], mean[2]);
    if (std != 1.0f) as_float *= 1.0 / std;
  }
  // Split straight into the three planes of the output.
  const size_t plane = static_cast<size_t>(image.cols) * image.rows;
  std::vector<cv::Mat> planes;
  for (int c = 0; c < 3; ++c) planes.emplace_back(image.rows, image.cols, CV_32FC1, out + c * plane);
  cv::split(as_float, planes);
}

}  // namespace edgessd
