#include "cli_flags.h"
#include "commands.h"
#include "edgessd/common/output_guard.h"
#include "edgessd/common/parallel.h"
#include "edgessd/common/logging.h"
#include "edgessd/train/reader_trainer.h"

void add_train_reader_command(CLI::App& app) {
  auto o = std::make_shared<edgessd::ReaderTrainOptions>();
  CLI::App* cmd = app.add_subcommand(
      "train-reader", "Train the plate reader (CTC) on the plate crops of data sets whose CSV has PlateText");
  cmd->add_option("--data,--datasets", o->data,
                  "Data set folder(s) in the Open Images layout with PlateText (real ones, edgessd synth ones); "
                  "validation: the first with a validation split")->required();
  cmd->add_option("--model-dir,--model_dir,--checkpoint-folder", o->model_dir, "Where checkpoints, best.pth, metrics.csv go")
      ->capture_default_str();
  cmd->add_option("--charset", o->charset, "Characters the reader reads (default: 0-9 A-Z and any other in the texts)");
  cmd->add_option("--synth-plates", o->synth_plates,
                  "Synthetic plates drawn afresh every epoch besides --data's (0: none)")->capture_default_str();
  cmd->add_option("--real-share", o->real_share,
                  "Share of each epoch's crops that are --data's plates, repeated and augmented anew (0: each once)")
      ->capture_default_str();
  cmd->add_option("--column-loss", o->column_loss,
                  "Weight of a cross-entropy at the column of each synthetic character's middle, beside CTC (0: none)")
      ->capture_default_str();
  cmd->add_option("--two-row-aspect", o->two_row_aspect,
                  "Read boxes narrower than this (width / height) as two rows, side by side (0: never)")
      ->check(CLI::Range(0.0, 3.0))->capture_default_str();
  cmd->add_option("--box-jitter", o->box_jitter,
                  "How far each side of a training box moves, of its size (uniform; a detector frames plates otherwise)")
      ->capture_default_str();
  cmd->add_option("--ema", o->ema,
                  "Validate and save an exponential moving average of the weights with this decay (0: off; e.g. 0.999)")
      ->capture_default_str();
  cmd->add_option("--input-width", o->input_width,
                  "The reader's input width in pixels (its height is 32): a multiple of 4 within 64..256")
      ->capture_default_str();
  cmd->add_option("--geometry", o->geometry,
                  "How a plate's crop fills the input: stretch (to it) or letterbox (its shape kept, grey around)")
      ->capture_default_str();
  cmd->add_flag("--synth-clean", o->synth_clean, "Draw the synthetic plates frontal and sharp (a first test of a reader)");
  cmd->add_flag("--balance-data", o->balance_data, "Each --data as many crops an epoch as the largest (repeats the small ones)");
  cmd->add_option("--num-epochs,--num_epochs,--epochs", o->epochs, "Epochs")->capture_default_str();
  cmd->add_option("--batch-size,--batch_size", o->batch_size, "Crops per step")->capture_default_str();
  cmd->add_option("--lr,--learning-rate", o->lr, "Adam's learning rate (cosine to 0)")->capture_default_str();
  cmd->add_option("--weight-decay,--weight_decay", o->weight_decay, "Weight decay")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random seed (initial weights, order, augmentation)")
      ->check(edgessd::cli::whole_number(0))->capture_default_str();
  edgessd::cli::add_threads_flag(*cmd, o->threads);
  cmd->add_option("--resume", o->resume, "Continue from this checkpoint (its JSON gives the epoch)");
  cmd->callback([o] {
    using edgessd::NamedPath;
    edgessd::check_no_repeats(o->data, "--data");
    std::vector<NamedPath> inputs = edgessd::checkpoint_inputs(o->resume, "--resume");
    for (const std::string& d : o->data) inputs.push_back({d, "--data"});
    edgessd::check_outputs_apart({{o->model_dir, "--model-dir"}}, inputs);
    const edgessd::ReaderTrainResult r = edgessd::train_reader(*o);
    edgessd::log_info("Best checkpoint: " + r.best_checkpoint +
                      (r.best_val_exact >= 0 ? " (validation exact plates " + std::to_string(100 * r.best_val_exact) + "%)"
                                             : std::string()));
  });
}
