// Fuzz target for ONNX model loading, the runtime's untrusted input: any byte string must
// give a model and engines that run, or an edgessd::Error, never a crash, a hang or an
// out-of-bounds access. Each input is loaded as a file (labels.txt beside it names three
// classes), then built by the oneDNN and the OpenCV DNN engine, which run it once when its
// input is small (the seeds are 32x32).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "edgessd/common/error.h"
#include "edgessd/runtime/engine.h"
#include "edgessd/deploy/detector_model.h"

namespace {

// A folder of this process's, removed at exit (its name is kept in a plain array, which
// outlives the static objects the exit handlers may run after).
char g_dir[512];

std::string model_path() {
  if (!g_dir[0]) {
    const std::string dir =
        (std::filesystem::temp_directory_path() / ("edgessd-fuzz-onnx-" + std::to_string(::getpid()))).string();
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/labels.txt") << "BACKGROUND\na\nb\n";
    std::snprintf(g_dir, sizeof g_dir, "%s", dir.c_str());
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(g_dir, ec);
    });
  }
  return std::string(g_dir) + "/model.onnx";
}

void run_once(edgessd::InferenceEngine& engine, const edgessd::OnnxGraph& graph) {
  const int64_t pixels = int64_t{graph.batch_size} * graph.input_width * graph.input_height;
  if (pixels > 64 * 64) return;  // building is the point for big inputs; running would be slow
  std::vector<float> input(3 * pixels, 0.5f);
  std::vector<edgessd::Tensor> outputs;
  engine.forward(input.data(), outputs);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  {
    std::ofstream out(model_path(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    const edgessd::DetectorModel model = edgessd::load_detector_model(model_path());
    for (auto* make : {&edgessd::create_onednn_engine, &edgessd::create_opencv_engine}) {
      try {
        auto engine = (*make)(model.graph, 1);
        run_once(*engine, model.graph);
      } catch (const edgessd::Error&) {
      }
    }
  } catch (const edgessd::Error&) {
  }
  return 0;
}
