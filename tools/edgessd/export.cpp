#include "commands.h"
#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/output_guard.h"
#include "edgessd/common/logging.h"
#include "edgessd/export/onnx_export.h"
#include "edgessd/common/checkpoint_name.h"
#include "edgessd/model/model_open.h"

#include <filesystem>

namespace {

struct ExportArgs {
  std::string model_dir;
  std::string input;
  std::string output;
  std::string net;
  std::string labels;
  std::string resolution;
  int width = -1, height = -1;  // -1: not given
  edgessd::OnnxExportOptions options;
};

void run_export(const ExportArgs& a) {
  using namespace edgessd;
  namespace fs = std::filesystem;
  if (a.input.empty() == a.model_dir.empty()) throw Error("give exactly one of --input X.pth and --model-dir DIR");
  const std::string input = !a.input.empty() ? a.input : best_checkpoint_in(a.model_dir);
  std::string labels = a.labels;
  if (labels.empty() && !a.model_dir.empty() && fs::exists(fs::path(a.model_dir) / "labels.txt"))
    labels = (fs::path(a.model_dir) / "labels.txt").string();
  std::string resolution = a.resolution;
  if (a.width != -1 || a.height != -1) {
    if (!resolution.empty()) throw Error("give --resolution or --width/--height, not both");
    if (a.width < 32 || a.height < 32 || a.width > 4096 || a.height > 4096)
      throw Error("--width/--height must both be given, each within 32..4096");
    resolution = std::to_string(a.width) + "x" + std::to_string(a.height);
  }
  std::string output = a.output;
  if (output.empty()) {
    const fs::path dir = !a.model_dir.empty() ? fs::path(a.model_dir) : fs::path(input).parent_path();
    output = (dir / kOnnxFileName).string();
  }
  std::vector<NamedPath> inputs = checkpoint_inputs(input, a.input.empty() ? "--model-dir" : "--input");
  inputs.push_back({labels, "--labels"});
  check_outputs_apart({{output, "--output"}}, inputs);
  check_output_file(output, "--output");
  check_output_extension(output, "--output", ".onnx", "an ONNX");
  // Opened as a net, so weights that do not fit it (another net's) are an Error naming the file.
  const OpenedCheckpoint opened = open_checkpoint(input, {a.net, labels, "--labels", resolution});
  const ModelInfo& info = opened.info;
  log_info("Exporting " + input + " (" + info.net + ", " + std::to_string(info.num_classes()) + " classes) at " +
           std::to_string(info.input_width) + "x" + std::to_string(info.input_height) + ", " + info.priors +
           " priors, batch " + std::to_string(a.options.batch_size));
  OnnxExportOptions options;
  options.batch_size = a.options.batch_size;
  export_onnx(opened.state, info, output, options);
  log_info("Wrote " + output + " (opset " + std::to_string(kOnnxOpset) +
           "; input_0 -> scores, boxes; detectNet: --input_blob=input_0 --output_cvg=scores --output_bbox=boxes)");
}

}  // namespace

void add_export_command(CLI::App& app) {
  auto a = std::make_shared<ExportArgs>();
  CLI::App* cmd = app.add_subcommand("export", "Write a checkpoint as ONNX for detectNet/TensorRT, OpenCV, ONNX Runtime");
  cmd->add_option("--model-dir,--model_dir", a->model_dir, "Training folder: export its lowest-loss checkpoint");
  cmd->add_option("--input", a->input, "Checkpoint (.pth) to export");
  cmd->add_option("--output", a->output, std::string("ONNX file (default: ") + edgessd::kOnnxFileName + " in --model-dir or beside the checkpoint)");
  cmd->add_option("--net", a->net, edgessd::known_net_names_text() + " (default: from the model JSON)")
      ->check(CLI::IsMember(edgessd::known_net_names()));
  cmd->add_option("--labels", a->labels, "labels.txt (default: the model JSON, or labels.txt in --model-dir)");
  cmd->add_option("--resolution", a->resolution,
                  "Input size, W or WxH (default: the model's; the priors keep their pixel sizes)");
  cmd->add_option("--width", a->width, "Input width (with --height; same as --resolution WxH)");
  cmd->add_option("--height", a->height, "Input height");
  cmd->add_option("--batch-size,--batch_size", a->options.batch_size, "Batch size")->capture_default_str();
  cmd->callback([a] { run_export(*a); });
}
