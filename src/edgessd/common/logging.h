#pragma once
#include <string>

namespace edgessd {

// Lines in pytorch-ssd's format ("2021-03-12 12:34:50 - message"), so users' log
// scrapers keep working.
void log_info(const std::string& message);
void log_warning(const std::string& message);

// Off for fuzzing, where every input's warnings would drown libFuzzer's own report.
void set_logging(bool enabled);
// Info lines off, warnings kept: data-parallel ranks other than 0, whose info would only
// repeat rank 0's.
void set_info_logging(bool enabled);

// OpenCV's own log lines off (its video back-ends print "[ERROR]" lines while probing a
// URI we then report as one error), unless the user set OPENCV_LOG_LEVEL.
void quiet_library_logs();

}  // namespace edgessd
