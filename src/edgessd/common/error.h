#pragma once
#include <stdexcept>
#include <string>

namespace edgessd {

// Every user-facing failure is an Error with a one-line message naming the file, line or
// flag at fault; the CLI prints it and exits non-zero.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace edgessd
