// What a training run settles before its first step: its flags checked, its data read,
// its device and precision chosen.
#include "edgessd/train/train_setup.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "edgessd/common/error.h"
#include "edgessd/common/logging.h"
#include "edgessd/common/parallel.h"
#include "edgessd/common/checkpoint_name.h"
#include "edgessd/common/defaults.h"
#include "edgessd/common/priors.h"
#include "edgessd/data/prior_coverage.h"
#include "edgessd/data/prior_fit.h"
#include "edgessd/train/training_run.h"

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
  within("--ema", o.ema, 0, 0.9999);
  within("--batch-size", o.batch_size, 1, 65536);
  within("--epochs", o.epochs, 1, 1e7);
  within("--validation-epochs", o.validation_epochs, 1, 1e7);
  within("--workers", o.workers, 0, max_threads());
}

}  // namespace

double scheduled_lr(const TrainOptions& options, double base, int epoch) {
  if (options.scheduler == "cosine") return cosine_lr(base, epoch, options.t_max);
  if (options.scheduler == "multi-step") {
    double lr = base;
    for (int m : parse_milestones(options.milestones))
      if (epoch >= m) lr *= options.gamma;
    return lr;
  }
  throw Error("--scheduler: unknown '" + options.scheduler + "' (expected cosine or multi-step)");
}

void check_train_options(const TrainOptions& options) {
  check_numbers(options);
  scheduled_lr(options, 1, 0);           // validates --scheduler before any work
  parse_milestones(options.milestones);  // a bad list is an error with either scheduler
  // Two different starting weights: pytorch-ssd's usage offers them as alternatives.
  // (--resume may join either, as it does there: rerunning a command with --resume added.)
  if (!options.base_net.empty() && !options.pretrained_ssd.empty())
    throw Error("--base-net and --pretrained-ssd: give only one of them");
  for (const auto& [flag, path] : {std::pair<const char*, const std::string&>{"--resume", options.resume},
                                   {"--pretrained-ssd", options.pretrained_ssd}, {"--base-net", options.base_net}}) {
    if (!path.empty() && !std::filesystem::is_regular_file(path))
      throw Error(std::string(flag) + " " + path + ": file not found");
  }
  if (!options.resolution.empty()) parse_resolution(options.resolution);
  if (!options.priors.empty() && options.priors != "ssd" && options.priors != "auto" && options.priors != "auto-stored")
    throw Error("--priors " + options.priors + ": expected ssd, auto or auto-stored");
}

namespace {
// The nets whose base_net state_dicts are alike: MobileNetV1's (mb1-ssd and its relu6, -s8
// and lite variants), else the net alone.
std::string base_net_family(const std::string& net) { return net.rfind("mb1-", 0) == 0 ? "mb1" : net; }

// What a start's net trains as without --net: mb1-ssd's stride-8 twin (the measured
// default); a lite net stays itself, so its checkpoints still load in pytorch-ssd.
std::string implicit_net(const std::string& start_net) {
  const bool lite = start_net.find("-lite") != std::string::npos;
  return lite || stride8_twin_of(start_net).empty() ? start_net : stride8_twin_of(start_net);
}
}  // namespace

std::string net_name_of(const TrainOptions& options, const PretrainedKeys& keys) {
  const std::string start_file =
      !options.resume.empty() ? options.resume : options.pretrained_ssd + options.base_net;  // at most one of the two
  ModelInfo start_info;
  const bool has_start_info = !start_file.empty() && load_model_info(start_file, start_info);
  // A stride-8 net starts from its plain twin: they share every layer but the heads.
  if (options.net.empty()) {
    if (!has_start_info && options.pretrained_ssd.empty()) return kDefaultNet;
    if (!has_start_info) return implicit_net(keys.net);  // a pytorch-ssd checkpoint: its keys tell its net
    return options.resume.empty() ? implicit_net(start_info.net) : start_info.net;
  }
  const bool twin = options.resume.empty() && options.net == stride8_twin_of(start_info.net);
  const bool same_base = options.resume.empty() && !options.base_net.empty() &&
                         base_net_family(start_info.net) == base_net_family(options.net);
  if (has_start_info && start_info.net != options.net && !twin && !same_base)
    throw Error("--net " + options.net + ": " + start_file + " holds an " + start_info.net + " (see its JSON)");
  return options.net;
}

TrainOptions with_start_width(TrainOptions options, const std::string& net, const PretrainedKeys& keys) {
  if (options.width_mult || !options.resume.empty() || keys.net.empty() || !net_has_width_mult(net)) return options;
  ModelInfo start_info;
  if (load_model_info(options.pretrained_ssd, start_info)) {
    if (is_net_or_its_twin(start_info.net, net)) options.width_mult = start_info.width_mult;
  } else if (is_net_or_its_twin(keys.net, net)) {
    options.width_mult = keys.width_mult;
  }
  return options;
}

ModelInfo run_model_info(const TrainOptions& options, const std::string& net, const DetectionDataset& train_set) {
  ModelInfo info;
  info.net = net;
  use_net_normalisation(info);
  info.class_names = train_set.class_names;
  info.source = "edgessd train";
  if (options.width_mult && *options.width_mult != 1.0 && !net_has_width_mult(net))
    throw Error("--mb2-width-mult is for --net mb2-ssd-lite, not " + net);
  info.width_mult = options.width_mult.value_or(1.0);
  ModelInfo resumed;
  if (!options.resume.empty() && load_model_info(options.resume, resumed)) {
    const std::string size = std::to_string(resumed.input_width) + "x" + std::to_string(resumed.input_height);
    if (!options.resolution.empty() && parse_resolution(options.resolution) != std::pair{resumed.input_width, resumed.input_height})
      throw Error("--resolution " + options.resolution + ": " + options.resume + " was trained at " + size);
    if (!options.priors.empty() && recorded_priors_kind(options.priors) != resumed.priors)
      throw Error("--priors " + options.priors + ": " + options.resume + " has " + resumed.priors + " priors");
    if (options.width_mult && *options.width_mult != resumed.width_mult)
      throw Error("--mb2-width-mult: " + options.resume + " was trained with " + std::to_string(resumed.width_mult));
    info.width_mult = resumed.width_mult;
    info.input_width = resumed.input_width, info.input_height = resumed.input_height;
    info.priors = resumed.priors;
    info.prior_maps = prior_maps_of(resumed);
    return info;
  }
  const std::string resolution = options.resolution.empty() ? kDefaultResolution : options.resolution;
  std::tie(info.input_width, info.input_height) = parse_resolution(resolution);
  try {
    net_feature_maps(net, info.input_width, info.input_height);
  } catch (const Error& e) {
    throw Error("--resolution " + resolution + ": " + e.what());
  }
  const std::string kind = options.priors.empty() ? kDefaultPriors : options.priors;
  info.priors = recorded_priors_kind(kind);
  info.prior_maps = prior_maps_of(info);
  if (info.priors == "auto")
    info.prior_maps = fit_prior_maps(info.prior_maps, shapes_to_fit(train_set, kind, options.jitter, info));
  return info;
}

std::pair<DetectionDataset, DetectionDataset> read_training_data(const TrainOptions& options) {
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

Compute choose_compute(const TrainOptions& options, int input_width, int input_height) {
  Compute c;
  if (options.use_cuda && torch::cuda::is_available()) {
    c.cuda = true;
    log_info("Using CUDA...");
  } else {
    log_info(std::string("Using CPU (") + std::to_string(torch::get_num_threads()) + " threads)" +
             (options.use_cuda ? "; this LibTorch has no CUDA device" : ""));
  }
  if (!c.cuda) {
    if (options.precision == "bf16") c.bf16 = true;
    else if (options.precision == "auto") c.bf16 = cpu_has_bf16() && std::min(input_width, input_height) >= kMinBf16Side;
    else if (options.precision != "fp32") throw Error("--precision: expected auto, fp32 or bf16");
  }
  const bool small = options.precision == "auto" && !c.cuda && cpu_has_bf16() && !c.bf16;
  log_info(std::string("Precision: ") + (c.bf16 ? "bf16 autocast, channels-last" : "fp32") +
           (small ? " (bf16 autocast only from " + std::to_string(kMinBf16Side) + "x" + std::to_string(kMinBf16Side) +
                        ": smaller inputs lost their loss to NaN under it)"
                  : ""));
  return c;
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
  const std::string warning = prior_coverage_warning(c, info);
  if (!warning.empty()) log_warning(warning);
}

void log_data(const DetectionDataset& train_set, const DetectionDataset& val_set) {
  log_info("Training: " + train_set.description + ", " + std::to_string(train_set.images.size()) + " images, " +
           std::to_string(train_set.box_count()) + " boxes, " + std::to_string(train_set.class_names.size() - 1) +
           " classes");
  log_info("Validation: " + std::to_string(val_set.images.size()) + " images, " +
           std::to_string(val_set.box_count()) + " boxes");
}

namespace {

// FNV-1a, 64 bits: enough to tell two data sets apart, the same on every machine.
struct Fnv {
  uint64_t h = 1469598103934665603ull;
  void add(const void* data, size_t n) {
    for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<const unsigned char*>(data)[i]) * 1099511628211ull;
  }
  void add(const std::string& s) { add(s.data(), s.size() + 1); }
  void add(double v) { add(std::to_string(std::lround(v * 1e5))); }  // rounding, not the bits
};

void add_set(Fnv& hash, const DetectionDataset& set) {
  for (const std::string& name : set.class_names) hash.add(name);
  for (const AnnotatedImage& image : set.images) {
    hash.add(std::filesystem::path(image.image_path).filename().string());  // not the machine's folder
    for (size_t b = 0; b < image.boxes.size(); ++b) {
      const CornerBox& box = image.boxes[b];
      for (double v : {double(box.x1), double(box.y1), double(box.x2), double(box.y2), double(image.labels[b])})
        hash.add(v);
    }
  }
}

int64_t box_count(const DetectionDataset& set) {
  int64_t n = 0;
  for (const AnnotatedImage& image : set.images) n += static_cast<int64_t>(image.boxes.size());
  return n;
}

}  // namespace

RunFingerprint run_fingerprint(const DetectionDataset& train_set, const DetectionDataset& val_set, const ModelInfo& info) {
  Fnv hash;
  add_set(hash, train_set);
  add_set(hash, val_set);
  const PriorBoxes priors = priors_of(info);
  for (const CenterBox& p : priors.center_form())
    for (double v : {double(p.cx), double(p.cy), double(p.w), double(p.h)}) hash.add(v);
  RunFingerprint f;
  f.values = {static_cast<int64_t>(train_set.images.size()), box_count(train_set),
              static_cast<int64_t>(val_set.images.size()), box_count(val_set), static_cast<int64_t>(priors.size()),
              static_cast<int64_t>(hash.h)};
  f.names = {"training images", "training boxes", "validation images", "validation boxes", "priors",
             "hash of the images' names, boxes and priors"};
  return f;
}

}  // namespace edgessd
