#include "bench_onnx.h"

#include <cstdio>

#include "cli_checks.h"
#include "edgessd/common/parallel.h"
#include "edgessd/runtime/benchmark.h"
#include "edgessd/runtime/engine.h"

void add_onnx_bench_options(CLI::App& cmd, OnnxBenchArgs& a, const std::vector<std::string>& more_engines) {
  std::vector<std::string> engines = {"auto"};
  engines.insert(engines.end(), more_engines.begin(), more_engines.end());
  for (const auto& e : edgessd::available_engines()) engines.push_back(e);
  cmd.add_option("--engine", a.engine, "Engine")->check(CLI::IsMember(engines))->capture_default_str();
  cmd.add_option("--threads", a.threads, std::string("Threads (") + edgessd::threads_rule() + ")")->capture_default_str();
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
