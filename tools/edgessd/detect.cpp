#include "cli_flags.h"
#include "commands.h"
#include "edgessd/common/parallel.h"
#include "edgessd/common/error.h"
#include "edgessd/deploy/detect_run.h"
#include "edgessd/runtime/engine.h"
#include "edgessd/deploy/stream_pipelines.h"
#include "edgessd/plates/plate_pattern.h"

namespace {

// detectNet's --network names models that jetson-inference downloads; we ship none of
// them, so the flag takes an ONNX file (as --model) and says so for a name.
std::string model_from_network(const std::string& network) {
  if (edgessd::cli::is_onnx_path(network)) return network;
  throw edgessd::Error("--network " + network +
                       ": jetson-inference's pretrained networks are not shipped; give --model X.onnx "
                       "(edgessd export writes one)");
}

// The input: the positional URI, or detectnet-camera.py's --camera (not both).
std::string input_of(const std::string& positional, const std::string& camera) {
  if (!positional.empty() && !camera.empty())
    throw edgessd::Error("--camera " + camera + ": an input URI was given too (" + positional + "); give one");
  if (positional.empty() && camera.empty()) throw edgessd::Error("input: give an input URI or --camera");
  return positional.empty() ? camera : positional;
}

// Flags that mean nothing without the one they serve are errors, not silently ignored.
void check_follow_flags(const CLI::App& cmd, const edgessd::FollowOptions& follow) {
  if (cmd.count("--events") && follow.events.empty())
    throw edgessd::Error("--events: empty path; give a file such as events.jsonl");
  for (const char* flag : {"--tracker-min-frames", "--tracker-drop-frames", "--tracker-overlap"})
    if (cmd.count(flag) && !follow.tracking) throw edgessd::Error(std::string(flag) + ": needs --tracking");
  if (cmd.count("--event-merge-seconds") && follow.events.empty())
    throw edgessd::Error("--event-merge-seconds: needs --events");
}

}  // namespace

void add_detect_options(CLI::App& cmd, int& exit_code) {
  auto a = std::make_shared<edgessd::DetectRunOptions>();
  auto network = std::make_shared<std::string>();
  auto camera = std::make_shared<std::string>();
  const std::string codecs = std::string("(") + edgessd::stream_codecs() + ")";
  cmd.add_option("--model", a->model, "ONNX model (edgessd export or pytorch-ssd's onnx_export.py)");
  cmd.add_option("--network", *network, "detectNet's flag: an ONNX file here (the same as --model)");
  cmd.add_option("--resolution", a->resolution,
                 "Network input W or WxH: checked against the model's (fixed when it was exported)");
  cmd.add_option("--labels", a->labels, "labels.txt (default: the model's own, else labels.txt beside it)");
  cmd.add_option("--input-blob,--input_blob", a->blobs.input, "The model's image input (default: its only input)");
  cmd.add_option("--output-cvg,--output_cvg", a->blobs.scores, "The model's scores output (default: scores)");
  cmd.add_option("--output-bbox,--output_bbox", a->blobs.boxes, "The model's boxes output (default: boxes)");
  cmd.add_option("--threshold", a->threshold, "Minimum detection confidence")->capture_default_str();
  cmd.add_option("--overlay", a->overlay, "What to draw, comma-separated: box, labels, conf, lines, none")
      ->capture_default_str();
  cmd.add_option("--alpha", a->alpha, "Opacity of the box fill, 0..255")->capture_default_str();
  cmd.add_option("input", a->input, "Image, folder, glob, video file, /dev/videoN, v4l2://, rtsp://, rtp://@:PORT, "
                                    "or a GStreamer pipeline");
  cmd.add_option("output", a->output, "Image (%i for a frame number), folder, video file (.mp4/.avi/.mkv/.webm), "
                                      "rtp://HOST:PORT or display://0 (default: a window when there is a display)");
  cmd.add_option("--camera", *camera, "The input, as detectnet-camera.py takes it (e.g. /dev/video0)");
  cmd.add_flag("--headless", a->headless, "Never open a window");
  cmd.add_flag("--json", a->json, "One JSON object per frame on stdout instead of the text printout");
  cmd.add_option("--input-width,--width", a->capture.width, "Camera width; video frames are scaled to it");
  cmd.add_option("--input-height,--height", a->capture.height, "Camera height; video frames are scaled to it");
  cmd.add_option("--input-rate,--fps", a->capture.fps, "Camera frame rate");
  cmd.add_option("--input-loop", a->capture.loop, "Play a video file this many more times (-1: forever)")
      ->capture_default_str();
  cmd.add_option("--input-codec", a->capture.codec, "Codec of an rtp:// input " + codecs + ", default h264");
  cmd.add_option("--output-codec", a->output_options.codec, "Codec of a video or rtp:// output " + codecs);
  cmd.add_option("--bitrate", a->output_options.bitrate, "Bits per second of an rtp:// output")->capture_default_str();
  cmd.add_option("--max-frames", a->max_frames, "Stop after this many frames (0 = all)")->capture_default_str();
  edgessd::cli::add_engine_flags(cmd, a->engine.name, a->engine.threads, "Inference engine");
  cmd.add_flag("--tracking", a->follow.tracking, "Track objects across frames (detectNet's IOU tracker): an id per object");
  cmd.add_option("--tracker-min-frames", a->follow.tracker.min_frames,
                 "Re-identified frames before a track is reported (with --tracking)")->capture_default_str();
  cmd.add_option("--tracker-drop-frames,--tracker-lost-frames", a->follow.tracker.drop_frames,
                 "Consecutive lost frames before a track is dropped (with --tracking)")->capture_default_str();
  cmd.add_option("--tracker-overlap", a->follow.tracker.overlap,
                 "IoU a detection needs to continue a track (with --tracking)")->capture_default_str();
  cmd.add_option("--events", a->follow.events,
                 "With --tracking: one JSON line per tracked object when its track ends, its best crop beside it");
  cmd.add_option("--event-merge-seconds", a->follow.event_merge_seconds,
                 "With --events and --reader: a track whose text is that of an event ended at most this long before it "
                 "began joins that event (a plate that left and came back: one line); 0: one line per track")
      ->capture_default_str();
  cmd.add_option("--roi", a->roi, "Detect only in this region x,y,w,h of the frame, at its full resolution");
  cmd.add_option("--reader", a->reader,
                 "Plate reader ONNX (edgessd export-reader): read each detection; with --events, one voted text per track");
  cmd.add_option("--plate-pattern", a->plate_pattern,
                 "With --reader: plate formats a read should fit (the best fitting read unless 100x less probable than "
                 "the free one), 'A' letter, '9' digit, '?' any, '|' between formats "
                 "(e.g. AAA9999|9AAA999), presets among them (" +
                     edgessd::plate_pattern_presets_list() +
                     ") or @FILE (a format a line); a leading '!' reads only what fits");
  cmd.callback([a, network, camera, &exit_code, &cmd] {
    check_follow_flags(cmd, a->follow);
    if (!network->empty() && !a->model.empty())
      throw edgessd::Error("--network " + *network + ": --model was given too; give one");
    if (!network->empty()) a->model = model_from_network(*network);
    if (a->model.empty()) throw edgessd::Error("--model: give the ONNX model to run");
    a->input = input_of(a->input, *camera);
    exit_code = edgessd::run_detect(*a);
  });
}

void add_detect_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand("detect", "Detect objects in images, video, cameras and streams (detectnet)");
  add_detect_options(*cmd, exit_code);
}
