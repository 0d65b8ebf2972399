// Every net against pytorch-ssd's own code: the fixtures under fixtures/pytorch-ssd-nets
// (README there) hold its state_dict keys and its outputs on formula weights.
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <map>

#include "edgessd/common/error.h"
#include "edgessd/model/checkpoint.h"
#include "edgessd/model/model_open.h"
#include "edgessd/model/ssd.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;

namespace {

const std::string kFixtures = std::string(EDGESSD_SOURCE_DIR) + "/tests/model/fixtures/pytorch-ssd-nets/";
const std::string kPythonTool = std::string(EDGESSD_SOURCE_DIR) + "/tests/model/pth_tool.py";

struct NetCase {
  std::string fixture;
  NetKind kind;
  double width_mult;
};
const NetCase kCases[] = {{"mb1-ssd", NetKind::Mb1Ssd, 1.0},
                          {"mb1-ssd-lite", NetKind::Mb1SsdLite, 1.0},
                          {"mb2-ssd-lite", NetKind::Mb2SsdLite, 1.0},
                          {"mb2-ssd-lite-0.5", NetKind::Mb2SsdLite, 0.5},
                          {"vgg16-ssd", NetKind::Vgg16Ssd, 1.0}};

std::string shape_text(const at::Tensor& t) {
  std::string text;
  for (int64_t d = 0; d < t.dim(); ++d) text += (d ? "x" : "") + std::to_string(t.size(d));
  return text;
}

// "key shape" lines, as the fixture's .keys and pth_tool.py's `keys` write them.
std::string keys_text(const StateDict& state) {
  std::string text;
  for (const auto& [key, t] : state) text += key + " " + shape_text(t) + "\n";
  return text;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": missing fixture");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The fixtures' weights (README): tensor k of the state_dict, element i.
void set_formula_weights(Ssd& net) {
  torch::NoGradGuard no_grad;
  std::map<std::string, at::Tensor> live;
  for (const auto& p : net->named_parameters()) live[p.key()] = p.value();
  for (const auto& b : net->named_buffers()) live[b.key()] = b.value();
  const StateDict state = state_dict_of(*net);
  for (size_t k = 0; k < state.size(); ++k) {
    const auto& [name, t] = state[k];
    if (!t.is_floating_point()) continue;
    auto ends_with = [&](const std::string& s) {
      return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
    };
    std::vector<float> v(static_cast<size_t>(t.numel()));
    for (size_t i = 0; i < v.size(); ++i) {
      const double x = static_cast<double>(i), kd = static_cast<double>(k);
      double value;
      if (ends_with("running_var")) value = 1 + 0.25 * (1 + std::sin(0.7 * x + kd));
      else if (ends_with("running_mean")) value = 0.1 * std::sin(1.3 * x + kd);
      else if (t.dim() == 1 && ends_with(".weight")) value = 1 + 0.2 * std::sin(0.9 * x + kd);
      else if (t.dim() == 1) value = 0.1 * std::sin(0.9 * x + kd);
      else value = std::sin(0.37 * x + 0.5 * kd) * std::sqrt(3.0 / static_cast<double>(t.size(1) * t.size(2) * t.size(3)));
      v[i] = static_cast<float>(value);
    }
    live.at(name).copy_(torch::from_blob(v.data(), t.sizes(), torch::kFloat32));
  }
}

torch::Tensor formula_image() {
  auto c = torch::arange(3, torch::kFloat64).view({3, 1, 1});
  auto y = torch::arange(300, torch::kFloat64).view({1, 300, 1});
  auto x = torch::arange(300, torch::kFloat64).view({1, 1, 300});
  return (0.9 * torch::sin(0.05 * x + 0.07 * y + c)).to(torch::kFloat32).unsqueeze(0);
}

// The net's (confidences, locations) on the formula image, flattened and joined as in NET.f32.
std::vector<float> outputs_of(Ssd& net) {
  torch::NoGradGuard no_grad;
  net->eval();
  auto [confidences, locations] = net->forward(formula_image());
  auto joined = torch::cat({confidences.flatten(), locations.flatten()}).contiguous();
  return std::vector<float>(joined.data_ptr<float>(), joined.data_ptr<float>() + joined.numel());
}

}  // namespace

TEST(PytorchSsdNets, StateDictKeysAndShapesArePytorchSsds) {
  for (const NetCase& c : kCases) {
    Ssd net(c.kind, 2, c.width_mult);
    EXPECT_EQ(keys_text(state_dict_of(*net)), read_text(kFixtures + c.fixture + ".keys")) << c.fixture;
  }
}

TEST(PytorchSsdNets, OutputsArePytorchSsds) {
  for (const NetCase& c : kCases) {
    SCOPED_TRACE(c.fixture);
    Ssd net(c.kind, 2, c.width_mult);
    set_formula_weights(net);
    const std::vector<float> expected = read_raw<float>(kFixtures + c.fixture + ".f32");
    expect_close(outputs_of(net), expected, 1e-4, 1e-4, c.fixture);
  }
}

// What pytorch-ssd's strict load_state_dict asks: Python's torch.load of our file gives
// its keys and shapes, in its order.
TEST(PytorchSsdNets, OurCheckpointsLoadInPythonWithPytorchSsdsKeys) {
  TempDir dir;
  for (const NetCase& c : kCases) {
    Ssd net(c.kind, 2, c.width_mult);
    write_state_dict(dir.file(c.fixture + ".pth"), state_dict_of(*net));
    CommandResult r = run_command(debian_python() + " " + kPythonTool + " keys " + dir.file(c.fixture + ".pth"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output, read_text(kFixtures + c.fixture + ".keys")) << c.fixture;
  }
}

// A pytorch-ssd checkpoint has no JSON: the net and width multiplier come from its keys
// and shapes, and its outputs are the net's.
TEST(PytorchSsdNets, OpeningACheckpointWithoutJsonTellsTheNet) {
  TempDir dir;
  for (const NetCase& c : kCases) {
    SCOPED_TRACE(c.fixture);
    Ssd net(c.kind, 2, c.width_mult);
    set_formula_weights(net);
    const std::string path = dir.file(c.fixture + ".pth");
    write_state_dict(path, state_dict_of(*net));
    OpenedCheckpoint opened = open_checkpoint(path, ModelFlags{}, MissingNames::Numbered);
    EXPECT_EQ(opened.info.net, net_kind_name(c.kind));
    EXPECT_EQ(opened.info.width_mult, c.width_mult);
    // pytorch-ssd's config for the net: vgg16-ssd's pixels are (x - (123, 117, 104)) / 1.
    const bool vgg = c.kind == NetKind::Vgg16Ssd;
    const std::array<float, 3> mean = vgg ? std::array<float, 3>{123, 117, 104} : std::array<float, 3>{127, 127, 127};
    EXPECT_EQ(opened.info.image_mean, mean);
    EXPECT_EQ(opened.info.image_std, vgg ? 1.0f : 128.0f);
    expect_close(outputs_of(opened.net), read_raw<float>(kFixtures + c.fixture + ".f32"), 1e-4, 1e-4, c.fixture);
  }
}

TEST(PytorchSsdNets, WidthMultiplierRidesInTheModelJson) {
  ModelInfo info;
  info.net = "mb2-ssd-lite";
  info.width_mult = 0.75;
  info.class_names = {"BACKGROUND", "plate"};
  const std::string json = model_info_to_json(info);
  EXPECT_EQ(model_info_from_json(json, "m.json").width_mult, 0.75);
  info.net = "mb1-ssd";
  std::string other = model_info_to_json(info);
  EXPECT_EQ(other.find("width_mult"), std::string::npos);
  other.insert(other.find('{') + 1, "\"width_mult\": 0.5,");
  EXPECT_EQ(error_of([&] { model_info_from_json(other, "m.json"); }),
            "m.json: width_mult is for mb2-ssd-lite, not mb1-ssd");
  EXPECT_EQ(error_of([] { Ssd(NetKind::Mb1SsdLite, 2, 0.5); }),
            "a width multiplier is for mb2-ssd-lite; mb1-ssd-lite has none");
}

TEST(PytorchSsdNets, PerChannelMeanRidesInTheModelJson) {
  ModelInfo info;
  info.net = "vgg16-ssd";
  use_net_normalisation(info);
  info.class_names = {"BACKGROUND", "plate"};
  const std::string json = model_info_to_json(info);
  EXPECT_NE(json.find("\"image_mean\": [\n    123.0,\n    117.0,\n    104.0\n  ]"), std::string::npos) << json;
  const ModelInfo back = model_info_from_json(json, "m.json");
  EXPECT_EQ(back.image_mean, info.image_mean);
  EXPECT_EQ(back.image_std, 1.0f);
  // A JSON without image_mean/image_std means the net's own values.
  std::string bare = json;
  bare.erase(bare.find("\"image_mean\""), bare.find("\"center_variance\"") - bare.find("\"image_mean\""));
  EXPECT_EQ(model_info_from_json(bare, "m.json").image_mean, info.image_mean);
  for (const std::string bad : {"[1, 2]", "\"x\"", "[1, 2, \"3\"]"}) {
    std::string hostile = json;
    const size_t from = hostile.find('[', hostile.find("\"image_mean\"")), to = hostile.find(']', from);
    hostile.replace(from, to - from + 1, bad);
    EXPECT_EQ(error_of([&] { model_info_from_json(hostile, "m.json"); }),
              "m.json: image_mean must be a number or [R, G, B]")
        << bad;
  }
}

TEST(PytorchSsdNets, VggNeedsAnInputItsExtrasFit) {
  ModelInfo info;
  info.net = "vgg16-ssd";
  info.class_names = {"BACKGROUND", "plate"};
  info.input_width = 256, info.input_height = 300;
  EXPECT_EQ(error_of([&] { Ssd net(info); }),
            "vgg16-ssd needs an input of at least 268x268 (its last two extras take 2 cells each); 256x300 is too "
            "small");
  ModelFlags flags;
  flags.resolution = "256x300";
  const StateDict state = state_dict_of(*Ssd(NetKind::Vgg16Ssd, 2));
  EXPECT_EQ(error_of([&] { resolve_model_info("no/such/vgg.pth", state, flags, MissingNames::Numbered); }),
            "--resolution 256x300: vgg16-ssd needs an input of at least 268x268 (its last two extras take 2 cells "
            "each); 256x300 is too small");
}

// A checkpoint of another class count names both counts, whatever the net's priors a cell
// (vgg16-ssd's first head has 4, so its 2 classes are 8 rows, not 6 x something).
TEST(PytorchSsdNets, WrongClassCountNamesBothCountsForEveryNet) {
  for (const NetKind kind : {NetKind::Vgg16Ssd, NetKind::Mb2SsdLite}) {
    const StateDict two = state_dict_of(*Ssd(kind, 2));
    Ssd three(kind, 3);
    const std::string message = error_of([&] { load_state_dict(*three, two, LoadMode::Everything, "two.pth"); });
    EXPECT_NE(message.find("(the file has 2 classes, the model 3)"), std::string::npos) << message;
  }
}

// pytorch-ssd's --base-net for vgg16-ssd is a bare VGG (vgg16_reducedfc.pth: "0.weight",
// ..., "33.bias"): its layers load into base_net, nothing else.
TEST(PytorchSsdNets, BareVggFileStartsTheBaseNet) {
  Ssd source(NetKind::Vgg16Ssd, 2);
  set_formula_weights(source);
  StateDict bare;
  for (const auto& [key, t] : state_dict_of(*source))
    if (key.rfind("base_net.", 0) == 0) bare.emplace_back(key.substr(9), t);
  ASSERT_EQ(bare.front().first, "0.weight");
  Ssd net(NetKind::Vgg16Ssd, 3);
  load_state_dict(*net, bare, LoadMode::BaseNetOnly, "vgg16_reducedfc.pth");
  const StateDict loaded = state_dict_of(*net);
  EXPECT_TRUE(torch::equal(loaded[0].second, bare[0].second));
  EXPECT_EQ(loaded.back().first, "source_layer_add_ons.0.num_batches_tracked");
}

// Every net trains: one step reaches every parameter.
TEST(PytorchSsdNets, EveryParameterGetsAGradient) {
  for (const NetCase& c : kCases) {
    Ssd net(c.kind, 3, c.width_mult);
    net->train();
    auto [confidences, locations] = net->forward(torch::randn({2, 3, 300, 300}));
    (confidences.square().mean() + locations.square().mean()).backward();
    for (const auto& p : net->named_parameters())
      EXPECT_TRUE(p.value().grad().defined() && p.value().grad().abs().sum().item<double>() > 0)
          << c.fixture << ": " << p.key();
  }
}

// The lite nets' stride-8 twins: every layer of the plain net under the same key and shape,
// a seventh head first on the stride-8 map (38x38 at 300), told apart by their keys.
TEST(PytorchSsdNets, StrideEightLiteNetsAreTheirTwinAndAHead) {
  const std::pair<NetKind, NetKind> twins[] = {{NetKind::Mb1SsdLite, NetKind::Mb1SsdLiteS8},
                                               {NetKind::Mb2SsdLite, NetKind::Mb2SsdLiteS8}};
  for (const auto& [plain_kind, s8_kind] : twins) {
    SCOPED_TRACE(net_kind_name(s8_kind));
    EXPECT_EQ(stride8_twin_of(net_kind_name(plain_kind)), net_kind_name(s8_kind));
    Ssd plain(plain_kind, 2), s8(s8_kind, 2);
    const StateDict plain_state = state_dict_of(*plain), s8_state = state_dict_of(*s8);
    std::map<std::string, std::vector<int64_t>> s8_shapes;
    for (const auto& [key, t] : s8_state) s8_shapes[key] = t.sizes().vec();
    for (const auto& [key, t] : plain_state) {
      if (key.find("_headers.") != std::string::npos) continue;
      ASSERT_TRUE(s8_shapes.count(key)) << key;
      EXPECT_EQ(s8_shapes[key], t.sizes().vec()) << key;
    }
    EXPECT_TRUE(s8_shapes.count("classification_headers.6.weight"));
    EXPECT_EQ(net_of_keys(s8_state), net_kind_name(s8_kind));
    EXPECT_EQ(net_of_keys(plain_state), net_kind_name(plain_kind));
    EXPECT_EQ(s8->priors().size(0), plain->priors().size(0) + 38 * 38 * 6);
    s8->train();
    auto [confidences, locations] = s8->forward(torch::randn({2, 3, 300, 300}));  // 2: BN on a 1x1 map
    EXPECT_EQ(confidences.size(1), s8->priors().size(0));
    (confidences.square().mean() + locations.square().mean()).backward();
    for (const auto& p : s8->named_parameters())
      EXPECT_TRUE(p.value().grad().defined() && p.value().grad().abs().sum().item<double>() > 0) << p.key();
  }
}
