#include <cstdio>
#include <filesystem>

#include "cli_flags.h"
#include "commands.h"
#include "edgessd/common/parallel.h"
#include "edgessd/common/error.h"
#include "edgessd/common/logging.h"
#include "edgessd/common/output_guard.h"
#include "edgessd/eval/evaluate.h"
#include "edgessd/model/scoring_open.h"
// A trainer-only build (EDGESSD_TRAINER_ONLY) has no deploy runtime: checkpoints only.
#ifndef EDGESSD_TRAINER_ONLY
#include "edgessd/deploy/scoring_open.h"
#endif

namespace {

struct EvalArgs {
  std::string dataset_type = "open_images";
  std::string dataset;
  std::string split;
  std::string trained_model;
  std::string model;  // .onnx through the runtime
#ifndef EDGESSD_TRAINER_ONLY
  edgessd::EngineOptions engine;
#endif
  std::string net;
  std::string label_file;
  std::string resolution;
  float iou_threshold = 0.5f;
  std::string use_2007_metric = "true";
  std::string eval_dir = "eval_results";
  std::string nms_method = "hard";
  bool json = false;
};

void run_eval(const EvalArgs& a) {
  using namespace edgessd;
  if (a.trained_model.empty() == a.model.empty()) throw Error("give exactly one of --trained-model X.pth and --model X.onnx");
  std::vector<NamedPath> inputs = checkpoint_inputs(a.trained_model, "--trained-model");
  for (const NamedPath& p : std::vector<NamedPath>{{a.dataset, "--dataset"}, {a.model, "--model"}, {a.label_file, "--label-file"}})
    inputs.push_back(p);
  check_outputs_apart({{a.eval_dir, "--eval-dir"}}, inputs);
#ifndef EDGESSD_TRAINER_ONLY
  resolve_threads(a.engine.threads);  // refused with either model kind
#endif
  PostprocessOptions post;
  post.soft_nms = a.nms_method == "soft";
  OpenedDetector opened;
  if (!a.model.empty()) {
#ifdef EDGESSD_TRAINER_ONLY
    throw Error("--model: this edgessd-train build has no ONNX runtime; use edgessd eval");
#else
    opened = open_onnx_detector(a.model, a.label_file, a.resolution, a.engine, post);
#endif
  } else {
    opened = open_checkpoint_detector(a.trained_model, {a.net, a.label_file, "--label-file", a.resolution}, post);
  }
  const ModelInfo& info = opened.info;
  const DatasetType type = parse_dataset_type(a.dataset_type);
  const std::string split = !a.split.empty() ? a.split : "test";
  DatasetOptions options;
  options.class_names = info.class_names;
  options.keep_difficult = true;
  DetectionDataset dataset = read_dataset(type, a.dataset, split, options);
  log_info("Evaluating " + opened.what + " on " + dataset.description + ": " + std::to_string(dataset.images.size()) +
           " images");
  EvalOptions eval_options;
  eval_options.iou_threshold = a.iou_threshold;
  eval_options.use_2007_metric = cli::truthy(a.use_2007_metric);
  eval_options.eval_dir = a.eval_dir;
  EvalResult result = evaluate(dataset, opened.detect, eval_options);
  std::fputs((a.json ? eval_report_json(result) : format_eval_report(result)).c_str(), stdout);
  std::fflush(stdout);
  log_info("Detections and the precision-recall curve are in " + a.eval_dir + " (" +
           std::to_string(result.images) + " images in " + std::to_string(result.seconds) + " s)");
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand("eval", "Per-class Average Precision and mAP on a test split (eval_ssd.py)");
  edgessd::cli::add_dataset_type_flag(*cmd, a->dataset_type);
  cmd->add_option("--dataset", a->dataset, "Dataset folder")->required();
  cmd->add_option("--split", a->split, "Split to evaluate (default: test)");
  cmd->add_option("--trained-model,--trained_model", a->trained_model, "Checkpoint (.pth)");
  cmd->add_option("--model", a->model, "Exported ONNX model, run through the deploy runtime");
#ifndef EDGESSD_TRAINER_ONLY
  edgessd::cli::add_engine_flags(*cmd, a->engine.name, a->engine.threads, "Runtime engine for --model");
#endif
  cmd->add_option("--net", a->net, edgessd::known_net_names_text() + " (default: from the model JSON)")
      ->check(CLI::IsMember(edgessd::known_net_names()));
  cmd->add_option("--label-file,--label_file", a->label_file, "labels.txt (default: from the model JSON)");
  cmd->add_option("--resolution", a->resolution,
                  "Network input, W or WxH (default: the model's; an ONNX model's is fixed at export)");
  cmd->add_option("--iou-threshold,--iou_threshold", a->iou_threshold, "IoU for a true positive")->capture_default_str();
  edgessd::cli::add_boolean_option(*cmd, "--use-2007-metric,--use_2007_metric", a->use_2007_metric,
                                   "VOC2007 11-point AP (true) or area under the curve (false)");
  cmd->add_option("--eval-dir,--eval_dir", a->eval_dir, "Where det_test_<class>.txt and pr_curve.png go")
      ->capture_default_str();
  cmd->add_option("--nms-method,--nms_method", a->nms_method, "hard or soft")
      ->check(CLI::IsMember({"hard", "soft"}))
      ->capture_default_str();
  cmd->add_flag("--json", a->json, "Print the results as one JSON object (per class, and AP by object size)");
  cmd->callback([a] { run_eval(*a); });
}
