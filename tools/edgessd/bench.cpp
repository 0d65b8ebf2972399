#include <torch/torch.h>

#include <cstdio>

#include "bench_onnx.h"
#include "commands.h"
#include "edgessd/common/error.h"
#include "edgessd/common/parallel.h"
#include "edgessd/common/model_info.h"
#include "edgessd/model/checkpoint.h"
#include "edgessd/model/model_open.h"
#include "edgessd/model/ssd.h"
#include "edgessd/runtime/benchmark.h"

namespace {

struct BenchArgs {
  OnnxBenchArgs onnx;
  std::string net;
};

// LibTorch eager on the checkpoint (X.pth), for comparison with the ONNX engines.
void run_libtorch_bench(const BenchArgs& a) {
  using namespace edgessd;
  const int threads = resolve_threads(a.onnx.threads);
  OpenedCheckpoint opened = open_checkpoint(a.onnx.model, {a.net, "", "--labels", a.onnx.resolution}, MissingNames::Numbered);
  torch::set_num_threads(threads);
  const int w = opened.info.input_width, h = opened.info.input_height;
  std::vector<float> input = fixed_bench_input(3 * static_cast<size_t>(w) * h);
  const torch::Tensor x = torch::from_blob(input.data(), {1, 3, h, w}, torch::kFloat32);
  Ssd& net = opened.net;
  torch::NoGradGuard no_grad;
  const BenchResult r = time_forward([&] { net->predict(x); }, a.onnx.runs);
  std::printf("%s\n", format_bench_line("libtorch", threads, r).c_str());
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto a = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand("bench", "Time the network alone on a fixed input");
  cmd->add_option("--model", a->onnx.model, "ONNX model (or .pth with --engine libtorch)")->required();
  add_onnx_bench_options(*cmd, a->onnx, {"libtorch"});
  cmd->add_option("--net", a->net, "For --engine libtorch without a model JSON: " + edgessd::known_net_names_text());
  cmd->callback([a] { a->onnx.engine == "libtorch" ? run_libtorch_bench(*a) : run_onnx_bench(a->onnx); });
}
