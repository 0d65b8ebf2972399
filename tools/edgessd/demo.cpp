#include "cli_flags.h"
#include "commands.h"
#include "edgessd/common/parallel.h"
#include "edgessd/demo/demo.h"

void add_demo_command(CLI::App& app) {
  auto a = std::make_shared<edgessd::DemoOptions>();
  CLI::App* cmd = app.add_subcommand("demo", "The whole pipeline offline: synthetic plates, train, eval, export, detect");
  cmd->add_option("--workdir", a->workdir, "Where everything goes (reused by reruns)")->capture_default_str();
  cmd->add_option("--count", a->count, "Synthetic images (all splits)")->capture_default_str();
  cmd->add_option("--epochs", a->epochs, "Training epochs")->capture_default_str();
  cmd->add_option("--batch-size", a->batch_size, "Training batch size")->capture_default_str();
  cmd->add_option("--seed", a->seed, "Seed for data and training")->check(edgessd::cli::whole_number(0))->capture_default_str();
  edgessd::cli::add_threads_flag(*cmd, a->threads);
  cmd->add_option("--precision", a->precision, "auto, fp32 or bf16")->check(CLI::IsMember({"auto", "fp32", "bf16"}))
      ->capture_default_str();
  cmd->add_option("--threshold", a->threshold, "Confidence for the annotated images")->capture_default_str();
  cmd->callback([a] { edgessd::run_demo(*a); });
}
