#include "edgessd/deploy/stream_pipelines.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <utility>

#include "edgessd/common/error.h"

namespace edgessd {

namespace {

struct Codec {
  const char* name;
  const char* encoder;  // %d: bitrate in kbit/s, %b: in bit/s
  const char* payloader;
  const char* encoding;  // RTP encoding-name
  const char* depayloader_and_decoder;
};

const Codec kCodecs[] = {
    {"h264", "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 bitrate=%d ! video/x-h264,profile=baseline",
     "rtph264pay config-interval=1 pt=96", "H264", "rtph264depay ! avdec_h264"},
    {"h265", "x265enc tune=zerolatency speed-preset=ultrafast key-int-max=30 bitrate=%d",
     "rtph265pay config-interval=1 pt=96", "H265", "rtph265depay ! avdec_h265"},
    {"vp8", "vp8enc deadline=1 keyframe-max-dist=30 target-bitrate=%b", "rtpvp8pay pt=96", "VP8",
     "rtpvp8depay ! vp8dec"},
    {"vp9", "vp9enc deadline=1 keyframe-max-dist=30 target-bitrate=%b", "rtpvp9pay pt=96", "VP9",
     "rtpvp9depay ! vp9dec"},
    {"mjpeg", "jpegenc quality=85", "rtpjpegpay pt=96", "JPEG", "rtpjpegdepay ! jpegdec"},
};

const Codec& find_codec(const std::string& name) {
  const std::string wanted = name.empty() ? "h264" : name;
  for (const Codec& c : kCodecs)
    if (wanted == c.name) return c;
  throw Error("codec '" + name + "': not one of " + stream_codecs());
}

std::string fill_bitrate(std::string encoder, int bitrate) {
  for (const auto& [spec, value] : {std::pair<std::string, int>{"%d", std::max(1, bitrate / 1000)},
                                    std::pair<std::string, int>{"%b", bitrate}}) {
    const size_t at = encoder.find(spec);
    if (at != std::string::npos) encoder.replace(at, 2, std::to_string(value));
  }
  return encoder;
}

}  // namespace

const char* stream_codecs() { return "h264, h265, vp8, vp9, mjpeg"; }

void check_stream_codec(const std::string& codec, const char* flag) {
  if (codec.empty()) return;
  for (const Codec& c : kCodecs)
    if (codec == c.name) return;
  throw Error(std::string(flag) + " " + codec + ": not one of " + stream_codecs());
}

RtpAddress parse_rtp_uri(const std::string& uri) {
  const std::string scheme = "rtp://";
  const size_t colon = uri.rfind(':');
  if (uri.rfind(scheme, 0) != 0 || colon == std::string::npos || colon < scheme.size())
    throw Error(uri + ": expected rtp://HOST:PORT (or rtp://@:PORT to receive)");
  RtpAddress a;
  a.host = uri.substr(scheme.size(), colon - scheme.size());
  if (a.host == "@") a.host.clear();
  const std::string port = uri.substr(colon + 1);
  char* end = nullptr;
  const long value = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || value < 1 || value > 65535)
    throw Error(uri + ": the port must be a number within 1..65535");
  for (char c : a.host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':'))
      throw Error(uri + ": the host may hold only letters, digits, '.', '-' and ':'");
  a.port = static_cast<int>(value);
  return a;
}

std::string rtp_sender_pipeline(const RtpAddress& to, const std::string& codec, int bitrate) {
  if (to.host.empty()) throw Error("rtp output: give the receiver's address, rtp://HOST:PORT");
  if (bitrate <= 0) throw Error("--bitrate " + std::to_string(bitrate) + ": must be positive");
  const Codec& c = find_codec(codec);
  return "appsrc ! videoconvert ! " + fill_bitrate(c.encoder, bitrate) + " ! " + c.payloader +
         " ! udpsink host=" + to.host + " port=" + std::to_string(to.port) + " sync=false";
}

std::string rtp_receiver_pipeline(const RtpAddress& at, const std::string& codec) {
  const Codec& c = find_codec(codec);
  std::string source = "udpsrc port=" + std::to_string(at.port);
  if (!at.host.empty()) source += " address=" + at.host;
  return source + " caps=\"application/x-rtp,media=video,clock-rate=90000,payload=96,encoding-name=" + c.encoding +
         "\" ! " + c.depayloader_and_decoder + " ! videoconvert ! video/x-raw,format=BGR ! appsink drop=false sync=false";
}

}  // namespace edgessd
