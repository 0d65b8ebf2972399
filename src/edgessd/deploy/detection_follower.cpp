#include "edgessd/deploy/detection_follower.h"

#include "edgessd/common/error.h"
#include "edgessd/common/progress.h"

namespace edgessd {

void check_follow_options(const FollowOptions& options) {
  if (options.tracking) IouTracker{options.tracker};  // throws naming the flag
  if (!options.events.empty() && !options.tracking) throw Error("--events " + options.events + ": needs --tracking");
  if (!(options.event_merge_seconds >= 0 && options.event_merge_seconds <= 86400))
    throw Error("--event-merge-seconds must be within 0 (one event per track) and 86400");
}

DetectionFollower::DetectionFollower(const FollowOptions& options, const ModelInfo& info, ReadPlate read, double fps)
    : read_(std::move(read)), fps_(fps), start_(std::chrono::steady_clock::now()) {
  check_follow_options(options);
  if (options.tracking) tracker_.emplace(options.tracker);
  if (!options.events.empty()) events_.emplace(options.events, info, options.event_merge_seconds);
}

std::vector<Detection> DetectionFollower::follow(std::vector<Detection> detections, const cv::Mat& bgr,
                                                 int64_t frame) {
  if (tracker_) detections = tracker_->update(detections);
  last_read_ms_ = 0;
  if (read_) {
    const auto start = std::chrono::steady_clock::now();
    for (Detection& d : detections) {
      if (d.track_lost > 0) continue;  // coasting: its box is from an earlier frame
      const PlateReading r = read_(bgr, d.box);
      d.text = r.text, d.text_confidence = r.confidence;
    }
    last_read_ms_ = ms_since(start);
  }
  // Video time when the source has a rate, else the time since the start.
  if (events_) events_->observe(detections, bgr, updates_, fps_ > 0 ? frame / fps_ : ms_since(start_) / 1000.0);
  ++updates_;
  return detections;
}

void DetectionFollower::finish() {
  if (events_) events_->finish();
}

}  // namespace edgessd
