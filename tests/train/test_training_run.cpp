// The training-run skeleton both trainers share: checkpoint names, best.pth chosen by the
// score, metrics rows, a fresh run's leftovers removed and a resumed run's kept.
#include <algorithm>
#include <cmath>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/model_info.h"
#include "edgessd/train/train_setup.h"
#include "edgessd/train/training_run.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;

namespace {

// A "checkpoint" whose bytes and JSON say which epoch wrote them.
void save_epoch(const std::string& path, int epoch) {
  write_file_atomic(path, "weights of epoch " + std::to_string(epoch));
  write_file_atomic(model_info_path(path), "{\"epoch\": " + std::to_string(epoch) + "}");
}

size_t lines(const std::string& path) {
  const std::string text = read_file(path);
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// Epochs with these scores; each returns "epoch,score" as its metrics row.
void run_epochs(TrainingRun& run, int from, const std::vector<double>& scores) {
  run.run(from, from + static_cast<int>(scores.size()), [&](int epoch) {
    const double score = scores[static_cast<size_t>(epoch - from)];
    run.checkpoint(epoch, 1.5 - 0.25 * epoch, score, [&](const std::string& path) { save_epoch(path, epoch); });
    return std::to_string(epoch) + "," + std::to_string(score);
  });
}

}  // namespace

TEST(TrainingRun, NamesCheckpointsKeepsTheBestAndWritesOneMetricsRowAnEpoch) {
  TempDir dir;
  TrainingRun run(dir.path(), "mb1-ssd", "epoch,score", -1, "validation mAP");
  run.prepare(0, [](const std::string&) -> double { throw Error("a fresh run reads no best.json"); });
  run_epochs(run, 0, {0.2, 0.5, 0.4});
  EXPECT_EQ(run.last_checkpoint(), dir.file("mb1-ssd-Epoch-2-Loss-1.0.pth"));
  EXPECT_TRUE(std::filesystem::exists(dir.file("mb1-ssd-Epoch-0-Loss-1.5.pth")));
  EXPECT_EQ(read_file(run.best_path()), "weights of epoch 1");
  EXPECT_EQ(read_file(model_info_path(run.best_path())), "{\"epoch\": 1}");
  EXPECT_DOUBLE_EQ(run.best_score(), 0.5);
  EXPECT_EQ(read_file(run.metrics_path()), "epoch,score\n0,0.200000\n1,0.500000\n2,0.400000\n");

  // Resumed at epoch 3: the rows go on, and best.json's score (read back) is the one to beat.
  TrainingRun resumed(dir.path(), "mb1-ssd", "epoch,score", -1, "validation mAP");
  resumed.prepare(3, [](const std::string& best) { return read_file(model_info_path(best)) == "{\"epoch\": 1}" ? 0.5 : -9; });
  run_epochs(resumed, 3, {0.45});
  EXPECT_EQ(read_file(resumed.best_path()), "weights of epoch 1") << "0.45 does not beat 0.5";
  EXPECT_EQ(lines(resumed.metrics_path()), 5u);

  // A fresh run into the same folder starts its own metrics and best.
  TrainingRun fresh(dir.path(), "mb1-ssd", "epoch,score", -1, "validation mAP");
  fresh.prepare(0, [](const std::string&) { return 1.0; });
  EXPECT_FALSE(std::filesystem::exists(fresh.metrics_path()));
  EXPECT_FALSE(std::filesystem::exists(fresh.best_path()));
  run_epochs(fresh, 0, {0.1});
  EXPECT_EQ(read_file(fresh.best_path()), "weights of epoch 0");
  EXPECT_EQ(lines(fresh.metrics_path()), 2u);
}

// The rank that does not write (rank > 0 of a data-parallel run) touches nothing.
TEST(TrainingRun, ANonWritingRankWritesNothing) {
  TempDir dir;
  TrainingRun run(dir.path(), "mb1-ssd", "epoch,score", -1, "validation mAP", /*writer=*/false);
  run.prepare(0, [](const std::string&) { return 0.0; });
  bool saved = false;
  run.run(0, 2, [&](int epoch) {
    run.checkpoint(epoch, 1.0, 0.5 + epoch, [&](const std::string&) { saved = true; });
    return std::string("row");
  });
  EXPECT_FALSE(saved);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
  EXPECT_DOUBLE_EQ(run.best_score(), 1.5);
}

TEST(TrainingRun, CosineFallsFromTheBaseToZero) {
  EXPECT_DOUBLE_EQ(cosine_lr(0.01, 0, 100), 0.01);
  EXPECT_NEAR(cosine_lr(0.01, 50, 100), 0.005, 1e-15);
  EXPECT_NEAR(cosine_lr(0.01, 100, 100), 0.0, 1e-15);
}

// Without --net, a start file's mb1-ssd trains with its stride-8 twin (the default head)
// while a lite net stays itself (so pytorch-ssd still loads it); the lite nets' twins are
// taken when asked for, with the start's width multiplier.
TEST(TrainSetup, LiteNetsKeepTheirNetUnlessTheStride8TwinIsAsked) {
  TempDir dir;
  TrainOptions o;
  o.pretrained_ssd = dir.file("pytorch-ssd.pth");  // no model JSON beside it: its keys tell the net
  EXPECT_EQ(net_name_of(o, PretrainedKeys{"mb1-ssd", 1.0}), "mb1-ssd-s8");
  EXPECT_EQ(net_name_of(o, PretrainedKeys{"mb1-ssd-lite", 1.0}), "mb1-ssd-lite");
  EXPECT_EQ(net_name_of(o, PretrainedKeys{"mb2-ssd-lite", 0.5}), "mb2-ssd-lite");
  o.net = "mb2-ssd-lite-s8";
  EXPECT_EQ(net_name_of(o, PretrainedKeys{"mb2-ssd-lite", 0.5}), "mb2-ssd-lite-s8");
  EXPECT_EQ(with_start_width(o, o.net, PretrainedKeys{"mb2-ssd-lite", 0.5}).width_mult, 0.5);
}
