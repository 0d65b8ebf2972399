#pragma once
#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>

#include "edgessd/common/error.h"

// Every program's main: parse (the subcommand callbacks do the work) and turn errors into
// one line and an exit status: 1 for bad input (edgessd::Error), 2 for anything else.
inline int run_app(CLI::App& app, int argc, char** argv, const char* program, const int& exit_code,
                   const std::function<void()>& before_parse = {}) {
  try {
    if (before_parse) before_parse();
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const edgessd::Error& e) {
    std::fprintf(stderr, "%s: error: %s\n", program, e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: internal error: %s\n", program, e.what());
    return 2;
  }
  return exit_code;
}
