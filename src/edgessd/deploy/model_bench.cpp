#include "edgessd/deploy/model_bench.h"

#include <cstdio>
#include <vector>

#include "edgessd/common/error.h"
#include "edgessd/deploy/detector_model.h"
#include "edgessd/runtime/benchmark.h"

namespace edgessd {

std::string bench_onnx_model(const std::string& path, const EngineOptions& options, int runs,
                             const std::string& resolution) {
  const DetectorModel model = load_detector_model(path);
  const OnnxGraph& graph = model.graph;
  check_input_size(graph, resolution);
  char macs[64] = ", multiply-adds not counted (OpenCV DNN cannot load it)\n";
  try {
    std::snprintf(macs, sizeof macs, ", %.3f G multiply-adds\n", multiply_adds(graph) / 1e9);
  } catch (const Error&) {  // oneDNN may run what OpenCV cannot load: the timing still counts
  }
  const std::string size = path + ": " + std::to_string(graph.input_width) + "x" + std::to_string(graph.input_height) +
                           " input, " + std::to_string(model.num_priors) + " priors" + macs;
  auto engine = create_engine(graph, options);
  std::vector<float> input =
      fixed_bench_input(static_cast<size_t>(graph.batch_size) * 3 * graph.input_width * graph.input_height);
  std::vector<Tensor> outputs;
  const BenchResult r = time_forward([&] { engine->forward(input.data(), outputs); }, runs);
  return size + format_bench_line(engine->name(), options.threads, r);
}

}  // namespace edgessd
