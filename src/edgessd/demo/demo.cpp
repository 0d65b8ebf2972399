#include "edgessd/demo/demo.h"

#include <opencv2/imgcodecs.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/logging.h"
#include "edgessd/common/threads.h"
#include "edgessd/data/dataset.h"
#include "edgessd/data/synth.h"
#include "edgessd/eval/evaluate.h"
#include "edgessd/eval/ssd_predictor.h"
#include "edgessd/export/onnx_export.h"
#include "edgessd/model/checkpoint.h"
#include "edgessd/model/checkpoint_name.h"
#include "edgessd/model/faceapi_import.h"
#include "edgessd/model/model_info.h"
#include "edgessd/model/model_open.h"
#include "edgessd/model/ssd.h"
#include "edgessd/runtime/detector.h"
#include "edgessd/runtime/overlay.h"
#include "edgessd/train/trainer.h"

namespace edgessd {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string stage(const std::string& name) {
  log_info("== demo: " + name);
  return name;
}

// Every number checked before the first stage writes anything.
void check_demo_options(const DemoOptions& options) {
  if (options.count < 3 || options.count > 1000000) throw Error("--count must be within 3..1000000");
  if (options.epochs < 1 || options.epochs > 100000) throw Error("--epochs must be within 1..100000");
  if (options.batch_size < 1 || options.batch_size > 4096) throw Error("--batch-size must be within 1..4096");
  if (!(options.threshold >= 0 && options.threshold <= 1)) throw Error("--threshold must be within 0..1");
  resolve_threads(options.threads);
}

}  // namespace

DemoResult run_demo(const DemoOptions& options) {
  const auto start = Clock::now();
  DemoResult result;
  const std::string work = options.workdir;
  check_demo_options(options);
  std::error_code ec;
  make_folder(work, "--workdir");
  std::ostringstream timings;

  // 1. Synthetic plates (first: the base model calibrates its BatchNorm on them).
  stage("synthetic data set");
  auto t = Clock::now();
  SynthOptions synth;
  synth.out = join_path(work, "data");
  synth.count = options.count;
  synth.seed = options.seed;
  synth.threads = options.threads;
  synth.photo_dirs = default_photo_dirs();
  const SynthReport data = write_synthetic_plates(synth);
  log_info(std::string(data.reused ? "Reusing " : "Wrote ") + synth.out + ": " + std::to_string(data.train_images) +
           " train, " + std::to_string(data.validation_images) + " validation, " + std::to_string(data.test_images) +
           " test images");
  auto took = [&](bool reused) {
    return reused ? std::string("reused from an earlier run") : std::to_string(seconds_since(t)) + " s";
  };
  timings << "| synthetic data (" << options.count << " images) | " << took(data.reused) << " |\n";

  // 2. The offline base model.
  stage("base model");
  t = Clock::now();
  const std::string base = join_path(join_path(work, "base"), "mb1-ssd-relu6-face-api.pth");
  const bool base_reused = fs::exists(base, ec);
  if (!base_reused) {
    make_folder(fs::path(base).parent_path().string());
    FaceApiImportOptions import;
    import.model_dir = join_path(face_api_dir(), "model");
    std::vector<std::string> calibration = list_images(join_path(synth.out, "train"));
    if (calibration.size() > 64) calibration.resize(64);
    import.calibration_images = calibration;
    import.seed = options.seed;
    import.folded_only = true;
    import_face_api_checkpoint(import, base);
  }
  log_info("Base model: " + base);
  timings << "| base model import | " << took(base_reused) << " |\n";

  // 3. Re-training (resumed if an earlier run stopped part-way).
  stage("training");
  t = Clock::now();
  const std::string model_dir = join_path(work, "model");
  int last_epoch = -1;
  std::string last = latest_checkpoint_in(model_dir, last_epoch);
  const bool trained_before = last_epoch >= options.epochs - 1;
  if (!trained_before) {
    TrainOptions train_options;
    train_options.data = {synth.out};
    train_options.net = "mb1-ssd-relu6";
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
  timings << "| training (" << options.epochs << " epochs) | " << took(trained_before) << " |\n";
  const std::string best = best_checkpoint_in(model_dir);
  OpenedCheckpoint opened = open_checkpoint(best, {});
  const ModelInfo& info = opened.info;

  // 4. Evaluation on the held-out test split.
  stage("evaluation");
  t = Clock::now();
  DatasetOptions dataset_options;
  dataset_options.class_names = info.class_names;
  const DetectionDataset test = read_open_images(synth.out, "test", dataset_options);
  SsdPredictor predictor(opened.net, info);
  EvalOptions eval_options;
  eval_options.eval_dir = join_path(work, "eval");
  const EvalResult eval = evaluate(test, [&](const cv::Mat& rgb) { return predictor.predict(rgb); }, eval_options);
  std::fputs(format_eval_report(eval).c_str(), stdout);
  std::fflush(stdout);
  result.mean_average_precision = eval.mean_average_precision;
  timings << "| evaluation (" << test.images.size() << " images) | " << seconds_since(t) << " s |\n";

  // 5. Export.
  stage("ONNX export");
  t = Clock::now();
  result.onnx_path = join_path(model_dir, kOnnxFileName);
  export_onnx(opened.state, info, result.onnx_path);
  log_info("Wrote " + result.onnx_path);
  timings << "| ONNX export | " << seconds_since(t) << " s |\n";

  // 6. The deploy runtime on the held-out images.
  stage("detection");
  t = Clock::now();
  PostprocessOptions post;
  post.probability_threshold = options.threshold;
  Detector detector(load_onnx_model(result.onnx_path), {}, post);
  result.detections_dir = join_path(work, "detections");
  make_folder(result.detections_dir);
  size_t detections = 0;
  double network_ms = 0;
  std::vector<std::string> shown;
  for (const auto& image : test.images) {
    cv::Mat bgr = cv::imread(image.image_path);
    if (bgr.empty()) continue;
    const auto found = detector.detect_bgr(bgr);
    network_ms += detector.last_timings().network_ms;
    detections += found.size();
    draw_detections(bgr, found, info.class_names);
    const std::string name = fs::path(image.image_path).filename().string();
    std::vector<uchar> jpeg;
    cv::imencode(".jpg", bgr, jpeg);
    write_file_atomic(join_path(result.detections_dir, name), std::string(jpeg.begin(), jpeg.end()));
    if (shown.size() < 6) shown.push_back(name);
  }
  const double mean_network_ms = test.images.empty() ? 0 : network_ms / test.images.size();
  timings << "| detection (" << test.images.size() << " images, engine " << detector.engine_name() << ") | "
          << seconds_since(t) << " s |\n";
  result.seconds = seconds_since(start);

  // 7. The report.
  std::ostringstream report;
  char map_text[64];
  std::snprintf(map_text, sizeof map_text, "%.4f", result.mean_average_precision);
  report << "# edgessd demo\n\n"
         << "SSD-MobileNet-v1 (" << info.net << ", base: face-api's pretrained weights) re-trained for "
         << options.epochs << " epochs on " << data.train_images << " synthetic licence-plate images, evaluated on "
         << test.images.size() << " held-out test images, exported to ONNX and run by the deploy runtime.\n\n"
         << "- **mAP (VOC07 11-point, IoU 0.5): " << map_text << "**\n"
         << "- checkpoint: `" << best << "`\n"
         << "- ONNX: `" << result.onnx_path << "` (input_0 -> scores, boxes)\n"
         << "- " << detections << " detections at confidence >= " << options.threshold << " on the test images; network "
         << mean_network_ms << " ms per image (" << detector.engine_name() << ")\n"
         << "- annotated images: `detections/`; per-class detections and the PR curve: `eval/`\n\n"
         << "| stage | time |\n|---|---|\n"
         << timings.str() << "| total | " << result.seconds << " s |\n\n"
         << "## Loss curve\n\n![loss](model/loss.png)\n\n## Detections\n\n";
  for (const auto& name : shown) report << "![" << name << "](detections/" << name << ")\n";
  result.report_path = join_path(work, "report.md");
  write_file_atomic(result.report_path, report.str());
  log_info("Demo done in " + std::to_string(static_cast<int>(result.seconds)) + " s: mAP " + map_text +
           "; report " + result.report_path + ", annotated images in " + result.detections_dir + ", loss curve " +
           join_path(model_dir, "loss.png"));
  return result;
}

}  // namespace edgessd
