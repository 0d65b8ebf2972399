#pragma once
#include <memory>
#include <string>

#include <opencv2/core.hpp>

namespace edgessd {

// detectNet's --output-codec and --bitrate.
struct OutputOptions {
  std::string codec;       // empty: the container's usual one (files), h264 (rtp)
  int bitrate = 4000000;   // bits/s, for streams
};

// Where annotated frames go, in the manner of jetson-utils' videoOutput: an image file
// (with %i / %d for a frame number when several frames come), a folder (one image per
// frame, named after the input image or frame-<n>.jpg), a video file (.mp4, .avi, .mkv,
// .webm), an RTP stream (rtp://HOST:PORT, through GStreamer), display:// (a window), or
// nothing. Every file is written under a temporary name and renamed when complete; a
// video file is finalised by close() or the destructor. Other schemes (rtsp://,
// webrtc://) and names with other extensions are an Error saying what is accepted.
class VideoOutput {
 public:
  virtual ~VideoOutput() = default;
  virtual void write(const cv::Mat& bgr, const std::string& frame_name) = 0;
  virtual void close() {}
  // False once the user closed the window (the run should stop).
  virtual bool is_open() const { return true; }
  virtual std::string uri() const = 0;
  virtual size_t frames_written() const = 0;

  // `sequence`: the input may give more than one frame. `fps` of the input, 0 if unknown.
  static std::unique_ptr<VideoOutput> open(const std::string& uri, bool sequence, double fps,
                                           const OutputOptions& options = {});
};

}  // namespace edgessd
