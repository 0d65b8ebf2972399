#include "edgessd/data/augmentation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include <opencv2/imgproc.hpp>

#include "edgessd/common/image.h"

namespace edgessd {

namespace {

// A rectangle in pixels of the (virtual) expanded canvas.
struct Rect {
  double x1, y1, x2, y2;
};

double jaccard(const CornerBox& b, const Rect& r) {
  const double iw = std::max(0.0, std::min<double>(b.x2, r.x2) - std::max<double>(b.x1, r.x1));
  const double ih = std::max(0.0, std::min<double>(b.y2, r.y2) - std::max<double>(b.y1, r.y1));
  const double inter = iw * ih;
  const double area_b = (b.x2 - b.x1) * (b.y2 - b.y1);
  const double area_r = (r.x2 - r.x1) * (r.y2 - r.y1);
  return inter / (area_b + area_r - inter);
}

struct Photometric {
  bool brightness = false;
  double brightness_delta = 0;
  bool contrast_first = false;  // pytorch-ssd: contrast before the HSV steps, else after
  bool contrast = false;
  double contrast_alpha = 1;
  bool saturation = false;
  double saturation_factor = 1;
  bool hue = false;
  double hue_delta = 0;
  bool swap = false;
  int permutation = 0;
};

// Draws the photometric parameters in pytorch-ssd's order of random calls.
Photometric sample_photometric(Random& random) {
  Photometric p;
  if ((p.brightness = random.coin())) p.brightness_delta = random.uniform(-32, 32);
  p.contrast_first = random.coin();
  auto contrast = [&] {
    if ((p.contrast = random.coin())) p.contrast_alpha = random.uniform(0.5, 1.5);
  };
  if (p.contrast_first) contrast();
  if ((p.saturation = random.coin())) p.saturation_factor = random.uniform(0.5, 1.5);
  if ((p.hue = random.coin())) p.hue_delta = random.uniform(-18, 18);
  if (!p.contrast_first) contrast();
  if ((p.swap = random.coin())) p.permutation = random.below(6);
  return p;
}

void apply_photometric(const Photometric& p, cv::Mat& image) {  // CV_32FC3, RGB, 0..255
  if (p.brightness) image += cv::Scalar::all(p.brightness_delta);
  if (p.contrast && p.contrast_first) image *= p.contrast_alpha;
  if (p.saturation || p.hue) {
    cv::Mat hsv;
    cv::cvtColor(image, hsv, cv::COLOR_RGB2HSV);
    for (int y = 0; y < hsv.rows; ++y) {
      auto* px = hsv.ptr<cv::Vec3f>(y);
      for (int x = 0; x < hsv.cols; ++x) {
        if (p.saturation) px[x][1] *= static_cast<float>(p.saturation_factor);
        if (p.hue) {
          float h = px[x][0] + static_cast<float>(p.hue_delta);
          if (h > 360.0f) h -= 360.0f;
          else if (h < 0.0f) h += 360.0f;
          px[x][0] = h;
        }
      }
    }
    cv::cvtColor(hsv, image, cv::COLOR_HSV2RGB);
  }
  if (p.contrast && !p.contrast_first) image *= p.contrast_alpha;
  if (p.swap) {
    static const int kPermutations[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    const int* perm = kPermutations[p.permutation];
    const int from_to[] = {perm[0], 0, perm[1], 1, perm[2], 2};
    cv::Mat swapped(image.size(), image.type());
    cv::mixChannels(&image, 1, &swapped, 1, from_to, 3);
    image = swapped;
  }
}

// pytorch-ssd's Expand, decided on the boxes: the photo sits at (x, y) on a mean-filled
// canvas of w x h pixels (the photo's own size when Expand is skipped).
struct Canvas {
  double w, h, x = 0, y = 0;
};

Canvas expand(Random& random, double width, double height, std::vector<CornerBox>& boxes) {
  Canvas c{width, height};
  if (random.coin()) return c;  // pytorch-ssd returns early on randint(2) == 1
  const double ratio = random.uniform(1, 4);
  const double left = random.uniform(0, width * ratio - width);
  const double top = random.uniform(0, height * ratio - height);
  c.w = std::floor(width * ratio);
  c.h = std::floor(height * ratio);
  c.x = std::floor(left);
  c.y = std::floor(top);
  for (CornerBox& b : boxes) {
    b.x1 += c.x; b.x2 += c.x;
    b.y1 += c.y; b.y2 += c.y;
  }
  return c;
}

// The boxes whose centre lies inside `rect`, clipped to it, in its pixels; their labels.
bool boxes_in(const Rect& rect, const std::vector<CornerBox>& boxes, const std::vector<int64_t>& labels,
              std::vector<CornerBox>& kept, std::vector<int64_t>& kept_labels) {
  for (size_t i = 0; i < boxes.size(); ++i) {
    const double cx = (boxes[i].x1 + boxes[i].x2) / 2, cy = (boxes[i].y1 + boxes[i].y2) / 2;
    if (rect.x1 < cx && rect.y1 < cy && rect.x2 > cx && rect.y2 > cy) {
      const CornerBox& b = boxes[i];
      kept.push_back({static_cast<float>(std::max<double>(b.x1, rect.x1) - rect.x1),
                      static_cast<float>(std::max<double>(b.y1, rect.y1) - rect.y1),
                      static_cast<float>(std::min<double>(b.x2, rect.x2) - rect.x1),
                      static_cast<float>(std::min<double>(b.y2, rect.y2) - rect.y1)});
      kept_labels.push_back(labels[i]);
    }
  }
  return !kept.empty();
}

// pytorch-ssd's RandomSampleCrop on the boxes only: the crop in canvas pixels; the boxes
// and labels become those inside it.
Rect random_crop(Random& random, const Canvas& canvas, std::vector<CornerBox>& boxes, std::vector<int64_t>& labels) {
  const Rect whole{0, 0, canvas.w, canvas.h};
  if (boxes.empty()) return whole;
  static const double kMinIou[] = {std::numeric_limits<double>::quiet_NaN(), 0.1, 0.3, 0.7, 0.9,
                                   -std::numeric_limits<double>::infinity()};
  const double max_iou = std::numeric_limits<double>::infinity();  // pytorch-ssd's, for every mode
  while (true) {
    const int mode = random.below(6);
    if (mode == 0) return whole;
    const double min_iou = kMinIou[mode];
    for (int trial = 0; trial < 50; ++trial) {
      const double w = random.uniform(0.3 * canvas.w, canvas.w);
      const double h = random.uniform(0.3 * canvas.h, canvas.h);
      if (h / w < 0.5 || h / w > 2) continue;
      const double left = random.uniform(0, canvas.w - w);
      const double top = random.uniform(0, canvas.h - h);
      const Rect rect{std::floor(left), std::floor(top), std::floor(left + w), std::floor(top + h)};
      double lowest = std::numeric_limits<double>::infinity(), highest = -lowest;
      for (const CornerBox& b : boxes) {
        const double o = jaccard(b, rect);
        lowest = std::min(lowest, o);
        highest = std::max(highest, o);
      }
      if (lowest < min_iou && max_iou < highest) continue;  // pytorch-ssd's test, see the header
      std::vector<CornerBox> kept;
      std::vector<int64_t> kept_labels;
      if (!boxes_in(rect, boxes, labels, kept, kept_labels)) continue;
      boxes = std::move(kept);
      labels = std::move(kept_labels);
      return rect;
    }
  }
}

// A crop around one object (drawn at random) that it fills 25-90% of, by width, or by
// height for a tall object; the canvas's aspect. The boxes and labels become those inside.
Rect zoom_in_crop(Random& random, const Canvas& canvas, std::vector<CornerBox>& boxes, std::vector<int64_t>& labels) {
  const CornerBox b = boxes[random.below(static_cast<int>(boxes.size()))];
  const double bw = b.x2 - b.x1, bh = b.y2 - b.y1, fill = random.uniform(0.25, 0.9);
  double w = bw / fill, h = w * canvas.h / canvas.w;
  if (h < bh / fill) h = bh / fill, w = h * canvas.w / canvas.h;
  const double left = random.uniform(b.x2 - w, b.x1), top = random.uniform(b.y2 - h, b.y1);
  const Rect rect{left, top, left + w, top + h};
  std::vector<CornerBox> kept;
  std::vector<int64_t> kept_labels;
  if (!(w >= 1 && h >= 1) || !boxes_in(rect, boxes, labels, kept, kept_labels)) return {0, 0, canvas.w, canvas.h};
  boxes = std::move(kept);
  labels = std::move(kept_labels);
  return rect;
}

// --stretch: the crop narrowed (the objects come out wider) or widened (narrower) by
// `factor`, at a position that keeps the centre of a random object it held, or all of the
// old crop for a widening. `boxes` (canvas pixels, uncut: a widened crop shows more of an
// object the old one cut) become those inside it, in its pixels. nullopt where it would keep
// no box: the first crop stands.
std::optional<Rect> stretched_crop(Random& random, double factor, const Rect& crop, std::vector<CornerBox>& boxes,
                                   std::vector<int64_t>& labels) {
  const double w = crop.x2 - crop.x1, new_w = w / factor;
  double lo = crop.x2 - new_w, hi = crop.x1;  // widening: the new crop holds the old one
  if (factor > 1) {
    lo = crop.x1, hi = crop.x2 - new_w;
    std::vector<double> centres;
    for (const CornerBox& b : boxes) {
      const double cx = (b.x1 + b.x2) / 2, cy = (b.y1 + b.y2) / 2;
      if (crop.x1 < cx && cx < crop.x2 && crop.y1 < cy && cy < crop.y2) centres.push_back(cx);
    }
    if (!centres.empty()) {
      const double cx = centres[random.below(static_cast<int>(centres.size()))];
      lo = std::max(lo, cx - new_w), hi = std::min(hi, cx);
    }
  }
  const double left = random.uniform(std::min(lo, hi), std::max(lo, hi));
  const Rect rect{left, crop.y1, left + new_w, crop.y2};
  std::vector<CornerBox> kept;
  std::vector<int64_t> kept_labels;
  if (!boxes_in(rect, boxes, labels, kept, kept_labels) && !boxes.empty()) return std::nullopt;
  boxes = std::move(kept);
  labels = std::move(kept_labels);
  return rect;
}

// Where a sample's pixels come from: the photo on the expand canvas, the crop of that
// canvas, the mirror; its boxes normalised to the output.
struct Placement {
  Canvas canvas{0, 0};
  Rect crop{0, 0, 0, 0};
  bool mirror = false;
  std::vector<CornerBox> boxes;
  std::vector<int64_t> labels;
};

// The geometry, drawn in pytorch-ssd's order (expand, crop, mirror); the jitter's draws
// come only when it is on, so {} draws exactly pytorch-ssd's sequence.
Placement place(Random& random, const ShapeJitter& jitter, double width, double height,
                const std::vector<CornerBox>& boxes_in, const std::vector<int64_t>& labels_in) {
  Placement at;
  double stretch = 1;
  if (jitter.stretch > 1 && !random.coin())
    stretch = std::exp(random.uniform(-std::log(jitter.stretch), std::log(jitter.stretch)));
  std::vector<CornerBox> boxes;
  for (const CornerBox& b : boxes_in)
    boxes.push_back({static_cast<float>(b.x1 * width), static_cast<float>(b.y1 * height),
                     static_cast<float>(b.x2 * width), static_cast<float>(b.y2 * height)});
  at.labels = labels_in;
  at.canvas = expand(random, width, height, boxes);
  std::vector<CornerBox> uncut;  // the crops cut boxes; a widened crop reads them again
  std::vector<int64_t> uncut_labels;
  if (stretch != 1) uncut = boxes, uncut_labels = at.labels;
  const bool zoom_in = jitter.zoom_in > 0 && !boxes.empty() && random.uniform(0, 1) < jitter.zoom_in;
  at.crop = zoom_in ? zoom_in_crop(random, at.canvas, boxes, at.labels) : random_crop(random, at.canvas, boxes, at.labels);
  if (stretch != 1) {
    if (const std::optional<Rect> rect = stretched_crop(random, stretch, at.crop, uncut, uncut_labels)) {
      at.crop = *rect;
      boxes = std::move(uncut);
      at.labels = std::move(uncut_labels);
    }
  }
  const double crop_w = at.crop.x2 - at.crop.x1, crop_h = at.crop.y2 - at.crop.y1;
  at.mirror = random.coin();
  for (const CornerBox& b : boxes) {
    CornerBox n{static_cast<float>(b.x1 / crop_w), static_cast<float>(b.y1 / crop_h),
                static_cast<float>(b.x2 / crop_w), static_cast<float>(b.y2 / crop_h)};
    if (at.mirror) n = {1.0f - n.x2, n.y1, 1.0f - n.x1, n.y2};
    at.boxes.push_back(n);
  }
  return at;
}

// Pixels: one warp from the photo to the output, with cv::resize's pixel-centre
// convention (dst u samples crop x = (u + 0.5) / scale - 0.5); the photometric steps; the
// expand canvas around the photo filled with the mean colour, untouched by the photometric
// steps (pytorch-ssd distorts first, then expands); the mirror; CHW floats.
void render(const NetworkInputSpec& spec, const cv::Mat& rgb, const Placement& at, const Photometric* photometric,
            AugmentedSample& out) {
  const Rect& crop = at.crop;
  const double offset_x = at.canvas.x, offset_y = at.canvas.y;
  const double crop_w = crop.x2 - crop.x1, crop_h = crop.y2 - crop.y1;
  const int width = spec.width, height = spec.height;
  const double sx = width / crop_w, sy = height / crop_h;
  const double shift_x = crop.x1 - offset_x, shift_y = crop.y1 - offset_y;
  cv::Matx23d to_source(1 / sx, 0, 0.5 / sx - 0.5 + shift_x, 0, 1 / sy, 0.5 / sy - 0.5 + shift_y);
  cv::Mat warped;
  cv::warpAffine(rgb, warped, to_source, cv::Size(width, height), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP,
                 cv::BORDER_REPLICATE);
  cv::Mat image;
  warped.convertTo(image, CV_32FC3);
  if (photometric) apply_photometric(*photometric, image);
  const int u0 = std::clamp(static_cast<int>(std::ceil((offset_x - crop.x1) * sx - 0.5)), 0, width);
  const int u1 = std::clamp(static_cast<int>(std::ceil((offset_x + rgb.cols - crop.x1) * sx - 0.5)), 0, width);
  const int v0 = std::clamp(static_cast<int>(std::ceil((offset_y - crop.y1) * sy - 0.5)), 0, height);
  const int v1 = std::clamp(static_cast<int>(std::ceil((offset_y + rgb.rows - crop.y1) * sy - 0.5)), 0, height);
  const cv::Scalar fill(spec.mean[0], spec.mean[1], spec.mean[2]);
  if (v0 > 0) image(cv::Rect(0, 0, width, v0)).setTo(fill);
  if (v1 < height) image(cv::Rect(0, v1, width, height - v1)).setTo(fill);
  if (u0 > 0) image(cv::Rect(0, 0, u0, height)).setTo(fill);
  if (u1 < width) image(cv::Rect(u1, 0, width - u1, height)).setTo(fill);
  if (at.mirror) cv::flip(image, image, 1);
  out.image.resize(3 * static_cast<size_t>(width) * height);
  normalise_to_chw(image, spec.mean, spec.std, out.image.data());
}

}  // namespace

void TrainAugmentation::apply(const cv::Mat& rgb, const std::vector<CornerBox>& boxes,
                              const std::vector<int64_t>& labels, Random& random, AugmentedSample& out) const {
  Photometric photometric;
  if (photometric_) photometric = sample_photometric(random);
  Placement at = place(random, jitter_, rgb.cols, rgb.rows, boxes, labels);
  out.boxes = std::move(at.boxes);
  out.labels = std::move(at.labels);
  render(spec_, rgb, at, photometric_ ? &photometric : nullptr, out);
}

std::vector<CornerBox> TrainAugmentation::place_boxes(int width, int height, const std::vector<CornerBox>& boxes,
                                                      Random& random) const {
  return place(random, jitter_, width, height, boxes, std::vector<int64_t>(boxes.size(), 1)).boxes;
}

void test_transform(const cv::Mat& rgb, const std::vector<CornerBox>& boxes, const std::vector<int64_t>& labels,
                    const NetworkInputSpec& spec, AugmentedSample& out) {
  out.image.resize(3 * static_cast<size_t>(spec.width) * spec.height);
  to_network_input(rgb, spec.width, spec.height, spec.mean, spec.std, out.image.data());
  out.boxes = boxes;
  out.labels = labels;
}

}  // namespace edgessd
