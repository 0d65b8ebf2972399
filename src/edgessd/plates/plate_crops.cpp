#include "edgessd/plates/plate_crops.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

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

cv::Mat resized(const cv::Mat& region, cv::Size size) {
  cv::Mat out;
  const bool shrinking = region.cols > size.width && region.rows > size.height;
  cv::resize(region, out, size, 0, 0, shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

// A two-row plate's crop is first brought to half the input's width and 7/4 of its
// height; its upper and lower input_height rows (which share the middle seventh, so a row
// a little off the middle is still whole in one of them) then sit side by side.
int two_row_height(const ReaderInfo& info) { return info.input_height * 7 / 4; }

cv::Size crop_size(const ReaderInfo& info, bool two_rows) {
  return two_rows ? cv::Size(info.input_width / 2, two_row_height(info)) : cv::Size(info.input_width, info.input_height);
}

// Where a region of `region` pixels lands in the input: all of it (stretch, two rows), or
// the largest rectangle of the region's shape, centred (letterbox).
cv::Rect placement(cv::Size region, const ReaderInfo& info, bool two_rows) {
  const cv::Size input = crop_size(info, two_rows);
  if (two_rows || info.geometry != "letterbox" || region.width <= 0 || region.height <= 0) return {{0, 0}, input};
  const double scale = std::min(static_cast<double>(input.width) / region.width,
                                static_cast<double>(input.height) / region.height);
  const int w = std::clamp(static_cast<int>(std::lround(region.width * scale)), 4, input.width);
  const int h = std::clamp(static_cast<int>(std::lround(region.height * scale)), 4, input.height);
  return {(input.width - w) / 2, (input.height - h) / 2, w, h};
}

// `inner` set at `where` in a grey input of `size` (grey: 127, zero after normalising).
cv::Mat framed(const cv::Mat& inner, const cv::Rect& where, cv::Size size) {
  if (where.size() == size) return inner;
  cv::Mat out(size, inner.type(), cv::Scalar::all(127));
  inner.copyTo(out(where));
  return out;
}

cv::Mat rows_side_by_side(const cv::Mat& tall, const ReaderInfo& info) {
  const int half = info.input_width / 2, h = info.input_height;
  cv::Mat out;
  cv::hconcat(tall(cv::Rect(0, 0, half, h)), tall(cv::Rect(0, tall.rows - h, half, h)), out);
  return out;
}

// Points of the tall crop to where rows_side_by_side puts them (the lower row's from the
// middle down).
void points_side_by_side(std::vector<cv::Point2f>& points, const ReaderInfo& info) {
  const float tall = static_cast<float>(two_row_height(info));
  for (cv::Point2f& p : points)
    if (p.y >= tall / 2) p = {p.x + static_cast<float>(info.input_width / 2), p.y - (tall - static_cast<float>(info.input_height))};
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
  // One draw a statement, in GCC's old order (right to left), so training draws as before.
  const double cast_red = r.uniform(0.85, 1.15), cast_green = r.uniform(0.85, 1.15), cast_blue = r.uniform(0.85, 1.15);
  const cv::Scalar cast(cast_blue, cast_green, cast_red);
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

bool reads_two_rows(const CornerBox& pixels, const ReaderInfo& info) {
  const float w = pixels.x2 - pixels.x1, h = pixels.y2 - pixels.y1;
  return info.two_row_aspect > 0 && h > 0 && w < info.two_row_aspect * h;
}

cv::Mat crop_plate(const cv::Mat& rgb, const CornerBox& pixels, const ReaderInfo& info) {
  const bool two_rows = reads_two_rows(pixels, info);
  const cv::Rect rect = plate_crop_rect(pixels, info, rgb.cols, rgb.rows);
  const cv::Rect where = placement(rect.size(), info, two_rows);
  const cv::Mat crop = framed(resized(rgb(rect), where.size()), where, crop_size(info, two_rows));
  return two_rows ? rows_side_by_side(crop, info) : crop;
}

cv::Mat augmented_plate_crop(const cv::Mat& rgb, const CornerBox& pixels, const ReaderInfo& info, Random& r,
                             std::vector<cv::Point2f>* points, float box_jitter) {
  const float w = pixels.x2 - pixels.x1, h = pixels.y2 - pixels.y1;
  auto jitter = [&](float size) { return static_cast<float>(r.uniform(-box_jitter, box_jitter) * size); };
  CornerBox moved{pixels.x1 + jitter(w), pixels.y1 + jitter(h), pixels.x2 + jitter(w), pixels.y2 + jitter(h)};
  if (moved.x2 - moved.x1 < 2 || moved.y2 - moved.y1 < 2) moved = pixels;
  const cv::Rect rect = plate_crop_rect(moved, info, rgb.cols, rgb.rows);
  // The crop's corners turned by up to 4 degrees about its centre and each moved by up to
  // 4% of its size: plates seen from the side, above or tilted, which a detector's box
  // frames as it is.
  const double angle = r.uniform(-4, 4) * M_PI / 180, cx = rect.x + rect.width / 2.0, cy = rect.y + rect.height / 2.0;
  std::vector<cv::Point2f> from;
  for (auto [fx, fy] : {std::pair{-0.5, -0.5}, {0.5, -0.5}, {0.5, 0.5}, {-0.5, 0.5}}) {
    const double x = (fx + r.uniform(-0.04, 0.04)) * rect.width, y = (fy + r.uniform(-0.04, 0.04)) * rect.height;
    from.emplace_back(static_cast<float>(cx + x * std::cos(angle) - y * std::sin(angle)),
                      static_cast<float>(cy + x * std::sin(angle) + y * std::cos(angle)));
  }
  const bool two_rows = reads_two_rows(pixels, info);
  const cv::Size input = crop_size(info, two_rows);
  const cv::Rect where = placement(rect.size(), info, two_rows);
  const cv::Size size = where.size();
  const float cw = static_cast<float>(size.width), ch = static_cast<float>(size.height);
  const std::vector<cv::Point2f> to = {{0, 0}, {cw, 0}, {cw, ch}, {0, ch}};
  if (points && !points->empty()) {  // before `from` moves into the shrunk crop's pixels
    cv::perspectiveTransform(std::vector<cv::Point2f>(*points), *points, cv::getPerspectiveTransform(from, to));
    for (cv::Point2f& p : *points) p += cv::Point2f(static_cast<float>(where.x), static_cast<float>(where.y));
    if (two_rows) points_side_by_side(*points, info);
  }
  cv::Mat source = rgb;
  if (rect.width > 2 * size.width) {  // area-average first, as crop_plate does, so that the warp does not alias
    const double f = 2.0 * size.width / rect.width;
    cv::resize(rgb(rect & cv::Rect(0, 0, rgb.cols, rgb.rows)), source, cv::Size(), f, f, cv::INTER_AREA);
    for (auto& p : from) p = cv::Point2f(static_cast<float>((p.x - rect.x) * f), static_cast<float>((p.y - rect.y) * f));
  }
  cv::Mat crop;
  cv::warpPerspective(source, crop, cv::getPerspectiveTransform(from, to), size, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  if (size != input) {  // letterboxed: the grey frame stays the grey the net reads as zero
    photometric(crop, r);
    return framed(crop, where, input);
  }
  if (two_rows) crop = rows_side_by_side(crop, info);
  photometric(crop, r);
  return crop;
}

void reader_input(const cv::Mat& crop_rgb, const ReaderInfo& info, float* out) {
  normalise_to_chw(crop_rgb, info.image_mean, info.image_std, out);
}

}  // namespace edgessd
