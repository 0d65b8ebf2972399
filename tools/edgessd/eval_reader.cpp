#include <cstdio>

#include "cli_flags.h"
#include "commands.h"
#include "edgessd/common/error.h"
#include "edgessd/common/logging.h"
#include "edgessd/common/parallel.h"
#include "edgessd/common/files.h"
#include "edgessd/deploy/scoring_open.h"
#include "edgessd/model/scoring_open.h"
#include "edgessd/plates/plate_pattern.h"

namespace {

// eval-reader takes either kind for either model: .onnx on the engines, else a checkpoint.
edgessd::OpenedDetector open_detector(const std::string& path, const edgessd::EngineOptions& engine,
                                      const edgessd::PostprocessOptions& post) {
  using namespace edgessd;
  if (edgessd::cli::is_onnx_path(path)) return open_onnx_detector(path, "", "", engine, post);
  // No --net or --labels here: the classes come with the checkpoint.
  check_readable_file(path);
  ModelInfo info;
  if (!load_model_info(path, info))
    throw Error(path + ": no model JSON beside it (" + model_info_path(path) +
                "); give a checkpoint that train wrote, or an ONNX export of this one");
  return open_checkpoint_detector(path, {}, post);
}

struct EvalReaderArgs {
  std::string dataset, split = "test", model, detector, plate_pattern;
  edgessd::EngineOptions engine;
  float threshold = 0.5f;
  bool json = false;
};

void run_eval_reader(const EvalReaderArgs& a) {
  using namespace edgessd;
  resolve_threads(a.engine.threads);
  if (!(a.threshold >= 0 && a.threshold <= 1)) throw Error("--threshold must be within 0..1");
  if (!a.plate_pattern.empty()) check_plate_pattern_syntax(a.plate_pattern);
  // The data set first, then the models: the cheap checks before the slow loads.
  DatasetOptions options;
  options.keep_difficult = true;
  const DetectionDataset dataset = read_open_images(a.dataset, a.split, options);
  std::string reader_what;
  OpenedDetector detector;
  PostprocessOptions post;
  post.probability_threshold = a.threshold;
  if (!a.detector.empty()) detector = open_detector(a.detector, a.engine, post);
  const ReadFunction read = edgessd::cli::is_onnx_path(a.model) ? open_onnx_reader(a.model, a.engine, a.plate_pattern, reader_what)
                                             : open_checkpoint_reader(a.model, a.plate_pattern, reader_what);
  log_info("Reading plates of " + dataset.description + " with " + reader_what +
           (detector.detect ? "; detector " + detector.what : std::string()));
  const ReaderEvalResult r = evaluate_reader(dataset, read, detector.detect);
  if (r.crops.plates == 0) throw Error(a.dataset + " (" + a.split + "): no box has a PlateText to score against");
  if (a.json) std::printf("%s\n", reader_result_json(r).c_str());
  else print_reader_result(r, dataset.description);
}

}  // namespace

void add_eval_reader_command(CLI::App& app) {
  auto a = std::make_shared<EvalReaderArgs>();
  CLI::App* cmd = app.add_subcommand("eval-reader", "Score a plate reader: exact plates and characters, and end to end with a detector");
  cmd->add_option("--dataset", a->dataset, "Data set folder (Open Images layout with PlateText)")->required();
  cmd->add_option("--split", a->split, "train, validation or test")->capture_default_str();
  cmd->add_option("--model", a->model, "The reader: a train-reader checkpoint (.pth) or export-reader's .onnx")->required();
  cmd->add_option("--detector", a->detector, "A detector (.pth or .onnx) for the end-to-end score");
  cmd->add_option("--threshold", a->threshold, "The detector's minimum confidence")->capture_default_str();
  cmd->add_option("--plate-pattern", a->plate_pattern,
                  "Plate formats the reads should fit (the best fitting read unless 100x less probable than the free "
                  "one; 'A' letter, '9' digit, '?' any, '|'), presets among them (" +
                      edgessd::plate_pattern_presets_list() +
                      ") or @FILE (a format a line); a leading '!' reads only what fits");
  edgessd::cli::add_engine_flags(*cmd, a->engine.name, a->engine.threads, "Inference engine for .onnx models");
  cmd->add_flag("--json", a->json, "One JSON object (scores and every plate's read) instead of the text");
  cmd->callback([a] { run_eval_reader(*a); });
}
