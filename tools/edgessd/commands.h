#pragma once
#include <CLI/CLI.hpp>

// One function per subcommand: it declares the flags and sets the callback that calls
// into the library. Errors are thrown as edgessd::Error and reported by main().
void add_convert_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_eval_command(CLI::App& app);
