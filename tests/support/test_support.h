#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <opencv2/videoio.hpp>

#include "edgessd/common/error.h"

namespace edgessd::testing {

// The Error `f` throws, as text ("" when it throws none).
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

inline std::string shared_dir() { return EDGESSD_SHARED_DIR; }
inline std::string fixture(const std::string& name) { return shared_dir() + "/fixtures/pytorch-ssd/" + name; }
inline std::string plates_dir() { return shared_dir() + "/datasets/plates-us"; }

// Skips the calling test, with the reason, when shared data is absent.
#define EDGESSD_REQUIRE_FILE(path)                                                    \
  do {                                                                                \
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data absent: " << (path); \
  } while (0)

template <typename T>
std::vector<T> read_raw(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error("cannot open " + path);
  const auto size = static_cast<size_t>(in.tellg());
  std::vector<T> values(size / sizeof(T));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(T)));
  return values;
}

// A fresh empty folder under the system temp dir, removed when the object goes.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "edgessd-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::error_code ec; std::filesystem::remove_all(path_, ec); }
  std::string path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code;
  std::string output;  // stdout and stderr together
};

inline CommandResult run_command(const std::string& command) {
  CommandResult result{-1, ""};
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// A loopback TCP port nobody listens on now (the kernel's pick), for a test's rendezvous.
inline int free_tcp_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  close(fd);
  return ok ? ntohs(a.sin_port) : 29500;
}

// |ours - expected| <= atol + rtol*|expected| everywhere; the worst element is reported.
inline void expect_close(const float* ours, const float* expected, size_t n, double atol, double rtol,
                         const std::string& what) {
  double worst = -1e30;
  size_t at = 0;
  for (size_t i = 0; i < n; ++i) {
    const double excess = std::abs(double(ours[i]) - expected[i]) - (atol + rtol * std::abs(double(expected[i])));
    if (excess > worst) worst = excess, at = i;
  }
  if (n) EXPECT_LE(worst, 0.0) << what << ": worst at " << at << ": ours " << ours[at] << " expected " << expected[at];
}
inline void expect_close(const std::vector<float>& ours, const std::vector<float>& expected, double atol, double rtol,
                         const std::string& what) {
  ASSERT_EQ(ours.size(), expected.size()) << what;
  expect_close(ours.data(), expected.data(), ours.size(), atol, rtol, what);
}

// ONNX Runtime through node and the pinned onnxruntime-node (scripts/setup.sh installs both).
inline bool have_onnxruntime_node() {
  return run_command("command -v node").exit_code == 0 &&
         std::filesystem::exists(std::string(EDGESSD_SOURCE_DIR) + "/node_modules/onnxruntime-node/package.json");
}

// Frames of a video file, each checked to be `size`; -1 if it does not open.
inline int count_video_frames(const std::string& path, cv::Size size) {
  cv::VideoCapture video(path);
  if (!video.isOpened()) return -1;
  int frames = 0;
  for (cv::Mat m; video.read(m); ++frames) EXPECT_EQ(m.size(), size) << path << " frame " << frames;
  return frames;
}

// Debian's python3 with python3-torch (the pyenv python3 on PATH has no torch).
inline std::string debian_python() { return "/usr/bin/python3"; }

}  // namespace edgessd::testing
