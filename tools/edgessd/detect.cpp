#include "commands.h"
#include "edgessd/runtime/detect_run.h"
#include "edgessd/runtime/engine.h"

void add_detect_options(CLI::App& cmd, int& exit_code) {
  auto a = std::make_shared<edgessd::DetectRunOptions>();
  std::vector<std::string> engines = {"auto"};
  for (const auto& e : edgessd::available_engines()) engines.push_back(e);
  cmd.add_option("--model", a->model, "ONNX model (edgessd export or pytorch-ssd's onnx_export.py)")->required();
  cmd.add_option("--labels", a->labels, "labels.txt (default: the model's own, else labels.txt beside it)");
  cmd.add_option("--threshold", a->threshold, "Minimum detection confidence")->capture_default_str();
  cmd.add_option("input", a->input, "Image, folder, glob, video file, /dev/videoN, v4l2://, rtsp://, "
                                    "or a GStreamer pipeline")->required();
  cmd.add_option("output", a->output, "Image (%i for a frame number), folder, video file (.mp4/.avi/.mkv) "
                                      "or display://0 (default: a window when there is a display)");
  cmd.add_flag("--headless", a->headless, "Never open a window");
  cmd.add_flag("--json", a->json, "One JSON object per frame on stdout instead of the text printout");
  cmd.add_option("--width", a->capture.width, "Camera width");
  cmd.add_option("--height", a->capture.height, "Camera height");
  cmd.add_option("--fps", a->capture.fps, "Camera frame rate");
  cmd.add_option("--max-frames", a->max_frames, "Stop after this many frames (0 = all)")->capture_default_str();
  cmd.add_option("--engine", a->engine.name, "Inference engine")->check(CLI::IsMember(engines))->capture_default_str();
  cmd.add_option("--threads", a->engine.threads, "Engine threads (0 = every core)")->capture_default_str();
  cmd.callback([a, &exit_code] { exit_code = edgessd::run_detect(*a); });
}

void add_detect_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand("detect", "Detect objects in images, video, cameras and streams (detectnet)");
  add_detect_options(*cmd, exit_code);
}
