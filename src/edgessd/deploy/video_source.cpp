#include "edgessd/deploy/video_source.h"

#include <glob.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <algorithm>
#include <filesystem>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/logging.h"
#include "edgessd/deploy/stream_pipelines.h"

namespace edgessd {

namespace fs = std::filesystem;

namespace {

std::string lower_extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

class ImageListSource : public VideoSource {
 public:
  ImageListSource(std::string uri, std::vector<std::string> paths, bool sequence)
      : uri_(std::move(uri)), paths_(std::move(paths)), sequence_(sequence) {}

  bool read(Frame& frame) override {
    while (next_ < paths_.size()) {
      const std::string& path = paths_[next_++];
      cv::Mat bgr = cv::imread(path, cv::IMREAD_COLOR);
      if (bgr.empty()) {
        log_warning(path + ": missing or not a decodable image; skipped");
        ++unreadable_;
        continue;
      }
      frame.bgr = bgr;
      frame.index = index_++;
      frame.name = fs::path(path).filename().string();
      return true;
    }
    return false;
  }
  bool is_live() const override { return false; }
  bool is_sequence() const override { return sequence_; }
  bool is_image_list() const override { return true; }
  double fps() const override { return 0; }
  std::string uri() const override { return uri_; }
  size_t unreadable() const override { return unreadable_; }

 private:
  std::string uri_;
  std::vector<std::string> paths_;
  bool sequence_;
  size_t next_ = 0, unreadable_ = 0;
  int64_t index_ = 0;
};

class CaptureSource : public VideoSource {
 public:
  CaptureSource(std::string uri, bool live, const CaptureOptions& options)
      : uri_(std::move(uri)), live_(live), options_(options) {}

  void open_file(const std::string& path) {
    if (!capture_.open(path, cv::CAP_FFMPEG) && !capture_.open(path)) fail("cannot open the video file");
    path_ = path;
  }
  void open_camera(int index, const CaptureOptions& options) {
    if (!capture_.open(index, cv::CAP_V4L2) && !capture_.open(index)) fail("cannot open the camera");
    if (options.width > 0) capture_.set(cv::CAP_PROP_FRAME_WIDTH, options.width);
    if (options.height > 0) capture_.set(cv::CAP_PROP_FRAME_HEIGHT, options.height);
    if (options.fps > 0) capture_.set(cv::CAP_PROP_FPS, options.fps);
  }
  void open_stream(const std::string& url) {
    if (!capture_.open(url, cv::CAP_FFMPEG) && !capture_.open(url)) fail("cannot open the stream");
  }
  void open_gstreamer(const std::string& pipeline) {
    if (!capture_.open(pipeline, cv::CAP_GSTREAMER)) fail("cannot open the GStreamer pipeline");
  }

  bool read(Frame& frame) override {
    cv::Mat bgr;
    bool ok = grab(bgr);
    // --input-loop: a video file starts again at its end.
    if (!ok && !path_.empty() && index_ > 0 && (options_.loop < 0 || loops_done_ < options_.loop)) {
      ++loops_done_;
      capture_.release();
      ok = capture_.open(path_, cv::CAP_FFMPEG) && grab(bgr);
    }
    if (!ok) {
      if (live_) end_reason_ = uri_ + " stopped delivering frames (disconnected?) after " + std::to_string(index_) + " frames";
      else if (index_ == 0) end_reason_ = uri_ + ": no frame could be decoded";
      return false;
    }
    if (bgr.channels() == 1) cv::cvtColor(bgr, bgr, cv::COLOR_GRAY2BGR);
    if (options_.width > 0 && options_.height > 0 && bgr.size() != cv::Size(options_.width, options_.height))
      cv::resize(bgr, bgr, cv::Size(options_.width, options_.height));
    frame.bgr = bgr;
    frame.index = index_++;
    char name[32];
    std::snprintf(name, sizeof name, "frame-%06lld", static_cast<long long>(frame.index));
    frame.name = name;
    return true;
  }
  bool is_live() const override { return live_; }
  bool is_sequence() const override { return true; }
  bool is_image_list() const override { return false; }
  double fps() const override {
    const double fps = capture_.get(cv::CAP_PROP_FPS);
    return fps > 0 && fps < 1000 ? fps : 0;
  }
  std::string uri() const override { return uri_; }
  std::string end_reason() const override { return end_reason_; }

 private:
  [[noreturn]] void fail(const std::string& why) { throw Error(uri_ + ": " + why); }
  bool grab(cv::Mat& bgr) {
    try {
      return capture_.read(bgr) && !bgr.empty();
    } catch (const cv::Exception&) {
      return false;
    }
  }

  std::string uri_;
  bool live_;
  CaptureOptions options_;
  std::string path_;  // a video file's, for --input-loop
  int loops_done_ = 0;
  cv::VideoCapture capture_;
  int64_t index_ = 0;
  std::string end_reason_;
};

std::vector<std::string> glob_images(const std::string& pattern) {
  glob_t g{};
  std::vector<std::string> paths;
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i)
      if (has_image_extension(g.gl_pathv[i])) paths.emplace_back(g.gl_pathv[i]);
  globfree(&g);
  std::sort(paths.begin(), paths.end());
  return paths;
}

}  // namespace

bool has_video_extension(const std::string& path) {
  const std::string ext = lower_extension(path);
  return ext == ".mp4" || ext == ".avi" || ext == ".mkv" || ext == ".mov" || ext == ".webm" || ext == ".m4v" ||
         ext == ".mjpeg" || ext == ".flv" || ext == ".h264";
}

std::unique_ptr<VideoSource> VideoSource::open(const std::string& uri, const CaptureOptions& options) {
  if (uri.empty()) throw Error("no input given");
  check_stream_codec(options.codec, "--input-codec");
  if (options.loop < -1) throw Error("--input-loop " + std::to_string(options.loop) + ": must be -1 (forever) or more");
  if (uri.find(" ! ") != std::string::npos) {
    auto s = std::make_unique<CaptureSource>(uri, true, options);
    s->open_gstreamer(uri);
    return s;
  }
  if (starts_with(uri, "rtp://")) {
    auto s = std::make_unique<CaptureSource>(uri, true, options);
    s->open_gstreamer(rtp_receiver_pipeline(parse_rtp_uri(uri), options.codec));
    return s;
  }
  for (const char* scheme : {"rtsp://", "rtmp://", "http://", "https://", "udp://"}) {
    if (starts_with(uri, scheme)) {
      auto s = std::make_unique<CaptureSource>(uri, true, options);
      s->open_stream(uri);
      return s;
    }
  }
  std::string path = uri;
  if (starts_with(path, "v4l2://")) path = path.substr(7);
  if (starts_with(path, "file://")) path = path.substr(7);
  if (starts_with(path, "/dev/video")) {
    const std::string number = path.substr(10);
    if (number.empty() || number.find_first_not_of("0123456789") != std::string::npos)
      throw Error(uri + ": expected /dev/videoN");
    std::error_code ec;
    if (!fs::exists(path, ec)) throw Error(uri + ": no such camera");
    auto s = std::make_unique<CaptureSource>(uri, true, options);
    s->open_camera(std::stoi(number), options);
    return s;
  }
  if (path.find_first_of("*?[") != std::string::npos) {
    std::vector<std::string> paths = glob_images(path);
    if (paths.empty()) throw Error(uri + ": no image matches the pattern");
    return std::make_unique<ImageListSource>(uri, std::move(paths), true);
  }
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<std::string> paths = list_images(path);
    if (paths.empty()) throw Error(uri + ": the folder has no images (jpg, jpeg, png, bmp, tif, tiff, webp)");
    return std::make_unique<ImageListSource>(uri, std::move(paths), true);
  }
  if (!fs::exists(path, ec)) throw Error(uri + ": no such file or folder");
  if (has_image_extension(path)) return std::make_unique<ImageListSource>(uri, std::vector<std::string>{path}, false);
  auto s = std::make_unique<CaptureSource>(uri, false, options);
  s->open_file(path);
  return s;
}

}  // namespace edgessd
