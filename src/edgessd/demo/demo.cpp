#include "edgessd/demo/demo.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/logging.h"
#include "edgessd/common/parallel.h"
#include "edgessd/data/dataset.h"
#include "edgessd/data/synth.h"
#include "edgessd/eval/evaluate.h"
#include "edgessd/model/ssd_predictor.h"
#include "edgessd/export/onnx_export.h"
#include "edgessd/model/checkpoint.h"
#include "edgessd/common/checkpoint_name.h"
#include "edgessd/model/faceapi_import.h"
#include "edgessd/common/model_info.h"
#include "edgessd/model/model_open.h"
#include "edgessd/model/ssd.h"
#include "edgessd/deploy/detector.h"
#include "edgessd/deploy/overlay.h"
#include "edgessd/deploy/video_output.h"
#include "edgessd/deploy/video_source.h"
#include "edgessd/train/trainer.h"

namespace edgessd {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Every number checked before the first stage writes anything.
void check_demo_options(const DemoOptions& options) {
  if (options.count < 3 || options.count > 1000000) throw Error("--count must be within 3..1000000");
  if (options.epochs < 1 || options.epochs > 100000) throw Error("--epochs must be within 1..100000");
  if (options.batch_size < 1 || options.batch_size > 4096) throw Error("--batch-size must be within 1..4096");
  if (!(options.threshold >= 0 && options.threshold <= 1)) throw Error("--threshold must be within 0..1");
  resolve_threads(options.threads);
}

// The report's table of stages and their times; a stage announces itself in the log.
class StageTimes {
 public:
  void begin(const std::string& name) {
    log_info("== demo: " + name);
    start_ = Clock::now();
  }
  void end(const std::string& row, bool reused = false) {
    rows_ << "| " << row << " | "
          << (reused ? std::string("reused from an earlier run") : std::to_string(seconds_since(start_)) + " s")
          << " |\n";
  }
  std::string table() const { return rows_.str(); }

 private:
  Clock::time_point start_;
  std::ostringstream rows_;
};

// 1. Synthetic plates (first: the base model calibrates its BatchNorm on them).
SynthReport synthetic_data(const DemoOptions& options, const std::string& folder, StageTimes& times) {
  times.begin("synthetic data set");
  SynthOptions synth;
  synth.out = folder;
  synth.count = options.count;
  synth.seed = options.seed;
  synth.threads = options.threads;
  synth.photo_dirs = default_photo_dirs();
  const SynthReport data = write_synthetic_plates(synth);
  log_info(std::string(data.reused ? "Reusing " : "Wrote ") + folder + ": " + std::to_string(data.train_images) +
           " train, " + std::to_string(data.validation_images) + " validation, " + std::to_string(data.test_images) +
           " test images");
  times.end("synthetic data (" + std::to_string(options.count) + " images)", data.reused);
  return data;
}

// 2. The offline base model: face-api's weights, BatchNorm calibrated on the training images.
std::string base_model(const DemoOptions& options, const std::string& work, const std::string& data, StageTimes& times) {
  times.begin("base model");
  const std::string base = join_path(join_path(work, "base"), "mb1-ssd-relu6-face-api.pth");
  std::error_code ec;
  const bool reused = fs::exists(base, ec);
  if (!reused) {
    make_folder(fs::path(base).parent_path().string());
    FaceApiImportOptions import;
    import.model_dir = join_path(face_api_dir(), "model");
    std::vector<std::string> calibration = list_images(join_path(data, "train"));
    if (calibration.size() > 64) calibration.resize(64);
    import.calibration_images = calibration;
    import.seed = options.seed;
    import.folded_only = true;
    import_face_api_checkpoint(import, base);
  }
  log_info("Base model: " + base);
  times.end("base model import", reused);
  return base;
}

// 3. Re-training (resumed if an earlier run stopped part-way); returns the best checkpoint.
std::string trained_model(const DemoOptions& options, const std::string& data, const std::string& base,
                          const std::string& model_dir, StageTimes& times) {
  times.begin("training");
  int last_epoch = -1;
  const std::string last = latest_checkpoint_in(model_dir, last_epoch);
  const bool reused = last_epoch >= options.epochs - 1;
  if (!reused) {
    TrainOptions train_options;
    train_options.data = {data};
    if (last.empty()) train_options.pretrained_ssd = base;
    else train_options.resume = last;
    train_options.epochs = options.epochs;
    train_options.t_max = options.epochs;  // cosine down to ~0 over the short run
    train_options.batch_size = options.batch_size;
    train_options.model_dir = model_dir;
    train_options.seed = options.seed;
    train_options.threads = options.threads;
    train_options.precision = options.precision;
    train_options.debug_steps = 20;
    train(train_options);
  } else {
    log_info("Reusing the trained model in " + model_dir);
  }
  times.end("training (" + std::to_string(options.epochs) + " epochs)", reused);
  return best_checkpoint_in(model_dir);
}

// 4. Evaluation on the held-out test split; the report goes to stdout.
EvalResult evaluation(const OpenedCheckpoint& opened, const std::string& data, const std::string& eval_dir,
                      StageTimes& times) {
  times.begin("evaluation");
  DatasetOptions dataset_options;
  dataset_options.class_names = opened.info.class_names;
  const DetectionDataset test = read_open_images(data, "test", dataset_options);
  SsdPredictor predictor(opened.net, opened.info);
  EvalOptions eval_options;
  eval_options.eval_dir = eval_dir;
  const EvalResult eval = evaluate(test, [&](const cv::Mat& rgb) { return predictor.predict(rgb); }, eval_options);
  std::fputs(format_eval_report(eval).c_str(), stdout);
  std::fflush(stdout);
  times.end("evaluation (" + std::to_string(test.images.size()) + " images)");
  return eval;
}

// 6. The deploy runtime on the held-out images, as `detect` runs it: a folder source, the
// detector, the overlay, a folder output.
struct DetectionStage {
  size_t images = 0, detections = 0;
  double mean_network_ms = 0;
  std::string engine;
  std::vector<std::string> shown;  // the first few annotated images' names
};

DetectionStage detection(const std::string& onnx, const std::string& images, const std::string& out_dir,
                         float threshold, StageTimes& times) {
  times.begin("detection");
  PostprocessOptions post;
  post.probability_threshold = threshold;
  Detector detector(load_detector_model(onnx), {}, post);
  auto source = VideoSource::open(images);
  auto output = VideoOutput::open(out_dir, source->is_sequence(), 0);
  DetectionStage d;
  d.engine = detector.engine_name();
  double network_ms = 0;
  for (Frame frame; source->read(frame);) {
    const auto found = detector.detect_bgr(frame.bgr);
    network_ms += detector.last_timings().network_ms;
    d.detections += found.size();
    draw_detections(frame.bgr, found, detector.info().class_names);
    output->write(frame.bgr, frame.name);
    if (d.shown.size() < 6) d.shown.push_back(frame.name);
    ++d.images;
  }
  output->close();
  d.mean_network_ms = d.images ? network_ms / d.images : 0;
  times.end("detection (" + std::to_string(d.images) + " images, engine " + d.engine + ")");
  return d;
}

// 7. The report: what was trained and how well, the stage times, the loss curve and
// some annotated images.
std::string report_text(const DemoOptions& options, const ModelInfo& info, const SynthReport& data,
                        const std::string& best, const DemoResult& result, const DetectionStage& detected,
                        const StageTimes& times) {
  std::ostringstream report;
  char map_text[64];
  std::snprintf(map_text, sizeof map_text, "%.4f", result.mean_average_precision);
  report << "# edgessd demo\n\n"
         << "SSD-MobileNet-v1 (" << info.net << ", base: face-api's pretrained weights) re-trained for "
         << options.epochs << " epochs on " << data.train_images << " synthetic licence-plate images, evaluated on "
         << detected.images << " held-out test images, exported to ONNX and run by the deploy runtime.\n\n"
         << "- **mAP (VOC07 11-point, IoU 0.5): " << map_text << "**\n"
         << "- checkpoint: `" << best << "`\n"
         << "- ONNX: `" << result.onnx_path << "` (input_0 -> scores, boxes)\n"
         << "- " << detected.detections << " detections at confidence >= " << options.threshold
         << " on the test images; network " << detected.mean_network_ms << " ms per image (" << detected.engine << ")\n"
         << "- annotated images: `detections/`; per-class detections and the PR curve: `eval/`\n\n"
         << "| stage | time |\n|---|---|\n"
         << times.table() << "| total | " << result.seconds << " s |\n\n"
         << "## Loss curve\n\n![loss](model/loss.png)\n\n## Detections\n\n";
  for (const auto& name : detected.shown) report << "![" << name << "](detections/" << name << ")\n";
  return report.str();
}

}  // namespace

DemoResult run_demo(const DemoOptions& options) {
  const auto start = Clock::now();
  check_demo_options(options);
  const std::string& work = options.workdir;
  make_folder(work, "--workdir");
  StageTimes times;
  const std::string data = join_path(work, "data"), model_dir = join_path(work, "model");
  const SynthReport synth = synthetic_data(options, data, times);
  const std::string base = base_model(options, work, data, times);
  const std::string best = trained_model(options, data, base, model_dir, times);
  OpenedCheckpoint opened = open_checkpoint(best, {});
  DemoResult result;
  result.mean_average_precision = evaluation(opened, data, join_path(work, "eval"), times).mean_average_precision;

  times.begin("ONNX export");
  result.onnx_path = join_path(model_dir, kOnnxFileName);
  export_onnx(opened.state, opened.info, result.onnx_path);
  log_info("Wrote " + result.onnx_path);
  times.end("ONNX export");

  result.detections_dir = join_path(work, "detections");
  const DetectionStage detected =
      detection(result.onnx_path, join_path(data, "test"), result.detections_dir, options.threshold, times);
  result.seconds = seconds_since(start);
  result.report_path = join_path(work, "report.md");
  write_file_atomic(result.report_path, report_text(options, opened.info, synth, best, result, detected, times));
  char map_text[64];
  std::snprintf(map_text, sizeof map_text, "%.4f", result.mean_average_precision);
  log_info("Demo done in " + std::to_string(static_cast<int>(result.seconds)) + " s: mAP " + map_text + "; report " +
           result.report_path + ", annotated images in " + result.detections_dir + ", loss curve " +
           join_path(model_dir, "loss.png"));
  return result;
}

}  // namespace edgessd
