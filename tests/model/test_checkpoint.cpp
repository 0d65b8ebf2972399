#include <torch/torch.h>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/model/checkpoint.h"
#include "edgessd/model/ssd.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;

namespace {

const std::string kPythonTool = std::string(EDGESSD_SOURCE_DIR) + "/tests/model/pth_tool.py";

std::string python(const std::string& args) {
  CommandResult r = run_command(debian_python() + " " + kPythonTool + " " + args);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.output;
}

torch::Tensor param(const torch::nn::Module& module, const std::string& name) {
  for (auto& [key, t] : state_dict_of(module))
    if (key == name) return t;
  throw std::runtime_error("no " + name);
}

torch::Tensor entry(const StateDict& state, const std::string& name) {
  for (auto& [key, t] : state)
    if (key == name) return t;
  throw std::runtime_error("no " + name);
}

void expect_same(const StateDict& a, const StateDict& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_EQ(a[i].second.scalar_type(), b[i].second.scalar_type()) << a[i].first;
    EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
  }
}

}  // namespace

TEST(Checkpoint, ReadsPytorchSsdCheckpoint) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.pth"));
  StateDict state = read_state_dict(fixture("mb1-ssd-2class-random.pth"));
  ASSERT_FALSE(state.empty());
  EXPECT_EQ(state.front().first, "base_net.0.0.weight");
  bool saw_counter = false;
  for (auto& [key, t] : state) {
    if (key == "base_net.0.1.num_batches_tracked") {
      saw_counter = true;
      EXPECT_EQ(t.scalar_type(), torch::kLong);
      EXPECT_EQ(t.dim(), 0);
    }
  }
  EXPECT_TRUE(saw_counter);
  Ssd net(NetKind::Mb1Ssd, 2);
  load_state_dict(*net, state, LoadMode::Everything, "fixture");
  // The model's keys are exactly the file's, in the same order.
  StateDict ours = state_dict_of(*net);
  expect_same(ours, state);
}

TEST(Checkpoint, PythonTorchLoadsWhatWeWrite) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.pth"));
  TempDir dir;
  StateDict state = read_state_dict(fixture("mb1-ssd-2class-random.pth"));
  write_state_dict(dir.file("ours.pth"), state);
  EXPECT_NE(python("compare " + fixture("mb1-ssd-2class-random.pth") + " " + dir.file("ours.pth")).find("OK"),
            std::string::npos);
}

TEST(Checkpoint, ModelRoundTripThroughPython) {
  // Our model -> our .pth -> Python's torch.load/torch.save -> our reader -> a new model.
  TempDir dir;
  torch::manual_seed(3);
  Ssd net(NetKind::Mb1SsdRelu6, 4);
  net->init_weights();
  write_state_dict(dir.file("ours.pth"), state_dict_of(*net));
  python("resave " + dir.file("ours.pth") + " " + dir.file("python.pth"));
  python("compare " + dir.file("ours.pth") + " " + dir.file("python.pth"));
  Ssd back(NetKind::Mb1SsdRelu6, 4);
  load_state_dict(*back, read_state_dict(dir.file("python.pth")), LoadMode::Everything, "python.pth");
  expect_same(state_dict_of(*back), state_dict_of(*net));
}

TEST(Checkpoint, ReadsLegacyFormatAndStridedViews) {
  TempDir dir;
  python("seed " + dir.file("legacy.pth") + " legacy");
  python("seed " + dir.file("zip.pth"));
  StateDict legacy = read_state_dict(dir.file("legacy.pth"));
  StateDict zip = read_state_dict(dir.file("zip.pth"));
  expect_same(legacy, zip);
  ASSERT_EQ(zip.size(), 4u);
  // "t" was saved as the transpose of arange(6).reshape(2, 3)
  EXPECT_TRUE(torch::equal(zip[3].second, torch::arange(6, torch::kFloat32).reshape({2, 3}).t()));
  EXPECT_EQ(zip[2].second.item<int64_t>(), 3);
}

TEST(Checkpoint, ReadsLegacyPytorchSsdCheckpoint) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.pth"));
  TempDir dir;
  python("resave " + fixture("mb1-ssd-2class-random.pth") + " " + dir.file("legacy.pth") + " legacy");
  expect_same(read_state_dict(dir.file("legacy.pth")), read_state_dict(fixture("mb1-ssd-2class-random.pth")));
}

TEST(Checkpoint, WriteIsAtomic) {
  TempDir dir;
  Ssd net(NetKind::Mb1Ssd, 2);
  write_state_dict(dir.file("a.pth"), state_dict_of(*net));
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) { ++files; (void)e; }
  EXPECT_EQ(files, 1u);  // no temporary file left behind
  EXPECT_NE(error_of([&] { write_state_dict(dir.file("missing/a.pth"), state_dict_of(*net)); })
                .find("missing/a.pth"),
            std::string::npos);
}

TEST(Checkpoint, TruncatedFileIsAClearError) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.pth"));
  const std::string bytes = read_file(fixture("mb1-ssd-2class-random.pth"));
  for (size_t keep : {size_t{0}, size_t{10}, bytes.size() / 2, bytes.size() - 100}) {
    std::string message = error_of([&] { read_state_dict_from_memory(bytes.data(), keep, "cut.pth"); });
    EXPECT_EQ(message.rfind("cut.pth: ", 0), 0u) << "keeping " << keep << " bytes: " << message;
  }
}

TEST(Checkpoint, CorruptFileIsAClearError) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.pth"));
  std::string bytes = read_file(fixture("mb1-ssd-2class-random.pth"));
  // Damage the middle of the archive (tensor bytes): the zip checksum catches it.
  for (size_t i = bytes.size() / 2; i < bytes.size() / 2 + 64; ++i) bytes[i] = static_cast<char>(~bytes[i]);
  std::string message = error_of([&] { read_state_dict_from_memory(bytes.data(), bytes.size(), "bad.pth"); });
  EXPECT_EQ(message.rfind("bad.pth: ", 0), 0u) << message;
  std::string text = "this is not a checkpoint";
  message = error_of([&] { read_state_dict_from_memory(text.data(), text.size(), "text.pth"); });
  EXPECT_NE(message.find("not a PyTorch checkpoint"), std::string::npos) << message;
}

TEST(Checkpoint, StateDictOfAnotherNetIsAClearError) {
  TempDir dir;
  StateDict other = {{"fc.weight", torch::zeros({10, 4})}, {"fc.bias", torch::zeros({10})}};
  write_state_dict(dir.file("other.pth"), other);
  Ssd net(NetKind::Mb1Ssd, 2);
  std::string message = error_of(
      [&] { load_state_dict(*net, read_state_dict(dir.file("other.pth")), LoadMode::Everything, "other.pth"); });
  EXPECT_NE(message.find("other.pth: does not fit the model"), std::string::npos) << message;
  EXPECT_NE(message.find("missing: base_net.0.0.weight"), std::string::npos) << message;
  EXPECT_NE(message.find("unexpected: fc.weight, fc.bias"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST(Checkpoint, WrongClassCountIsAClearErrorUnlessHeadsAreSkipped) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.pth"));
  StateDict state = read_state_dict(fixture("mb1-ssd-2class-random.pth"));
  Ssd net(NetKind::Mb1Ssd, 3);
  std::string message = error_of([&] { load_state_dict(*net, state, LoadMode::Everything, "two.pth"); });
  EXPECT_NE(message.find("classification_headers.0.weight [12,512,3,3] in file, [18,512,3,3] in model "
                         "(the file has 2 classes, the model 3)"),
            std::string::npos)
      << message;
  // --pretrained-ssd: everything but the heads
  auto head_before = param(*net, "classification_headers.0.weight").clone();
  load_state_dict(*net, state, LoadMode::AllButHeads, "two.pth");
  EXPECT_TRUE(torch::equal(param(*net, "classification_headers.0.weight"), head_before));
  EXPECT_TRUE(torch::equal(param(*net, "extras.0.0.weight"), entry(state, "extras.0.0.weight")));
}

TEST(Checkpoint, BaseNetOnlyFromSsdOrBareMobilenet) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.pth"));
  StateDict state = read_state_dict(fixture("mb1-ssd-2class-random.pth"));
  Ssd net(NetKind::Mb1Ssd, 5);
  auto extra_before = param(*net, "extras.0.0.weight").clone();
  load_state_dict(*net, state, LoadMode::BaseNetOnly, "ssd.pth");
  EXPECT_TRUE(torch::equal(param(*net, "extras.0.0.weight"), extra_before));
  EXPECT_TRUE(torch::equal(param(*net, "base_net.0.0.weight"), state[0].second));
  // pytorch-ssd's --base-net files hold a bare MobileNet: "0.0.weight", ...
  StateDict bare;
  for (auto& [key, t] : state)
    if (key.rfind("base_net.", 0) == 0) bare.emplace_back(key.substr(9), t * 2);
  load_state_dict(*net, bare, LoadMode::BaseNetOnly, "bare.pth");
  EXPECT_TRUE(torch::equal(param(*net, "base_net.0.0.weight"), state[0].second * 2));
}

TEST(Checkpoint, FuzzTargetSurvivesMutatedSeeds) {
  const std::string corpus = std::string(EDGESSD_SOURCE_DIR) + "/fuzz/corpus";
  // seed-optimizer-state.pth: --resume's momentum buffers, read by the same reader.
  CommandResult r = run_command(std::string(EDGESSD_FUZZ_REPLAY) + " --mutate 3000 " + corpus + "/seed-zip.pth " +
                                corpus + "/seed-legacy.pth " + corpus + "/seed-optimizer-state.pth");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("replayed 9003 inputs without a crash"), std::string::npos) << r.output;
}
