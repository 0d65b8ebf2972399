#pragma once
#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <string>

#include "edgessd/common/error.h"
#include "edgessd/common/logging.h"

// Every program's main: parse (the subcommand callbacks do the work) and turn errors into
// one line and an exit status: 0 for --help and --version, 1 for bad input (a flag that
// does not parse, or an edgessd::Error), 2 for anything else (a bug).
// The first word when it names no subcommand of a program that has them ("A subcommand is
// required" was CLI11's word for `edgessd nosuchcmd`); "" when it does or is a flag.
inline std::string unknown_subcommand(const CLI::App& app, int argc, char** argv) {
  const auto subcommands = app.get_subcommands([](const CLI::App*) { return true; });
  if (argc < 2 || subcommands.empty() || argv[1][0] == '-') return "";
  std::string names;
  for (const CLI::App* s : subcommands) {
    if (s->check_name(argv[1])) return "";
    names += (names.empty() ? "" : ", ") + s->get_name();
  }
  return std::string("unknown command '") + argv[1] + "' (the commands: " + names + ")";
}

inline int run_app(CLI::App& app, int argc, char** argv, const char* program, const int& exit_code,
                   const std::function<void()>& before_parse = {}) {
  if (const std::string unknown = unknown_subcommand(app, argc, argv); !unknown.empty()) {
    std::fprintf(stderr, "%s: error: %s\n", program, unknown.c_str());
    return 1;
  }
  try {
    edgessd::quiet_library_logs();
    if (before_parse) before_parse();
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "%s: error: %s (see --help)\n", program, e.what());
    return 1;
  } catch (const edgessd::Error& e) {
    std::fprintf(stderr, "%s: error: %s\n", program, e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: internal error: %s\n", program, e.what());
    return 2;
  }
  return exit_code;
}
