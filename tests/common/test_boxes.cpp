#include <cmath>

#include "edgessd/common/boxes.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;

TEST(Boxes, CenterCornerRoundTrip) {
  CornerBox c{0.1f, 0.2f, 0.5f, 0.9f};
  CenterBox m = corner_to_center(c);
  EXPECT_FLOAT_EQ(m.cx, 0.3f);
  EXPECT_FLOAT_EQ(m.cy, 0.55f);
  EXPECT_FLOAT_EQ(m.w, 0.4f);
  EXPECT_FLOAT_EQ(m.h, 0.7f);
  CornerBox back = center_to_corner(m);
  EXPECT_NEAR(back.x1, c.x1, 1e-7);
  EXPECT_NEAR(back.y2, c.y2, 1e-7);
}

TEST(Boxes, IouOfKnownBoxes) {
  EXPECT_NEAR(iou({0, 0, 1, 1}, {0, 0, 1, 1}), 1.0f, 1e-4);
  EXPECT_NEAR(iou({0, 0, 1, 1}, {0.5f, 0, 1.5f, 1}), 1.0f / 3.0f, 1e-4);
  EXPECT_EQ(iou({0, 0, 1, 1}, {2, 2, 3, 3}), 0.0f);
  EXPECT_EQ(iou({0.5f, 0.5f, 0.4f, 0.4f}, {0, 0, 1, 1}), 0.0f);  // inverted box has no area
}

TEST(Boxes, EncodeDecodeInverse) {
  CenterBox prior{0.5f, 0.5f, 0.2f, 0.1f};
  CenterBox box{0.55f, 0.45f, 0.3f, 0.05f};
  CenterBox back = decode(encode(box, prior, 0.1f, 0.2f), prior, 0.1f, 0.2f);
  EXPECT_NEAR(back.cx, box.cx, 1e-6);
  EXPECT_NEAR(back.cy, box.cy, 1e-6);
  EXPECT_NEAR(back.w, box.w, 1e-6);
  EXPECT_NEAR(back.h, box.h, 1e-6);
}

TEST(PriorMatcher, EveryGroundTruthClaimsAPrior) {
  PriorBoxes priors(mobilenet_v1_ssd_config());
  PriorMatcher matcher(priors, 0.1f, 0.2f, 0.5f);
  // A tiny box matches no prior at IoU 0.5, but still claims its best one.
  PriorTargets t = matcher.match({{0.50f, 0.50f, 0.52f, 0.51f}}, {1});
  int positives = 0;
  for (int64_t label : t.labels) positives += label > 0;
  EXPECT_EQ(positives, 1);
}

TEST(PriorMatcher, NoGroundTruthMeansAllBackground) {
  PriorBoxes priors(mobilenet_v1_ssd_config());
  PriorMatcher matcher(priors, 0.1f, 0.2f, 0.5f);
  PriorTargets t = matcher.match({}, {});
  for (int64_t label : t.labels) ASSERT_EQ(label, 0);
}

TEST(PriorMatcher, EqualsPytorchSsdMatchPrior) {
  EDGESSD_REQUIRE_FILE(fixture("gt_boxes.f32"));
  const auto gt = read_raw<float>(fixture("gt_boxes.f32"));
  const auto gt_labels = read_raw<int64_t>(fixture("gt_labels.i64"));
  const auto expected_locations = read_raw<float>(fixture("target_locations.f32"));
  const auto expected_labels = read_raw<int64_t>(fixture("target_labels.i64"));
  std::vector<CornerBox> boxes;
  for (size_t i = 0; i + 3 < gt.size(); i += 4) boxes.push_back({gt[i], gt[i + 1], gt[i + 2], gt[i + 3]});

  PriorBoxes priors(mobilenet_v1_ssd_config());
  PriorMatcher matcher(priors, 0.1f, 0.2f, 0.5f);
  PriorTargets t = matcher.match(boxes, gt_labels);
  ASSERT_EQ(t.labels.size(), expected_labels.size());
  EXPECT_EQ(t.labels, expected_labels);
  const float* ours = reinterpret_cast<const float*>(t.locations.data());
  int checked = 0;
  for (size_t i = 0; i < expected_locations.size(); ++i) {
    const float e = expected_locations[i];
    if (!std::isfinite(e)) { EXPECT_EQ(ours[i], e) << "at " << i; continue; }
    ASSERT_NEAR(ours[i], e, 1e-5 + 1e-5 * std::fabs(e)) << "at " << i;
    ++checked;
  }
  EXPECT_GT(checked, 0);
}
