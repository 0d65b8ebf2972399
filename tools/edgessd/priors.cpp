#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "edgessd/common/error.h"
#include "edgessd/common/logging.h"
#include "edgessd/common/priors.h"
#include "edgessd/data/prior_coverage.h"

namespace {

struct PriorsArgs {
  std::vector<std::string> data;
  std::string dataset_type = "open_images";
  std::string resolution = "300";
};

// "W", "WxH": the network input's width and height.
std::pair<int, int> parse_resolution(const std::string& text) {
  int w = 0, h = 0;
  char x = 0, rest = 0;
  const int n = std::sscanf(text.c_str(), "%d%c%d%c", &w, &x, &h, &rest);
  if (n == 1) h = w;
  const bool ok = (n == 1 || (n == 3 && (x == 'x' || x == 'X'))) && w >= 32 && h >= 32 && w <= 4096 && h <= 4096;
  if (!ok) throw edgessd::Error("--resolution " + text + ": expected W or WxH, each within 32..4096");
  return {w, h};
}

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

void run_priors(const PriorsArgs& a) {
  using namespace edgessd;
  const auto [width, height] = parse_resolution(a.resolution);
  const DatasetType type = parse_dataset_type(a.dataset_type);
  check_roots(a.data, type, a.dataset_type);
  const SsdConfig& config = mobilenet_v1_ssd_config();
  const PriorBoxes priors(config, width, height, mobilenet_v1_ssd_feature_maps(width, height));
  std::printf("%zu priors for a %dx%d input (pytorch-ssd's mobilenet-v1 config)\n", priors.size(), width, height);
  for (const std::string& root : a.data) {
    DatasetOptions options;
    for (const char* split : kSplits) {
      if (!has_split(type, root, split)) continue;
      const DetectionDataset data = read_dataset(type, root, split, options);
      options.class_names = data.class_names;
      const PriorCoverage c = prior_coverage(data, priors.center_form(), width, height, config.iou_threshold);
      std::fputs(format_prior_coverage(root + " " + split, c, config.iou_threshold).c_str(), stdout);
      std::fflush(stdout);
      const std::string warning = prior_coverage_warning(c);
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
  cmd->add_option("--dataset-type,--dataset_type", a->dataset_type, "open_images or voc")
      ->check(CLI::IsMember({"open_images", "voc"}))
      ->capture_default_str();
  cmd->add_option("--resolution", a->resolution, "Network input, W or WxH (the priors keep their pixel sizes)")
      ->capture_default_str();
  cmd->callback([a] { run_priors(*a); });
}
