// The reader's training crops on a hand-made image: a white plate on black, whose
// augmented crops must still frame it (turned, in perspective, the box moved a little)
// and whose plain crop is the box with its margin.
#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <cmath>

#include "edgessd/common/random.h"
#include "edgessd/plates/plate_crops.h"
#include "edgessd/plates/reader_info.h"

using namespace edgessd;

namespace {

// A 400x300 black image with a 200x60 white plate at (100, 120).
cv::Mat hand_made(CornerBox& box) {
  cv::Mat image(300, 400, CV_8UC3, cv::Scalar::all(0));
  cv::rectangle(image, cv::Rect(100, 120, 200, 60), cv::Scalar::all(255), cv::FILLED);
  box = {100, 120, 300, 180};
  return image;
}

// The bright part of a crop (grey > 128): the plate's pixels, and their bounding box.
cv::Mat bright_pixels(const cv::Mat& crop) {
  cv::Mat grey;
  cv::cvtColor(crop, grey, cv::COLOR_RGB2GRAY);
  return grey > 128;
}
cv::Rect bright(const cv::Mat& crop) { return cv::boundingRect(bright_pixels(crop)); }

// The box jitter the bounds of the tests below were written for (the default is wider).
constexpr float kTestedJitter = 0.08f;

}  // namespace

TEST(PlateCrops, PlainCropIsTheBoxWithItsMargin) {
  CornerBox box;
  const cv::Mat image = hand_made(box);
  ReaderInfo info;
  const cv::Mat crop = crop_plate(image, box, info);
  ASSERT_EQ(crop.size(), cv::Size(info.input_width, info.input_height));
  const cv::Rect b = bright(crop);
  // 8% margin on each side: the plate spans 1/1.16 of the crop, centred.
  EXPECT_NEAR(b.width, info.input_width / 1.16, 2.0);
  EXPECT_NEAR(b.height, info.input_height / 1.16, 2.0);
  EXPECT_NEAR(b.x + b.width / 2.0, info.input_width / 2.0, 1.5);
}

TEST(PlateCrops, AugmentedCropsStillFrameThePlate) {
  CornerBox box;
  const cv::Mat image = hand_made(box);
  ReaderInfo info;
  double widest = 0, narrowest = 1e9, tilt_seen = 0;
  for (int i = 0; i < 200; ++i) {
    Random r(mix_seed(21, static_cast<uint64_t>(i)));
    const cv::Mat crop = augmented_plate_crop(image, box, info, r, nullptr, kTestedJitter);
    ASSERT_EQ(crop.size(), cv::Size(info.input_width, info.input_height));
    const cv::Mat plate = bright_pixels(crop);
    const cv::Moments m = cv::moments(plate, true);
    ASSERT_GT(m.m00, 0) << "seed " << i << ": no plate in the crop";
    // Centred within the box jitter (8% here) and the corner moves (4%).
    EXPECT_NEAR(m.m10 / m.m00, info.input_width / 2.0, 0.14 * info.input_width) << i;
    EXPECT_NEAR(m.m01 / m.m00, info.input_height / 2.0, 0.16 * info.input_height) << i;
    // Its area: from a box grown by 16% to one shrunk by 16%, never lost or cut to a sliver.
    const double share = m.m00 / (info.input_width * info.input_height);
    EXPECT_GT(share, 0.5) << i;
    EXPECT_LE(share, 1.0) << i;
    const cv::Rect b = cv::boundingRect(plate);
    widest = std::max(widest, double(b.width)), narrowest = std::min(narrowest, double(b.width));
    // How far it is turned: the orientation of its second moments.
    const double angle = 0.5 * std::atan2(2 * m.mu11, m.mu20 - m.mu02) * 180 / M_PI;
    tilt_seen = std::max(tilt_seen, std::abs(angle));
    EXPECT_LT(std::abs(angle), 8.0) << i;
  }
  EXPECT_GT(widest - narrowest, 6.0) << "the box jitter changes how much of the crop the plate fills";
  EXPECT_GT(tilt_seen, 1.5) << "some crops are turned";
  // At the default jitter the plate may lose an edge or shrink, but it is never lost: from a
  // box grown by 18% a side (with its margin, about 0.66 x 0.66 of the crop) to one that fills it.
  for (int i = 0; i < 200; ++i) {
    Random r(mix_seed(22, static_cast<uint64_t>(i)));
    const cv::Mat plate = bright_pixels(augmented_plate_crop(image, box, info, r));
    const double share = cv::countNonZero(plate) / double(info.input_width * info.input_height);
    EXPECT_GT(share, 0.3) << i;
  }
}

// Points given with an augmented crop land where their pixels do: a dark dot on the plate
// is found again at the point's place in every crop (the difference from the same crop,
// same random draws, of the plate without the dot).
TEST(PlateCrops, PointsMoveWithTheCrop) {
  CornerBox box;
  const cv::Mat plain = hand_made(box);
  cv::Mat dotted = plain.clone();
  cv::circle(dotted, cv::Point(160, 150), 5, cv::Scalar::all(0), cv::FILLED);
  ReaderInfo info;
  for (int i = 0; i < 50; ++i) {
    Random r(mix_seed(4, static_cast<uint64_t>(i))), same(mix_seed(4, static_cast<uint64_t>(i)));
    std::vector<cv::Point2f> points = {{160, 150}};
    const cv::Mat with = augmented_plate_crop(dotted, box, info, r, &points);
    const cv::Mat without = augmented_plate_crop(plain, box, info, same);
    cv::Mat diff;
    cv::cvtColor(cv::abs(with - without) + cv::abs(without - with), diff, cv::COLOR_RGB2GRAY);
    const cv::Moments m = cv::moments(diff > 20, true);
    ASSERT_GT(m.m00, 0) << i;
    EXPECT_NEAR(points[0].x, m.m10 / m.m00, 1.5) << i;
    EXPECT_NEAR(points[0].y, m.m01 / m.m00, 1.5) << i;
  }
}

namespace {

// A 400x300 black image with a 130x100 two-row plate at (130, 100): its upper half in
// one colour (red), its lower half in another (blue).
cv::Mat two_row_hand_made(CornerBox& box, const cv::Scalar& upper = {255, 0, 0}, const cv::Scalar& lower = {0, 0, 255}) {
  cv::Mat image(300, 400, CV_8UC3, cv::Scalar::all(0));
  cv::rectangle(image, cv::Rect(130, 100, 130, 50), upper, cv::FILLED);
  cv::rectangle(image, cv::Rect(130, 150, 130, 50), lower, cv::FILLED);
  box = {130, 100, 260, 200};
  return image;
}

// Share of a crop's pixels in `rect` whose channel `c` is bright and the others dark.
double share_of(const cv::Mat& crop, const cv::Rect& rect, int c) {
  int n = 0;
  for (int y = rect.y; y < rect.br().y; ++y)
    for (int x = rect.x; x < rect.br().x; ++x) {
      const cv::Vec3b p = crop.at<cv::Vec3b>(y, x);
      n += p[c] > 150 && p[(c + 1) % 3] < 100 && p[(c + 2) % 3] < 100;
    }
  return static_cast<double>(n) / rect.area();
}

}  // namespace

// A box narrower than two_row_aspect is read as two rows side by side: its upper half in
// the input's left half, its lower half in the right; a 2:1 box is not, nor any box of
// a reader from before two rows (two_row_aspect 0).
TEST(PlateCrops, TwoRowBoxesAreReadSideBySide) {
  CornerBox box;
  const cv::Mat image = two_row_hand_made(box);
  ReaderInfo info;
  ASSERT_TRUE(reads_two_rows(box, info));
  const cv::Mat crop = crop_plate(image, box, info);
  ASSERT_EQ(crop.size(), cv::Size(info.input_width, info.input_height));
  const int half = info.input_width / 2, h = info.input_height;
  // The upper part's top 2/3 is the red row, the lower part's bottom 2/3 the blue one.
  EXPECT_GT(share_of(crop, cv::Rect(4, h / 6, half - 8, h / 2), 0), 0.95);
  EXPECT_GT(share_of(crop, cv::Rect(half + 4, h / 3, half - 8, h / 2), 2), 0.95);
  EXPECT_EQ(share_of(crop, cv::Rect(half + 4, h / 3, half - 8, h / 2), 0), 0.0);

  CornerBox wide;
  const cv::Mat single = hand_made(wide);
  EXPECT_FALSE(reads_two_rows(wide, info));
  ReaderInfo before = info;
  before.two_row_aspect = 0;
  EXPECT_FALSE(reads_two_rows(box, before));
  const cv::Mat stretched = crop_plate(image, box, before);
  EXPECT_GT(share_of(stretched, cv::Rect(10, h / 4, info.input_width - 20, h / 6), 0), 0.95) << "red across the top";
}

// Augmented two-row crops keep the rows apart and move points with them: a point on the
// white upper row lands in the left half on something brighter than where a point on the
// grey lower row lands, in the right half (the colour changes are monotonic).
TEST(PlateCrops, TwoRowAugmentedCropsMovePointsToTheirRow) {
  CornerBox box;
  const cv::Mat image = two_row_hand_made(box, cv::Scalar::all(255), cv::Scalar::all(90));
  ReaderInfo info;
  for (int i = 0; i < 50; ++i) {
    Random r(mix_seed(31, static_cast<uint64_t>(i)));
    std::vector<cv::Point2f> points = {{195, 125}, {195, 175}};
    const cv::Mat crop = augmented_plate_crop(image, box, info, r, &points);
    ASSERT_EQ(crop.size(), cv::Size(info.input_width, info.input_height));
    EXPECT_LT(points[0].x, info.input_width / 2.0f) << i;
    EXPECT_GE(points[1].x, info.input_width / 2.0f) << i;
    double value[2];
    for (int k = 0; k < 2; ++k) {
      const cv::Point at(static_cast<int>(points[k].x), static_cast<int>(points[k].y));
      ASSERT_TRUE(cv::Rect(0, 0, crop.cols, crop.rows).contains(at)) << i << " " << k;
      value[k] = cv::sum(crop.at<cv::Vec3b>(at))[0];
    }
    EXPECT_GT(value[0], value[1] + 60) << "seed " << i;
  }
}

// The two-row aspect travels in the reader's JSON; a reader's JSON from before two-row
// plates (no key) reads every box as one row, as that reader was trained.
TEST(PlateCrops, TwoRowAspectTravelsInTheReadersJson) {
  ReaderInfo info;
  info.two_row_aspect = 1.45f;
  EXPECT_FLOAT_EQ(reader_info_from_json(reader_info_to_json(info), "r.json").two_row_aspect, 1.45f);
  const std::string before =
      R"({"kind": "plate-reader", "charset": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", "input_size": [96, 32]})";
  EXPECT_EQ(reader_info_from_json(before, "r.json").two_row_aspect, 0.0f);
  EXPECT_GT(ReaderInfo().two_row_aspect, 1.5f) << "new readers read square boxes as two rows";
}

// Letterbox keeps the plate's shape: the hand-made 200x60 plate (3.3:1 with its margin)
// in a 128x32 input fills the height and 3.3 x 32 columns, centred, grey (127) either
// side; a 4:1 input of a wide plate fills its width with grey above and below. Augmented
// crops stay inside the same placement and move points with it.
TEST(PlateCrops, LetterboxKeepsThePlatesShape) {
  CornerBox box;
  const cv::Mat image = hand_made(box);
  ReaderInfo info;
  info.input_width = 128;
  info.geometry = "letterbox";
  const cv::Mat crop = crop_plate(image, box, info);
  ASSERT_EQ(crop.size(), cv::Size(128, 32));
  // The crop: 232x70 pixels (the box and its 8% margins, outward to whole pixels).
  const int inner = static_cast<int>(std::lround(32.0 * 232 / 70));
  const int left = (128 - inner) / 2;
  EXPECT_EQ(crop.at<cv::Vec3b>(16, left - 1), cv::Vec3b(127, 127, 127));
  EXPECT_EQ(crop.at<cv::Vec3b>(16, left + inner), cv::Vec3b(127, 127, 127));
  const cv::Rect b = bright(crop);
  EXPECT_NEAR(b.width, inner / 1.16, 2.0);
  EXPECT_NEAR(b.height, 32 / 1.16, 2.0);
  EXPECT_NEAR(b.x + b.width / 2.0, 64, 1.5);

  CornerBox wide{50, 140, 350, 160};  // 15:1 with its margin: grey above and below
  const cv::Mat strip = crop_plate(image, wide, info);
  EXPECT_EQ(strip.at<cv::Vec3b>(0, 64), cv::Vec3b(127, 127, 127));
  EXPECT_EQ(strip.at<cv::Vec3b>(31, 64), cv::Vec3b(127, 127, 127));
  EXPECT_NE(strip.at<cv::Vec3b>(16, 64), cv::Vec3b(127, 127, 127));

  for (int i = 0; i < 30; ++i) {
    Random r(mix_seed(8, static_cast<uint64_t>(i)));
    std::vector<cv::Point2f> points = {{100, 150}, {300, 150}};  // the plate's left and right ends
    const cv::Mat a = augmented_plate_crop(image, box, info, r, &points, kTestedJitter);
    ASSERT_EQ(a.size(), cv::Size(128, 32));
    EXPECT_EQ(a.at<cv::Vec3b>(16, 0), cv::Vec3b(127, 127, 127)) << i;
    EXPECT_EQ(a.at<cv::Vec3b>(16, 127), cv::Vec3b(127, 127, 127)) << i;
    EXPECT_NEAR(points[1].x - points[0].x, inner / 1.16, 0.2 * inner) << i;
    EXPECT_NEAR((points[0].x + points[1].x) / 2, 64, 0.1 * inner) << i;
  }
}

// The geometry and width travel in the reader's JSON; readers before them stretched to 96.
TEST(PlateCrops, GeometryAndWidthTravelInTheReadersJson) {
  ReaderInfo info;
  info.input_width = 128;
  info.geometry = "letterbox";
  const ReaderInfo back = reader_info_from_json(reader_info_to_json(info), "r.json");
  EXPECT_EQ(back.input_width, 128);
  EXPECT_EQ(back.geometry, "letterbox");
  const std::string before =
      R"({"kind": "plate-reader", "charset": "0123456789", "input_size": [96, 32]})";
  EXPECT_EQ(reader_info_from_json(before, "r.json").geometry, "stretch");
  for (const std::string& bad : {R"("input_size": [90, 32])", R"("input_size": [96, 48])", R"("input_size": [512, 32])",
                                 R"("input_size": [96, 32], "geometry": "crop")"}) {
    const std::string text = R"({"kind": "plate-reader", "charset": "0123456789", )" + bad + "}";
    EXPECT_THROW(reader_info_from_json(text, "r.json"), std::exception) << bad;
  }
}

// --box-jitter sets how far the box's sides move: none at 0, and the plate's width in the
// crop spreads more at 0.2 than at 0.08.
TEST(PlateCrops, BoxJitterSetsHowFarTheSidesMove) {
  CornerBox box;
  const cv::Mat image = hand_made(box);
  ReaderInfo info;
  auto width_spread = [&](float jitter) {
    double lo = 1e9, hi = 0;
    for (int i = 0; i < 100; ++i) {
      Random r(mix_seed(12, static_cast<uint64_t>(i)));
      std::vector<cv::Point2f> ends = {{100, 150}, {300, 150}};
      augmented_plate_crop(image, box, info, r, &ends, jitter);
      const double w = ends[1].x - ends[0].x;
      lo = std::min(lo, w), hi = std::max(hi, w);
    }
    return hi - lo;
  };
  const double none = width_spread(0), narrow = width_spread(kTestedJitter), wide = width_spread(0.2f);
  EXPECT_LT(none, 0.15 * info.input_width) << "at 0 only the corners move and the crop turns";
  EXPECT_GT(narrow, none + 0.1 * info.input_width);
  EXPECT_GT(wide, 2 * narrow);
}
