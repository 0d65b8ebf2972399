#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "edgessd/common/boxes.h"
#include "edgessd/train/multibox_loss.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;

namespace {
torch::Tensor load(const std::string& name, std::vector<int64_t> shape, torch::Dtype dtype) {
  if (dtype == torch::kFloat32) {
    auto v = read_raw<float>(fixture(name));
    return torch::from_blob(v.data(), shape, dtype).clone();
  }
  auto v = read_raw<int64_t>(fixture(name));
  return torch::from_blob(v.data(), shape, dtype).clone();
}
}  // namespace

TEST(MultiboxLoss, EqualsPytorchSsdOnFixture) {
  EDGESSD_REQUIRE_FILE(fixture("fixtures.json"));
  std::ifstream in(fixture("fixtures.json"));
  const auto j = nlohmann::json::parse(in);
  auto confidences = load("train_confidences.f32", {1, 3000, 2}, torch::kFloat32);
  auto locations = load("train_locations.f32", {1, 3000, 4}, torch::kFloat32);
  auto labels = load("target_labels.i64", {1, 3000}, torch::kInt64);
  auto gt_locations = load("target_locations.f32", {1, 3000, 4}, torch::kFloat32);

  MultiboxLossValue loss = MultiboxLoss(3)(confidences, locations, labels, gt_locations);
  const double regression = j["loss"]["regression"], classification = j["loss"]["classification"];
  EXPECT_EQ(loss.num_positive, j["loss"]["num_positive_priors"].get<int64_t>());
  EXPECT_NEAR(loss.regression.item<double>(), regression, 1e-4 * regression);
  EXPECT_NEAR(loss.classification.item<double>(), classification, 1e-4 * classification);
}

TEST(MultiboxLoss, HardNegativeMiningKeepsThreeNegativesPerPositive) {
  auto background_loss = torch::tensor({{0.1f, 0.9f, 0.5f, 0.7f, 0.2f, 0.3f, 0.8f, 0.05f}});
  auto labels = torch::tensor({{1, 0, 0, 0, 0, 0, 0, 0}}, torch::kInt64);
  auto mask = hard_negative_mining(background_loss, labels, 3);
  // the positive plus the three highest background losses (0.9, 0.8, 0.7)
  auto expected = torch::tensor({{true, true, false, true, false, false, true, false}});
  EXPECT_TRUE(torch::equal(mask, expected));
}

TEST(MultiboxLoss, ImageWithoutObjectsGivesFiniteLoss) {
  auto confidences = torch::randn({2, 3000, 3});
  auto locations = torch::randn({2, 3000, 4});
  auto labels = torch::zeros({2, 3000}, torch::kInt64);
  auto gt = torch::zeros({2, 3000, 4});
  MultiboxLossValue loss = MultiboxLoss()(confidences, locations, labels, gt);
  EXPECT_EQ(loss.num_positive, 0);
  EXPECT_TRUE(std::isfinite(loss.regression.item<float>()));
  EXPECT_TRUE(std::isfinite(loss.classification.item<float>()));
}

TEST(MultiboxLoss, GradientsFlowToBothOutputs) {
  PriorBoxes priors(mobilenet_v1_ssd_config());
  PriorMatcher matcher(priors, 0.1f, 0.2f, 0.5f);
  PriorTargets t = matcher.match({{0.2f, 0.2f, 0.6f, 0.5f}}, {1});
  auto labels = torch::from_blob(t.labels.data(), {1, 3000}, torch::kInt64).clone();
  auto gt = torch::from_blob(t.locations.data(), {1, 3000, 4}, torch::kFloat32).clone();
  auto confidences = torch::zeros({1, 3000, 2}, torch::requires_grad());
  auto locations = torch::zeros({1, 3000, 4}, torch::requires_grad());
  MultiboxLossValue loss = MultiboxLoss()(confidences, locations, labels, gt);
  (loss.regression + loss.classification).backward();
  EXPECT_GT(confidences.grad().abs().sum().item<float>(), 0);
  EXPECT_GT(locations.grad().abs().sum().item<float>(), 0);
}
