#pragma once
// What a training run settles before its first step. No LibTorch in this header.
#include <utility>

#include "edgessd/common/model_info.h"
#include "edgessd/data/dataset.h"
#include "edgessd/train/trainer.h"

namespace edgessd {

// Every flag a run reads, checked before any work: numbers in range (NaN is never in
// range), a known scheduler, a valid --milestones list, at most one of --base-net and
// --pretrained-ssd, and the start files present. An Error names the flag.
void check_train_options(const TrainOptions& options);

// Training images of every --data root (one class list), and the validation set: each
// root's `validation` split where it has one, else `test` (empty when neither exists).
std::pair<DetectionDataset, DetectionDataset> read_training_data(const TrainOptions& options);

// What a --pretrained-ssd checkpoint's keys tell: its net ("" without one) and, for a net
// with a width multiplier, its width.
struct PretrainedKeys {
  std::string net;
  double width_mult = 1.0;
};

// The net's kind: --net, else --resume's, else the starting checkpoint's (its JSON's, or
// what its keys tell), an mb1-ssd with the stride-8 head, else mb1-ssd-s8.
// --net against a start file's JSON: an Error unless the start fits it (its -s8 twin; for
// --base-net, any net with the same base net).
std::string net_name_of(const TrainOptions& options, const PretrainedKeys& keys);
// mb2-ssd-lite from --pretrained-ssd without --mb2-width-mult: the starting checkpoint's
// width (its JSON's, or what its channel counts tell), not 1.0, so that its weights fit.
TrainOptions with_start_width(TrainOptions options, const std::string& net, const PretrainedKeys& keys);

// The model a run trains: its net, classes, input size and priors. From --resume's JSON
// when resuming (a different --resolution or --priors is an Error); else from the flags,
// the priors fitted to the training boxes for --priors auto.
ModelInfo run_model_info(const TrainOptions& options, const std::string& net,
                         const DetectionDataset& train_set);

// Where and in what precision the run computes: CUDA when asked for and present; on a
// CPU, bf16 autocast for --precision bf16, or auto where the CPU has bf16 instructions.
struct Compute {
  bool cuda = false;
  int cuda_device = 0;  // LOCAL_RANK's GPU in a data-parallel run
  bool bf16 = false;
};
// --precision auto: bf16 autocast where the CPU has it and the input is at least
// kMinBf16Side on both sides (README, "Precision"); smaller inputs train in fp32.
constexpr int kMinBf16Side = 256;
Compute choose_compute(const TrainOptions& options, int input_width, int input_height);

// The log's account of the data (images, boxes, classes per split) and of the priors
// against the training boxes (best possible recall, with a warning naming the fix).
void log_data(const DetectionDataset& train_set, const DetectionDataset& val_set);
void log_prior_coverage(const DetectionDataset& train_set, const ModelInfo& info);

// What every rank of a data-parallel run must hold alike: its training and validation
// sets (image file names, boxes, labels) and the priors fitted to them, as counts and a
// 64-bit hash, each named (an image unreadable on one machine changes them).
struct RunFingerprint {
  std::vector<int64_t> values;
  std::vector<std::string> names;
};
RunFingerprint run_fingerprint(const DetectionDataset& train_set, const DetectionDataset& val_set, const ModelInfo& info);

}  // namespace edgessd
