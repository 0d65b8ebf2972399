#include <sstream>

#include "cli_flags.h"
#include "commands.h"
#include "edgessd/download/open_images_downloader.h"

namespace {
std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) parts.push_back(part);
  return parts;
}
}  // namespace

void add_download_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<edgessd::DownloadOptions>();
  auto names = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("download", "Download an Open Images subset by class (open_images_downloader.py)");
  cmd->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // as argparse: the last one wins
  cmd->add_option("--class-names,--class_names", *names, "Comma-separated class names, e.g. \"Vehicle registration plate,Car\"")
      ->required();
  cmd->add_option("--data,--root", a->data_dir, "Folder for the data set")->capture_default_str();
  cmd->add_option("--max-images,--max_images", a->max_images, "Limit the total number of images (-1 = all)")
      ->check(edgessd::cli::whole_number(-1))->capture_default_str();
  cmd->add_option("--max-annotations-per-class,--max_annotations_per_class", a->max_annotations_per_class,
                  "Limit the boxes of each class (-1 = all)")
      ->check(edgessd::cli::whole_number(-1))->capture_default_str();
  cmd->add_flag("--stats-only,--stats_only", a->stats_only, "Print the statistics and stop");
  cmd->add_flag("--include-depiction,--include_depiction", a->include_depiction, "Keep drawings and depictions");
  cmd->add_flag("--remove-overlapped,--remove_overlapped", a->remove_overlapped, "Drop single boxes inside group boxes");
  cmd->add_option("--num-workers,--num_workers", a->workers, "Parallel downloads")->capture_default_str();
  cmd->add_option("--retry", a->retries, "Retries per file")->capture_default_str();
  cmd->add_option("--retry-wait", a->retry_wait, "Seconds before the first retry (doubles each time)")->capture_default_str();
  cmd->add_option("--timeout", a->timeout, "Seconds without data before a try is abandoned")->capture_default_str();
  cmd->add_option("--seed", a->seed, "Seed of the --max-images / --max-annotations-per-class choice")
      ->check(edgessd::cli::whole_number(0))->capture_default_str();
  cmd->add_option("--metadata-url", a->metadata_url,
                  "Base URL of class-descriptions-boxable.csv and <split>-annotations-bbox.csv (default: Open Images v6)");
  cmd->add_option("--image-url", a->image_url, "Image URL template with {split} and {id}")->capture_default_str();
  cmd->callback([a, names, &exit_code] {
    a->class_names = split_commas(*names);
    exit_code = edgessd::run_download(*a);
  });
}
