#include <cmath>

#include "edgessd/common/priors.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;

TEST(PriorBoxes, MobilenetV1ConfigHas3000PriorsSixPerCell) {
  PriorBoxes priors(mobilenet_v1_ssd_config());
  EXPECT_EQ(priors.size(), 3000u);
  EXPECT_EQ(priors.boxes_per_location(), std::vector<int>({6, 6, 6, 6, 6, 6}));
  for (const CenterBox& p : priors.center_form()) {
    for (float v : {p.cx, p.cy, p.w, p.h}) {
      EXPECT_GE(v, 0.0f);
      EXPECT_LE(v, 1.0f);
    }
  }
}

TEST(PriorBoxes, EqualPytorchSsdPriors) {
  const std::string path = fixture("priors_center_form.f32");
  EDGESSD_REQUIRE_FILE(path);
  const auto expected = read_raw<float>(path);
  PriorBoxes priors(mobilenet_v1_ssd_config());
  ASSERT_EQ(expected.size(), priors.size() * 4);
  const float* ours = reinterpret_cast<const float*>(priors.center_form().data());
  float max_diff = 0;
  for (size_t i = 0; i < expected.size(); ++i) max_diff = std::max(max_diff, std::fabs(ours[i] - expected[i]));
  EXPECT_LE(max_diff, 1e-6f);
}

// pytorch-ssd's vgg_ssd_config.priors (values printed by its own code): 8732 priors, the
// 38x38 map's stride 8 (37.5 cells a side, so its last column clamps to 1).
TEST(PriorBoxes, VggConfigEqualsPytorchSsds) {
  PriorBoxes priors(vgg_ssd_config());
  ASSERT_EQ(priors.size(), 8732u);
  EXPECT_EQ(priors.boxes_per_location(), std::vector<int>({4, 6, 6, 6, 4, 4}));
  const auto& p = priors.center_form();
  auto expect_prior = [&](size_t i, float cx, float cy, float w, float h) {
    SCOPED_TRACE(i);
    EXPECT_NEAR(p[i].cx, cx, 1e-6);
    EXPECT_NEAR(p[i].cy, cy, 1e-6);
    EXPECT_NEAR(p[i].w, w, 1e-6);
    EXPECT_NEAR(p[i].h, h, 1e-6);
  };
  expect_prior(0, 0.0133333f, 0.0133333f, 0.1f, 0.1f);
  expect_prior(1, 0.0133333f, 0.0133333f, 0.1414214f, 0.1414214f);
  expect_prior(2, 0.0133333f, 0.0133333f, 0.1414214f, 0.0707107f);
  expect_prior(5775, 1.0f, 1.0f, 0.0707107f, 0.1414214f);
  expect_prior(5776, 0.0266667f, 0.0266667f, 0.2f, 0.2f);
  expect_prior(5777, 0.0266667f, 0.0266667f, 0.2720294f, 0.2720294f);
  expect_prior(8731, 0.5f, 0.5f, 0.622254f, 1.0f);
  // At its own size the general rule gives the config's priors exactly.
  const auto maps = vgg_ssd_feature_maps(300, 300);
  const PriorBoxes same(config_prior_maps(vgg_ssd_config(), vgg_ssd_config().specs, 300, 300, maps), 300, 300, maps);
  ASSERT_EQ(same.size(), priors.size());
  for (size_t i = 0; i < p.size(); ++i) ASSERT_EQ(same.center_form()[i].w, p[i].w) << i;
}

// Poolings round down but the third (ceil_mode); the last two extras take 2 cells each.
TEST(PriorBoxes, VggFeatureMapsFollowItsLayers) {
  using Maps = std::vector<std::pair<int, int>>;
  EXPECT_EQ(vgg_ssd_feature_maps(300, 300), (Maps{{38, 38}, {19, 19}, {10, 10}, {5, 5}, {3, 3}, {1, 1}}));
  EXPECT_EQ(vgg_ssd_feature_maps(384, 320), (Maps{{48, 40}, {24, 20}, {12, 10}, {6, 5}, {4, 3}, {2, 1}}));
  EXPECT_TRUE(vgg_ssd_feature_maps(256, 300).empty());  // 256 -> 32 -> 16 -> 8 -> 4 -> 2 -> 0
  EXPECT_TRUE(vgg_ssd_feature_maps(267, 300).empty());
  EXPECT_EQ(vgg_ssd_feature_maps(268, 268).back(), std::make_pair(1, 1));
}
