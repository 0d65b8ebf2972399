#pragma once
// `edgessd bench` and `edgessd-bench` on an exported detector.
#include <string>

#include "edgessd/runtime/engine.h"

namespace edgessd {

// Loads it (at `resolution` if one is given, else its own), times the engine's forward
// alone on fixed_bench_input, and returns the printout: "<model>: WxH input, P priors,
// M G multiply-adds", then format_bench_line.
std::string bench_onnx_model(const std::string& path, const EngineOptions& options, int runs,
                             const std::string& resolution);

}  // namespace edgessd
