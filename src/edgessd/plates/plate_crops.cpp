#include "edgessd/plates/plate_crops.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "edgessd/common/image.h"
#include "edgessd/common/random.h"

namespace edgessd {

CornerBox in_pixels(const CornerBox& b, const cv::Mat& image) {
  return {b.x1 * image.cols, b.y1 * image.rows, b.x2 * image.cols, b.y2 * image.rows};
}

cv::Rect plate_crop_rect(const CornerBox& b, const ReaderInfo& info, int image_width, int image_height) {
  const float mx = (b.x2 - b.x1) * info.crop_margin, my = (b.y2 - b.y1) * info.crop_margin;
  const int x1 = std::clamp(static_cast<int>(std::floor(b.x1 - mx)), 0, std::max(0, image_width - 1));
  const int y1 = std::clamp(static_cast<int>(std::floor(b.y1 - my)), 0, std::max(0, image_height - 1));
  const int x2 = std::clamp(static_cast<int>(std::ceil(b.x2 + mx)), x1 + 1, std::max(1, image_width));
  const int y2 = std::clamp(static_cast<int>(std::ceil(b.y2 + my)), y1 + 1, std::max(1, image_height));
  return {x1, y1, x2 - x1, y2 - y1};
}

namespace {

cv::Mat resized(const cv::Mat& region, const ReaderInfo& info) {
  cv::Mat out;
  const bool shrinking = region.cols > info.input_width && region.rows > info.input_height;
  cv::resize(region, out, cv::Size(info.input_width, info.input_height), 0, 0,
             shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

void photometric(cv::Mat& crop, Random& r) {
  cv::Mat f;
  crop.convertTo(f, CV_32FC3);
  if (r.below(5) == 0) {  // grey: some cameras (infrared at night) have no colour
    cv::Mat grey;
    cv::cvtColor(f, grey, cv::COLOR_RGB2GRAY);
    cv::cvtColor(grey, f, cv::COLOR_GRAY2RGB);
  }
  const double contrast = r.uniform(0.5, 1.4), brightness = r.uniform(-40, 40);
  const cv::Scalar cast(r.uniform(0.85, 1.15), r.uniform(0.85, 1.15), r.uniform(0.85, 1.15));
  const cv::Scalar mean = cv::mean(f);
  f = (f - mean) * contrast + mean + cv::Scalar::all(brightness);
  f = f.mul(cast);
  const double sigma = r.uniform(0, 1.3);
  if (sigma > 0.4) cv::GaussianBlur(f, f, cv::Size(), sigma);
  cv::Mat noise(f.size(), CV_32FC3);
  cv::RNG(r.next()).fill(noise, cv::RNG::NORMAL, 0, r.uniform(0, 8));
  f += noise;
  f.convertTo(crop, CV_8UC3);
}

}  // namespace

cv::Mat crop_plate(const cv::Mat& rgb, const CornerBox& pixels, const ReaderInfo& info) {
  return resized(rgb(plate_crop_rect(pixels, info, rgb.cols, rgb.rows)), info);
}

cv::Mat augmented_plate_crop(const cv::Mat& rgb, const CornerBox& pixels, const ReaderInfo& info, Random& r) {
  const float w = pixels.x2 - pixels.x1, h = pixels.y2 - pixels.y1;
  auto jitter = [&](float size) { return static_cast<float>(r.uniform(-0.08, 0.08) * size); };
  CornerBox moved{pixels.x1 + jitter(w), pixels.y1 + jitter(h), pixels.x2 + jitter(w), pixels.y2 + jitter(h)};
  if (moved.x2 - moved.x1 < 2 || moved.y2 - moved.y1 < 2) moved = pixels;
  cv::Mat crop = crop_plate(rgb, moved, info).clone();
  photometric(crop, r);
  return crop;
}

void reader_input(const cv::Mat& crop_rgb, const ReaderInfo& info, float* out) {
  normalise_to_chw(crop_rgb, info.image_mean, info.image_std, out);
}

}  // namespace edgessd
