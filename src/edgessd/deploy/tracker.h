#pragma once
// detectNet's IOU tracker (--tracking; Bochinski et al. 2017, "High-Speed Tracking-by-
// Detection Without Using Image Information"): each track takes, in track order, the
// unclaimed detection of its class with the highest IoU at or above the overlap
// threshold. A track is confirmed, and given the next id, on its min_frames-th match;
// confirmed tracks are reported every frame, a lost one with its last box and a growing
// lost count, until lost for drop_frames frames, when it is reported once more as
// dropped (status -1) and forgotten. Unmatched detections start new tracks.
#include <vector>

#include "edgessd/common/detection.h"

namespace edgessd {

struct TrackerOptions {
  int min_frames = 3;     // --tracker-min-frames
  int drop_frames = 15;   // --tracker-drop-frames (--tracker-lost-frames)
  float overlap = 0.5f;   // --tracker-overlap: IoU a detection needs to continue a track
};

class IouTracker {
 public:
  explicit IouTracker(TrackerOptions options);
  // One frame's detections in; the confirmed tracks out (track_* fields set).
  std::vector<Detection> update(const std::vector<Detection>& detections);
  int confirmed_tracks() const { return next_id_; }

 private:
  TrackerOptions options_;
  std::vector<Detection> tracks_;
  int next_id_ = 0;
  int64_t frame_ = 0;  // updates so far
};

}  // namespace edgessd
