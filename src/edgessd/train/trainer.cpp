#include "edgessd/train/trainer.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "edgessd/common/error.h"
#include "edgessd/common/parallel.h"
#include "edgessd/common/files.h"
#include "edgessd/common/logging.h"
#include "edgessd/common/progress.h"
#include "edgessd/data/loader.h"
#include "edgessd/data/prior_coverage.h"
#include "edgessd/eval/evaluate.h"
#include "edgessd/model/ssd_predictor.h"
#include "edgessd/model/checkpoint.h"
#include "edgessd/common/checkpoint_name.h"
#include "edgessd/train/optimizer_state.h"
#include "edgessd/model/cpu_autocast.h"
#include "edgessd/common/model_info.h"
#include "edgessd/model/ssd.h"
#include "edgessd/train/loss_plot.h"
#include "edgessd/train/multibox_loss.h"
#include "edgessd/train/train_setup.h"

namespace edgessd {

namespace {

std::string optimizer_path(const std::string& checkpoint) {
  std::filesystem::path p(checkpoint);
  p.replace_extension(".optim.pt");
  return p.string();
}

// One epoch's checkpoint: weights, optimizer state and model JSON with the training state.
// Named by the validation loss, or by the training loss when there is nothing to validate on.
// The epoch of best validation mAP so far is also written as best.pth + best.json.
std::string save_checkpoint(const TrainOptions& options, const ModelInfo& info, Ssd& net,
                            const torch::optim::SGD& optimizer, const EpochMetrics& metrics, bool best) {
  const double loss = metrics.validated ? metrics.val_loss : metrics.train_loss;
  const std::string path = join_path(options.model_dir, checkpoint_file_name(info.net, metrics.epoch, loss));
  StateDict state = state_dict_of(*net);
  for (auto& [key, t] : state) t = t.to(torch::kCPU).contiguous();
  write_state_dict(path, state);
  save_sgd_state(optimizer, optimizer_path(path));
  const TrainingState training{metrics.epoch, metrics.validated, loss, options.seed, metrics.val_map};
  save_model_info(path, info, training);
  log_info("Saved model " + path);
  if (best) {
    const std::string best_path = join_path(options.model_dir, kBestCheckpoint);
    write_state_dict(best_path, state);
    save_model_info(best_path, info, training);
  }
  return path;
}

// The best validation mAP of the run so far: best.json's when resuming, else none.
double best_map_so_far(const TrainOptions& options, int start_epoch) {
  const std::string best = join_path(options.model_dir, kBestCheckpoint);
  if (start_epoch == 0 || !std::filesystem::exists(model_info_path(best))) return -1;
  return load_training_state(best).val_map;
}

struct LossSums {
  double total = 0, regression = 0, classification = 0;
  size_t steps = 0;
  void add(double r, double c) { regression += r; classification += c; total += r + c; ++steps; }
  double mean(double v) const { return steps ? v / steps : 0; }
};

void append_metrics(const std::string& path, const EpochMetrics& m, size_t groups) {
  std::string text;
  if (!std::filesystem::exists(path)) {
    text = "epoch,train_loss,train_regression_loss,train_classification_loss,val_loss,val_regression_loss,"
           "val_classification_loss";
    for (size_t g = 0; g < groups; ++g) text += ",lr_group" + std::to_string(g);
    text += ",images_per_second,seconds,val_mAP\n";
  } else {
    text = read_file(path);
  }
  std::ostringstream row;
  row.precision(6);
  row << m.epoch << "," << m.train_loss << "," << m.train_regression << "," << m.train_classification << ",";
  if (m.validated) row << m.val_loss << "," << m.val_regression << "," << m.val_classification;
  else row << ",,";
  for (double lr : m.learning_rates) row << "," << lr;
  row << "," << m.images_per_second << "," << m.seconds << ",";
  if (m.val_map >= 0) row << m.val_map;
  row << "\n";
  write_file_atomic(path, text + row.str());
}

torch::Device device_of(const Compute& c) { return c.cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU); }

// The net to train, its weights loaded from --resume, --base-net or --pretrained-ssd.
struct StartNet {
  Ssd net{nullptr};
  ModelInfo info;
  int start_epoch = 0;
};

// The net's kind: --net, else --resume's, else the starting checkpoint's with the stride-8
// head, else mb1-ssd-s8.
std::string net_name_of(const TrainOptions& options) {
  const std::string start_file =
      !options.resume.empty() ? options.resume : options.pretrained_ssd + options.base_net;  // at most one of the two
  ModelInfo start_info;
  const bool has_start_info = !start_file.empty() && load_model_info(start_file, start_info);
  // A stride-8 net starts from its plain twin: they share every layer but the heads.
  if (options.net.empty()) {
    if (!has_start_info) return "mb1-ssd-s8";
    if (!options.resume.empty() || net_has_stride8_head(start_info.net)) return start_info.net;
    return start_info.net + "-s8";
  }
  const bool twin = options.resume.empty() && options.net == start_info.net + "-s8";
  if (has_start_info && start_info.net != options.net && !twin)
    throw Error("--net " + options.net + ": " + start_file + " holds an " + start_info.net + " (see its JSON)");
  return options.net;
}

StartNet start_net(const TrainOptions& options, const ModelInfo& info, const Compute& compute) {
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
    load_state_dict(*s.net, read_state_dict(options.pretrained_ssd), LoadMode::AllButHeads, options.pretrained_ssd);
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

// pytorch-ssd's SGD parameter groups (base net, extras, heads; frozen parts left out),
// each with its base learning rate; momentum restored when resuming.
struct Sgd {
  std::unique_ptr<torch::optim::SGD> optimizer;
  std::vector<double> base_lrs;
};

Sgd make_sgd(const TrainOptions& options, Ssd& net) {
  auto params_of = [](std::initializer_list<torch::nn::Module*> modules) {
    std::vector<torch::Tensor> out;
    for (auto* m : modules)
      for (auto& p : m->parameters()) out.push_back(p);
    return out;
  };
  auto freeze = [](torch::nn::Module& m) {
    for (auto& p : m.parameters()) p.set_requires_grad(false);
  };
  Sgd sgd;
  std::vector<torch::optim::OptimizerParamGroup> groups;
  auto add_group = [&](std::vector<torch::Tensor> params, double lr) {
    auto group_options = std::make_unique<torch::optim::SGDOptions>(lr);
    group_options->momentum(options.momentum).weight_decay(options.weight_decay);
    groups.emplace_back(std::move(params), std::move(group_options));
    sgd.base_lrs.push_back(lr);
  };
  auto heads = params_of({net->regression_headers.ptr().get(), net->classification_headers.ptr().get()});
  if (options.freeze_base_net) {
    log_info("Freeze base net.");
    freeze(*net->base_net);
    add_group(params_of({net->extras.ptr().get()}), options.extra_layers_lr.value_or(options.lr));
  } else if (options.freeze_net) {
    log_info("Freeze all the layers except prediction heads.");
    freeze(*net->base_net);
    freeze(*net->extras);
  } else {
    add_group(params_of({net->base_net.ptr().get()}), options.base_net_lr.value_or(options.lr));
    add_group(params_of({net->extras.ptr().get()}), options.extra_layers_lr.value_or(options.lr));
  }
  add_group(heads, options.lr);
  sgd.optimizer = std::make_unique<torch::optim::SGD>(
      groups, torch::optim::SGDOptions(options.lr).momentum(options.momentum).weight_decay(options.weight_decay));
  if (!options.resume.empty()) {
    const std::string path = optimizer_path(options.resume);
    if (std::filesystem::exists(path)) {
      load_sgd_state(*sgd.optimizer, path);
      log_info("Restored optimizer state (momentum) from " + path);
    } else {
      log_warning(path + " not found: momentum starts from zero");
    }
  }
  return sgd;
}

void set_lr(torch::optim::SGD& optimizer, size_t group, double lr) {
  static_cast<torch::optim::SGDOptions&>(optimizer.param_groups()[group].options()).lr(lr);
}

// A run in progress: the net, its optimizer, the loaders and the loss, and the steps of
// one epoch (training, validation) over them.
class Training {
 public:
  Training(const TrainOptions& options, const Compute& compute, StartNet& start, Sgd& sgd,
           const DetectionDataset& train_set, const DetectionDataset& val_set);
  size_t batches_per_epoch() const { return train_loader_->batches_per_epoch(); }
  // One pass over the training data; the loss sums and speed go into `metrics`.
  void train_epoch(EpochMetrics& metrics, const std::string& last_good);
  // The loss and mAP on the validation set, when there is one.
  void validate(EpochMetrics& metrics, const std::string& last_good);

 private:
  double validation_map();
  std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> to_tensors(Batch& b) const;
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& images);
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
};

Training::Training(const TrainOptions& options, const Compute& compute, StartNet& start, Sgd& sgd,
                   const DetectionDataset& train_set, const DetectionDataset& val_set)
    : options_(options), compute_(compute), net_(start.net), optimizer_(*sgd.optimizer),
      priors_(priors_of(start.info)),
      matcher_(priors_, start.info.center_variance, start.info.size_variance, mobilenet_v1_ssd_config().iou_threshold),
      input_width_(start.info.input_width), input_height_(start.info.input_height), val_set_(val_set),
      info_(start.info) {
  LoaderOptions train_options;
  train_options.batch_size = options.batch_size;
  train_options.workers = options.workers;
  train_options.seed = options.seed;
  train_options.input.width = input_width_;
  train_options.input.height = input_height_;
  train_options.input.mean = start.info.image_mean;
  train_options.input.std = start.info.image_std;
  train_loader_ = std::make_unique<DataLoader>(train_set, matcher_, train_options);
  LoaderOptions val_options = train_options;
  val_options.shuffle = false;
  val_options.augment = false;
  if (!val_set.images.empty()) val_loader_ = std::make_unique<DataLoader>(val_set, matcher_, val_options);
  else log_warning("nothing to validate on: checkpoints are named by the training loss");
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
  Batch batch;
  for (size_t step = 0; train_loader_->next(batch); ++step) {
    warm_up(metrics, step);
    auto [images, labels, gt_locations] = to_tensors(batch);
    optimizer_.zero_grad();
    auto [confidences, locations] = forward(images);
    auto loss = criterion_(confidences, locations, labels, gt_locations);
    const double r = loss.regression.item<double>(), c = loss.classification.item<double>();
    if (!std::isfinite(r) || !std::isfinite(c))
      throw Error("loss became " + std::string(std::isnan(r + c) ? "NaN" : "infinite") + " at epoch " +
                  std::to_string(metrics.epoch) + ", step " + std::to_string(step) + "; training stopped" +
                  (last_good.empty() ? "" : ", the last good checkpoint is " + last_good));
    (loss.regression + loss.classification).backward();
    if (options_.clip_grad_norm > 0) torch::nn::utils::clip_grad_norm_(net_->parameters(), options_.clip_grad_norm);
    optimizer_.step();
    sums.add(r, c);
    window.add(r, c);
    images_seen += batch.size;
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
  char line[256];
  std::snprintf(line, sizeof line,
                "Epoch: %d, Training Loss: %.4f, Training Regression Loss %.4f, Training Classification Loss: "
                "%.4f, %.1f images/s",
                metrics.epoch, metrics.train_loss, metrics.train_regression, metrics.train_classification,
                metrics.images_per_second);
  log_info(line);
}

void Training::validate(EpochMetrics& metrics, const std::string& last_good) {
  if (!val_loader_) return;
  net_->eval();
  torch::NoGradGuard no_grad;
  val_loader_->start_epoch(0);
  LossSums val;
  Batch batch;
  while (val_loader_->next(batch)) {
    auto [images, labels, gt_locations] = to_tensors(batch);
    auto [confidences, locations] = forward(images);
    auto loss = criterion_(confidences, locations, labels, gt_locations);
    val.add(loss.regression.item<double>(), loss.classification.item<double>());
  }
  metrics.validated = true;
  metrics.val_loss = val.mean(val.total);
  if (!std::isfinite(metrics.val_loss))
    throw Error("validation loss became " + std::string(std::isnan(metrics.val_loss) ? "NaN" : "infinite") +
                " at epoch " + std::to_string(metrics.epoch) + "; training stopped" +
                (last_good.empty() ? "" : ", the last good checkpoint is " + last_good));
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

void draw_loss_curve_or_warn(const std::string& metrics_csv, const std::string& png_path) {
  try {
    draw_loss_curve(metrics_csv, png_path);
  } catch (const Error& e) {
    log_warning(std::string("loss curve not drawn: ") + e.what());
  }
}

// The priors against the training boxes, before any work: a data set of objects smaller
// than the priors trains poorly, and saying so up front saves the user an hour.
void log_prior_coverage(const DetectionDataset& train_set, const ModelInfo& info) {
  const float threshold = mobilenet_v1_ssd_config().iou_threshold;
  const PriorBoxes priors = priors_of(info);
  log_info(info.net + " at " + std::to_string(info.input_width) + "x" + std::to_string(info.input_height) + ", " +
           std::to_string(priors.size()) + " priors (" + info.priors + ")");
  const PriorCoverage c =
      prior_coverage(train_set, priors.center_form(), info.input_width, info.input_height, threshold);
  std::istringstream lines(format_prior_coverage("Priors vs training boxes", c, threshold));
  for (std::string line; std::getline(lines, line);) log_info(line);
  const std::string warning = prior_coverage_warning(c);
  if (!warning.empty()) log_warning(warning);
}

void log_data(const DetectionDataset& train_set, const DetectionDataset& val_set) {
  log_info("Training: " + train_set.description + ", " + std::to_string(train_set.images.size()) + " images, " +
           std::to_string(train_set.box_count()) + " boxes, " + std::to_string(train_set.class_names.size() - 1) +
           " classes");
  log_info("Validation: " + std::to_string(val_set.images.size()) + " images, " +
           std::to_string(val_set.box_count()) + " boxes");
}

}  // namespace

TrainResult train(const TrainOptions& options) {
  check_train_options(options);
  set_torch_threads(options.threads);
  const Compute compute = choose_compute(options);
  log_info("Prepare training datasets.");
  auto [train_set, val_set] = read_training_data(options);
  log_data(train_set, val_set);
  const ModelInfo info = run_model_info(options, net_name_of(options), train_set);
  log_prior_coverage(train_set, info);
  StartNet start = start_net(options, info, compute);
  Sgd sgd = make_sgd(options, start.net);
  make_folder(options.model_dir, "--model-dir");  // only once the data and the start are known good
  write_labels(join_path(options.model_dir, "labels.txt"), train_set.class_names);
  Training training(options, compute, start, sgd, train_set, val_set);

  TrainResult result;
  const std::string metrics_path = join_path(options.model_dir, "metrics.csv");
  if (start.start_epoch == 0 && std::filesystem::exists(metrics_path)) std::filesystem::remove(metrics_path);
  if (start.start_epoch >= options.epochs)
    log_warning("already trained " + std::to_string(start.start_epoch) + " epochs; nothing to do for --epochs " +
                std::to_string(options.epochs));
  std::string last_good = options.resume;
  double best_map = best_map_so_far(options, start.start_epoch);
  if (start.start_epoch == 0) {
    std::filesystem::remove(join_path(options.model_dir, kBestCheckpoint));  // a previous run's
    std::filesystem::remove(model_info_path(join_path(options.model_dir, kBestCheckpoint)));
  }
  for (int epoch = start.start_epoch; epoch < options.epochs; ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    EpochMetrics metrics;
    metrics.epoch = epoch;
    for (size_t g = 0; g < sgd.base_lrs.size(); ++g) {
      metrics.learning_rates.push_back(scheduled_lr(options, sgd.base_lrs[g], epoch));
      set_lr(*sgd.optimizer, g, metrics.learning_rates.back());
    }
    training.train_epoch(metrics, last_good);
    const bool checkpoint_epoch = epoch % options.validation_epochs == 0 || epoch == options.epochs - 1;
    if (checkpoint_epoch) {
      training.validate(metrics, last_good);
      const bool best = metrics.val_map > best_map;
      if (best) best_map = metrics.val_map;
      last_good = result.last_checkpoint =
          save_checkpoint(options, start.info, start.net, *sgd.optimizer, metrics, best);
      if (best) log_info("Best validation mAP so far (" + std::to_string(best_map) + "): kept as " +
                         join_path(options.model_dir, kBestCheckpoint));
    }
    metrics.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
    append_metrics(metrics_path, metrics, sgd.base_lrs.size());
    result.epochs.push_back(metrics);
    draw_loss_curve_or_warn(metrics_path, join_path(options.model_dir, "loss.png"));
  }
  return result;
}

}  // namespace edgessd
