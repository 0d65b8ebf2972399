#include "edgessd/train/trainer.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "edgessd/common/error.h"
#include "edgessd/common/threads.h"
#include "edgessd/common/files.h"
#include "edgessd/common/logging.h"
#include "edgessd/common/progress.h"
#include "edgessd/data/loader.h"
#include "edgessd/model/checkpoint.h"
#include "edgessd/model/checkpoint_name.h"
#include "edgessd/train/optimizer_state.h"
#include "edgessd/model/cpu_autocast.h"
#include "edgessd/model/model_info.h"
#include "edgessd/model/ssd.h"
#include "edgessd/train/loss_plot.h"
#include "edgessd/train/multibox_loss.h"

namespace edgessd {

namespace {

std::vector<int> parse_milestones(const std::string& text) {
  std::vector<int> out;
  std::stringstream s(text);
  for (std::string item; std::getline(s, item, ',');) {
    try {
      size_t used = 0;
      out.push_back(std::stoi(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw Error("--milestones: '" + item + "' is not an epoch number");
    }
  }
  return out;
}

bool cpu_has_bf16() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) == 0)
      return line.find(" amx_bf16") != std::string::npos || line.find(" avx512_bf16") != std::string::npos;
  }
  return false;
}

std::string optimizer_path(const std::string& checkpoint) {
  std::filesystem::path p(checkpoint);
  p.replace_extension(".optim.pt");
  return p.string();
}

// Training images of every root (one class list), and the validation set: each root's
// `validation` split where it has one, else `test`.
std::pair<DetectionDataset, DetectionDataset> read_data(const TrainOptions& options) {
  if (options.data.empty()) throw Error("--data: give at least one dataset folder");
  std::vector<DetectionDataset> train_parts, val_parts;
  DatasetOptions read_options;
  const bool voc = options.dataset_type == DatasetType::Voc;
  for (const std::string& root : options.data) {
    if (!std::filesystem::is_directory(root)) throw Error("--data " + root + ": not a folder");
    DatasetOptions train_options = read_options;
    train_options.keep_difficult = false;  // as pytorch-ssd's training datasets
    if (!train_parts.empty()) train_options.class_names = train_parts.front().class_names;
    const std::string train_split = voc ? "trainval" : "train";
    train_parts.push_back(read_dataset(options.dataset_type, root, train_split, train_options));
    if (train_parts.back().images.empty())
      throw Error("--data " + root + ": the '" + train_split + "' split has no usable image with a box; nothing to train on");
    std::string val_split = "test";
    if (!voc && has_split(options.dataset_type, root, "validation")) val_split = "validation";
    DatasetOptions val_options = read_options;
    val_options.class_names = train_parts.front().class_names;
    if (has_split(options.dataset_type, root, val_split)) {
      log_info("Validation on " + root + " '" + val_split + "' split" +
               (val_split == "test" ? " (no validation split there)" : ""));
      val_parts.push_back(read_dataset(options.dataset_type, root, val_split, val_options));
    } else {
      log_warning(root + ": no validation or test split; nothing to validate on there");
    }
  }
  DetectionDataset train_set = concat_datasets(train_parts);
  if (options.balance_data) {
    train_set = balance_classes(train_set, options.seed);
    log_info("Balanced the training data to " + std::to_string(train_set.images.size()) + " images");
  }
  DetectionDataset val_set;
  if (!val_parts.empty()) val_set = concat_datasets(val_parts);
  else val_set.class_names = train_set.class_names;
  return {std::move(train_set), std::move(val_set)};
}

// One epoch's checkpoint: weights, optimizer state and model JSON with the training state.
// Named by the validation loss, or by the training loss when there is nothing to validate on.
std::string save_checkpoint(const TrainOptions& options, const std::string& net_name, Ssd& net,
                            const torch::optim::SGD& optimizer, const std::vector<std::string>& class_names,
                            const EpochMetrics& metrics) {
  const double loss = metrics.validated ? metrics.val_loss : metrics.train_loss;
  const std::string path = join_path(options.model_dir, checkpoint_file_name(net_name, metrics.epoch, loss));
  StateDict state = state_dict_of(*net);
  for (auto& [key, t] : state) t = t.to(torch::kCPU).contiguous();
  write_state_dict(path, state);
  save_sgd_state(optimizer, optimizer_path(path));
  ModelInfo info;
  info.net = net_name;
  info.class_names = class_names;
  info.source = "edgessd train";
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(model_info_to_json(info));
  j["training"] = {{"epoch", metrics.epoch}, {metrics.validated ? "val_loss" : "train_loss", loss}, {"seed", options.seed}};
  write_file_atomic(model_info_path(path), j.dump(2) + "\n");
  log_info("Saved model " + path);
  return path;
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
    text += ",images_per_second,seconds\n";
  } else {
    text = read_file(path);
  }
  std::ostringstream row;
  row.precision(6);
  row << m.epoch << "," << m.train_loss << "," << m.train_regression << "," << m.train_classification << ",";
  if (m.validated) row << m.val_loss << "," << m.val_regression << "," << m.val_classification;
  else row << ",,";
  for (double lr : m.learning_rates) row << "," << lr;
  row << "," << m.images_per_second << "," << m.seconds << "\n";
  write_file_atomic(path, text + row.str());
}

}  // namespace

double scheduled_lr(const TrainOptions& options, double base, int epoch) {
  if (options.scheduler == "cosine") return base * (1 + std::cos(M_PI * epoch / options.t_max)) / 2;
  if (options.scheduler == "multi-step") {
    double lr = base;
    for (int m : parse_milestones(options.milestones))
      if (epoch >= m) lr *= options.gamma;
    return lr;
  }
  throw Error("--scheduler: unknown '" + options.scheduler + "' (expected cosine or multi-step)");
}

// Every number a run reads, range-checked before any work: NaN fails every comparison, so
// each check is written as "inside", never as "outside".
void check_numbers(const TrainOptions& o) {
  auto within = [](const char* flag, double v, double lo, double hi) {
    if (!(v >= lo && v <= hi))
      throw Error(std::string(flag) + " " + python_float(v) + ": must be within " + python_float(lo) + ".." +
                  python_float(hi));
  };
  auto at_least = [](const char* flag, double v, double lo) {
    if (!(v >= lo && std::isfinite(v)))
      throw Error(std::string(flag) + " " + python_float(v) + ": must be a finite number of at least " + python_float(lo));
  };
  at_least("--lr", o.lr, 0);
  if (o.base_net_lr) at_least("--base-net-lr", *o.base_net_lr, 0);
  if (o.extra_layers_lr) at_least("--extra-layers-lr", *o.extra_layers_lr, 0);
  within("--momentum", o.momentum, 0, 1);
  at_least("--weight-decay", o.weight_decay, 0);
  within("--gamma", o.gamma, 0, 1);
  within("--t-max", o.t_max, 1e-9, 1e9);
  at_least("--clip-grad-norm", o.clip_grad_norm, 0);
  at_least("--warmup-epochs", o.warmup_epochs, 0);
  within("--batch-size", o.batch_size, 1, 65536);
  within("--epochs", o.epochs, 1, 1e7);
  within("--validation-epochs", o.validation_epochs, 1, 1e7);
  within("--workers", o.workers, 0, max_threads());
}

TrainResult train(const TrainOptions& options) {
  check_numbers(options);
  set_torch_threads(options.threads);
  scheduled_lr(options, 1, 0);  // validates --scheduler before any work
  parse_milestones(options.milestones);  // a bad list is an error with either scheduler
  // Two different starting weights: pytorch-ssd's usage offers them as alternatives.
  // (--resume may join either, as it does there: rerunning a command with --resume added.)
  if (!options.base_net.empty() && !options.pretrained_ssd.empty())
    throw Error("--base-net and --pretrained-ssd: give only one of them");

  torch::Device device(torch::kCPU);
  if (options.use_cuda && torch::cuda::is_available()) {
    device = torch::Device(torch::kCUDA);
    log_info("Using CUDA...");
  } else {
    log_info(std::string("Using CPU (") + std::to_string(torch::get_num_threads()) + " threads)" +
             (options.use_cuda ? "; this LibTorch has no CUDA device" : ""));
  }
  bool bf16 = false;
  if (device.is_cpu()) {
    if (options.precision == "bf16") bf16 = true;
    else if (options.precision == "auto") bf16 = cpu_has_bf16();
    else if (options.precision != "fp32") throw Error("--precision: expected auto, fp32 or bf16");
  }
  log_info(std::string("Precision: ") + (bf16 ? "bf16 autocast, channels-last" : "fp32"));

  for (const auto& [flag, path] : {std::pair<const char*, const std::string&>{"--resume", options.resume},
                                   {"--pretrained-ssd", options.pretrained_ssd}, {"--base-net", options.base_net}}) {
    if (!path.empty() && !std::filesystem::is_regular_file(path))
      throw Error(std::string(flag) + " " + path + ": file not found");
  }
  log_info("Prepare training datasets.");
  auto [train_set, val_set] = read_data(options);
  log_info("Training: " + train_set.description + ", " + std::to_string(train_set.images.size()) + " images, " +
           std::to_string(train_set.box_count()) + " boxes, " + std::to_string(train_set.class_names.size() - 1) +
           " classes");
  log_info("Validation: " + std::to_string(val_set.images.size()) + " images, " +
           std::to_string(val_set.box_count()) + " boxes");

  // The net: its kind from --net, else from the starting checkpoint's JSON.
  const std::string start_file =
      !options.resume.empty() ? options.resume : options.pretrained_ssd + options.base_net;  // at most one of the two
  ModelInfo start_info;
  const bool has_start_info = !start_file.empty() && load_model_info(start_file, start_info);
  std::string net_name = options.net;
  if (net_name.empty()) net_name = has_start_info ? start_info.net : "mb1-ssd";
  else if (has_start_info && start_info.net != net_name)
    throw Error("--net " + net_name + ": " + start_file + " holds an " + start_info.net + " (see its JSON)");
  const int num_classes = static_cast<int>(train_set.class_names.size());
  torch::manual_seed(options.seed);  // the fresh layers' init is part of the run's seed
  Ssd net(parse_net_kind(net_name), num_classes);
  net->init_weights();
  int start_epoch = 0;
  if (!options.resume.empty()) {
    log_info("Resume from the model " + options.resume);
    if (!options.base_net.empty() || !options.pretrained_ssd.empty())
      log_info("--resume replaces --base-net / --pretrained-ssd (as in pytorch-ssd)");
    load_state_dict(*net, read_state_dict(options.resume), LoadMode::Everything, options.resume);
    if (!has_start_info) throw Error(options.resume + ": no model JSON beside it, so the epoch to resume is unknown");
    auto j = nlohmann::json::parse(read_file(model_info_path(options.resume)));
    if (!j.contains("training")) throw Error(model_info_path(options.resume) + ": no training state to resume");
    start_epoch = j["training"].at("epoch").get<int>() + 1;
  } else if (!options.base_net.empty()) {
    log_info("Init from base net " + options.base_net);
    load_state_dict(*net, read_state_dict(options.base_net), LoadMode::BaseNetOnly, options.base_net);
  } else if (!options.pretrained_ssd.empty()) {
    log_info("Init from pretrained ssd " + options.pretrained_ssd);
    load_state_dict(*net, read_state_dict(options.pretrained_ssd), LoadMode::AllButHeads, options.pretrained_ssd);
  } else {
    log_warning("no --pretrained-ssd, --base-net or --resume: training from scratch");
  }
  net->to(device);
  if (bf16) {
    torch::NoGradGuard no_grad;
    for (auto& p : net->parameters())
      if (p.dim() == 4) p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
  }

  // pytorch-ssd's parameter groups.
  auto params_of = [](std::initializer_list<torch::nn::Module*> modules) {
    std::vector<torch::Tensor> out;
    for (auto* m : modules)
      for (auto& p : m->parameters()) out.push_back(p);
    return out;
  };
  auto freeze = [](torch::nn::Module& m) {
    for (auto& p : m.parameters()) p.set_requires_grad(false);
  };
  const double base_lr = options.base_net_lr.value_or(options.lr);
  const double extra_lr = options.extra_layers_lr.value_or(options.lr);
  std::vector<double> group_base_lrs;
  std::vector<torch::optim::OptimizerParamGroup> groups;
  auto add_group = [&](std::vector<torch::Tensor> params, double lr) {
    auto group_options = std::make_unique<torch::optim::SGDOptions>(lr);
    group_options->momentum(options.momentum).weight_decay(options.weight_decay);
    groups.emplace_back(std::move(params), std::move(group_options));
    group_base_lrs.push_back(lr);
  };
  auto heads = params_of({net->regression_headers.ptr().get(), net->classification_headers.ptr().get()});
  if (options.freeze_base_net) {
    log_info("Freeze base net.");
    freeze(*net->base_net);
    add_group(params_of({net->extras.ptr().get()}), extra_lr);
    add_group(heads, options.lr);
  } else if (options.freeze_net) {
    log_info("Freeze all the layers except prediction heads.");
    freeze(*net->base_net);
    freeze(*net->extras);
    add_group(heads, options.lr);
  } else {
    add_group(params_of({net->base_net.ptr().get()}), base_lr);
    add_group(params_of({net->extras.ptr().get()}), extra_lr);
    add_group(heads, options.lr);
  }
  torch::optim::SGD optimizer(groups, torch::optim::SGDOptions(options.lr)
                                          .momentum(options.momentum)
                                          .weight_decay(options.weight_decay));
  if (!options.resume.empty()) {
    const std::string path = optimizer_path(options.resume);
    if (std::filesystem::exists(path)) {
      load_sgd_state(optimizer, path);
      log_info("Restored optimizer state (momentum) from " + path);
    } else {
      log_warning(path + " not found: momentum starts from zero");
    }
  }
  make_folder(options.model_dir, "--model-dir");  // only once the data and the start are known good
  write_labels(join_path(options.model_dir, "labels.txt"), train_set.class_names);

  const SsdConfig& config = mobilenet_v1_ssd_config();
  PriorBoxes priors(config);
  PriorMatcher matcher(priors, config.center_variance, config.size_variance, config.iou_threshold);
  LoaderOptions train_loader_options;
  train_loader_options.batch_size = options.batch_size;
  train_loader_options.workers = options.workers;
  train_loader_options.seed = options.seed;
  DataLoader train_loader(train_set, matcher, train_loader_options);
  LoaderOptions val_loader_options = train_loader_options;
  val_loader_options.shuffle = false;
  val_loader_options.augment = false;
  std::unique_ptr<DataLoader> val_loader;
  if (!val_set.images.empty()) val_loader = std::make_unique<DataLoader>(val_set, matcher, val_loader_options);
  else log_warning("nothing to validate on: checkpoints are named by the training loss");

  MultiboxLoss criterion(3);
  const int64_t P = static_cast<int64_t>(priors.size());
  const int S = train_loader_options.input.size;
  auto to_tensors = [&](Batch& b) {
    auto images = torch::from_blob(b.images.data(), {b.size, 3, S, S}, torch::kFloat32).to(device);
    if (bf16) images = images.contiguous(at::MemoryFormat::ChannelsLast);
    auto labels = torch::from_blob(b.labels.data(), {b.size, P}, torch::kInt64).to(device);
    auto locations = torch::from_blob(b.locations.data(), {b.size, P, 4}, torch::kFloat32).to(device);
    return std::make_tuple(images, labels, locations);
  };
  auto forward = [&](const torch::Tensor& images) {
    if (!bf16) return net->forward(images);
    set_cpu_autocast(true);
    auto out = net->forward(images);
    set_cpu_autocast(false);
    at::autocast::clear_cache();
    return std::make_pair(out.first.to(torch::kFloat32), out.second.to(torch::kFloat32));
  };

  TrainResult result;
  const std::string metrics_path = join_path(options.model_dir, "metrics.csv");
  if (start_epoch == 0 && std::filesystem::exists(metrics_path)) std::filesystem::remove(metrics_path);
  if (start_epoch >= options.epochs)
    log_warning("already trained " + std::to_string(start_epoch) + " epochs; nothing to do for --epochs " +
                std::to_string(options.epochs));
  std::string last_good = options.resume;
  const double warmup_steps = options.warmup_epochs * static_cast<double>(train_loader.batches_per_epoch());
  for (int epoch = start_epoch; epoch < options.epochs; ++epoch) {
    EpochMetrics metrics;
    metrics.epoch = epoch;
    for (size_t g = 0; g < optimizer.param_groups().size(); ++g) {
      const double lr = scheduled_lr(options, group_base_lrs[g], epoch);
      static_cast<torch::optim::SGDOptions&>(optimizer.param_groups()[g].options()).lr(lr);
      metrics.learning_rates.push_back(lr);
    }
    const auto epoch_start = std::chrono::steady_clock::now();
    net->train();
    train_loader.start_epoch(epoch);
    const size_t steps = train_loader.batches_per_epoch();
    Progress progress("Epoch " + std::to_string(epoch) + ", step", steps, options.debug_steps);
    LossSums sums, window;
    size_t images_seen = 0;
    Batch batch;
    for (size_t step = 0; train_loader.next(batch); ++step) {
      if (warmup_steps > 0) {
        const double done = static_cast<double>(epoch) * steps + step + 1;
        const double factor = std::min(1.0, done / warmup_steps);
        for (size_t g = 0; g < optimizer.param_groups().size(); ++g)
          static_cast<torch::optim::SGDOptions&>(optimizer.param_groups()[g].options()).lr(metrics.learning_rates[g] * factor);
      }
      auto [images, labels, gt_locations] = to_tensors(batch);
      optimizer.zero_grad();
      auto [confidences, locations] = forward(images);
      auto loss = criterion(confidences, locations, labels, gt_locations);
      auto total = loss.regression + loss.classification;
      const double r = loss.regression.item<double>(), c = loss.classification.item<double>();
      if (!std::isfinite(r) || !std::isfinite(c))
        throw Error("loss became " + std::string(std::isnan(r + c) ? "NaN" : "infinite") + " at epoch " +
                    std::to_string(epoch) + ", step " + std::to_string(step) + "; training stopped" +
                    (last_good.empty() ? "" : ", the last good checkpoint is " + last_good));
      total.backward();
      if (options.clip_grad_norm > 0) torch::nn::utils::clip_grad_norm_(net->parameters(), options.clip_grad_norm);
      optimizer.step();
      sums.add(r, c);
      window.add(r, c);
      images_seen += batch.size;
      char status[96];
      std::snprintf(status, sizeof status, "loss %.4f", sums.mean(sums.total));
      progress.update(step + 1, status, images_seen);
      if (!Progress::stderr_is_terminal() && options.debug_steps > 0 && (step + 1) % options.debug_steps == 0) {
        char line[256];
        std::snprintf(line, sizeof line,
                      "Epoch: %d, Step: %zu/%zu, Avg Loss: %.4f, Avg Regression Loss %.4f, Avg Classification Loss: %.4f",
                      epoch, step + 1, steps, window.mean(window.total), window.mean(window.regression),
                      window.mean(window.classification));
        log_info(line);
        window = LossSums();
      }
    }
    progress.finish();
    const double train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
    metrics.train_loss = sums.mean(sums.total);
    metrics.train_regression = sums.mean(sums.regression);
    metrics.train_classification = sums.mean(sums.classification);
    metrics.images_per_second = images_seen / train_seconds;
    {
      char line[256];
      std::snprintf(line, sizeof line,
                    "Epoch: %d, Training Loss: %.4f, Training Regression Loss %.4f, Training Classification Loss: "
                    "%.4f, %.1f images/s",
                    epoch, metrics.train_loss, metrics.train_regression, metrics.train_classification,
                    metrics.images_per_second);
      log_info(line);
    }

    const bool checkpoint_epoch = epoch % options.validation_epochs == 0 || epoch == options.epochs - 1;
    if (val_loader && checkpoint_epoch) {
      net->eval();
      torch::NoGradGuard no_grad;
      val_loader->start_epoch(0);
      LossSums val;
      while (val_loader->next(batch)) {
        auto [images, labels, gt_locations] = to_tensors(batch);
        auto [confidences, locations] = forward(images);
        auto loss = criterion(confidences, locations, labels, gt_locations);
        val.add(loss.regression.item<double>(), loss.classification.item<double>());
      }
      metrics.validated = true;
      metrics.val_loss = val.mean(val.total);
      if (!std::isfinite(metrics.val_loss))
        throw Error("validation loss became " + std::string(std::isnan(metrics.val_loss) ? "NaN" : "infinite") +
                    " at epoch " + std::to_string(epoch) + "; training stopped" +
                    (last_good.empty() ? "" : ", the last good checkpoint is " + last_good));
      metrics.val_regression = val.mean(val.regression);
      metrics.val_classification = val.mean(val.classification);
      char line[256];
      std::snprintf(line, sizeof line,
                    "Epoch: %d, Validation Loss: %.4f, Validation Regression Loss %.4f, Validation Classification "
                    "Loss: %.4f",
                    epoch, metrics.val_loss, metrics.val_regression, metrics.val_classification);
      log_info(line);
    }
    if (checkpoint_epoch) {
      last_good = save_checkpoint(options, net_name, net, optimizer, train_set.class_names, metrics);
      result.last_checkpoint = last_good;
    }
    metrics.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
    append_metrics(metrics_path, metrics, group_base_lrs.size());
    result.epochs.push_back(metrics);
    try {
      draw_loss_curve(metrics_path, join_path(options.model_dir, "loss.png"));
    } catch (const Error& e) {
      log_warning(std::string("loss curve not drawn: ") + e.what());
    }
  }
  return result;
}

}  // namespace edgessd
