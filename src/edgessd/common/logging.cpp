#include "edgessd/common/logging.h"

#include <ctime>
#include <cstdio>
#include <mutex>

namespace edgessd {
namespace {

std::mutex log_mutex;

void write_line(const char* level, const std::string& message) {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &local);
  std::lock_guard<std::mutex> lock(log_mutex);
  std::fprintf(stderr, "%s - %s%s\n", stamp, level, message.c_str());
  std::fflush(stderr);
}

}  // namespace

void log_info(const std::string& message) { write_line("", message); }
void log_warning(const std::string& message) { write_line("WARNING: ", message); }

}  // namespace edgessd
