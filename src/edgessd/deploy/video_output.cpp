#include "edgessd/deploy/video_output.h"

#include <unistd.h>

#include <opencv2/highgui.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <filesystem>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/deploy/stream_pipelines.h"
#include "edgessd/deploy/video_source.h"

namespace edgessd {

namespace fs = std::filesystem;

namespace {

void write_image_atomic(const std::string& path, const cv::Mat& bgr) {
  std::string ext = fs::path(path).extension().string();
  if (!has_image_extension(path)) ext = ".jpg";
  std::vector<uchar> bytes;
  if (!cv::imencode(ext, bgr, bytes)) throw Error(path + ": cannot encode the image as " + ext);
  write_file_atomic(path, std::string(bytes.begin(), bytes.end()));
}

class ImageFileOutput : public VideoOutput {
 public:
  explicit ImageFileOutput(std::string pattern) : pattern_(std::move(pattern)) {}
  void write(const cv::Mat& bgr, const std::string&) override {
    std::string path = pattern_;
    for (const char* spec : {"%i", "%d"}) {
      const size_t at = path.find(spec);
      if (at != std::string::npos) path.replace(at, 2, std::to_string(frames_));
    }
    write_image_atomic(path, bgr);
    ++frames_;
  }
  std::string uri() const override { return pattern_; }
  size_t frames_written() const override { return frames_; }

 private:
  std::string pattern_;
  size_t frames_ = 0;
};

class FolderOutput : public VideoOutput {
 public:
  // Created at the first frame: a run that fails before one leaves nothing behind.
  explicit FolderOutput(std::string dir) : dir_(std::move(dir)) { check_folder_makeable(dir_); }
  void write(const cv::Mat& bgr, const std::string& frame_name) override {
    if (frames_ == 0) make_folder(dir_);
    std::string name = frame_name;
    if (!has_image_extension(name)) name += ".jpg";
    write_image_atomic(join_path(dir_, name), bgr);
    ++frames_;
  }
  std::string uri() const override { return dir_; }
  size_t frames_written() const override { return frames_; }

 private:
  std::string dir_;
  size_t frames_ = 0;
};

// A stream keeps its first frame's size; later frames of another size are scaled to it.
void write_at_size(cv::VideoWriter& writer, const cv::Mat& bgr, cv::Size size) {
  if (bgr.size() == size) {
    writer.write(bgr);
  } else {
    cv::Mat resized;
    cv::resize(bgr, resized, size);
    writer.write(resized);
  }
}

// The FourCC for a video file: --output-codec when given, else the container's usual one.
int video_fourcc(const std::string& path, const std::string& codec) {
  if (codec == "h264") return cv::VideoWriter::fourcc('a', 'v', 'c', '1');
  if (codec == "h265") return cv::VideoWriter::fourcc('h', 'e', 'v', '1');
  if (codec == "vp8") return cv::VideoWriter::fourcc('V', 'P', '8', '0');
  if (codec == "vp9") return cv::VideoWriter::fourcc('V', 'P', '9', '0');
  if (codec == "mjpeg") return cv::VideoWriter::fourcc('M', 'J', 'P', 'G');
  if (!codec.empty()) throw Error("--output-codec " + codec + ": not one of " + stream_codecs());
  std::string ext = fs::path(path).extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".avi") return cv::VideoWriter::fourcc('M', 'J', 'P', 'G');
  if (ext == ".mkv") return cv::VideoWriter::fourcc('X', 'V', 'I', 'D');
  if (ext == ".webm") return cv::VideoWriter::fourcc('V', 'P', '8', '0');
  return cv::VideoWriter::fourcc('m', 'p', '4', 'v');
}

class VideoFileOutput : public VideoOutput {
 public:
  VideoFileOutput(std::string path, double fps, const std::string& codec)
      : path_(std::move(path)), fps_(fps > 0 ? fps : 30), fourcc_(video_fourcc(path_, codec)) {
    const fs::path p(path_);
    // The container comes from the extension, so the temporary name keeps it.
    temporary_ = (p.parent_path() / ("." + p.stem().string() + ".partial-" + std::to_string(::getpid()) +
                                     p.extension().string()))
                     .string();
    std::error_code ec;
    if (!p.parent_path().empty() && !fs::is_directory(p.parent_path(), ec))
      throw Error(path_ + ": the output folder does not exist");
    check_replaceable(path_);
  }
  ~VideoFileOutput() override {
    try {
      close();
    } catch (...) {
    }
  }
  void write(const cv::Mat& bgr, const std::string&) override {
    if (!writer_.isOpened()) {
      size_ = bgr.size();
      if (!writer_.open(temporary_, cv::CAP_FFMPEG, fourcc_, fps_, size_))
        throw Error(path_ + ": cannot open a video writer for it (codec/container unsupported?)");
    }
    write_at_size(writer_, bgr, size_);
    ++frames_;
  }
  void close() override {
    if (!writer_.isOpened()) return;
    writer_.release();
    std::error_code ec;
    fs::rename(temporary_, path_, ec);
    if (ec) {
      fs::remove(temporary_, ec);
      throw Error(path_ + ": cannot move the finished video into place");
    }
  }
  std::string uri() const override { return path_; }
  size_t frames_written() const override { return frames_; }

 private:
  std::string path_, temporary_;
  double fps_;
  int fourcc_;
  cv::VideoWriter writer_;
  cv::Size size_;
  size_t frames_ = 0;
};

// RTP over UDP through a GStreamer pipeline (stream_pipelines.h); the pipeline starts with
// the first frame, whose size the stream keeps.
class RtpOutput : public VideoOutput {
 public:
  RtpOutput(std::string uri, double fps, const OutputOptions& options)
      : uri_(std::move(uri)), fps_(fps > 0 ? fps : 30),
        pipeline_(rtp_sender_pipeline(parse_rtp_uri(uri_), options.codec, options.bitrate)) {}
  ~RtpOutput() override { writer_.release(); }
  void write(const cv::Mat& bgr, const std::string&) override {
    if (!writer_.isOpened()) {
      size_ = bgr.size();
      if (!writer_.open(pipeline_, cv::CAP_GSTREAMER, 0, fps_, size_, true))
        throw Error(uri_ + ": cannot start the GStreamer pipeline '" + pipeline_ +
                    "' (Debian: gstreamer1.0-plugins-base, -good and -ugly)");
    }
    write_at_size(writer_, bgr, size_);
    ++frames_;
  }
  void close() override { writer_.release(); }
  std::string uri() const override { return uri_; }
  size_t frames_written() const override { return frames_; }

 private:
  std::string uri_;
  double fps_;
  std::string pipeline_;
  cv::VideoWriter writer_;
  cv::Size size_;
  size_t frames_ = 0;
};

class DisplayOutput : public VideoOutput {
 public:
  DisplayOutput() {
    if (!std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY"))
      throw Error("display://: no display here (DISPLAY is unset); give an output file or --headless");
    cv::namedWindow(kWindow, cv::WINDOW_AUTOSIZE);
  }
  ~DisplayOutput() override { cv::destroyAllWindows(); }
  void write(const cv::Mat& bgr, const std::string&) override {
    cv::imshow(kWindow, bgr);
    const int key = cv::waitKey(1);
    if (key == 27 || key == 'q' || cv::getWindowProperty(kWindow, cv::WND_PROP_VISIBLE) < 1) open_ = false;
    ++frames_;
  }
  bool is_open() const override { return open_; }
  std::string uri() const override { return "display://0"; }
  size_t frames_written() const override { return frames_; }

 private:
  static constexpr const char* kWindow = "edgessd";
  bool open_ = true;
  size_t frames_ = 0;
};

}  // namespace

std::unique_ptr<VideoOutput> VideoOutput::open(const std::string& uri, bool sequence, double fps,
                                               const OutputOptions& options) {
  if (uri.empty()) throw Error("no output given");
  if (uri.rfind("display://", 0) == 0) return std::make_unique<DisplayOutput>();
  if (uri.rfind("rtp://", 0) == 0) return std::make_unique<RtpOutput>(uri, fps, options);
  const size_t scheme = uri.find("://");
  if (scheme != std::string::npos && uri.rfind("file://", 0) != 0)
    throw Error(uri + ": output streams other than rtp://HOST:PORT (" + uri.substr(0, scheme) +
                "://) are not supported; stream with rtp:// or write a file, a folder or display://0");
  std::string path = uri.rfind("file://", 0) == 0 ? uri.substr(7) : uri;
  if (has_video_extension(path)) return std::make_unique<VideoFileOutput>(path, fps, options.codec);
  const bool numbered = path.find("%i") != std::string::npos || path.find("%d") != std::string::npos;
  std::error_code ec;
  if (has_image_extension(path) && !fs::is_directory(path, ec)) {
    if (sequence && !numbered)
      throw Error(uri + ": several frames would overwrite one image; give a folder or a name with %i");
    const fs::path parent = fs::path(path).parent_path();
    if (!parent.empty() && !fs::is_directory(parent, ec)) throw Error(uri + ": the output folder does not exist");
    return std::make_unique<ImageFileOutput>(path);
  }
  if (!fs::path(path).extension().empty() && !fs::is_directory(path, ec))
    throw Error(uri + ": unknown output type '" + fs::path(path).extension().string() +
                "'; give an image (jpg, jpeg, png, bmp, tif, tiff, webp), a video (mp4, avi, mkv, mov, webm), "
                "a folder, rtp://HOST:PORT or display://0");
  return std::make_unique<FolderOutput>(path);
}

}  // namespace edgessd
