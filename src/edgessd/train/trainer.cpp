#include "edgessd/train/trainer.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>
#include <sstream>

#include "edgessd/common/error.h"
#include "edgessd/common/parallel.h"
#include "edgessd/common/files.h"
#include "edgessd/common/logging.h"
#include "edgessd/common/progress.h"
#include "edgessd/data/loader.h"
#include "edgessd/eval/evaluate.h"
#include "edgessd/model/ssd_predictor.h"
#include "edgessd/model/checkpoint.h"
#include "edgessd/model/model_open.h"
#include "edgessd/common/checkpoint_name.h"
#include "edgessd/common/defaults.h"
#include "edgessd/train/optimizer_state.h"
#include "edgessd/model/cpu_autocast.h"
#include "edgessd/common/model_info.h"
#include "edgessd/model/ssd.h"
#include "edgessd/train/multibox_loss.h"
#include "edgessd/train/train_setup.h"
#include "edgessd/train/distributed.h"
#include "edgessd/train/gradient_reducer.h"
#include "edgessd/train/run_files.h"
#include "edgessd/train/training_run.h"
#include "edgessd/train/weight_average.h"
#include "edgessd/model/sync_batch_norm.h"

namespace edgessd {

namespace {

struct LossSums {
  double total = 0, regression = 0, classification = 0;
  size_t steps = 0;
  void add(double r, double c) { regression += r; classification += c; total += r + c; ++steps; }
  double mean(double v) const { return steps ? v / steps : 0; }
};

torch::Device device_of(const Compute& c) {
  return c.cuda ? torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(c.cuda_device)) : torch::Device(torch::kCPU);
}

std::vector<torch::Tensor> floating(const std::vector<torch::Tensor>& tensors) {
  std::vector<torch::Tensor> out;
  for (const auto& t : tensors)
    if (t.is_floating_point()) out.push_back(t);
  return out;
}

// Rank 0's values of `tensors` on every rank, in one broadcast.
void broadcast_flat(ProcessGroup& group, const std::vector<torch::Tensor>& tensors) {
  if (tensors.empty()) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> flat_parts;
  for (const auto& t : tensors) flat_parts.push_back(t.reshape(-1).to(torch::kFloat32));
  auto flat = torch::cat(flat_parts);
  group.broadcast(flat, 0);
  int64_t offset = 0;
  for (auto t : tensors) {
    t.copy_(flat.narrow(0, offset, t.numel()).view(t.sizes()));
    offset += t.numel();
  }
}

// The net to train, its weights loaded from --resume, --base-net or --pretrained-ssd.
struct StartNet {
  Ssd net{nullptr};
  ModelInfo info;
  int start_epoch = 0;
};

// What --pretrained-ssd's keys tell (nothing without one): its net, and for `net` with a
// width multiplier, its width unless --mb2-width-mult gives one.
PretrainedKeys keys_of(const TrainOptions& options, const StateDict& pretrained, const std::string& net = "") {
  PretrainedKeys keys;
  if (pretrained.empty()) return keys;
  keys.net = net_of_keys(pretrained);
  ModelInfo start_info;  // a model JSON names the width itself
  if (is_net_or_its_twin(keys.net, net) && net_has_width_mult(net) && !options.width_mult &&
      !load_model_info(options.pretrained_ssd, start_info))
    keys.width_mult = width_mult_of(pretrained, options.pretrained_ssd);
  return keys;
}

StartNet start_net(const TrainOptions& options, const ModelInfo& info, const Compute& compute,
                   const StateDict& pretrained) {
  StartNet s;
  s.info = info;
  torch::manual_seed(options.seed);  // the fresh layers' init is part of the run's seed
  s.net = Ssd(info);
  s.net->init_weights();
  if (!options.resume.empty()) {
    log_info("Resume from the model " + options.resume);
    if (!options.base_net.empty() || !options.pretrained_ssd.empty())
      log_info("--resume replaces --base-net / --pretrained-ssd (as in pytorch-ssd)");
    load_state_dict(*s.net, read_state_dict(options.resume), LoadMode::Everything, options.resume);
    s.start_epoch = load_training_state(options.resume).epoch + 1;
  } else if (!options.base_net.empty()) {
    log_info("Init from base net " + options.base_net);
    load_state_dict(*s.net, read_state_dict(options.base_net), LoadMode::BaseNetOnly, options.base_net);
  } else if (!options.pretrained_ssd.empty()) {
    log_info("Init from pretrained ssd " + options.pretrained_ssd);
    load_state_dict(*s.net, pretrained, LoadMode::AllButHeads, options.pretrained_ssd);
  } else {
    log_warning("no --pretrained-ssd, --base-net or --resume: training from scratch");
  }
  s.net->to(device_of(compute));
  if (compute.bf16) {
    torch::NoGradGuard no_grad;
    for (auto& p : s.net->parameters())
      if (p.dim() == 4) p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
  }
  return s;
}

// A run in progress: the net, its optimizer, the loaders and the loss, and the steps of
// one epoch (training, validation) over them.
class Training {
 public:
  Training(const TrainOptions& options, const Compute& compute, StartNet& start, Sgd& sgd,
           const DetectionDataset& train_set, const DetectionDataset& val_set, ProcessGroup* group);
  size_t batches_per_epoch() const { return train_loader_->batches_per_epoch(); }
  // One pass over the training data; the loss sums and speed go into `metrics`.
  void train_epoch(EpochMetrics& metrics, const std::string& last_good);
  // The loss and mAP on the validation set, when there is one.
  void validate(EpochMetrics& metrics, const std::string& last_good);
  WeightAverage* average() { return average_ ? &*average_ : nullptr; }  // --ema's, or null

 private:
  double validation_map();
  std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> to_tensors(Batch& b) const;
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& images);
  torch::Tensor objective(const MultiboxLossValue& loss, double& regression, double& classification);
  std::pair<double, double> group_loss(const MultiboxLossValue* loss, double& divisor);
  size_t validation_steps() const;
  void warm_up(const EpochMetrics& metrics, size_t step);
  void log_debug_window(int epoch, size_t step, size_t steps, LossSums& window) const;

  const TrainOptions& options_;
  Compute compute_;
  Ssd net_;
  torch::optim::SGD& optimizer_;
  PriorBoxes priors_;
  PriorMatcher matcher_;
  std::unique_ptr<DataLoader> train_loader_, val_loader_;
  MultiboxLoss criterion_{3};
  int input_width_, input_height_;
  const DetectionDataset& val_set_;
  const ModelInfo& info_;
  ProcessGroup* group_;  // nullptr: one process
  std::unique_ptr<GradientReducer> reducer_;
  std::optional<WeightAverage> average_;
};

Training::Training(const TrainOptions& options, const Compute& compute, StartNet& start, Sgd& sgd,
                   const DetectionDataset& train_set, const DetectionDataset& val_set, ProcessGroup* group)
    : options_(options), compute_(compute), net_(start.net), optimizer_(*sgd.optimizer),
      priors_(priors_of(start.info)),
      matcher_(priors_, start.info.center_variance, start.info.size_variance, mobilenet_v1_ssd_config().iou_threshold),
      input_width_(start.info.input_width), input_height_(start.info.input_height), val_set_(val_set),
      info_(start.info), group_(group) {
  LoaderOptions train_options;
  if (group_) {
    train_options.rank = group_->rank();
    train_options.world_size = group_->size();
    std::vector<torch::Tensor> trained;
    for (auto& p : net_->parameters())
      if (p.requires_grad()) trained.push_back(p);
    reducer_ = std::make_unique<GradientReducer>(*group_, trained);
  }
  train_options.batch_size = options.batch_size;
  train_options.workers = options.workers;
  train_options.seed = options.seed;
  train_options.input.width = input_width_;
  train_options.input.height = input_height_;
  train_options.input.mean = start.info.image_mean;
  train_options.input.std = start.info.image_std;
  train_options.jitter = options.jitter;
  train_loader_ = std::make_unique<DataLoader>(train_set, matcher_, train_options);
  LoaderOptions val_options = train_options;
  val_options.shuffle = false;
  val_options.augment = false;
  val_options.pad_shards = false;
  if (!val_set.images.empty()) val_loader_ = std::make_unique<DataLoader>(val_set, matcher_, val_options);
  else log_warning("nothing to validate on: checkpoints are named by the training loss");
  if (options.ema > 0) average_.emplace(*net_, options.ema);
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> Training::to_tensors(Batch& b) const {
  const int64_t P = static_cast<int64_t>(priors_.size());
  auto images = torch::from_blob(b.images.data(), {b.size, 3, input_height_, input_width_}, torch::kFloat32)
                    .to(device_of(compute_));
  if (compute_.bf16) images = images.contiguous(at::MemoryFormat::ChannelsLast);
  auto labels = torch::from_blob(b.labels.data(), {b.size, P}, torch::kInt64).to(device_of(compute_));
  auto locations = torch::from_blob(b.locations.data(), {b.size, P, 4}, torch::kFloat32).to(device_of(compute_));
  return {images, labels, locations};
}

std::pair<torch::Tensor, torch::Tensor> Training::forward(const torch::Tensor& images) {
  if (!compute_.bf16) return net_->forward(images);
  set_cpu_autocast(true);
  auto out = net_->forward(images);
  set_cpu_autocast(false);
  at::autocast::clear_cache();
  return {out.first.to(torch::kFloat32), out.second.to(torch::kFloat32)};
}

// The batch's loss parts over the whole group's batch: the ranks' sums over the group's
// positive count, so W ranks of batch B report what one process of batch W x B would.
// `loss` null: this rank has no batch left in this step (a shorter validation shard).
std::pair<double, double> Training::group_loss(const MultiboxLossValue* loss, double& divisor) {
  auto sums = torch::zeros({3}, torch::kFloat64);
  if (loss)
    sums = torch::stack({loss->regression_sum.detach().to(torch::kFloat64).cpu(),
                         loss->classification_sum.detach().to(torch::kFloat64).cpu(),
                         torch::full({}, static_cast<double>(loss->num_positive), torch::kFloat64)});
  sums = sums.to(device_of(compute_));
  group_->all_reduce_sum(sums);
  sums = sums.cpu();
  divisor = std::max(sums[2].item<double>(), 1.0);
  return {sums[0].item<double>() / divisor, sums[1].item<double>() / divisor};
}

// The loss to differentiate, and its two parts as logged. In a group each rank's sums are
// divided by the group's positive count and scaled by the group size, so the averaged
// gradient is the one a single process would get from the group's whole batch.
torch::Tensor Training::objective(const MultiboxLossValue& loss, double& regression, double& classification) {
  if (!group_) {
    regression = loss.regression.item<double>();
    classification = loss.classification.item<double>();
    return loss.regression + loss.classification;
  }
  double divisor = 1;
  std::tie(regression, classification) = group_loss(&loss, divisor);
  return (loss.regression_sum + loss.classification_sum) * (group_->size() / divisor);
}

// The linear warm-up's share of each group's scheduled rate at this step.
void Training::warm_up(const EpochMetrics& metrics, size_t step) {
  const double steps = static_cast<double>(batches_per_epoch());
  const double warmup_steps = options_.warmup_epochs * steps;
  if (warmup_steps <= 0) return;
  const double factor = std::min(1.0, (metrics.epoch * steps + step + 1) / warmup_steps);
  for (size_t g = 0; g < optimizer_.param_groups().size(); ++g)
    set_lr(optimizer_, g, metrics.learning_rates[g] * factor);
}

// pytorch-ssd's every-debug-steps line, when the progress bar is not on a terminal.
void Training::log_debug_window(int epoch, size_t step, size_t steps, LossSums& window) const {
  if (Progress::stderr_is_terminal() || options_.debug_steps <= 0 || (step + 1) % options_.debug_steps != 0) return;
  char line[256];
  std::snprintf(line, sizeof line,
                "Epoch: %d, Step: %zu/%zu, Avg Loss: %.4f, Avg Regression Loss %.4f, Avg Classification Loss: %.4f",
                epoch, step + 1, steps, window.mean(window.total), window.mean(window.regression),
                window.mean(window.classification));
  log_info(line);
  window = LossSums();
}

void Training::train_epoch(EpochMetrics& metrics, const std::string& last_good) {
  const auto start = std::chrono::steady_clock::now();
  net_->train();
  train_loader_->start_epoch(metrics.epoch);
  const size_t steps = batches_per_epoch();
  Progress progress("Epoch " + std::to_string(metrics.epoch) + ", step", steps, options_.debug_steps);
  LossSums sums, window;
  size_t images_seen = 0;
  double reduce_seconds = 0;
  Batch batch;
  for (size_t step = 0; train_loader_->next(batch); ++step) {
    warm_up(metrics, step);
    auto [images, labels, gt_locations] = to_tensors(batch);
    optimizer_.zero_grad();
    if (group_ && !options_.sync_bn) broadcast_flat(*group_, floating(net_->buffers()));  // DDP's broadcast_buffers
    auto [confidences, locations] = forward(images);
    double r = 0, c = 0;
    auto total = objective(criterion_(confidences, locations, labels, gt_locations), r, c);
    if (!std::isfinite(r) || !std::isfinite(c))
      throw Error("loss became " + std::string(std::isnan(r + c) ? "NaN" : "infinite") + " at epoch " +
                  std::to_string(metrics.epoch) + ", step " + std::to_string(step) + "; training stopped" +
                  (last_good.empty() ? "" : ", the last good checkpoint is " + last_good) +
                  (compute_.bf16 ? " (under bf16 autocast: --precision fp32 may train)" : ""));
    total.backward();
    if (reducer_) reduce_seconds += reducer_->finish();  // clipping below sees the group's mean gradient
    if (options_.clip_grad_norm > 0) torch::nn::utils::clip_grad_norm_(net_->parameters(), options_.clip_grad_norm);
    optimizer_.step();
    if (average_) average_->update();
    sums.add(r, c);
    window.add(r, c);
    images_seen += static_cast<size_t>(batch.size) * (group_ ? group_->size() : 1);
    char status[96];
    std::snprintf(status, sizeof status, "loss %.4f", sums.mean(sums.total));
    progress.update(step + 1, status, images_seen);
    log_debug_window(metrics.epoch, step, steps, window);
  }
  progress.finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics.train_loss = sums.mean(sums.total);
  metrics.train_regression = sums.mean(sums.regression);
  metrics.train_classification = sums.mean(sums.classification);
  metrics.images_per_second = images_seen / seconds;
  char line[320];
  const int n = std::snprintf(line, sizeof line,
                              "Epoch: %d, Training Loss: %.4f, Training Regression Loss %.4f, Training "
                              "Classification Loss: %.4f, %.1f images/s",
                              metrics.epoch, metrics.train_loss, metrics.train_regression,
                              metrics.train_classification, metrics.images_per_second);
  if (reducer_ && steps > 0)
    std::snprintf(line + n, sizeof line - n, " (all %d ranks), gradient all-reduce wait %.1f ms/step",
                  group_->size(), 1000 * reduce_seconds / steps);
  log_info(line);
}

// Every rank takes the same number of validation steps, the longest shard's (the
// shortest shards may sit out the last one), so that their all-reduces pair up.
size_t Training::validation_steps() const {
  if (!group_) return val_loader_->batches_per_epoch();
  const size_t longest = (val_set_.images.size() + group_->size() - 1) / group_->size();
  return (longest + options_.batch_size - 1) / options_.batch_size;
}

void Training::validate(EpochMetrics& metrics, const std::string& last_good) {
  if (!val_loader_) return;
  net_->eval();
  torch::NoGradGuard no_grad;
  val_loader_->start_epoch(0);
  LossSums val;
  Batch batch;
  for (size_t step = 0; step < validation_steps(); ++step) {
    std::optional<MultiboxLossValue> loss;
    if (val_loader_->next(batch)) {
      auto [images, labels, gt_locations] = to_tensors(batch);
      auto [confidences, locations] = forward(images);
      loss = criterion_(confidences, locations, labels, gt_locations);
    }
    if (!group_) {
      val.add(loss->regression.item<double>(), loss->classification.item<double>());
      continue;
    }
    double divisor = 1;
    auto [r, c] = group_loss(loss ? &*loss : nullptr, divisor);
    val.add(r, c);
  }
  metrics.validated = true;
  metrics.val_loss = val.mean(val.total);
  if (!std::isfinite(metrics.val_loss))
    throw Error("validation loss became " + std::string(std::isnan(metrics.val_loss) ? "NaN" : "infinite") +
                " at epoch " + std::to_string(metrics.epoch) + "; training stopped" +
                (last_good.empty() ? "" : ", the last good checkpoint is " + last_good) +
                  (compute_.bf16 ? " (under bf16 autocast: --precision fp32 may train)" : ""));
  metrics.val_regression = val.mean(val.regression);
  metrics.val_classification = val.mean(val.classification);
  metrics.val_map = validation_map();
  char line[256];
  std::snprintf(line, sizeof line,
                "Epoch: %d, Validation Loss: %.4f, Validation Regression Loss %.4f, Validation Classification "
                "Loss: %.4f, Validation mAP: %.4f",
                metrics.epoch, metrics.val_loss, metrics.val_regression, metrics.val_classification, metrics.val_map);
  log_info(line);
}

// eval_ssd.py's mAP of the net as it stands, on the validation images: what the user
// will measure, so the checkpoint kept as best.pth is chosen by it and not by the loss.
double Training::validation_map() {
  SsdPredictor predictor(net_, info_);
  const EvalResult r = evaluate(val_set_, [&](const cv::Mat& rgb) { return predictor.predict(rgb); }, {});
  return std::isfinite(r.mean_average_precision) ? r.mean_average_precision : 0.0;
}

// Joins the data-parallel group (README, "Training on several processes or machines"):
// every rank starts from rank 0's weights, as DistributedDataParallel does.
std::unique_ptr<ProcessGroup> join_group(const TrainOptions& options, const RankEnvironment& env,
                                         const Compute& compute, Ssd& net) {
  if (!env.distributed()) {
    if (options.sync_bn) log_info("--sync-bn: one process, nothing to synchronise");
    return nullptr;
  }
  const std::string backend = resolve_dist_backend(options.dist_backend, compute.cuda);
  log_info("Joining as rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) + " (" + backend +
           ", master " + env.master_addr + ":" + std::to_string(env.master_port) + ")");
  auto group = std::make_unique<ProcessGroup>(env, backend, std::chrono::seconds(options.dist_timeout),
                                              std::chrono::seconds(options.dist_join_timeout));
  broadcast_flat(*group, net->parameters());
  broadcast_flat(*group, floating(net->buffers()));
  if (options.sync_bn) {
    ProcessGroup* g = group.get();
    set_batch_norm_sync(*net, std::make_shared<AllReduceSum>([g](at::Tensor& t) { g->all_reduce_sum(t); }));
  }
  log_info("All " + std::to_string(env.world_size) + " ranks joined: global batch " +
           std::to_string(options.batch_size * env.world_size) + " (" + std::to_string(options.batch_size) +
           " per rank)" + (options.sync_bn ? ", BatchNorm synchronised" : ""));
  return group;
}

// Each local rank's share of the cores when --threads is 0.
int threads_for_rank(int threads, const RankEnvironment& env) {
  if (threads != 0 || env.local_world_size <= 1) return threads;
  return std::max(1, hardware_threads() / env.local_world_size);
}

// One epoch: its learning rates, a pass over the training data and, on a checkpoint
// epoch, validation (of the --ema average, which is also what is saved) and the checkpoint.
EpochMetrics run_epoch(const TrainOptions& options, int epoch, Training& training, Sgd& sgd, StartNet& start,
                       TrainingRun& run) {
  const auto epoch_start = std::chrono::steady_clock::now();
  EpochMetrics metrics;
  metrics.epoch = epoch;
  for (size_t g = 0; g < sgd.base_lrs.size(); ++g) {
    metrics.learning_rates.push_back(scheduled_lr(options, sgd.base_lrs[g], epoch));
    set_lr(*sgd.optimizer, g, metrics.learning_rates.back());
  }
  const std::string last_good = run.last_checkpoint().empty() ? options.resume : run.last_checkpoint();
  training.train_epoch(metrics, last_good);
  if (epoch % options.validation_epochs == 0 || epoch == options.epochs - 1) {
    const AveragedWeights averaged(training.average());
    training.validate(metrics, last_good);
    run.checkpoint(epoch, metrics.validated ? metrics.val_loss : metrics.train_loss, metrics.val_map,
                   [&](const std::string& path) {
                     save_checkpoint(path, options, start.info, start.net, *sgd.optimizer, metrics);
                   });
  }
  metrics.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
  return metrics;
}

}  // namespace

TrainResult train(const TrainOptions& options) {
  check_train_options(options);
  const RankEnvironment env = rank_environment();
  if (env.rank > 0) set_info_logging(false);
  set_torch_threads(threads_for_rank(options.threads, env));
  log_info("Prepare training datasets.");
  auto [train_set, val_set] = read_training_data(options);
  log_data(train_set, val_set);
  // --pretrained-ssd read once: its keys may tell the net, then its weights start the run.
  StateDict pretrained = options.pretrained_ssd.empty() ? StateDict{} : read_state_dict(options.pretrained_ssd);
  const std::string net = net_name_of(options, keys_of(options, pretrained));
  const ModelInfo info = run_model_info(with_start_width(options, net, keys_of(options, pretrained, net)), net, train_set);
  Compute compute = choose_compute(options, info.input_width, info.input_height);
  if (compute.cuda) compute.cuda_device = env.local_rank;
  log_prior_coverage(train_set, info);
  StartNet start = start_net(options, info, compute, pretrained);
  pretrained = StateDict{};  // loaded: no second copy of the weights for the whole run
  Sgd sgd = make_sgd(options, start.net);
  const std::unique_ptr<ProcessGroup> group = join_group(options, env, compute, start.net);
  if (group) {
    const RunFingerprint fingerprint = run_fingerprint(train_set, val_set, start.info);
    check_ranks_agree(*group, fingerprint.values, fingerprint.names, "training data or priors");
  }
  const bool writer = env.rank == 0;  // rank 0 alone writes the model dir
  const NewFolderGuard made(writer ? options.model_dir : "");
  // No validation mAP is -1, so a run without validation data keeps no best.pth.
  TrainingRun run(options.model_dir, start.info.net, metrics_header(sgd.base_lrs.size()), -1, "validation mAP", writer);
  if (writer) {
    make_folder(options.model_dir, "--model-dir");  // only once the data and the start are known good
    write_labels(join_path(options.model_dir, "labels.txt"), train_set.class_names);
  }
  run.prepare(start.start_epoch, [](const std::string& best) { return load_training_state(best).val_map; });
  Training training(options, compute, start, sgd, train_set, val_set, group.get());

  TrainResult result;
  if (start.start_epoch >= options.epochs)
    log_warning("already trained " + std::to_string(start.start_epoch) + " epochs; nothing to do for --epochs " +
                std::to_string(options.epochs));
  run.run(start.start_epoch, options.epochs, [&](int epoch) {
    result.epochs.push_back(run_epoch(options, epoch, training, sgd, start, run));
    return metrics_row(result.epochs.back());
  });
  result.last_checkpoint = run.last_checkpoint();
  if (group) group->barrier();  // the others wait for rank 0's last files
  return result;
}

}  // namespace edgessd
