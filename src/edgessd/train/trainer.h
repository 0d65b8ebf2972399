#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "edgessd/common/defaults.h"
#include "edgessd/data/augmentation.h"
#include "edgessd/data/dataset.h"

namespace edgessd {

// pytorch-ssd's train_ssd.py flags, same meaning and defaults, plus a few of ours.
struct TrainOptions {
  DatasetType dataset_type = DatasetType::OpenImages;
  std::vector<std::string> data;
  bool balance_data = false;
  // The small-object defaults (README, "Small objects"); pytorch-ssd's exact run is
  // --net <the start's> --resolution 300 --priors ssd --clip-grad-norm 0.
  std::string net;         // empty: --resume's; else the start's net with the stride-8 head (mb1-ssd-s8 without one)
  std::string resolution;  // "W" or "WxH"; empty: --resume's, else kDefaultResolution
  std::string priors;      // ssd | auto | auto-stored; empty: --resume's, else auto
  ShapeJitter jitter{kDefaultStretch, kDefaultZoomIn};  // --stretch, --zoom-in
  std::optional<double> width_mult;  // mb2-ssd-lite's channel scale; empty: --resume's, else 1
  std::string pretrained_ssd;  // everything but the heads
  std::string base_net;        // base net only
  std::string resume;          // everything, plus optimizer, scheduler and epoch
  bool freeze_base_net = false;
  bool freeze_net = false;
  double lr = 0.01;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  double gamma = 0.1;
  std::optional<double> base_net_lr = 0.001;  // pytorch-ssd's default
  std::optional<double> extra_layers_lr;      // default: lr
  std::string scheduler = "cosine";           // cosine | multi-step
  std::string milestones = "80,100";
  double t_max = 100;
  int batch_size = 4;
  int epochs = 30;
  int workers = 2;
  int validation_epochs = 1;
  int debug_steps = 10;
  bool use_cuda = true;
  std::string model_dir = "models";
  uint64_t seed = 1;
  std::string precision = "auto";  // auto | fp32 | bf16 (CPU autocast; auto = bf16 where the CPU has it)
  int threads = 0;                 // LibTorch intra-op threads, 0 = all cores
  double warmup_epochs = 0;        // linear learning-rate warm-up from the first step
  // Clip the gradients' global L2 norm to this before each step (0: none, as pytorch-ssd).
  // Not in pytorch-ssd: from a pretrained base, the fresh heads' first gradients (norms in
  // the hundreds) kill most ReLU6 units of the extra layers within the first epoch, in
  // pytorch-ssd as here, and the outcome becomes a lottery (see README, train accuracy).
  double clip_grad_norm = 10;
  // An average of the weights for validation and checkpoints (train/weight_average.h):
  // its per-step decay, 0 = none.
  double ema = 0;
  // Data-parallel runs (README, "Training on several processes or machines"): this process
  // is one rank when WORLD_SIZE > 1 is set as torchrun sets it.
  bool sync_bn = false;               // BatchNorm statistics over the whole group's batch
  std::string dist_backend = "auto";  // auto | gloo | nccl
  int dist_timeout = 1800;            // seconds a collective waits for the others (PyTorch's default)
  int dist_join_timeout = 300;        // seconds the rendezvous waits for every rank to join
};

struct EpochMetrics {
  int epoch = 0;
  double train_loss = 0, train_regression = 0, train_classification = 0;
  double val_loss = 0, val_regression = 0, val_classification = 0;
  bool validated = false;
  double val_map = -1;  // mAP on the validation set (eval_ssd.py's, VOC07 11-point); < 0: none
  std::vector<double> learning_rates;
  double images_per_second = 0;
  double seconds = 0;
};

struct TrainResult {
  std::vector<EpochMetrics> epochs;
  std::string last_checkpoint;
};

// The learning rate of epoch `epoch` (0-based) for a group whose initial rate is `base`:
// CosineAnnealingLR (eta_min 0) or MultiStepLR, stepped once per epoch as pytorch-ssd does.
double scheduled_lr(const TrainOptions& options, double base, int epoch);

// Trains as train_ssd.py does; writes labels.txt, checkpoints with their model JSON and
// optimizer state, metrics.csv and loss.png into model_dir, and keeps the checkpoint of
// best validation mAP as best.pth + best.json.
TrainResult train(const TrainOptions& options);

}  // namespace edgessd
