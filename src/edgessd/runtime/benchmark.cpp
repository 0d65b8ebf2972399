#include "edgessd/runtime/benchmark.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "edgessd/common/error.h"
#include "edgessd/common/progress.h"
#include "edgessd/runtime/onnx_graph.h"

namespace edgessd {

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

BenchResult time_forward(const std::function<void()>& forward, int runs, int warmup) {
  for (int i = 0; i < warmup; ++i) forward();
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    forward();
    ms.push_back(ms_since(start));
  }
  std::sort(ms.begin(), ms.end());
  BenchResult r;
  r.runs = runs;
  r.min_ms = ms.front();
  r.median_ms = ms.size() % 2 ? ms[ms.size() / 2] : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2;
  r.peak_rss_mb = peak_rss_mb();
  return r;
}

std::string format_bench_line(const std::string& engine, int threads, const BenchResult& r) {
  char line[256];
  std::snprintf(line, sizeof line, "peak_rss_mb=%.1f runs=%d\nengine=%s threads=%d min_ms=%.3f median_ms=%.3f",
                r.peak_rss_mb, r.runs, engine.c_str(), threads, r.min_ms, r.median_ms);
  return line;
}

std::vector<float> fixed_bench_input(size_t n) {
  std::mt19937 random(7);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::vector<float> input(n);
  for (auto& v : input) v = unit(random);
  return input;
}

}  // namespace edgessd
