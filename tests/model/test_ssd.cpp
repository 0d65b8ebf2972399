#include <torch/torch.h>

#include "edgessd/model/checkpoint.h"
#include "edgessd/model/ssd.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;

namespace {

torch::Tensor load_f32(const std::string& name, std::vector<int64_t> shape) {
  auto v = read_raw<float>(fixture(name));
  return torch::from_blob(v.data(), shape, torch::kFloat32).clone();
}

// max |a-b| - (atol + rtol*|b|) <= 0 everywhere, reported with the worst element.
void expect_close(const torch::Tensor& ours, const torch::Tensor& expected, double atol, double rtol) {
  ASSERT_EQ(ours.sizes(), expected.sizes());
  auto excess = (ours - expected).abs() - (atol + rtol * expected.abs());
  auto worst = excess.flatten().argmax().item<int64_t>();
  EXPECT_LE(excess.max().item<double>(), 0.0)
      << "worst at flat index " << worst << ": ours " << ours.flatten()[worst].item<float>() << " expected "
      << expected.flatten()[worst].item<float>();
}

}  // namespace

TEST(Ssd, StateDictKeysArePytorchSsds) {
  Ssd net(NetKind::Mb1Ssd, 2);
  StateDict state = state_dict_of(*net);
  std::vector<std::string> keys;
  for (auto& kv : state) keys.push_back(kv.first);
  ASSERT_GE(keys.size(), 10u);
  EXPECT_EQ(keys[0], "base_net.0.0.weight");
  EXPECT_EQ(keys[1], "base_net.0.1.weight");
  EXPECT_EQ(keys[2], "base_net.0.1.bias");
  EXPECT_EQ(keys[3], "base_net.0.1.running_mean");
  EXPECT_EQ(keys[4], "base_net.0.1.running_var");
  EXPECT_EQ(keys[5], "base_net.0.1.num_batches_tracked");
  EXPECT_EQ(keys[6], "base_net.1.0.weight");
  EXPECT_NE(std::find(keys.begin(), keys.end(), "base_net.1.4.running_var"), keys.end());
  EXPECT_NE(std::find(keys.begin(), keys.end(), "extras.0.2.bias"), keys.end());
  EXPECT_NE(std::find(keys.begin(), keys.end(), "classification_headers.5.weight"), keys.end());
  EXPECT_EQ(keys.back(), "regression_headers.5.bias");
}

TEST(Ssd, OutputShapesForBothNets) {
  for (NetKind kind : {NetKind::Mb1Ssd, NetKind::Mb1SsdRelu6}) {
    Ssd net(kind, 3);
    net->eval();
    torch::NoGradGuard no_grad;
    auto [confidences, locations] = net->forward(torch::randn({2, 3, 300, 300}));
    EXPECT_EQ(confidences.sizes(), (std::vector<int64_t>{2, 3000, 3}));
    EXPECT_EQ(locations.sizes(), (std::vector<int64_t>{2, 3000, 4}));
  }
}

TEST(Ssd, Relu6ClipsActivations) {
  Ssd net(NetKind::Mb1SsdRelu6, 2);
  net->eval();
  torch::NoGradGuard no_grad;
  auto x = torch::randn({1, 3, 300, 300}) * 100;
  for (size_t l = 0; l < net->base_net->size(); ++l) {
    x = net->base_net[l]->as<torch::nn::Sequential>()->forward(x);
    EXPECT_LE(x.max().item<float>(), 6.0f) << "layer " << l;
  }
}

TEST(Ssd, FixtureOutputsEqualPytorchSsd) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.pth"));
  Ssd net(NetKind::Mb1Ssd, 2);
  load_state_dict(*net, read_state_dict(fixture("mb1-ssd-2class-random.pth")), LoadMode::Everything, "fixture");
  net->eval();
  torch::NoGradGuard no_grad;
  auto input = load_f32("input.f32", {1, 3, 300, 300});
  auto [confidences, locations] = net->forward(input);
  expect_close(confidences, load_f32("train_confidences.f32", {1, 3000, 2}), 1e-4, 1e-3);
  expect_close(locations, load_f32("train_locations.f32", {1, 3000, 4}), 1e-4, 1e-3);
  auto [scores, boxes] = net->predict(input);
  expect_close(scores, load_f32("test_scores.f32", {1, 3000, 2}), 1e-4, 1e-3);
  expect_close(boxes, load_f32("test_boxes.f32", {1, 3000, 4}), 1e-4, 1e-3);
}
