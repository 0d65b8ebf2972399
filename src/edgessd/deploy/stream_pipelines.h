#pragma once
#include <string>

namespace edgessd {

// GStreamer pipelines for RTP over UDP, the way jetson-utils streams: the codecs detectNet
// names (--input-codec / --output-codec) with Debian's plugins (x264enc is in
// gstreamer1.0-plugins-ugly, the decoders of h264/h265 in gstreamer1.0-libav, the rest in
// gstreamer1.0-plugins-good).
const char* stream_codecs();  // "h264, h265, vp8, vp9, mjpeg", for messages and --help

struct RtpAddress {
  std::string host;  // empty for rtp://@:PORT (receive on every interface)
  int port = 0;
};

// rtp://HOST:PORT or rtp://@:PORT; anything else is an Error naming the URI.
RtpAddress parse_rtp_uri(const std::string& uri);

// For cv::VideoWriter(CAP_GSTREAMER): BGR frames in through appsrc, encoded and sent.
// `codec` empty means h264 (detectNet's default); `bitrate` in bits/s.
std::string rtp_sender_pipeline(const RtpAddress& to, const std::string& codec, int bitrate);

// For cv::VideoCapture(CAP_GSTREAMER): RTP received on the port, decoded to BGR.
std::string rtp_receiver_pipeline(const RtpAddress& at, const std::string& codec);

// Checks a --input-codec / --output-codec value (empty is allowed: the default).
void check_stream_codec(const std::string& codec, const char* flag);

}  // namespace edgessd
