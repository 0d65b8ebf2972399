#include "cli_flags.h"
#include "commands.h"
#include "edgessd/common/logging.h"
#include "edgessd/common/parallel.h"
#include "edgessd/data/synth.h"

void add_synth_command(CLI::App& app) {
  auto a = std::make_shared<edgessd::SynthOptions>();
  CLI::App* cmd = app.add_subcommand("synth", "Write a synthetic licence-plate data set (Open Images layout)");
  cmd->add_option("--out", a->out, "Output folder")->required();
  cmd->add_option("--count", a->count, "Images over all splits")->capture_default_str();
  cmd->add_option("--seed", a->seed, "Seed (same seed, same data set)")->check(edgessd::cli::whole_number(0))->capture_default_str();
  edgessd::cli::add_threads_flag(*cmd, a->threads);
  cmd->add_option("--photos", a->photo_dirs, "Folders of background photos (default: face-api demo photos and "
                                             "Debian wallpapers, where present)");
  cmd->add_flag("--plates", a->plates, "Plate close-ups for the reader (one plate an image, its box and text) "
                                        "instead of scenes");
  cmd->add_flag("--clean", a->clean, "With --plates: frontal, sharp plates 80-220 px wide (no blur, JPEG or low resolution)");
  cmd->add_flag("--two-row", a->two_row, "With --plates: two-row plates only (square EU plates, motorcycles)");
  cmd->callback([a] {
    a->photos_given = !a->photo_dirs.empty();
    if (a->photo_dirs.empty()) a->photo_dirs = edgessd::default_photo_dirs();
    const edgessd::SynthReport r = edgessd::write_synthetic_plates(*a);
    edgessd::log_info(std::string(r.reused ? "Already complete: " : "Wrote ") + a->out + ": " +
                      std::to_string(r.train_images) + " train, " + std::to_string(r.validation_images) +
                      " validation, " + std::to_string(r.test_images) + " test images, " + std::to_string(r.boxes) +
                      " plates (" + std::to_string(r.photos) + " background photos available)");
  });
}
