#include <filesystem>
#include <iostream>

#include "cli_flags.h"
#include "commands.h"
#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/output_guard.h"
#include "edgessd/common/logging.h"
#include "edgessd/model/checkpoint.h"
#include "edgessd/model/faceapi_import.h"
#include "edgessd/common/model_info.h"
#include "edgessd/model/model_open.h"
#include "edgessd/model/ssd.h"

namespace {

struct ConvertArgs {
  std::string from = "pth";
  std::string input;
  std::string output;
  std::string net;
  std::string labels;
  std::string calibration;
  int calibration_count = 64;
  uint64_t seed = 1;
  std::string reestimate = "all";
};

// A pytorch-ssd (or our) checkpoint, read and written through our own code; the net it
// fits is checked so that a converted file is known to load.
void convert_pth(const ConvertArgs& args) {
  using namespace edgessd;
  std::vector<NamedPath> inputs = checkpoint_inputs(args.input, "--input");
  inputs.push_back({args.labels, "--labels"});
  check_outputs_apart({{args.output, "--output"}, {model_info_path(args.output), "--output's model JSON"}}, inputs);
  check_output_file(args.output, "--output");
  check_output_extension(args.output, "--output", ".pth", "a checkpoint");
  OpenedCheckpoint opened = open_checkpoint(args.input, {args.net, args.labels}, MissingNames::Numbered);
  ModelInfo& info = opened.info;
  const StateDict& state = opened.state;
  const int num_classes = info.num_classes();
  if (info.source.empty()) info.source = "converted from " + std::filesystem::path(args.input).filename().string();
  write_state_dict(args.output, state);
  save_model_info(args.output, info);
  log_info("Wrote " + args.output + " (" + std::to_string(state.size()) + " tensors, " + info.net + ", " +
           std::to_string(num_classes) + " classes) and " + model_info_path(args.output));
}

void convert_face_api(const ConvertArgs& args) {
  using namespace edgessd;
  FaceApiImportOptions options;
  options.model_dir = args.input.empty() ? join_path(face_api_dir(), "model") : args.input;
  face_api_manifest_path(options.model_dir);  // a wrong --input is named before the calibration folder
  const std::string calibration =
      args.calibration.empty() ? join_path(std::filesystem::path(options.model_dir).parent_path().string(), "demo")
                               : args.calibration;
  check_outputs_apart({{args.output, "--output"}, {model_info_path(args.output), "--output's model JSON"}},
                      {{options.model_dir, "--input"}, {calibration, "--calibration"}});
  check_output_file(args.output, "--output");
  check_output_extension(args.output, "--output", ".pth", "a checkpoint");
  std::vector<std::string> images = list_images(calibration);
  if (images.empty()) throw Error(calibration + ": no calibration images (--calibration)");
  if (static_cast<int>(images.size()) > args.calibration_count) images.resize(args.calibration_count);
  options.calibration_images = images;
  options.seed = args.seed;
  options.folded_only = args.reestimate == "folded";
  log_info("Importing face-api SSD-MobileNet-v1 from " + options.model_dir + ", re-estimating BatchNorm on " +
           std::to_string(images.size()) + " images from " + calibration);
  const FaceApiImportReport report = import_face_api_checkpoint(options, args.output);
  log_info("Imported " + std::to_string(report.imported_tensors) + " weights, re-estimated " +
           std::to_string(report.recalibrated_bn_layers) + " BatchNorm layers; wrote " + args.output);
}

}  // namespace

void add_convert_command(CLI::App& app) {
  auto args = std::make_shared<ConvertArgs>();
  CLI::App* cmd = app.add_subcommand(
      "convert", "Read a checkpoint and write it as a PyTorch .pth (+ model JSON); or import face-api weights");
  cmd->add_option("--from", args->from, "Source format: pth (PyTorch state_dict, zip or legacy) or face-api")
      ->check(CLI::IsMember({"pth", "face-api"}))
      ->capture_default_str();
  cmd->add_option("--input", args->input,
                  "Input .pth, or for face-api the folder holding ssd_mobilenetv1_model-weights_manifest.json "
                  "(default: the pinned npm package)");
  cmd->add_option("--output", args->output, "Output .pth")->required();
  cmd->add_option("--net", args->net, "Net of a pth input: " + edgessd::known_net_names_text() + " (default: from its JSON, else what its keys tell)");
  cmd->add_option("--labels", args->labels, "labels.txt with the class names of a pth input");
  cmd->add_option("--calibration", args->calibration,
                  "face-api: folder of images to re-estimate BatchNorm statistics on (default: face-api's demo photos)");
  cmd->add_option("--calibration-images", args->calibration_count, "face-api: at most this many calibration images")
      ->check(edgessd::cli::whole_number(1))
      ->capture_default_str();
  cmd->add_option("--reestimate-bn", args->reestimate,
                  "face-api: re-estimate all BatchNorm layers, or only the folded ones (depthwise keep TF's)")
      ->check(CLI::IsMember({"all", "folded"}))
      ->capture_default_str();
  cmd->add_option("--seed", args->seed, "face-api: seed of the fresh layers' init")
      ->check(edgessd::cli::whole_number(0))->capture_default_str();
  cmd->callback([args] {
    if (args->from == "face-api") {
      convert_face_api(*args);
    } else {
      if (args->input.empty()) throw edgessd::Error("--input is required with --from pth");
      convert_pth(*args);
    }
  });
}
