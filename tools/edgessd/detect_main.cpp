// edgessd-detect: `edgessd detect` as a program of its own that links only the runtime
// (OpenCV, ONNX protobuf), not LibTorch, for devices that only deploy.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "commands.h"
#include "edgessd/common/error.h"

int main(int argc, char** argv) {
  CLI::App app{"edgessd-detect: detect objects with an SSD ONNX model in images, video, cameras and streams"};
  app.set_version_flag("--version", "edgessd 0.1.0");
  int exit_code = 0;
  add_detect_options(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const edgessd::Error& e) {
    std::fprintf(stderr, "edgessd-detect: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edgessd-detect: internal error: %s\n", e.what());
    return 2;
  }
  return exit_code;
}
