#include <gtest/gtest.h>

#include <cmath>

#include "edgessd/common/model_info.h"
#include "edgessd/common/random.h"
#include "edgessd/data/prior_coverage.h"
#include "edgessd/data/prior_fit.h"

using namespace edgessd;

TEST(PriorFit, ShapeIouOfCentredBoxes) {
  EXPECT_DOUBLE_EQ(shape_iou({10, 10}, {10, 10}), 1.0);
  EXPECT_DOUBLE_EQ(shape_iou({10, 10}, {20, 10}), 0.5);    // 100 / 200
  EXPECT_DOUBLE_EQ(shape_iou({20, 5}, {5, 20}), 25.0 / 175);
}

// Boxes drawn around three shapes (+-5% noise): k-means with k = 3 finds them.
TEST(PriorFit, KMeansRecoversTheGeneratingShapes) {
  const std::vector<BoxShape> truth = {{12, 10}, {40, 13}, {90, 90}};
  Random random(5);
  std::vector<BoxShape> shapes;
  for (int i = 0; i < 300; ++i) {
    const BoxShape& t = truth[i % 3];
    shapes.emplace_back(t.first * random.uniform(0.95, 1.05), t.second * random.uniform(0.95, 1.05));
  }
  const std::vector<BoxShape> fitted = kmeans_box_shapes(shapes, 3, 1);
  ASSERT_EQ(fitted.size(), 3u);
  for (size_t k = 0; k < 3; ++k) {  // both sorted by area
    EXPECT_NEAR(fitted[k].first, truth[k].first, 0.03 * truth[k].first) << k;
    EXPECT_NEAR(fitted[k].second, truth[k].second, 0.03 * truth[k].second) << k;
  }
  EXPECT_EQ(kmeans_box_shapes(shapes, 3, 1), fitted);  // deterministic
}

TEST(PriorFit, FewerDistinctShapesThanKAreRepeated) {
  const std::vector<BoxShape> fitted = kmeans_box_shapes({{10, 10}, {10, 10}, {30, 20}}, 6);
  ASSERT_EQ(fitted.size(), 6u);
  EXPECT_EQ(fitted.front(), BoxShape(10, 10));
  EXPECT_EQ(fitted.back(), BoxShape(30, 20));
  EXPECT_TRUE(kmeans_box_shapes({}, 6).empty());
}

// Plates of ~21 x 18 px at 300 x 300: pytorch-ssd's priors reach none of them at IoU 0.5;
// on the stride-8 map fitted priors reach most, and the maps without boxes keep theirs.
TEST(PriorFit, FittedPriorsReachSmallBoxesTheSsdOnesMiss) {
  Random random(3);
  DetectionDataset data;
  data.class_names = {"BACKGROUND", "plate"};
  for (int i = 0; i < 60; ++i) {
    AnnotatedImage image;
    const float w = static_cast<float>(random.uniform(15, 28)) / 300, h = static_cast<float>(random.uniform(13, 22)) / 300;
    const float x = static_cast<float>(random.uniform(0.05, 0.85)), y = static_cast<float>(random.uniform(0.05, 0.85));
    image.boxes.push_back({x, y, x + w, y + h});
    image.labels.push_back(1);
    data.images.push_back(image);
  }
  ModelInfo info;
  info.net = "mb1-ssd-s8";
  const auto ssd_maps = prior_maps_of(info);
  info.prior_maps = fit_prior_maps(ssd_maps, box_shapes(data, 300, 300));
  ASSERT_EQ(info.prior_maps.size(), 7u);
  ASSERT_EQ(info.prior_maps[0].boxes.size(), 6u);  // the stride-8 map took the plates
  for (size_t m = 1; m < 7; ++m) EXPECT_TRUE(info.prior_maps[m].boxes.empty()) << m;
  for (const auto& [w, h] : info.prior_maps[0].boxes) {
    EXPECT_GT(w, 14);
    EXPECT_LT(w, 29);
  }
  ModelInfo ssd;
  ssd.net = "mb1-ssd";
  const double before = prior_coverage(data, priors_of(ssd).center_form(), 300, 300).best_possible_recall;
  const double after = prior_coverage(data, priors_of(info).center_form(), 300, 300).best_possible_recall;
  EXPECT_LT(before, 0.1);
  EXPECT_GT(after, 0.6);
}
