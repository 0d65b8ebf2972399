// edgessd-train: the convert, train and eval (checkpoints) subcommands alone, for a training box built with
// -DEDGESSD_TRAINER_ONLY=ON (LibTorch, e.g. PyTorch's CUDA one, and OpenCV only).
#include "commands.h"
#include "edgessd/common/version.h"
#include "edgessd/model/ssd.h"
#include "run_app.h"

int main(int argc, char** argv) {
  CLI::App app{"edgessd-train: re-train SSD-MobileNet on your own classes"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "edgessd-train " EDGESSD_VERSION);
  add_training_commands(app);
  return run_app(app, argc, argv, "edgessd-train", 0, [] { edgessd::set_torch_threads(); });
}
