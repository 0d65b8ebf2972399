#include "edgessd/deploy/detect_run.h"

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/logging.h"
#include "edgessd/common/output_guard.h"
#include "edgessd/common/progress.h"
#include "edgessd/deploy/detector.h"
#include "edgessd/deploy/overlay.h"
#include "edgessd/deploy/plate_reader.h"
#include "edgessd/deploy/detection_follower.h"
#include "edgessd/deploy/video_output.h"

namespace edgessd {

namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void on_interrupt(int) { g_interrupted = true; }

std::string class_name(const ModelInfo& info, int64_t label) {
  return label >= 0 && label < info.num_classes() ? info.class_names[label] : std::to_string(label);
}

void print_detections(const std::vector<Detection>& detections, bool reading) {
  std::printf("detected %zu objects in image\n", detections.size());
  for (const Detection& d : detections) {
    const double w = d.box.x2 - d.box.x1, h = d.box.y2 - d.box.y1;
    std::printf("<detectNet.Detection object>\n");
    std::printf("-- ClassID: %lld\n", static_cast<long long>(d.label));
    std::printf("-- Confidence: %g\n", d.probability);
    std::printf("-- Left: %g\n-- Top: %g\n-- Right: %g\n-- Bottom: %g\n", d.box.x1, d.box.y1, d.box.x2, d.box.y2);
    std::printf("-- Width: %g\n-- Height: %g\n-- Area: %g\n", w, h, w * h);
    std::printf("-- Center: (%g, %g)\n", (d.box.x1 + d.box.x2) / 2, (d.box.y1 + d.box.y2) / 2);
    if (d.track_id >= 0)
      std::printf("-- TrackID: %d\n-- TrackStatus: %d\n-- TrackFrames: %d\n-- TrackLost: %d\n", d.track_id,
                  d.track_status, d.track_frames, d.track_lost);
    if (reading) std::printf("-- Text: %s\n-- TextConfidence: %g\n", d.text.c_str(), d.text_confidence);
  }
}

struct StageTimes {
  double pre = 0, network = 0, post = 0, read = 0, visualize = 0;
  double total() const { return pre + network + post + read + visualize; }
};

void print_timing(const std::string& model, const std::string& engine, const StageTimes& t, bool reading) {
  std::printf("\n[edgessd] -----\n[edgessd] Timing Report %s (engine %s)\n[edgessd] -----\n", model.c_str(),
              engine.c_str());
  std::printf("[edgessd] Pre-Process   CPU %10.5fms\n", t.pre);
  std::printf("[edgessd] Network       CPU %10.5fms\n", t.network);
  std::printf("[edgessd] Post-Process  CPU %10.5fms\n", t.post);
  if (reading) std::printf("[edgessd] Read Plates   CPU %10.5fms\n", t.read);
  std::printf("[edgessd] Visualize     CPU %10.5fms\n", t.visualize);
  std::printf("[edgessd] Total         CPU %10.5fms\n", t.total());
  std::printf("[edgessd] -----\n\n");
}

nlohmann::json frame_json(const Frame& frame, const std::vector<Detection>& detections, const ModelInfo& info,
                          const StageTimes& t, bool reading) {
  nlohmann::json objects = nlohmann::json::array();
  for (const Detection& d : detections) {
    nlohmann::json object = {{"class_id", d.label},   {"class", class_name(info, d.label)},
                             {"confidence", d.probability}, {"left", d.box.x1},
                             {"top", d.box.y1},         {"right", d.box.x2},
                             {"bottom", d.box.y2}};
    if (d.track_id >= 0) {
      object["track_id"] = d.track_id;
      object["track_status"] = d.track_status;
      object["track_frames"] = d.track_frames;
      object["track_lost"] = d.track_lost;
    }
    if (reading) {  // every detection of a run with --reader: "" when nothing was read
      object["text"] = d.text;
      object["text_confidence"] = d.text_confidence;
    }
    objects.push_back(object);
  }
  return {{"frame", frame.index},
          {"name", frame.name},
          {"width", frame.bgr.cols},
          {"height", frame.bgr.rows},
          {"detections", objects},
          {"timing_ms", {{"pre_process", t.pre}, {"network", t.network}, {"post_process", t.post},
                         {"read_plates", t.read}, {"visualize", t.visualize}, {"total", t.total()}}}};
}

std::string local_path(const std::string& uri) { return uri.rfind("file://", 0) == 0 ? uri.substr(7) : uri; }

// The one output rule (common/output_guard.h), before the model loads: --events is
// none of the inputs nor the output, and the output is not the model, labels or reader.
void check_detect_outputs(const DetectRunOptions& options) {
  const bool file_output = !options.output.empty() && (options.output.find("://") == std::string::npos ||
                                                       options.output.rfind("file://", 0) == 0);
  const NamedPath output{file_output ? local_path(options.output) : "", "output"};
  std::vector<NamedPath> inputs = {{options.model, "--model"}, {options.labels, "--labels"},
                                   {options.reader, "--reader"}, {labels_beside(options.model), "--model's labels"}};
  if (!plate_pattern_file(options.plate_pattern).empty())
    inputs.push_back({plate_pattern_file(options.plate_pattern), "--plate-pattern"});
  check_outputs_apart({output}, inputs);
  const std::string input = local_path(options.input);
  inputs.push_back({input.find_first_of("*?[") == std::string::npos ? input
                                                                    : std::filesystem::path(input).parent_path().string(),
                    "input"});
  check_outputs_apart({{options.follow.events, "--events"}}, inputs);
  check_outputs_distinct({output, {options.follow.events, "--events"}});
}

// Annotated frames written over the inputs would destroy them (`detect DIR DIR`, `x.jpg
// x.jpg`, or an image into the folder it came from, where it keeps its name).
void check_output_is_not_input(const std::string& input, const std::string& output) {
  namespace fs = std::filesystem;
  const fs::path in = local_path(input), out = local_path(output);
  std::error_code ec;
  if (output.empty() || !fs::exists(out, ec)) return;
  std::vector<fs::path> places;
  if (input.find_first_of("*?[") != std::string::npos) places.push_back(in.parent_path().empty() ? "." : in.parent_path());
  else if (fs::exists(in, ec)) places.push_back(in);
  if (fs::is_regular_file(in, ec) && has_image_extension(in.string()))
    places.push_back(in.parent_path().empty() ? "." : in.parent_path());
  for (const fs::path& place : places)
    if (fs::equivalent(place, out, ec))
      throw Error(output + ": is the input (or the folder it is read from); its images would be overwritten");
}

// Every number range-checked before the model loads (NaN fails every comparison).
void check_detect_numbers(const DetectRunOptions& options) {
  if (!(options.threshold >= 0 && options.threshold <= 1)) throw Error("--threshold must be within 0..1");
  const CaptureOptions& c = options.capture;
  if (c.width < 0 || c.width > 16384 || c.height < 0 || c.height > 16384)
    throw Error("--input-width/--input-height must be within 0 (the source's own) and 16384");
  if (!(c.fps >= 0 && c.fps <= 1000)) throw Error("--input-rate must be within 0 (the source's own) and 1000");
  if (c.loop < -1) throw Error("--input-loop must be -1 (forever) or more");
  if (options.max_frames < 0) throw Error("--max-frames must be 0 (all) or more");
  if (options.output_options.bitrate < 1000 || options.output_options.bitrate > 1000000000)
    throw Error("--bitrate must be within 1000 and 1000000000 bits per second");
}

// Where annotated frames go: --output, else a window when there is a display.
std::unique_ptr<VideoOutput> open_output(const DetectRunOptions& options, const VideoSource& source) {
  std::string uri = options.output;
  if (uri.empty() && !options.headless && (std::getenv("DISPLAY") || std::getenv("WAYLAND_DISPLAY")))
    uri = "display://0";
  if (uri.empty()) return nullptr;
  return VideoOutput::open(uri, source.is_sequence(), source.fps(), options.output_options);
}

// --roi x,y,w,h in frame pixels; an Error naming the flag when it does not parse or
// reaches past the largest frame a source gives (16384 px, as --input-width).
cv::Rect parse_roi(const std::string& text) {
  long v[4] = {0, 0, 0, 0};
  const char* p = text.c_str();
  for (int i = 0; i < 4; ++i) {
    char* end = nullptr;
    errno = 0;
    v[i] = std::strtol(p, &end, 10);
    const bool ok = end != p && !errno && v[i] >= (i < 2 ? 0 : 1) && v[i] <= 16384 && *end == (i < 3 ? ',' : '\0');
    if (!ok || std::isspace(static_cast<unsigned char>(*p)))
      throw Error("--roi " + text + ": expected x,y,w,h in pixels (x, y >= 0; w, h >= 1; each at most 16384)");
    p = end + 1;
  }
  return {static_cast<int>(v[0]), static_cast<int>(v[1]), static_cast<int>(v[2]), static_cast<int>(v[3])};
}

// The detector on the region of interest (the whole frame without --roi), boxes in frame pixels.
std::vector<Detection> detect_in_region(Detector& detector, const cv::Mat& bgr, const std::optional<cv::Rect>& roi,
                                        const std::string& roi_text) {
  if (!roi) return detector.detect_bgr(bgr);
  const cv::Rect inside = *roi & cv::Rect(0, 0, bgr.cols, bgr.rows);
  if (inside != *roi)
    throw Error("--roi " + roi_text + ": " + (inside.area() == 0 ? "outside" : "reaches beyond") + " the " +
                std::to_string(bgr.cols) + "x" + std::to_string(bgr.rows) + " frame");
  std::vector<Detection> detections = detector.detect_bgr(bgr(inside).clone());
  // Clipped to the region: the network saw nothing beyond it.
  const float w = static_cast<float>(inside.width), h = static_cast<float>(inside.height);
  for (Detection& d : detections) {
    d.box.x1 = std::clamp(d.box.x1, 0.f, w) + inside.x, d.box.x2 = std::clamp(d.box.x2, 0.f, w) + inside.x;
    d.box.y1 = std::clamp(d.box.y1, 0.f, h) + inside.y, d.box.y2 = std::clamp(d.box.y2, 0.f, h) + inside.y;
  }
  return detections;
}

// What each frame uses besides the detector: the region (--roi, parsed once), then the
// tracker, the reader and the track events.
struct FrameFollowers {
  std::optional<cv::Rect> roi;
  std::optional<DetectionFollower> follower;
};

// One frame: detect, draw and write it, print what was found; its stage times.
StageTimes process_frame(Frame& frame, Detector& detector, FrameFollowers& followers, VideoOutput* output,
                         const OverlayOptions& overlay, const DetectRunOptions& options) {
  std::vector<Detection> detections = detect_in_region(detector, frame.bgr, followers.roi, options.roi);
  detections = followers.follower->follow(std::move(detections), frame.bgr, frame.index);
  StageTimes t;
  t.pre = detector.last_timings().preprocess_ms;
  t.network = detector.last_timings().network_ms;
  t.post = detector.last_timings().postprocess_ms;
  t.read = followers.follower->last_read_ms();
  if (output) {
    const auto visualize_start = std::chrono::steady_clock::now();
    if (followers.roi) cv::rectangle(frame.bgr, *followers.roi, cv::Scalar(255, 255, 255), 1);
    draw_detections(frame.bgr, detections, detector.info().class_names, overlay);
    output->write(frame.bgr, frame.name);
    t.visualize = ms_since(visualize_start);
  }
  if (options.json) {
    std::printf("%s\n", frame_json(frame, detections, detector.info(), t, followers.follower->reading()).dump().c_str());
  } else {
    print_detections(detections, followers.follower->reading());
    print_timing(options.model, detector.engine_name(), t, followers.follower->reading());
  }
  std::fflush(stdout);
  return t;
}

struct LoopTotals {
  StageTimes sum;
  int64_t frames = 0;
};

// Frames until the input ends, --max-frames, Ctrl-C or a closed window. The signal
// handlers are restored and the output finalised on every way out.
LoopTotals run_frames(VideoSource& source, Detector& detector, std::unique_ptr<PlateReader> reader,
                      VideoOutput* output, const OverlayOptions& overlay, const DetectRunOptions& options) {
  FrameFollowers followers;
  if (!options.roi.empty()) followers.roi = parse_roi(options.roi);
  ReadPlate read;
  if (reader) read = [&reader](const cv::Mat& bgr, const CornerBox& box) { return reader->read_bgr(bgr, box); };
  followers.follower.emplace(options.follow, detector.info(), read, source.fps());
  g_interrupted = false;
  auto previous_int = std::signal(SIGINT, on_interrupt);
  auto previous_term = std::signal(SIGTERM, on_interrupt);
  auto restore = [&] {
    std::signal(SIGINT, previous_int);
    std::signal(SIGTERM, previous_term);
    if (output) output->close();
  };
  LoopTotals totals;
  Frame frame;
  try {
    while (!g_interrupted && (options.max_frames <= 0 || totals.frames < options.max_frames) && source.read(frame)) {
      const StageTimes t = process_frame(frame, detector, followers, output, overlay, options);
      totals.sum.pre += t.pre, totals.sum.network += t.network, totals.sum.post += t.post, totals.sum.read += t.read;
      totals.sum.visualize += t.visualize;
      ++totals.frames;
      if (output && !output->is_open()) break;
    }
  } catch (...) {
    followers.follower->finish();  // the events so far are kept
    restore();
    throw;
  }
  followers.follower->finish();
  if (!options.follow.events.empty())
    log_info("Wrote " + std::to_string(followers.follower->events()) + " track events to " + options.follow.events);
  restore();
  return totals;
}

// The timing report, then the exit code: 0, or 1 when frames were lost; an Error when
// nothing at all could be processed.
int finish_run(const DetectRunOptions& options, const LoopTotals& totals, double seconds, const VideoSource& source,
               const VideoOutput* output) {
  const int64_t frames = totals.frames;
  if (frames > 0) {
    char line[256];
    std::snprintf(line, sizeof line,
                  "%lld frames in %.2f s (%.1f FPS); mean per frame: pre-process %.2f ms, network %.2f ms, "
                  "post-process %.2f ms, read plates %.2f ms, visualize %.2f ms",
                  static_cast<long long>(frames), seconds, frames / std::max(seconds, 1e-9), totals.sum.pre / frames,
                  totals.sum.network / frames, totals.sum.post / frames, totals.sum.read / frames,
                  totals.sum.visualize / frames);
    log_info(line);
  }
  if (output) log_info("Wrote " + std::to_string(output->frames_written()) + " frames to " + output->uri());
  if (g_interrupted) {
    log_info("Interrupted; output finalised");
    return 0;
  }
  if (frames == 0 && source.unreadable() > 0)
    throw Error(options.input + ": no decodable image (" + std::to_string(source.unreadable()) +
                " could not be read, named above)");
  int status = 0;
  if (source.unreadable() > 0) {
    log_warning(std::to_string(source.unreadable()) + " input images could not be read (named above)");
    status = 1;
  }
  if (!source.end_reason().empty()) {
    log_warning(source.end_reason());
    status = 1;
  }
  if (frames == 0 && status == 0) throw Error(options.input + ": no frame to process");
  return status;
}

}  // namespace

int run_detect(const DetectRunOptions& options) {
  check_detect_numbers(options);
  check_follow_options(options.follow);  // before the model loads
  if (!options.roi.empty()) parse_roi(options.roi);
  check_detect_outputs(options);
  if (!options.plate_pattern.empty() && options.reader.empty())
    throw Error("--plate-pattern " + options.plate_pattern + ": needs --reader");
  if (!options.plate_pattern.empty()) check_plate_pattern_syntax(options.plate_pattern);
  const OverlayOptions overlay = parse_overlay(options.overlay, options.alpha);
  PostprocessOptions post;
  post.probability_threshold = options.threshold;
  DetectorModel model = load_detector_model(options.model, options.labels, options.blobs);
  check_input_size(model.graph, options.resolution);
  Detector detector(std::move(model), options.engine, post);
  std::unique_ptr<PlateReader> reader;
  if (!options.reader.empty()) reader = std::make_unique<PlateReader>(options.reader, options.engine, options.plate_pattern);
  const ModelInfo& info = detector.info();
  check_output_is_not_input(options.input, options.output);
  std::unique_ptr<VideoSource> source = VideoSource::open(options.input, options.capture);
  std::unique_ptr<VideoOutput> output = open_output(options, *source);
  log_info("Model " + options.model + " (" + info.net + ", " + std::to_string(info.num_classes() - 1) +
           " classes, " + std::to_string(info.input_width) + "x" + std::to_string(info.input_height) + ") on engine " +
           detector.engine_name() + "; input " + source->uri() + "; output " +
           (output ? output->uri() : std::string("none")) +
           (reader ? "; plate reader " + options.reader + " (" + reader->engine_name() + ")" : std::string()));
  const auto start = std::chrono::steady_clock::now();
  const LoopTotals totals = run_frames(*source, detector, std::move(reader), output.get(), overlay, options);
  return finish_run(options, totals, ms_since(start) / 1000.0, *source, output.get());
}

}  // namespace edgessd
