#pragma once
#include <functional>
#include <string>
#include <vector>

#include "edgessd/runtime/engine.h"

namespace edgessd {

struct BenchResult {
  double min_ms = 0;
  double median_ms = 0;
  int runs = 0;
  double peak_rss_mb = 0;  // of the whole process, at the end
};

// Times `forward` alone on a fixed input: `warmup` untimed calls, then `runs` timed ones.
BenchResult time_forward(const std::function<void()>& forward, int runs, int warmup = 5);

// What `edgessd bench` prints: `peak_rss_mb=<z> runs=<n>`, then the last line
// `engine=<name> threads=<n> min_ms=<x> median_ms=<y>`.
std::string format_bench_line(const std::string& engine, int threads, const BenchResult& r);

double peak_rss_mb();

// The same input for every engine and program: n fixed pseudo-random values in the
// network's range (-1..1).
std::vector<float> fixed_bench_input(size_t n);

}  // namespace edgessd
