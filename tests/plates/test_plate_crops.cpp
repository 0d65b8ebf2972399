// The reader's training crops on a hand-made image: a white plate on black, whose
// augmented crops must still frame it (turned, in perspective, the box moved a little)
// and whose plain crop is the box with its margin.
#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "edgessd/common/random.h"
#include "edgessd/plates/plate_crops.h"

using namespace edgessd;

namespace {

// A 400x300 black image with a 200x60 white plate at (100, 120).
cv::Mat hand_made(CornerBox& box) {
  cv::Mat image(300, 400, CV_8UC3, cv::Scalar::all(0));
  cv::rectangle(image, cv::Rect(100, 120, 200, 60), cv::Scalar::all(255), cv::FILLED);
  box = {100, 120, 300, 180};
  return image;
}

// The bright part of a crop (grey > 128): its bounding box.
cv::Rect bright(const cv::Mat& crop) {
  cv::Mat grey;
  cv::cvtColor(crop, grey, cv::COLOR_RGB2GRAY);
  return cv::boundingRect(grey > 128);
}

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
    const cv::Mat crop = augmented_plate_crop(image, box, info, r);
    ASSERT_EQ(crop.size(), cv::Size(info.input_width, info.input_height));
    cv::Mat grey;
    cv::cvtColor(crop, grey, cv::COLOR_RGB2GRAY);
    const cv::Mat plate = grey > 128;
    const cv::Moments m = cv::moments(plate, true);
    ASSERT_GT(m.m00, 0) << "seed " << i << ": no plate in the crop";
    // Centred within the box jitter (8%) and the corner moves (4%).
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
