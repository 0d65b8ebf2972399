#include "edgessd/common/progress.h"

#include <unistd.h>

#include <cstdio>

#include "edgessd/common/logging.h"

namespace edgessd {

bool Progress::stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

Progress::Progress(std::string label, size_t total, size_t plain_every)
    : label_(std::move(label)),
      total_(total),
      plain_every_(plain_every == 0 ? 1 : plain_every),
      terminal_(stderr_is_terminal()),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

std::string format_duration(double seconds) {
  if (seconds < 0) seconds = 0;
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

void Progress::update(size_t done, const std::string& status, size_t items) {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? items / elapsed : 0;
  const double eta = done > 0 ? elapsed * (static_cast<double>(total_) - done) / done : 0;
  char line[256];
  std::snprintf(line, sizeof line, "%s %zu/%zu, %s, %.1f images/s, ETA %s", label_.c_str(), done, total_,
                status.c_str(), rate, format_duration(eta).c_str());
  if (terminal_) {
    if (done < total_ && std::chrono::duration<double>(now - last_draw_).count() < 0.1) return;
    last_draw_ = now;
    std::fprintf(stderr, "\r\033[K%s", line);
    std::fflush(stderr);
    drawn_ = true;
  } else if (done % plain_every_ == 0 || done == total_) {
    log_info(line);
  }
}

void Progress::finish() {
  if (terminal_ && drawn_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
}

}  // namespace edgessd
