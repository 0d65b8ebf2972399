#pragma once
#include <array>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace edgessd {

// Reads an image as RGB (what pytorch-ssd's datasets hand to their transforms).
// Throws an Error naming the file if it is missing or cannot be decoded.
cv::Mat read_rgb_image(const std::string& path);

// pytorch-ssd's TestTransform: resize to width x height (bilinear), (x - mean) / std,
// HWC -> CHW. Writes width*height*3 floats to `out`. mean: R, G, B.
void to_network_input(const cv::Mat& rgb, int width, int height, const std::array<float, 3>& mean, float std,
                      float* out);

// (x - mean) / std of a 3-channel image (any depth), HWC -> CHW into `out`.
void normalise_to_chw(const cv::Mat& image, const std::array<float, 3>& mean, float std, float* out);
inline void normalise_to_chw(const cv::Mat& image, float mean, float std, float* out) {
  normalise_to_chw(image, {mean, mean, mean}, std, out);
}

}  // namespace edgessd
