#pragma once
#include <memory>
#include <string>

#include <opencv2/core.hpp>

namespace edgessd {

// detectNet's --input-width/--input-height/--input-rate (what a camera is asked for, and
// the size video frames are scaled to; 0 = as they come), --input-loop and --input-codec.
struct CaptureOptions {
  int width = 0;
  int height = 0;
  double fps = 0;
  int loop = 0;       // play a video file this many more times; -1 = forever
  std::string codec;  // of an rtp:// input; empty = h264
};

struct Frame {
  cv::Mat bgr;
  int64_t index = 0;
  std::string name;  // the image's file name, or "frame-<index>" for video frames
};

// Frames from a URI, in the manner of jetson-utils' videoSource: an image file; a folder
// or a glob of images; a video file (file:// optional); /dev/videoN or v4l2:///dev/videoN;
// rtsp://, rtmp://, http(s):// streams; rtp://@:PORT (RTP over UDP, decoded by GStreamer);
// or a GStreamer pipeline (anything with " ! ").
class VideoSource {
 public:
  virtual ~VideoSource() = default;
  // The next frame; false at the end (see end_reason()). Unreadable images in a list are
  // skipped with a warning and counted.
  virtual bool read(Frame& frame) = 0;
  virtual bool is_live() const = 0;     // a camera or stream, not files
  virtual bool is_sequence() const = 0; // more than one frame may come
  virtual bool is_image_list() const = 0;
  virtual double fps() const = 0;       // 0 when unknown
  virtual std::string uri() const = 0;
  virtual size_t unreadable() const { return 0; }
  // Empty after a normal end of stream; otherwise why frames stopped (a camera gone).
  virtual std::string end_reason() const { return ""; }

  // Throws an Error naming the URI when it cannot be opened.
  static std::unique_ptr<VideoSource> open(const std::string& uri, const CaptureOptions& options = {});
};

bool has_video_extension(const std::string& path);

}  // namespace edgessd
