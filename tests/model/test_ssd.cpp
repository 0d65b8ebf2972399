#include <torch/torch.h>

#include "edgessd/common/error.h"
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

// The stride-8 variant adds a 38x38 head on layer 5 (256 channels) first; a 512 input
// lays the same heads over larger maps. The priors follow, from the model's JSON fields.
TEST(Ssd, Stride8HeadAnd512InputChangeThePriorCount) {
  ModelInfo info;
  info.class_names = {"BACKGROUND", "plate"};
  info.net = "mb1-ssd-relu6-s8";
  Ssd s8(info);
  s8->eval();
  torch::NoGradGuard no_grad;
  auto [confidences, locations] = s8->forward(torch::randn({1, 3, 300, 300}));
  EXPECT_EQ(confidences.size(1), 3000 + 38 * 38 * 6);
  EXPECT_EQ(s8->priors().size(0), 3000 + 38 * 38 * 6);
  EXPECT_EQ(s8->classification_headers[0]->as<torch::nn::Conv2d>()->weight.size(1), 256);
  auto [scores, boxes] = s8->predict(torch::randn({1, 3, 300, 300}));
  EXPECT_EQ(boxes.size(1), 3000 + 38 * 38 * 6);

  info.net = "mb1-ssd";
  info.input_width = info.input_height = 512;
  Ssd large(info);
  large->eval();
  const int64_t expected = (32 * 32 + 16 * 16 + 8 * 8 + 4 * 4 + 2 * 2 + 1) * 6;
  EXPECT_EQ(large->forward(torch::randn({1, 3, 512, 512})).first.size(1), expected);
  EXPECT_EQ(large->priors().size(0), expected);
  EXPECT_THROW(large->predict(torch::randn({1, 3, 300, 300})), Error);  // not the model's size
}

// The priors a model JSON records are the ones its net uses, exactly, after a round trip.
TEST(ModelInfo, PriorMapsRoundTripThroughJson) {
  ModelInfo info;
  info.class_names = {"BACKGROUND", "plate"};
  info.net = "mb1-ssd-s8";
  info.input_width = 384, info.input_height = 288;
  info.priors = "auto";
  info.prior_maps = prior_maps_of(info);
  info.prior_maps[0].boxes = {{11.5, 9.25}, {14, 12}, {18.125, 13}, {21, 17}, {30, 19.5}, {44, 15}};
  const ModelInfo back = model_info_from_json(model_info_to_json(info), "m.json");
  EXPECT_EQ(back.priors, "auto");
  ASSERT_EQ(back.prior_maps.size(), 7u);
  EXPECT_EQ(back.prior_maps[0].boxes, info.prior_maps[0].boxes);
  const PriorBoxes a = priors_of(info), b = priors_of(back);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a.center_form()[i].cx, b.center_form()[i].cx);
    EXPECT_EQ(a.center_form()[i].w, b.center_form()[i].w);
    EXPECT_EQ(a.center_form()[i].h, b.center_form()[i].h);
  }
}

TEST(ModelInfo, HostilePriorMapsAreErrors) {
  ModelInfo info;
  info.class_names = {"BACKGROUND", "plate"};
  info.prior_maps = prior_maps_of(info);
  const std::string good = model_info_to_json(info);
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string text = good;
    const size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return text.replace(at, from.size(), to);
  };
  for (const std::string& bad :
       {replaced("\"kind\": \"ssd\"", "\"kind\": \"magic\""), replaced("\"min_size\": 60.0", "\"min_size\": -1"),
        replaced("\"min_size\": 60.0", "\"min_size\": 1e300"), replaced("\"stride\": [\n          16.0,", "\"stride\": [\n          0,"),
        replaced("\"aspect_ratios\": [\n          2.0,\n", "\"aspect_ratios\": [\n")}) {
    try {
      model_info_from_json(bad, "m.json");
      ADD_FAILURE() << "accepted:\n" << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("m.json: priors"), std::string::npos) << e.what();
    }
  }
  info.net = "mb1-ssd-s8";  // 7 heads, 6 maps
  EXPECT_THROW(model_info_from_json(model_info_to_json(info), "m.json"), Error);
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
