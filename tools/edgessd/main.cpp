#include <CLI/CLI.hpp>
#include <cstdio>

#include "commands.h"
#include "edgessd/common/error.h"
#include "edgessd/model/ssd.h"

int main(int argc, char** argv) {
  CLI::App app{"edgessd: re-train SSD-MobileNet on your own classes and deploy it to edge devices"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "edgessd 0.1.0");
  add_convert_command(app);
  add_train_command(app);
  add_eval_command(app);
  add_export_command(app);
  int exit_code = 0;
  add_detect_command(app, exit_code);
  add_download_command(app, exit_code);
  add_synth_command(app);
  add_demo_command(app);
  add_quantize_command(app);
  add_bench_command(app);
  try {
    edgessd::set_torch_threads();
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const edgessd::Error& e) {
    std::fprintf(stderr, "edgessd: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edgessd: internal error: %s\n", e.what());
    return 2;
  }
  return exit_code;
}
