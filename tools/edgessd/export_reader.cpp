#include <filesystem>

#include "commands.h"
#include "edgessd/common/checkpoint_name.h"
#include "edgessd/common/error.h"
#include "edgessd/common/logging.h"
#include "edgessd/common/files.h"
#include "edgessd/common/output_guard.h"
#include "edgessd/export/onnx_export.h"
#include "edgessd/export/reader_export.h"
#include "edgessd/model/checkpoint.h"
#include "edgessd/model/plate_reader_net.h"

namespace {

struct ExportReaderArgs {
  std::string model_dir, input, output;
  int batch_size = 1;
};

void run_export_reader(const ExportReaderArgs& a) {
  using namespace edgessd;
  namespace fs = std::filesystem;
  if (a.input.empty() == a.model_dir.empty()) throw Error("give exactly one of --input X.pth and --model-dir DIR");
  const std::string input = !a.input.empty() ? a.input : best_checkpoint_in(a.model_dir);
  std::string output = a.output;
  if (output.empty()) {
    const fs::path dir = !a.model_dir.empty() ? fs::path(a.model_dir) : fs::path(input).parent_path();
    output = (dir / kReaderOnnxFileName).string();
  }
  check_outputs_apart({{output, "--output"}}, checkpoint_inputs(input, a.input.empty() ? "--model-dir" : "--input"));
  check_output_file(output, "--output");
  check_output_extension(output, "--output", ".onnx", "an ONNX");
  // Opened as the net, so weights that do not fit it are an Error naming the file.
  OpenedReader opened = open_reader_checkpoint(input);
  export_reader_onnx(state_dict_of(*opened.net), opened.info, output, a.batch_size);
  log_info("Wrote " + output + " (opset " + std::to_string(kOnnxOpset) + "; input_0 (N,3," +
           std::to_string(opened.info.input_height) + "," + std::to_string(opened.info.input_width) + ") -> " +
           kReaderOutputName + " (N,T,C), characters " + opened.info.charset + ")");
}

}  // namespace

void add_export_reader_command(CLI::App& app) {
  auto a = std::make_shared<ExportReaderArgs>();
  CLI::App* cmd = app.add_subcommand("export-reader", "Write a plate reader checkpoint as ONNX (detect --reader, ONNX Runtime, OpenCV)");
  cmd->add_option("--model-dir,--model_dir", a->model_dir, "train-reader's folder: export its best.pth");
  cmd->add_option("--input", a->input, "Checkpoint (.pth) to export");
  cmd->add_option("--output", a->output,
                  std::string("ONNX file (default: ") + edgessd::kReaderOnnxFileName + " in --model-dir or beside the checkpoint)");
  cmd->add_option("--batch-size,--batch_size", a->batch_size, "Batch size")->capture_default_str();
  cmd->callback([a] { run_export_reader(*a); });
}
