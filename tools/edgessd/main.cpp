#include "commands.h"
#include "edgessd/common/version.h"
#include "edgessd/model/ssd.h"
#include "run_app.h"

int main(int argc, char** argv) {
  CLI::App app{"edgessd: re-train SSD-MobileNet on your own classes and deploy it to edge devices"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "edgessd " EDGESSD_VERSION);
  add_training_commands(app);
  add_export_command(app);
  add_train_reader_command(app);
  add_eval_reader_command(app);
  add_export_reader_command(app);
  int exit_code = 0;
  add_detect_command(app, exit_code);
  add_download_command(app, exit_code);
  add_synth_command(app);
  add_priors_command(app);
  add_demo_command(app);
  add_quantize_command(app);
  add_bench_command(app);
  return run_app(app, argc, argv, "edgessd", exit_code, [] { edgessd::set_torch_threads(); });
}
