#pragma once
// The flags several commands take, written once: their names, help and checks. The checks'
// messages say what the flag takes (CLI11's own range checks print "Value 0 not in range
// 0.000000 to 1.797693e+308").
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "edgessd/common/parallel.h"
#include "edgessd/data/augmentation.h"
#include "edgessd/runtime/engine.h"

namespace edgessd::cli {

// A whole number from `min` to `max` written as one ("-1" for an unsigned seed, "1e9" or
// "3.5" are refused, not wrapped or rounded).
inline CLI::Validator whole_number(long long min, long long max = (1LL << 62)) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        char* end = nullptr;
        errno = 0;
        const long long v = std::strtoll(text.c_str(), &end, 10);
        if (text.empty() || *end || errno || v < min || v > max)
          return "'" + text + "': expected a whole number " +
                 (max == (1LL << 62) ? "of " + std::to_string(min) + " or more"
                                     : "from " + std::to_string(min) + " to " + std::to_string(max));
        return "";
      },
      "INT>=" + std::to_string(min));
}

// --threads, with the rule that resolves it in the help; `what` says whose threads.
inline CLI::Option* add_threads_flag(CLI::App& cmd, int& threads, const std::string& what = "Threads") {
  return cmd.add_option("--threads", threads, what + " (" + threads_rule() + ")")->capture_default_str();
}

// --engine, one of this build's engines (or auto, or one of `more`), and --threads.
inline void add_engine_flags(CLI::App& cmd, std::string& engine, int& threads, const std::string& what,
                             const std::vector<std::string>& more = {}) {
  std::vector<std::string> engines = {"auto"};
  engines.insert(engines.end(), more.begin(), more.end());
  for (const auto& e : available_engines()) engines.push_back(e);
  cmd.add_option("--engine", engine, what)->check(CLI::IsMember(engines))->capture_default_str();
  add_threads_flag(cmd, threads, "Engine threads");
}

// --dataset-type (pytorch-ssd's --dataset_type too): open_images or voc.
inline CLI::Option* add_dataset_type_flag(CLI::App& cmd, std::string& type) {
  return cmd.add_option("--dataset-type,--dataset_type", type, "open_images or voc")
      ->check(CLI::IsMember({"open_images", "voc"}))
      ->capture_default_str();
}

// A true/false option as pytorch-ssd spells its values (true/false, True/False, 1/0);
// truthy() reads it.
inline CLI::Option* add_boolean_option(CLI::App& cmd, const std::string& names, std::string& value,
                                       const std::string& help) {
  return cmd.add_option(names, value, help)
      ->check(CLI::IsMember({"true", "false", "True", "False", "1", "0"}))
      ->capture_default_str();
}
inline bool truthy(const std::string& value) { return value == "true" || value == "True" || value == "1"; }

// Commands that take a checkpoint or an export tell them apart by name: X.onnx runs on the
// runtime's engines, anything else is read as a .pth.
inline bool is_onnx_path(const std::string& path) {
  return path.size() > 5 && path.compare(path.size() - 5, 5, ".onnx") == 0;
}

// --priors, as train and priors take it; `default_text` says what leaving it out means.
inline CLI::Option* add_priors_flag(CLI::App& cmd, std::string& priors, const std::string& default_text) {
  return cmd
      .add_option("--priors", priors,
                  "ssd (pytorch-ssd's sizes, in input pixels), auto (fitted to the training boxes as the "
                  "augmentation presents them) or auto-stored (fitted to the boxes as stored); default: " +
                      default_text)
      ->check(CLI::IsMember({"ssd", "auto", "auto-stored"}));
}

// --stretch and --zoom-in: the augmentation's shape jitter (and what --priors auto fits to).
inline void add_shape_jitter_flags(CLI::App& cmd, ShapeJitter& jitter) {
  cmd.add_option("--stretch", jitter.stretch,
                 "Half the training images stretched horizontally by up to this factor either way, so objects "
                 "of other aspects than the training set's are learned (1: never, as pytorch-ssd)")
      ->check(CLI::Range(1.0, 10.0))
      ->capture_default_str();
  cmd.add_option("--zoom-in", jitter.zoom_in,
                 "Share of training images cropped around one object to fill 25-90% of the frame, so close-ups "
                 "are learned (0: never, as pytorch-ssd)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
}

}  // namespace edgessd::cli
