#include <cmath>
#include <cstdio>
#include <tuple>
#include <filesystem>

#include "cli_flags.h"
#include "commands.h"
#include "edgessd/common/defaults.h"
#include "edgessd/common/error.h"
#include "edgessd/common/logging.h"
#include "edgessd/common/output_guard.h"
#include "edgessd/common/priors.h"
#include "edgessd/common/model_info.h"
#include "edgessd/data/prior_coverage.h"
#include "edgessd/data/prior_fit.h"
#include "edgessd/deploy/detector_model.h"
#include "edgessd/model/model_open.h"

namespace {

struct PriorsArgs {
  std::vector<std::string> data;
  std::string dataset_type = "open_images";
  std::string resolution = edgessd::kDefaultResolution;  // train's defaults
  std::string net = edgessd::kDefaultNet;
  std::string priors = edgessd::kDefaultPriors;
  edgessd::ShapeJitter jitter{edgessd::kDefaultStretch, edgessd::kDefaultZoomIn};
  std::string model;  // a trained model's own priors instead of train's
};

const char* const kSplits[] = {"train", "trainval", "validation", "test"};

// Every --data root a folder with at least one split, before anything is printed.
void check_roots(const std::vector<std::string>& roots, edgessd::DatasetType type, const std::string& type_name) {
  for (const std::string& root : roots) {
    if (!std::filesystem::is_directory(root)) throw edgessd::Error("--data " + root + ": not a folder");
    bool any = false;
    for (const char* split : kSplits) any = any || edgessd::has_split(type, root, split);
    if (!any) throw edgessd::Error("--data " + root + ": no train, validation or test split there (" + type_name + " layout)");
  }
}

// --model's own geometry: an exported .onnx's metadata, or a checkpoint's JSON (or, for
// a pytorch-ssd file, what its keys tell), at --resolution when given.
edgessd::ModelInfo trained_model_info(const PriorsArgs& a, const CLI::App& cmd) {
  using namespace edgessd;
  for (const char* flag : {"--priors", "--net", "--stretch", "--zoom-in"})
    if (cmd.count(flag)) throw Error(std::string(flag) + ": not with --model, whose own priors are measured");
  const std::string resolution = cmd.count("--resolution") ? a.resolution : "";
  if (cli::is_onnx_path(a.model)) {
    const ModelInfo info = load_detector_model(a.model).info;
    if (resolution.empty()) return info;
    const auto [w, h] = parse_resolution(resolution);
    return at_input_size(info, w, h);
  }
  return resolve_model_info(a.model, read_state_dict(a.model), {"", "", "--labels", resolution},
                            MissingNames::Numbered);
}

// The net's prior maps at the input size; fitted to every root's train split for auto.
edgessd::ModelInfo model_of(const PriorsArgs& a, edgessd::DatasetType type) {
  using namespace edgessd;
  ModelInfo info;
  info.net = a.net;
  std::tie(info.input_width, info.input_height) = parse_resolution(a.resolution);
  use_net_normalisation(info);
  info.prior_maps = prior_maps_of(info);
  info.priors = recorded_priors_kind(a.priors);
  if (info.priors == "ssd") return info;
  std::vector<BoxShape> shapes;
  for (const std::string& root : a.data) {
    if (!has_split(type, root, "train")) continue;
    const DetectionDataset data = read_dataset(type, root, "train", {});
    for (const BoxShape& s : shapes_to_fit(data, a.priors, a.jitter, info)) shapes.push_back(s);
  }
  if (shapes.empty())
    throw Error("--priors " + a.priors +
                ": no train split with boxes under --data to fit them to (a trained model's priors: --model)");
  info.prior_maps = fit_prior_maps(info.prior_maps, shapes);
  return info;
}

void print_prior_maps(const edgessd::ModelInfo& info) {
  for (size_t m = 0; m < info.prior_maps.size(); ++m) {
    const edgessd::FeatureMapSpec& spec = info.prior_maps[m];
    std::printf("  map %zu, stride %.1f:", m, spec.shrinkage);
    if (spec.boxes.empty()) {
      std::printf(" sizes %.0f, %.0f, ratios", spec.min_box_size, std::sqrt(spec.min_box_size * spec.max_box_size));
      for (size_t r = 0; r < spec.aspect_ratios.size(); ++r)
        std::printf("%s %g", r == 0 ? "" : r + 1 == spec.aspect_ratios.size() ? " and" : ",", spec.aspect_ratios[r]);
      std::printf(" (pytorch-ssd's)");
    }
    for (const auto& [w, h] : spec.boxes) std::printf(" %.0fx%.0f", w, h);
    std::printf("\n");
  }
}

void run_priors(const PriorsArgs& a, const CLI::App& cmd) {
  using namespace edgessd;
  parse_resolution(a.resolution);
  const DatasetType type = parse_dataset_type(a.dataset_type);
  check_roots(a.data, type, a.dataset_type);
  const ModelInfo info = a.model.empty() ? model_of(a, type) : trained_model_info(a, cmd);
  const int width = info.input_width, height = info.input_height;
  const SsdConfig& config = mobilenet_v1_ssd_config();
  const PriorBoxes priors = priors_of(info);
  std::printf("%zu priors for a %dx%d input (%s, %s priors%s)\n", priors.size(), width, height, info.net.c_str(),
              info.priors.c_str(), a.model.empty() ? "" : (", " + a.model + "'s").c_str());
  print_prior_maps(info);
  for (const std::string& root : a.data) {
    DatasetOptions options;
    for (const char* split : kSplits) {
      if (!has_split(type, root, split)) continue;
      const DetectionDataset data = read_dataset(type, root, split, options);
      options.class_names = data.class_names;
      const PriorCoverage c = prior_coverage(data, priors.center_form(), width, height, config.iou_threshold);
      std::fputs(format_prior_coverage(root + " " + split, c, config.iou_threshold).c_str(), stdout);
      std::fflush(stdout);
      const std::string warning = prior_coverage_warning(c, info);
      if (!warning.empty()) log_warning(root + " " + split + ": " + warning);
    }
  }
}

}  // namespace

void add_priors_command(CLI::App& app) {
  auto a = std::make_shared<PriorsArgs>();
  CLI::App* cmd = app.add_subcommand(
      "priors", "How well the SSD priors fit a data set's boxes: best possible recall, median best IoU, box sizes");
  cmd->add_option("--data", a->data, "Dataset folder(s)")->required();
  edgessd::cli::add_dataset_type_flag(*cmd, a->dataset_type);
  cmd->add_option("--resolution", a->resolution,
                  "Network input, W or WxH (the priors keep their pixel sizes); default: train's")
      ->capture_default_str();
  cmd->add_option("--net", a->net,
                  edgessd::known_net_names_text() +
                      " (the -s8 nets add a stride-8 map; the activation does not change the priors); default: train's")
      ->check(CLI::IsMember(edgessd::known_net_names()))
      ->capture_default_str();
  edgessd::cli::add_priors_flag(*cmd, a->priors, "train's (auto: fitted to the train splits, as train does)")
      ->capture_default_str();
  edgessd::cli::add_shape_jitter_flags(*cmd, a->jitter);
  cmd->add_option("--model", a->model,
                  "A trained model (.pth, or an exported .onnx): measure its own priors on every split under "
                  "--data, test-only sets included; --resolution runs it at another size");
  cmd->callback([a, cmd] {
    edgessd::check_no_repeats(a->data, "--data");
    run_priors(*a, *cmd);
  });
}
