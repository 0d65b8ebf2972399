#include "edgessd/common/logging.h"

#include <opencv2/core/utils/logger.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>

namespace edgessd {
namespace {

std::mutex log_mutex;
std::atomic<bool> log_enabled{true};
std::atomic<bool> info_enabled{true};

void write_line(const char* level, const std::string& message) {
  if (!log_enabled) return;
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

void log_info(const std::string& message) {
  if (info_enabled) write_line("", message);
}
void log_warning(const std::string& message) { write_line("WARNING: ", message); }

void set_logging(bool enabled) { log_enabled = enabled; }
void set_info_logging(bool enabled) { info_enabled = enabled; }

void quiet_library_logs() {
  if (!std::getenv("OPENCV_LOG_LEVEL")) cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
}

}  // namespace edgessd
