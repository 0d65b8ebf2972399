// End to end: the real edgessd binary converts the face-api base and trains on a small
// slice of plates-us; checkpoints, labels, metrics and resume are checked on disk.
#include "train_cli_support.h"

using namespace edgessd;
using namespace edgessd::testing;
using namespace edgessd::testing::train_cli;

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
  // Bit for bit, as README says: the weights, momentum and schedule are restored exactly and
  // every random draw is a function of (seed, epoch, step).
  for (size_t i = 0; i < sa.size(); ++i)
    EXPECT_TRUE(torch::equal(sa[i].second, sb[i].second))
        << sa[i].first << ": differs by up to " << (sa[i].second.to(torch::kDouble) - sb[i].second.to(torch::kDouble)).abs().max().item<double>();
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
  // --base-net takes the base net only: another net of the same base (mb1-ssd-lite) may
  // start from it, one of another base may not; vgg16-ssd's extras need 268 px a side.
  for (const auto& [flags, message] : std::vector<std::pair<std::string, std::string>>{
           {"--base-net " + dir_->file("base.pth") + " --net mb2-ssd-lite",
            "--net mb2-ssd-lite: " + dir_->file("base.pth") + " holds an mb1-ssd-relu6"},
           {"--net vgg16-ssd --resolution 256",
            "--resolution 256: vgg16-ssd needs an input of at least 268x268 (its last two extras take 2 cells each); "
            "256x256 is too small"}}) {
    r = edgessd_cli("train --data " + dir_->file("data") + " " + flags + " --model-dir " + dir_->file("never"));
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
