#pragma once
#include <CLI/CLI.hpp>

// One function per subcommand: it declares the flags and sets the callback that calls
// into the library. Errors are thrown as edgessd::Error and reported by main().
void add_convert_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_eval_command(CLI::App& app);
// convert, train and eval: all that edgessd-train, the trainer-only build, has.
inline void add_training_commands(CLI::App& app) {
  add_convert_command(app);
  add_train_command(app);
  add_eval_command(app);
}
void add_export_command(CLI::App& app);
void add_demo_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_quantize_command(CLI::App& app);
void add_synth_command(CLI::App& app);
void add_priors_command(CLI::App& app);
void add_download_command(CLI::App& app, int& exit_code);
// The plate reader: train-reader, eval-reader, export-reader.
void add_train_reader_command(CLI::App& app);
void add_eval_reader_command(CLI::App& app);
void add_export_reader_command(CLI::App& app);
// detect sets `exit_code` (frames lost is not an error thrown, but still not 0).
void add_detect_command(CLI::App& app, int& exit_code);
// The same flags on any App: edgessd-detect, the LibTorch-free deploy program, is just these.
void add_detect_options(CLI::App& cmd, int& exit_code);
