#include "commands.h"
#include "edgessd/common/threads.h"
#include "edgessd/data/synth.h"
#include "edgessd/demo/demo.h"
#include "edgessd/common/logging.h"

void add_demo_command(CLI::App& app) {
  auto a = std::make_shared<edgessd::DemoOptions>();
  CLI::App* cmd = app.add_subcommand("demo", "The whole pipeline offline: synthetic plates, train, eval, export, detect");
  cmd->add_option("--workdir", a->workdir, "Where everything goes (reused by reruns)")->capture_default_str();
  cmd->add_option("--count", a->count, "Synthetic images (all splits)")->capture_default_str();
  cmd->add_option("--epochs", a->epochs, "Training epochs")->capture_default_str();
  cmd->add_option("--batch-size", a->batch_size, "Training batch size")->capture_default_str();
  cmd->add_option("--seed", a->seed, "Seed for data and training")->capture_default_str();
  cmd->add_option("--threads", a->threads, std::string("Threads (") + edgessd::threads_rule() + ")")->capture_default_str();
  cmd->add_option("--precision", a->precision, "auto, fp32 or bf16")->check(CLI::IsMember({"auto", "fp32", "bf16"}))
      ->capture_default_str();
  cmd->add_option("--threshold", a->threshold, "Confidence for the annotated images")->capture_default_str();
  cmd->callback([a] { edgessd::run_demo(*a); });
}

void add_synth_command(CLI::App& app) {
  auto a = std::make_shared<edgessd::SynthOptions>();
  CLI::App* cmd = app.add_subcommand("synth", "Write a synthetic licence-plate data set (Open Images layout)");
  cmd->add_option("--out", a->out, "Output folder")->required();
  cmd->add_option("--count", a->count, "Images over all splits")->capture_default_str();
  cmd->add_option("--seed", a->seed, "Seed (same seed, same data set)")->capture_default_str();
  cmd->add_option("--threads", a->threads, std::string("Threads (") + edgessd::threads_rule() + ")")->capture_default_str();
  cmd->add_option("--photos", a->photo_dirs, "Folders of background photos (default: face-api demo photos and "
                                             "Debian wallpapers, where present)");
  cmd->callback([a] {
    if (a->photo_dirs.empty()) a->photo_dirs = edgessd::default_photo_dirs();
    const edgessd::SynthReport r = edgessd::write_synthetic_plates(*a);
    edgessd::log_info(std::string(r.reused ? "Already complete: " : "Wrote ") + a->out + ": " +
                      std::to_string(r.train_images) + " train, " + std::to_string(r.validation_images) +
                      " validation, " + std::to_string(r.test_images) + " test images, " + std::to_string(r.boxes) +
                      " plates (" + std::to_string(r.photos) + " background photos available)");
  });
}
