#include "bench_onnx.h"

#include <cstdio>

#include "cli_flags.h"
#include "edgessd/common/parallel.h"
#include "edgessd/deploy/model_bench.h"
#include "edgessd/runtime/engine.h"

void add_onnx_bench_options(CLI::App& cmd, OnnxBenchArgs& a, const std::vector<std::string>& more_engines) {
  edgessd::cli::add_engine_flags(cmd, a.engine, a.threads, "Engine", more_engines);
  cmd.add_option("--runs", a.runs, "Timed runs after 5 warm-up runs")
      ->check(edgessd::cli::whole_number(1, 1000000))
      ->capture_default_str();
  cmd.add_option("--resolution", a.resolution,
                 "Input W or WxH: a .pth runs at it; an ONNX model must have been exported at it");
}

void run_onnx_bench(const OnnxBenchArgs& a) {
  edgessd::EngineOptions options;
  options.name = a.engine;
  options.threads = edgessd::resolve_threads(a.threads);
  std::printf("%s\n", edgessd::bench_onnx_model(a.model, options, a.runs, a.resolution).c_str());
}
