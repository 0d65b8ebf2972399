#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

// The flags `edgessd bench` and `edgessd-bench` (the deploy side's, no LibTorch) share:
// an ONNX model timed on one engine.
struct OnnxBenchArgs {
  std::string model;
  std::string engine = "auto";
  int threads = 0;
  int runs = 30;
  std::string resolution;
};

// `more_engines`: engine names a program adds to the runtime's (edgessd bench: libtorch).
void add_onnx_bench_options(CLI::App& cmd, OnnxBenchArgs& a, const std::vector<std::string>& more_engines = {});
void run_onnx_bench(const OnnxBenchArgs& a);
