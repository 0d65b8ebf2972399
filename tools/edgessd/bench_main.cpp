// edgessd-bench: `edgessd bench` on ONNX models as a program of its own that links only the
// runtime, so that a board (arm64 .deb) can check README's figures with one command.
#include "bench_onnx.h"
#include "edgessd/common/version.h"
#include "run_app.h"

int main(int argc, char** argv) {
  CLI::App app{"edgessd-bench: time an SSD ONNX model's network alone on a fixed input"};
  app.set_version_flag("--version", "edgessd-bench " EDGESSD_VERSION);
  OnnxBenchArgs a;
  app.add_option("--model", a.model, "ONNX detector (edgessd export or edgessd quantize)")->required();
  add_onnx_bench_options(app, a);
  app.callback([&a] { run_onnx_bench(a); });
  return run_app(app, argc, argv, "edgessd-bench", 0);
}
