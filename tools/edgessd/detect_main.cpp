// edgessd-detect: `edgessd detect` as a program of its own that links only the runtime
// (OpenCV, ONNX protobuf), not LibTorch, for devices that only deploy.
#include "commands.h"
#include "edgessd/common/version.h"
#include "run_app.h"

int main(int argc, char** argv) {
  CLI::App app{"edgessd-detect: detect objects with an SSD ONNX model in images, video, cameras and streams"};
  app.set_version_flag("--version", "edgessd-detect " EDGESSD_VERSION);
  int exit_code = 0;
  add_detect_options(app, exit_code);
  return run_app(app, argc, argv, "edgessd-detect", exit_code);
}
