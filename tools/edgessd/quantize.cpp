#include <filesystem>

#include "commands.h"
#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/output_guard.h"
#include "edgessd/common/logging.h"
#include "edgessd/data/plate_samples.h"
#include "edgessd/deploy/detector_model.h"
#include "edgessd/deploy/plate_reader.h"
#include "edgessd/deploy/quantize.h"

namespace {

struct QuantizeArgs {
  std::string model;
  std::string calibration;
  std::string output;
  std::string labels;
  int images = 100;
};

// A plate reader calibrates on plate crops: --calibration is a data set with PlateText.
void quantize_reader(const QuantizeArgs& a) {
  using namespace edgessd;
  const DetectionDataset set = read_open_images(a.calibration, "train");
  const std::vector<PlateSample> plates =
      even_spread(plate_samples(set, load_reader_model(a.model).info.charset).samples, static_cast<size_t>(a.images));
  log_info("Calibrating the plate reader " + a.model + " on " + std::to_string(plates.size()) + " plates of " +
           set.description);
  const size_t tensors = quantize_reader_onnx(a.model, plates, a.output);
  log_info("Wrote " + a.output + ": int8 scales for " + std::to_string(tensors) + " activations (onednn engine)");
}

void run_quantize(const QuantizeArgs& a) {
  using namespace edgessd;
  if (a.images < 1) throw Error("--images " + std::to_string(a.images) + ": must be 1 or more");
  check_outputs_apart({{a.output, "--output"}}, {{a.model, "--model"}, {a.labels, "--labels"},
                                                 {a.calibration, "--calibration"},
                                                 {labels_beside(a.model), "--model's labels"}});
  check_output_file(a.output, "--output");
  check_output_extension(a.output, "--output", ".onnx", "an ONNX");
  if (is_plate_reader(a.model)) return quantize_reader(a);
  std::vector<std::string> images = list_images(a.calibration);
  if (images.empty() && std::filesystem::exists(a.calibration + "/sub-train-annotations-bbox.csv"))
    throw Error("--calibration " + a.calibration + ": a data set, not a folder of images; a detector calibrates on "
                "images (e.g. " + a.calibration + "/train), and " + a.model +
                " carries no plate-reader metadata (export-reader writes it)");
  if (images.empty()) throw Error("--calibration " + a.calibration + ": no images");
  images = even_spread(images, static_cast<size_t>(a.images));
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
  cmd->add_option("--calibration", a->calibration,
                  "Folder of training images; for a plate reader, a data set (Open Images layout) with PlateText")
      ->required();
  cmd->add_option("--output", a->output, "Output (e.g. X-int8.onnx)")->required();
  cmd->add_option("--images", a->images, "Calibration images to use")->capture_default_str();
  cmd->add_option("--labels", a->labels, "labels.txt (default: the model's own, else labels.txt beside it)");
  cmd->callback([a] { run_quantize(*a); });
}
