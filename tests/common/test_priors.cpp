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
