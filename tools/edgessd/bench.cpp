#include <torch/torch.h>

#include <cstdio>
#include <random>

#include "cli_checks.h"
#include "commands.h"
#include "edgessd/common/error.h"
#include "edgessd/common/parallel.h"
#include "edgessd/common/files.h"
#include "edgessd/common/logging.h"
#include "edgessd/model/checkpoint.h"
#include "edgessd/common/model_info.h"
#include "edgessd/model/model_open.h"
#include "edgessd/model/ssd.h"
#include "edgessd/runtime/benchmark.h"
#include "edgessd/runtime/engine.h"
#include "edgessd/runtime/onnx_model.h"

namespace {

struct BenchArgs {
  std::string model;
  std::string engine = "auto";
  int threads = 0;
  int runs = 30;
  std::string net;
  std::string resolution;
};

// The same input for every engine: a fixed pseudo-random image in the network's range.
std::vector<float> fixed_input(size_t n) {
  std::mt19937 random(7);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::vector<float> input(n);
  for (auto& v : input) v = unit(random);
  return input;
}

void run_bench(const BenchArgs& a) {
  using namespace edgessd;
  const int threads = edgessd::resolve_threads(a.threads);
  if (a.runs < 1) throw Error("--runs must be >= 1");
  if (a.engine == "libtorch") {
    // LibTorch eager on the checkpoint (X.pth), for comparison.
    OpenedCheckpoint opened = open_checkpoint(a.model, {a.net, "", "--labels", a.resolution}, MissingNames::Numbered);
    torch::set_num_threads(threads);
    const int w = opened.info.input_width, h = opened.info.input_height;
    std::vector<float> input = fixed_input(3 * static_cast<size_t>(w) * h);
    const torch::Tensor x = torch::from_blob(input.data(), {1, 3, h, w}, torch::kFloat32);
    Ssd& net = opened.net;
    torch::NoGradGuard no_grad;
    const BenchResult r = time_forward([&] { net->predict(x); }, a.runs);
    std::printf("%s\n", format_bench_line("libtorch", threads, r).c_str());
    return;
  }
  OnnxModel model = load_onnx_model(a.model);
  check_input_size(model, a.resolution);
  std::printf("%s: %dx%d input, %lld priors\n", a.model.c_str(), model.info.input_width, model.info.input_height,
              static_cast<long long>(model.num_priors));
  EngineOptions options;
  options.name = a.engine;
  options.threads = threads;
  auto engine = create_engine(model, options);
  std::vector<float> input =
      fixed_input(static_cast<size_t>(model.batch_size) * 3 * model.info.input_width * model.info.input_height);
  std::vector<float> scores, boxes;
  int64_t priors = 0;
  const BenchResult r = time_forward([&] { engine->forward(input.data(), scores, boxes, priors); }, a.runs);
  std::printf("%s\n", format_bench_line(engine->name(), threads, r).c_str());
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto a = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand("bench", "Time the network alone on a fixed input");
  cmd->add_option("--model", a->model, "ONNX model (or .pth with --engine libtorch)")->required();
  std::vector<std::string> engines = {"auto", "libtorch"};
  for (const auto& e : edgessd::available_engines()) engines.push_back(e);
  cmd->add_option("--engine", a->engine, "Engine")->check(CLI::IsMember(engines))->capture_default_str();
  cmd->add_option("--threads", a->threads, std::string("Threads (") + edgessd::threads_rule() + ")")->capture_default_str();
  cmd->add_option("--runs", a->runs, "Timed runs after 5 warm-up runs")
      ->check(edgessd::cli::whole_number(1, 1000000))->capture_default_str();
  cmd->add_option("--resolution", a->resolution,
                  "Input W or WxH: a .pth runs at it; an ONNX model must have been exported at it");
  cmd->add_option("--net", a->net, "For --engine libtorch without a model JSON: " + edgessd::known_net_names_text());
  cmd->callback([a] { run_bench(*a); });
}
