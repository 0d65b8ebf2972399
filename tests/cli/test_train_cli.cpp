// End to end: the real edgessd binary converts the face-api base and trains on a small
// slice of plates-us; checkpoints, labels, metrics and resume are checked on disk.
#include <nlohmann/json.hpp>

#include <regex>

#include "edgessd/common/csv.h"
#include "edgessd/common/files.h"
#include "edgessd/model/checkpoint.h"
#include "edgessd/common/model_info.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;

namespace {

CommandResult edgessd_cli(const std::string& args) { return run_command(std::string(EDGESSD_CLI) + " " + args); }

// A copy of plates-us with the first `n` images of each split (images symlinked).
void make_slice(const std::string& dir, const std::map<std::string, size_t>& counts) {
  for (const auto& [split, n] : counts) {
    std::filesystem::create_directories(dir + "/" + split);
    const std::string csv_path = plates_dir() + "/sub-" + split + "-annotations-bbox.csv";
    CsvTable table(read_file(csv_path), csv_path);
    std::string text;
    {
      std::ifstream in(csv_path);
      std::getline(in, text);
      text += "\n";
    }
    std::ifstream in(csv_path);
    std::string line;
    std::getline(in, line);
    for (size_t r = 0; r < n && std::getline(in, line); ++r) {
      text += line + "\n";
      const std::string id = line.substr(0, line.find(','));
      std::filesystem::create_symlink(plates_dir() + "/" + split + "/" + id + ".jpg", dir + "/" + split + "/" + id + ".jpg");
    }
    write_file_atomic(dir + "/sub-" + split + "-annotations-bbox.csv", text);
  }
}

std::vector<std::string> checkpoints(const std::string& dir) {
  std::vector<std::string> out;
  for (auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".pth" && e.path().filename() != "best.pth") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string checkpoint_of_epoch(const std::string& dir, int epoch) {
  for (const auto& c : checkpoints(dir))
    if (c.find("-Epoch-" + std::to_string(epoch) + "-Loss-") != std::string::npos) return c;
  return "";
}

class TrainCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(plates_dir())) return;
    dir_ = new TempDir();
    make_slice(dir_->file("data"), {{"train", 8}, {"validation", 4}, {"test", 4}});
    CommandResult r = edgessd_cli("convert --from face-api --calibration " + plates_dir() +
                                  "/train --calibration-images 16 --output " + dir_->file("base.pth"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  static void TearDownTestSuite() { delete dir_; }
  void SetUp() override { EDGESSD_REQUIRE_FILE(plates_dir()); }
  static std::string train_args(const std::string& model_dir, int epochs, const std::string& lr = "0.001") {
    // fp32 on one thread: bit-for-bit repeatable, so a resumed run can be compared.
    return "train --data " + dir_->file("data") + " --pretrained-ssd " + dir_->file("base.pth") +
           " --epochs " + std::to_string(epochs) + " --batch-size 4 --workers 1 --threads 1 --precision fp32"
           " --lr " + lr + " --base-net-lr " + lr + " --model-dir " + model_dir;
  }
  static TempDir* dir_;
};
TempDir* TrainCli::dir_ = nullptr;

}  // namespace

TEST_F(TrainCli, TrainsWritesCheckpointsAndResumesExactly) {
  const std::string straight = dir_->file("straight");
  CommandResult r = edgessd_cli(train_args(straight, 3));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Validation on " + dir_->file("data") + " 'validation' split"), std::string::npos) << r.output;
  EXPECT_EQ(read_file(straight + "/labels.txt"), "BACKGROUND\nVehicle registration plate\n");
  ASSERT_EQ(checkpoints(straight).size(), 3u);
  for (int e = 0; e < 3; ++e) {
    const std::string c = checkpoint_of_epoch(straight, e);
    ASSERT_FALSE(c.empty()) << "epoch " << e;
    EXPECT_TRUE(std::filesystem::exists(c.substr(0, c.size() - 4) + ".json"));
    EXPECT_TRUE(std::filesystem::exists(c.substr(0, c.size() - 4) + ".optim.pt"));
  }
  EXPECT_TRUE(std::filesystem::exists(straight + "/loss.png"));
  CsvTable metrics(read_file(straight + "/metrics.csv"), "metrics.csv");
  ASSERT_EQ(metrics.rows(), 3u);
  const double first = parse_float_field(metrics, 0, metrics.column("train_loss"));
  const double last = parse_float_field(metrics, 2, metrics.column("train_loss"));
  EXPECT_LT(last, first) << "training loss should fall over three epochs";
  EXPECT_GT(parse_float_field(metrics, 2, metrics.column("images_per_second")), 0);
  auto info = nlohmann::json::parse(read_file(model_info_path(checkpoint_of_epoch(straight, 2))));
  EXPECT_EQ(info["net"], "mb1-ssd-relu6-s8");  // the base's net (its JSON) with the stride-8 head
  EXPECT_EQ(info["training"]["epoch"], 2);
  // The validation mAP of every epoch, and the best epoch's weights kept as best.pth.
  double best_map = -1;
  int best_epoch = -1;
  for (size_t row = 0; row < 3; ++row) {
    const double map = parse_float_field(metrics, row, metrics.column("val_mAP"));
    EXPECT_GE(map, 0.0);
    if (map > best_map) best_map = map, best_epoch = static_cast<int>(row);
  }
  ASSERT_TRUE(std::filesystem::exists(straight + "/best.pth"));
  auto best = nlohmann::json::parse(read_file(straight + "/best.json"));
  EXPECT_EQ(best["training"]["epoch"], best_epoch);
  EXPECT_NEAR(best["training"]["val_mAP"].get<double>(), best_map, 1e-5);
  EXPECT_EQ(read_file(straight + "/best.pth"), read_file(checkpoint_of_epoch(straight, best_epoch)));

  // Two epochs, then --resume for the third: the same weights as the straight run.
  const std::string resumed = dir_->file("resumed");
  r = edgessd_cli(train_args(resumed, 2));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = edgessd_cli(train_args(resumed, 3) + " --resume " + checkpoint_of_epoch(resumed, 1));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Restored optimizer state"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("Epoch: 0,"), std::string::npos) << "resume must not redo epochs";
  const std::string a = checkpoint_of_epoch(straight, 2), b = checkpoint_of_epoch(resumed, 2);
  ASSERT_FALSE(b.empty());
  StateDict sa = read_state_dict(a), sb = read_state_dict(b);
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i)
    EXPECT_TRUE(torch::allclose(sa[i].second.to(torch::kDouble), sb[i].second.to(torch::kDouble), 1e-5, 1e-6))
        << sa[i].first;
  CsvTable resumed_metrics(read_file(resumed + "/metrics.csv"), "metrics.csv");
  EXPECT_EQ(resumed_metrics.rows(), 3u);
}

TEST_F(TrainCli, DivergenceStopsWithTheStepNamedAndKeepsTheLastCheckpoint) {
  const std::string dir = dir_->file("diverge");
  CommandResult r = edgessd_cli(train_args(dir, 1));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string good = checkpoint_of_epoch(dir, 0);
  r = edgessd_cli(train_args(dir, 3, "1e30") + " --resume " + good);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  // Either a training step or the validation after it sees the blow-up first.
  EXPECT_NE(r.output.find("loss became"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("at epoch 1"), std::string::npos) << r.output;
  EXPECT_EQ(checkpoints(dir).size(), 1u) << "no checkpoint of a diverged epoch";
  EXPECT_NE(r.output.find("the last good checkpoint is " + good), std::string::npos) << r.output;
  EXPECT_TRUE(std::filesystem::exists(good));
}

TEST_F(TrainCli, BadFlagsAndDataAreClearErrors) {
  CommandResult r = edgessd_cli("train --data " + dir_->file("nope") + " --model-dir " + dir_->file("m"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("--data " + dir_->file("nope") + ": not a folder"), std::string::npos) << r.output;
  r = edgessd_cli("train --data " + dir_->file("data") + " --pretrained-ssd " + dir_->file("missing.pth") +
                  " --model-dir " + dir_->file("m"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("missing.pth"), std::string::npos) << r.output;
  EXPECT_NE(edgessd_cli("train --data x --scheduler linear").exit_code, 0);
  for (const auto& [flags, message] : std::vector<std::pair<std::string, std::string>>{
           {"--resolution 16", "--resolution 16: expected W or WxH, each within 32..4096"},
           {"--resolution 300x", "--resolution 300x: expected W or WxH"},
           {"--resolution 300x300x3", "--resolution 300x300x3: expected W or WxH"},
           {"--priors magic", "--priors"},
           {"--net mb1-ssd-s8", "--net mb1-ssd-s8: " + dir_->file("base.pth") + " holds an mb1-ssd-relu6"}}) {
    r = edgessd_cli("train --data " + dir_->file("data") + " --pretrained-ssd " + dir_->file("base.pth") + " " + flags +
                    " --model-dir " + dir_->file("never"));
    EXPECT_EQ(r.exit_code, 1) << flags;
    EXPECT_NE(r.output.find(message), std::string::npos) << flags << ": " << r.output;
    EXPECT_FALSE(std::filesystem::exists(dir_->file("never"))) << flags;
  }
}

// --clip-grad-norm bounds each step's update by lr x the norm, --warmup-epochs scales the
// first steps' learning rate down, and --ema saves an average that still holds the earlier
// weights: all checked on how far the base net's first convolution moves in two plain-SGD
// steps (no momentum, no weight decay), against an unclipped step.
TEST_F(TrainCli, GradientClippingAndWarmupBoundTheFirstSteps) {
  auto moved = [&](const std::string& name, const std::string& flags) {
    const std::string dir = dir_->file(name);
    CommandResult r = edgessd_cli(train_args(dir, 1, "0.01") + " --momentum 0 --weight-decay 0 " + flags);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    if (r.exit_code != 0) return -1.0;
    StateDict before = read_state_dict(dir_->file("base.pth")), after = read_state_dict(checkpoint_of_epoch(dir, 0));
    auto find = [](const StateDict& s, const std::string& key) {
      for (const auto& [k, t] : s)
        if (k == key) return t;
      ADD_FAILURE() << key << " missing";
      return torch::Tensor();
    };
    double most = 0;
    for (const std::string key : {"base_net.0.0.weight", "extras.0.0.weight"})
      most = std::max(most, (find(after, key) - find(before, key)).abs().max().item<double>());
    return most;
  };
  const double free_step = moved("unclipped", "--clip-grad-norm 0");
  const double clipped = moved("clipped", "--clip-grad-norm 1e-9");
  const double warm = moved("warmup", "--clip-grad-norm 0 --warmup-epochs 1e9");
  const double averaged = moved("ema", "--clip-grad-norm 0 --ema 0.9");
  EXPECT_GT(free_step, 1e-4);
  EXPECT_GE(clipped, 0);
  EXPECT_LT(clipped, 1e-6) << "two steps of lr 0.01 with the gradient norm clipped to 1e-9";
  EXPECT_GE(warm, 0);
  EXPECT_LT(warm, 1e-6) << "the first steps of a 1e9-epoch warm-up";
  EXPECT_GT(averaged, 0);
  EXPECT_LT(averaged, 0.9 * free_step) << "--ema: the checkpoint is an average that still holds the base's weights";
}

// A data set with neither a validation nor a test split still gets its checkpoints, named
// by the training loss (it used to train every epoch and save nothing).
TEST_F(TrainCli, NoValidationSplitStillSavesCheckpoints) {
  const std::string data = dir_->file("train-only");
  make_slice(data, {{"train", 4}});
  const std::string dir = dir_->file("train-only-model");
  CommandResult r = edgessd_cli("train --data " + data + " --pretrained-ssd " + dir_->file("base.pth") +
                                " --epochs 2 --batch-size 4 --workers 1 --threads 1 --precision fp32 --model-dir " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("checkpoints are named by the training loss"), std::string::npos) << r.output;
  ASSERT_EQ(checkpoints(dir).size(), 2u) << r.output;
  CsvTable metrics(read_file(dir + "/metrics.csv"), "metrics.csv");
  const double loss = parse_float_field(metrics, 1, metrics.column("train_loss"));
  const std::string last = checkpoint_of_epoch(dir, 1);
  EXPECT_NEAR(std::stod(last.substr(last.find("-Loss-") + 6)), loss, 1e-4 * std::abs(loss));  // CSV rounds
  auto info = nlohmann::json::parse(read_file(model_info_path(last)));
  EXPECT_TRUE(info["training"].contains("train_loss"));
}

// pytorch-ssd's usage offers --base-net and --pretrained-ssd as alternatives: both at once
// is an error, not one file's net with the other's weights.
TEST_F(TrainCli, StartingPointsAreMutuallyExclusive) {
  CommandResult r = edgessd_cli(train_args(dir_->file("both"), 1) + " --base-net " + dir_->file("base.pth"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("--base-net and --pretrained-ssd: give only one of them"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir_->file("both/labels.txt")));
}

// The optimizer state of --resume is read by our own restricted .pth reader: a hostile or
// foreign file is one clear error naming it, never torch::load's trust.
TEST_F(TrainCli, ResumeReadsOptimizerStateSafely) {
  const std::string dir = dir_->file("optim");
  CommandResult r = edgessd_cli(train_args(dir, 1));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string good = checkpoint_of_epoch(dir, 0);
  const std::string optim = good.substr(0, good.size() - 4) + ".optim.pt";
  StateDict state = read_state_dict(optim);  // our .pth format, momentum per parameter
  ASSERT_FALSE(state.empty());
  EXPECT_NE(state.front().first.find(".momentum_buffer"), std::string::npos);

  const std::string saved = read_file(optim);
  for (const std::string& hostile : {std::string("PK\x03\x04 not a zip at all"), saved.substr(0, saved.size() / 2)}) {
    write_file_atomic(optim, hostile);
    r = edgessd_cli(train_args(dir, 2) + " --resume " + good);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find(optim), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
  }
  // A state whose shapes do not fit the net.
  state.front().second = torch::zeros({3});
  write_state_dict(optim, state);
  r = edgessd_cli(train_args(dir, 2) + " --resume " + good);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("does not fit its parameter"), std::string::npos) << r.output;
}

// --resolution, --priors auto and the stride-8 head reach the model JSON and the ONNX;
// a resumed run keeps them, and an ONNX model refuses another size.
TEST_F(TrainCli, ResolutionPriorsAndStride8HeadReachTheModelAndItsExport) {
  const std::string data = dir_->file("data16");
  make_slice(data, {{"train", 16}, {"validation", 2}});
  const std::string dir = dir_->file("s8");
  const std::string args = "train --data " + data + " --pretrained-ssd " + dir_->file("base.pth") +
                           " --net mb1-ssd-relu6-s8 --batch-size 8 --workers 1 --threads 1 --precision fp32 --lr 0.001"
                           " --model-dir " + dir;  // fp32 and a small rate: a 16-image bf16 run once diverged
  CommandResult r = edgessd_cli(args + " --epochs 1 --resolution 256x192 --priors auto");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("mb1-ssd-relu6-s8 at 256x192"), std::string::npos) << r.output;
  const std::string checkpoint = checkpoint_of_epoch(dir, 0);
  auto info = nlohmann::json::parse(read_file(model_info_path(checkpoint)));
  EXPECT_EQ(info["input_size"], nlohmann::json::array({256, 192}));
  EXPECT_EQ(info["priors"]["kind"], "auto");
  ASSERT_EQ(info["priors"]["maps"].size(), 7u);
  EXPECT_EQ(info["priors"]["maps"][0]["boxes"].size(), 6u);  // fitted to the 16 plates

  r = edgessd_cli(args + " --epochs 2 --resolution 300 --resume " + checkpoint);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--resolution 300: " + checkpoint + " was trained at 256x192"), std::string::npos) << r.output;
  r = edgessd_cli(args + " --epochs 2 --resume " + checkpoint);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(nlohmann::json::parse(read_file(model_info_path(checkpoint_of_epoch(dir, 1))))["priors"], info["priors"]);

  r = edgessd_cli("export --model-dir " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("best.pth"), std::string::npos) << r.output;
  const std::string onnx = dir + "/ssd-mobilenet.onnx";
  r = edgessd_cli("bench --model " + onnx + " --engine onednn --threads 1 --runs 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("256x192 input, " + std::to_string((32 * 24 + 16 * 12 + 8 * 6 + 4 * 3 + 2 * 2 + 1 + 1) * 6) +
                          " priors"),
            std::string::npos)
      << r.output;
  r = edgessd_cli("eval --model " + onnx + " --dataset " + data + " --split validation --resolution 300");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("takes 256x192 (fixed at export); export the checkpoint again with --resolution 300"),
            std::string::npos)
      << r.output;
}

namespace {

// Every file name of a model dir, the loss in checkpoint names masked (it differs in the
// last digits between a one-rank and a two-rank run).
std::vector<std::string> file_names_without_loss(const std::string& dir) {
  std::vector<std::string> out;
  for (auto& e : std::filesystem::directory_iterator(dir))
    out.push_back(std::regex_replace(e.path().filename().string(), std::regex("Loss-[0-9.e+-]+\\."), "Loss-X."));
  std::sort(out.begin(), out.end());
  return out;
}

std::string distributed_args(const std::string& data, const std::string& base) {
  return "train --data " + data + " --pretrained-ssd " + base +
         " --resolution 300 --lr 0.01 --base-net-lr 0.01 --workers 1 --threads 1 --precision fp32 --debug-steps 1";
}

}  // namespace

// DistributedDataParallel's promise: 2 ranks x batch 2 with synchronised BatchNorm take the
// steps of 1 rank x batch 4 (the same images per step: the sampler interleaves one order).
// Tolerance 1e-3 of each tensor's largest value (+1e-5): float32 sums in another order
// (per rank, then all-reduced) differ by ~1e-7 a step and 4 SGD steps grew that to 3e-5
// here; a real fault (a gradient not averaged, a wrong shard, BN not synced) is 1e-2 or more.
TEST_F(TrainCli, TwoRanksFollowOneRankOfTheWholeBatch) {
  TempDir t;
  const std::string args = distributed_args(dir_->file("data"), dir_->file("base.pth")) + " --epochs 2 --sync-bn";
  const CommandResult one = edgessd_cli(args + " --batch-size 4 --model-dir " + t.file("one"));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const CommandResult two = edgessd_cli(args + " --batch-size 2 --nproc-per-node 2 --master-port " +
                                        std::to_string(free_tcp_port()) + " --model-dir " + t.file("two"));
  ASSERT_EQ(two.exit_code, 0) << two.output;
  EXPECT_NE(two.output.find("[launcher] rank 1: pid"), std::string::npos) << two.output;
  EXPECT_NE(two.output.find("[rank 0] "), std::string::npos);
  EXPECT_NE(two.output.find("All 2 ranks joined: global batch 4 (2 per rank), BatchNorm synchronised"),
            std::string::npos) << two.output;
  EXPECT_EQ(file_names_without_loss(t.file("one")), file_names_without_loss(t.file("two")))
      << "rank 0 alone writes, the same files as one process";
  const StateDict a = read_state_dict(checkpoint_of_epoch(t.file("one"), 1));
  const StateDict b = read_state_dict(checkpoint_of_epoch(t.file("two"), 1));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const auto& [name, tensor] = a[i];
    ASSERT_EQ(name, b[i].first);
    if (!tensor.is_floating_point()) continue;
    const double worst = (tensor - b[i].second).abs().max().item<double>();
    EXPECT_LE(worst, 1e-3 * tensor.abs().max().item<double>() + 1e-5) << name;
  }
}

// A rank killed mid-epoch: the other stops within the timeout naming it, the last
// finished epoch's checkpoint is intact, and one rank resumes from it to the end. The
// launcher, likewise, stops as a whole and names the rank.
TEST_F(TrainCli, LostRankStopsTheOthersAndOneRankResumes) {
  TempDir t;
  const std::string args = distributed_args(dir_->file("data"), dir_->file("base.pth")) +
                           " --epochs 4 --batch-size 2 --dist-timeout 20 --model-dir " + t.file("m");
  const std::string cli = EDGESSD_CLI;
  const CommandResult r = run_command(
      "cd " + t.path() + " && export WORLD_SIZE=2 MASTER_PORT=" + std::to_string(free_tcp_port()) + "; RANK=0 " +
      cli + " " + args + " >r0.log 2>&1 & p0=$!; RANK=1 " + cli + " " + args + " >r1.log 2>&1 & p1=$!; "
      "for i in $(seq 1200); do [ -f m/metrics.csv ] && break; sleep 0.1; done; kill -9 $p1; s=$(date +%s%N); "
      "wait $p0; rc=$?; echo \"rank 0 exit $rc after $(( ($(date +%s%N) - s) / 1000000 )) ms\"; tail -1 r0.log");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("rank 0 exit (\\d+) after (\\d+) ms"))) << r.output;
  EXPECT_NE(m[1], "0");
  EXPECT_LT(std::stoi(m[2]), 20000) << r.output;
  // The step's first collective: the buffers' broadcast (no --sync-bn) or an all-reduce.
  EXPECT_TRUE(std::regex_search(r.output, std::regex("edgessd: error: rank 0: lost rank 1 during (an all-reduce|a broadcast)")))
      << r.output;
  const std::string last = checkpoint_of_epoch(t.file("m"), 0);
  ASSERT_FALSE(last.empty());
  EXPECT_TRUE(checkpoint_of_epoch(t.file("m"), 1).empty());
  EXPECT_NO_THROW(read_state_dict(last));
  const CommandResult resumed = edgessd_cli(distributed_args(dir_->file("data"), dir_->file("base.pth")) +
                                            " --epochs 2 --batch-size 4 --resume " + last + " --model-dir " + t.file("m"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_FALSE(checkpoint_of_epoch(t.file("m"), 1).empty());

  const CommandResult launched = run_command(
      "cd " + t.path() + "; " + cli + " " + distributed_args(dir_->file("data"), dir_->file("base.pth")) +
      " --epochs 4 --batch-size 2 --model-dir l --nproc-per-node 2 --master-port " + std::to_string(free_tcp_port()) +
      " >l.log 2>&1 & lp=$!; for i in $(seq 1200); do [ -f l/metrics.csv ] && break; sleep 0.1; done; "
      "kill -9 $(sed -n 's/^\\[launcher\\] rank 1: pid //p' l.log); wait $lp; echo \"launcher exit $?\"; tail -1 l.log");
  EXPECT_NE(launched.output.find("launcher exit 1"), std::string::npos) << launched.output;
  EXPECT_TRUE(std::regex_search(launched.output, std::regex(
      "edgessd: error: rank 1 \\(pid \\d+\\) was killed by signal 9 \\(Killed\\); the other ranks were stopped")))
      << launched.output;
}

// Set-up faults are one line naming the flag or variable, before any file is written.
TEST_F(TrainCli, DistributedSetUpErrorsAreOneLineAndWriteNothing) {
  TempDir t;
  const std::string args = distributed_args(dir_->file("data"), dir_->file("base.pth")) +
                           " --epochs 1 --batch-size 2 --dist-timeout 5 --dist-join-timeout 5 --model-dir " + t.file("m");
  const int busy_port = free_tcp_port();
  const int busy = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(busy_port));
  ASSERT_EQ(bind(busy, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  listen(busy, 1);
  const std::string cli = EDGESSD_CLI;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {cli + " " + args + " --nproc-per-node 2 --master-port " + std::to_string(busy_port),
       "edgessd: error: --master-port " + std::to_string(busy_port) + ": already in use on 127.0.0.1"},
      {"WORLD_SIZE=2 RANK=0 MASTER_PORT=" + std::to_string(busy_port) + " " + cli + " " + args,
       "the port is already in use (--master-port / MASTER_PORT)"},
      {"WORLD_SIZE=2 RANK=1 MASTER_PORT=" + std::to_string(free_tcp_port()) + " " + cli + " " + args,
       "rank 1 cannot reach the master at 127.0.0.1:"},
      {"WORLD_SIZE=2 RANK=2 " + cli + " " + args, "edgessd: error: RANK='2': expected a whole number from 0 to 1"},
      {cli + " " + args + " --nproc-per-node 1 --nnodes 2 --node-rank 2 --master-addr 127.0.0.1",
       "edgessd: error: --node-rank 2: must be below --nnodes 2"},
      {cli + " " + args + " --nproc-per-node 1 --nnodes 2 --node-rank 1",
       "edgessd: error: --nnodes 2: give --master-addr, node 0's address that the other machines reach"},
      {cli + " " + args + " --nproc-per-node 1000",
       "edgessd: error: --nproc-per-node 1000: more ranks than this machine's "},
      {"RANK=1 " + cli + " " + args, "edgessd: error: RANK is set without WORLD_SIZE"},
      {"WORLD_SIZE=2 RANK=0 " + cli + " " + args + " --dist-backend nccl", "--dist-backend nccl:"},
  };
  for (const auto& [command, expected] : cases) {
    const CommandResult r = run_command(command);
    EXPECT_EQ(r.exit_code, 1) << command << "\n" << r.output;
    EXPECT_NE(r.output.find(expected), std::string::npos) << command << "\n" << r.output;
    const std::string last = r.output.substr(r.output.rfind('\n', r.output.size() - 2) + 1);
    EXPECT_EQ(last.rfind("edgessd: error: ", 0), 0u) << "one error line, last: " << r.output;
    EXPECT_FALSE(std::filesystem::exists(t.file("m"))) << command;
  }
  // Two processes that disagree on WORLD_SIZE: both say so, also when rank 1 comes late
  // (rank 0, which serves the store, once exited first and rank 1 died of a broken pipe).
  const std::string port = std::to_string(free_tcp_port());
  const CommandResult mismatch = run_command("(WORLD_SIZE=2 RANK=0 MASTER_PORT=" + port + " " + cli + " " + args +
                                             " & sleep 1; WORLD_SIZE=3 RANK=1 MASTER_PORT=" + port + " " + cli + " " +
                                             args + "; wait)");
  EXPECT_NE(mismatch.output.find("rank 1 has WORLD_SIZE 3 but rank 0 has 2"), std::string::npos) << mismatch.output;
  EXPECT_NE(mismatch.output.find("rank 0 has WORLD_SIZE 2 but rank 1 has 3"), std::string::npos) << mismatch.output;
  EXPECT_EQ(mismatch.output.find("internal error"), std::string::npos) << mismatch.output;
  EXPECT_FALSE(std::filesystem::exists(t.file("m")));
  close(busy);
}

// PyTorch's env:// start, by hand: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT and nothing
// else train as the launcher's ranks do (rank 0 writes one set of files). A rank that stops
// before joining (here LOCAL_RANK without LOCAL_WORLD_SIZE) makes rank 0 say whom it waits
// for and stop within --dist-join-timeout naming it, long before --dist-timeout.
TEST_F(TrainCli, EnvStartTrainsAndAMissingRankIsNamedWithinTheJoinTimeout) {
  TempDir t;
  const std::string cli = EDGESSD_CLI;
  const std::string args = distributed_args(dir_->file("data"), dir_->file("base.pth")) + " --epochs 1";
  const CommandResult one = edgessd_cli(args + " --batch-size 4 --model-dir " + t.file("one"));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const std::string two_args = args + " --batch-size 2 --model-dir two";
  const CommandResult two = run_command(
      "cd " + t.path() + " && export WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" +
      std::to_string(free_tcp_port()) + "; RANK=0 " + cli + " " + two_args + " >r0.log 2>&1 & p0=$!; RANK=1 " + cli +
      " " + two_args + " >r1.log 2>&1; r1=$?; wait $p0; echo \"exits $? $r1\"; cat r0.log r1.log");
  EXPECT_NE(two.output.find("exits 0 0"), std::string::npos) << two.output;
  EXPECT_NE(two.output.find("All 2 ranks joined: global batch 4 (2 per rank)"), std::string::npos) << two.output;
  EXPECT_EQ(file_names_without_loss(t.file("one")), file_names_without_loss(t.file("two")));

  const CommandResult missing = run_command(
      "cd " + t.path() + " && export WORLD_SIZE=2 MASTER_PORT=" + std::to_string(free_tcp_port()) +
      "; s=$(date +%s%N); RANK=0 " + cli + " " + args + " --dist-join-timeout 7 --model-dir m >r0.log 2>&1 & p0=$!; "
      "RANK=1 LOCAL_RANK=1 " + cli + " " + args + " --model-dir m >r1.log 2>&1; r1=$?; wait $p0; "
      "echo \"exits $? $r1 after $(( ($(date +%s%N) - s) / 1000000 )) ms\"; cat r0.log r1.log");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(missing.output, m, std::regex("exits (\\d+) (\\d+) after (\\d+) ms")))
      << missing.output;
  EXPECT_EQ(m[1], "1");
  EXPECT_EQ(m[2], "1");
  EXPECT_LT(std::stoi(m[3]), 60000) << missing.output;
  EXPECT_NE(missing.output.find("edgessd: error: LOCAL_RANK='1' is set without LOCAL_WORLD_SIZE"), std::string::npos)
      << missing.output;
  EXPECT_NE(missing.output.find("rank 0: 1 of 2 ranks joined, waiting for rank 1 (5 s of --dist-join-timeout 7)"),
            std::string::npos) << missing.output;
  EXPECT_NE(missing.output.find("edgessd: error: rank 0: rank 1 did not join within 7 s (WORLD_SIZE 2, "
                                "--dist-join-timeout)"),
            std::string::npos) << missing.output;
  EXPECT_FALSE(std::filesystem::exists(t.file("m")));
}
