#pragma once
// What `detect` does with each frame's detections once the detector has found them: the
// IOU tracker (--tracking), a read of every plate seen in the frame (--reader), and one
// event per tracked plate (--events). The reader comes in as a function, so the same
// frame loop serves the engine's reader and a test's.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "edgessd/common/boxes.h"
#include "edgessd/common/detection.h"
#include "edgessd/common/model_info.h"
#include "edgessd/plates/plate_text.h"
#include "edgessd/deploy/track_events.h"
#include "edgessd/deploy/tracker.h"

namespace edgessd {

// The plate inside `pixels` (a box of the BGR frame) read.
using ReadPlate = std::function<PlateReading(const cv::Mat& bgr, const CornerBox& pixels)>;

struct FollowOptions {
  bool tracking = false;       // --tracking
  TrackerOptions tracker;      // --tracker-*
  std::string events;          // --events FILE.jsonl ("" = none; needs tracking)
  double event_merge_seconds = 10;  // --event-merge-seconds (0: one event per track)
};

// Flag errors (--events without --tracking, a merge window out of range, the tracker's
// settings) as an Error naming the flag, before anything is opened.
void check_follow_options(const FollowOptions& options);

class DetectionFollower {
 public:
  // `read`: empty for no reader. `fps`: the source's frame rate, which gives the events
  // video time; 0 (a camera without one, images) gives the time since construction.
  DetectionFollower(const FollowOptions& options, const ModelInfo& info, ReadPlate read, double fps);
  // One frame's detections in frame pixels -> the tracker's output (or the detections
  // themselves without tracking), each seen one read; `frame` is the source's index.
  std::vector<Detection> follow(std::vector<Detection> detections, const cv::Mat& bgr, int64_t frame);
  // The open tracks become events (call once, at the end of the input or on an error).
  void finish();
  bool reading() const { return static_cast<bool>(read_); }
  double last_read_ms() const { return last_read_ms_; }  // this frame's reads together
  size_t events() const { return events_ ? events_->events() : 0; }

 private:
  std::optional<IouTracker> tracker_;
  std::optional<TrackEventWriter> events_;
  ReadPlate read_;
  double fps_ = 0;
  std::chrono::steady_clock::time_point start_;
  int64_t updates_ = 0;  // frames followed so far
  double last_read_ms_ = 0;
};

}  // namespace edgessd
