#include "commands.h"
#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/logging.h"
#include "edgessd/runtime/int8_calibration.h"

namespace {

struct QuantizeArgs {
  std::string model;
  std::string calibration;
  std::string output;
  std::string labels;
  int images = 100;
};

void run_quantize(const QuantizeArgs& a) {
  using namespace edgessd;
  if (a.images < 1) throw Error("--images " + std::to_string(a.images) + ": must be 1 or more");
  check_output_file(a.output, "--output");
  std::vector<std::string> images = list_images(a.calibration);
  if (images.empty()) throw Error("--calibration " + a.calibration + ": no images");
  // An even spread over the folder, not its first files.
  if (static_cast<int>(images.size()) > a.images) {
    std::vector<std::string> picked;
    for (int i = 0; i < a.images; ++i) picked.push_back(images[i * images.size() / a.images]);
    images = picked;
  }
  log_info("Calibrating " + a.model + " on " + std::to_string(images.size()) + " images from " + a.calibration);
  const size_t tensors = quantize_onnx_model(a.model, a.labels, images, a.output);
  log_info("Wrote " + a.output + ": int8 scales for " + std::to_string(tensors) +
           " activations (run by the onednn engine; other runtimes see the fp32 graph)");
}

}  // namespace

void add_quantize_command(CLI::App& app) {
  auto a = std::make_shared<QuantizeArgs>();
  CLI::App* cmd = app.add_subcommand("quantize", "Post-training int8 calibration of an ONNX model (onednn engine)");
  cmd->add_option("--model", a->model, "fp32 ONNX model")->required();
  cmd->add_option("--calibration", a->calibration, "Folder of training images")->required();
  cmd->add_option("--output", a->output, "Output (e.g. X-int8.onnx)")->required();
  cmd->add_option("--images", a->images, "Calibration images to use")->capture_default_str();
  cmd->add_option("--labels", a->labels, "labels.txt (default: the model's own, else labels.txt beside it)");
  cmd->callback([a] { run_quantize(*a); });
}
