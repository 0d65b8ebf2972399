#pragma once
#include <chrono>
#include <string>

namespace edgessd {

// A progress report for a loop of known length: on a terminal one line redrawn in place
// (at most 10 times a second); otherwise a plain log line every `plain_every` steps.
class Progress {
 public:
  Progress(std::string label, size_t total, size_t plain_every);
  // `status` is free text (e.g. "loss 3.21"); `items` counts what makes the rate (images).
  void update(size_t done, const std::string& status, size_t items);
  void finish();

  static bool stderr_is_terminal();

 private:
  std::string label_;
  size_t total_;
  size_t plain_every_;
  bool terminal_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool drawn_ = false;
};

std::string format_duration(double seconds);  // "1:02:03" / "2:03"

inline double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace edgessd
