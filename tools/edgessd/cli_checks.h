#pragma once
// Checks of flag values shared by the commands, whose messages say what the flag takes
// (CLI11's own range checks print "Value 0 not in range 0.000000 to 1.797693e+308").
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdlib>
#include <string>

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

}  // namespace edgessd::cli
