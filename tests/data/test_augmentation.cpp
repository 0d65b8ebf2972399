#include <opencv2/imgproc.hpp>

#include "edgessd/data/augmentation.h"
#include "support/test_support.h"

using namespace edgessd;

namespace {

// A gray photo with one bright rectangle; returns the image and the rectangle's box.
cv::Mat photo_with_object(Random& random, CornerBox& box) {
  const int w = 200 + random.below(600), h = 200 + random.below(600);
  cv::Mat img(h, w, CV_8UC3, cv::Scalar(40, 40, 40));
  const int bw = 20 + random.below(w / 2), bh = 20 + random.below(h / 2);
  const int x = random.below(w - bw), y = random.below(h - bh);
  cv::rectangle(img, cv::Rect(x, y, bw, bh), cv::Scalar(250, 250, 250), cv::FILLED);
  box = {static_cast<float>(x) / w, static_cast<float>(y) / h, static_cast<float>(x + bw) / w,
         static_cast<float>(y + bh) / h};
  return img;
}

// Bounding rectangle (normalised) of the bright pixels of a CHW network input.
bool bright_bounds(const std::vector<float>& chw, int size, CornerBox& out) {
  int x1 = size, y1 = size, x2 = -1, y2 = -1;
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x)
      if (chw[static_cast<size_t>(y) * size + x] > 0.5f) {  // (x-127)/128 > 0.5 means x > 191
        x1 = std::min(x1, x); y1 = std::min(y1, y);
        x2 = std::max(x2, x); y2 = std::max(y2, y);
      }
  if (x2 < 0) return false;
  out = {static_cast<float>(x1) / size, static_cast<float>(y1) / size, static_cast<float>(x2 + 1) / size,
         static_cast<float>(y2 + 1) / size};
  return true;
}

// What `augment` made of `trials` hand-made photos: every box checked against the bright
// pixels it must surround.
struct PlacedBoxes {
  int resized = 0;             // width changed beyond the plain resize's
  std::vector<double> fills;   // each box's larger share of the output's width or height
};

PlacedBoxes check_boxes_follow_objects(const TrainAugmentation& augment, int trials) {
  PlacedBoxes placed;
  Random scene(7);
  for (int trial = 0; trial < trials; ++trial) {
    CornerBox box;
    cv::Mat img = photo_with_object(scene, box);
    Random random(mix_seed(99, trial));
    AugmentedSample out;
    augment.apply(img, {box}, {1}, random, out);
    EXPECT_EQ(out.boxes.size(), 1u);  // the crop always keeps the object's centre
    if (out.boxes.size() != 1u) continue;
    EXPECT_EQ(out.labels, std::vector<int64_t>{1});
    CornerBox seen;
    EXPECT_TRUE(bright_bounds(out.image, 300, seen)) << "trial " << trial;
    const CornerBox& b = out.boxes[0];
    // Within 2 output pixels (resampling blurs the edge by about one).
    const float tol = 2.5f / 300;
    EXPECT_NEAR(seen.x1, b.x1, tol) << "trial " << trial;
    EXPECT_NEAR(seen.y1, b.y1, tol) << "trial " << trial;
    EXPECT_NEAR(seen.x2, b.x2, tol) << "trial " << trial;
    EXPECT_NEAR(seen.y2, b.y2, tol) << "trial " << trial;
    if (b.x2 - b.x1 < box.x2 - box.x1 - 0.01f || b.x2 - b.x1 > box.x2 - box.x1 + 0.01f) ++placed.resized;
    placed.fills.push_back(std::max(b.x2 - b.x1, b.y2 - b.y1));
  }
  return placed;
}

// How much a small 2:1 object's aspect changes (output aspect over the photo's, boxes the
// crop left whole): the 5th and 95th percentiles over `trials` samples.
std::pair<double, double> aspect_change_range(const TrainAugmentation& augment, int trials) {
  const CornerBox plate{300 / 640.f, 300 / 480.f, 340 / 640.f, 320 / 480.f};  // 40x20 px of 640x480
  std::vector<double> changes;
  for (int trial = 0; trial < trials; ++trial) {
    Random random(trial);
    for (const CornerBox& b : augment.place_boxes(640, 480, {plate}, random))
      if (b.x1 > 0.001f && b.y1 > 0.001f && b.x2 < 0.999f && b.y2 < 0.999f)
        changes.push_back(((b.x2 - b.x1) / (b.y2 - b.y1)) / ((plate.x2 - plate.x1) / (plate.y2 - plate.y1)));
  }
  std::sort(changes.begin(), changes.end());
  return {changes[changes.size() / 20], changes[changes.size() * 19 / 20]};
}

}  // namespace

TEST(TrainAugmentation, BoxesStayOnTheirObjects) {
  const PlacedBoxes placed = check_boxes_follow_objects(TrainAugmentation(NetworkInputSpec{}, false), 300);
  EXPECT_GT(placed.resized, 50);  // the geometry really varied
}

// --stretch: the narrowed or widened crop's pixels and boxes agree (a widened crop shows
// the whole of an object the first crop cut), and a 2:1 plate takes aspects the crops
// alone rarely give it.
TEST(TrainAugmentation, StretchMovesPixelsAndBoxesTogether) {
  const TrainAugmentation stretch(NetworkInputSpec{}, false, ShapeJitter{3, 0});
  check_boxes_follow_objects(stretch, 300);
  const auto [plain_low, plain_high] = aspect_change_range(TrainAugmentation(NetworkInputSpec{}, false), 400);
  const auto [low, high] = aspect_change_range(stretch, 400);
  EXPECT_GT(high, 1.3 * plain_high) << plain_low << ".." << plain_high << " against " << low << ".." << high;
  EXPECT_LT(low, plain_low / 1.3) << plain_low << ".." << plain_high << " against " << low << ".." << high;
}

// --zoom-in: a crop around the object that it fills 25-90% of (by width, or by height for
// a tall one), pixels and boxes alike, wherever the object lies in the photo.
TEST(TrainAugmentation, ZoomInMakesCloseUps) {
  const PlacedBoxes placed =
      check_boxes_follow_objects(TrainAugmentation(NetworkInputSpec{}, false, ShapeJitter{1, 1}), 200);
  ASSERT_EQ(placed.fills.size(), 200u);
  for (double fill : placed.fills) {
    EXPECT_GE(fill, 0.25 - 1e-3);
    EXPECT_LE(fill, 0.9 + 1e-3);
  }
  // Without it, a small object stays small in most samples.
  TrainAugmentation plain(NetworkInputSpec{}, false);
  cv::Mat img(480, 640, CV_8UC3, cv::Scalar(40, 40, 40));
  cv::rectangle(img, cv::Rect(300, 300, 40, 20), cv::Scalar(250, 250, 250), cv::FILLED);
  const CornerBox small{300 / 640.f, 300 / 480.f, 340 / 640.f, 320 / 480.f};
  int plain_close = 0, zoomed_close = 0;
  TrainAugmentation zoom(NetworkInputSpec{}, false, ShapeJitter{1, 0.5});
  for (int trial = 0; trial < 200; ++trial) {
    Random r1(trial), r2(trial);
    const auto a = plain.place_boxes(640, 480, {small}, r1), b = zoom.place_boxes(640, 480, {small}, r2);
    plain_close += a.size() == 1 && a[0].x2 - a[0].x1 >= 0.25f;
    zoomed_close += b.size() == 1 && b[0].x2 - b[0].x1 >= 0.25f;
  }
  EXPECT_LT(plain_close, 10);
  EXPECT_GT(zoomed_close, 70);  // about half the samples
}

// place_boxes draws what apply draws (without the photometric steps): the same boxes for
// the same seed, so --priors auto fits the shapes training sees.
TEST(TrainAugmentation, PlaceBoxesIsApplysGeometry) {
  const TrainAugmentation augment(NetworkInputSpec{}, false, ShapeJitter{2.5, 0.3});
  Random scene(13);
  for (int trial = 0; trial < 50; ++trial) {
    CornerBox box;
    cv::Mat img = photo_with_object(scene, box);
    Random r1(trial), r2(trial);
    AugmentedSample out;
    augment.apply(img, {box}, {1}, r1, out);
    const std::vector<CornerBox> placed = augment.place_boxes(img.cols, img.rows, {box}, r2);
    ASSERT_EQ(placed.size(), out.boxes.size());
    for (size_t i = 0; i < placed.size(); ++i) {
      EXPECT_EQ(placed[i].x1, out.boxes[i].x1);
      EXPECT_EQ(placed[i].y2, out.boxes[i].y2);
    }
  }
}

TEST(TrainAugmentation, PhotometricKeepsGeometryAndVariesColour) {
  TrainAugmentation full;
  TrainAugmentation geometry_only(NetworkInputSpec{}, false);
  Random scene(3);
  CornerBox box;
  cv::Mat img = photo_with_object(scene, box);
  std::set<float> means;
  for (int trial = 0; trial < 40; ++trial) {
    Random random(mix_seed(5, trial));
    AugmentedSample out;
    full.apply(img, {box}, {1}, random, out);
    ASSERT_EQ(out.image.size(), 3u * 300 * 300);
    double sum = 0;
    for (float v : out.image) {
      ASSERT_TRUE(std::isfinite(v));
      sum += v;
    }
    means.insert(static_cast<float>(sum / out.image.size()));
    ASSERT_EQ(out.boxes.size(), 1u);
    EXPECT_LT(out.boxes[0].x1, out.boxes[0].x2);
  }
  EXPECT_GT(means.size(), 30u);
}

TEST(TrainAugmentation, SameSeedSameResult) {
  TrainAugmentation full;
  Random scene(11);
  CornerBox box;
  cv::Mat img = photo_with_object(scene, box);
  AugmentedSample a, b;
  Random r1(42), r2(42);
  full.apply(img, {box}, {1}, r1, a);
  full.apply(img, {box}, {1}, r2, b);
  EXPECT_EQ(a.image, b.image);
  EXPECT_EQ(a.boxes.size(), b.boxes.size());
}

TEST(TestTransform, ResizesAndNormalises) {
  cv::Mat img(100, 200, CV_8UC3, cv::Scalar(255, 127, 0));
  AugmentedSample out;
  test_transform(img, {{0.1f, 0.2f, 0.3f, 0.4f}}, {2}, NetworkInputSpec{}, out);
  ASSERT_EQ(out.image.size(), 3u * 300 * 300);
  EXPECT_NEAR(out.image[0], (255 - 127) / 128.0f, 1e-6);
  EXPECT_NEAR(out.image[300 * 300], 0.0f, 1e-6);
  EXPECT_NEAR(out.image[2 * 300 * 300], -127 / 128.0f, 1e-6);
  EXPECT_EQ(out.boxes.size(), 1u);
}

// vgg16-ssd's pixels: a mean per channel (R, G, B) and std 1, in both transforms; the
// zoomed-out canvas is filled with that mean, so it is 0 in every channel.
TEST(TestTransform, PerChannelMean) {
  cv::Mat img(100, 200, CV_8UC3, cv::Scalar(200, 100, 50));
  NetworkInputSpec vgg;
  vgg.mean = {123, 117, 104};
  vgg.std = 1;
  AugmentedSample out;
  test_transform(img, {{0.1f, 0.2f, 0.3f, 0.4f}}, {1}, vgg, out);
  EXPECT_EQ(out.image[0], 200 - 123);
  EXPECT_EQ(out.image[300 * 300], 100 - 117);
  EXPECT_EQ(out.image[2 * 300 * 300], 50 - 104);
  TrainAugmentation augment(vgg, /*photometric=*/false);
  Random random(5);
  bool saw_canvas = false;
  for (int i = 0; i < 40 && !saw_canvas; ++i) {
    augment.apply(img, {{0.4f, 0.4f, 0.6f, 0.6f}}, {1}, random, out);
    for (size_t p = 0; p < 300 * 300; ++p) {
      if (out.image[p] != 0 || out.image[300 * 300 + p] != 0 || out.image[2 * 300 * 300 + p] != 0) continue;
      saw_canvas = true;  // a canvas pixel: the mean in all three channels
      break;
    }
    for (size_t p = 0; p < 300 * 300; ++p) {
      const float r = out.image[p], g = out.image[300 * 300 + p], b = out.image[2 * 300 * 300 + p];
      const bool photo = r == 77 && g == -17 && b == -54, canvas = r == 0 && g == 0 && b == 0;
      if (!photo && !canvas) {  // a resampled edge between the two
        EXPECT_GE(r, 0) << p;
        EXPECT_LE(r, 77) << p;
      }
    }
  }
  EXPECT_TRUE(saw_canvas);
}
