#include "edgessd/deploy/tracker.h"

#include <algorithm>

#include "edgessd/common/error.h"

namespace edgessd {

namespace {

// The unclaimed detection of the track's class with the highest IoU >= threshold; -1: none.
int best_match(const Detection& track, const std::vector<Detection>& detections, const std::vector<bool>& claimed,
               float threshold) {
  int best = -1;
  float best_iou = 0;
  for (size_t n = 0; n < detections.size(); ++n) {
    if (claimed[n] || detections[n].label != track.label) continue;
    const float overlap = iou(track.box, detections[n].box);
    if (overlap >= threshold && overlap > best_iou) best = static_cast<int>(n), best_iou = overlap;
  }
  return best;
}

}  // namespace

IouTracker::IouTracker(TrackerOptions options) : options_(options) {
  if (options_.min_frames < 0 || options_.min_frames > 1000000)
    throw Error("--tracker-min-frames must be within 0..1000000");
  if (options_.drop_frames < 1 || options_.drop_frames > 1000000)
    throw Error("--tracker-drop-frames must be within 1..1000000");
  if (!(options_.overlap > 0 && options_.overlap <= 1)) throw Error("--tracker-overlap must be within (0, 1]");
}

std::vector<Detection> IouTracker::update(const std::vector<Detection>& detections) {
  std::vector<bool> claimed(detections.size(), false);
  for (Detection& track : tracks_) {
    const int n = best_match(track, detections, claimed, options_.overlap);
    if (n < 0) {
      if (++track.track_lost >= options_.drop_frames) track.track_status = -1;
      continue;
    }
    claimed[n] = true;
    Detection next = detections[n];
    next.track_frames = track.track_frames + 1;
    next.track_id = track.track_id >= 0 ? track.track_id : (next.track_frames >= options_.min_frames ? next_id_++ : -1);
    next.track_status = next.track_id >= 0 ? 1 : 0;
    next.track_lost = 0;
    next.track_first_frame = track.track_first_frame;
    track = next;
  }
  for (size_t n = 0; n < detections.size(); ++n) {
    if (claimed[n]) continue;
    Detection fresh = detections[n];
    fresh.track_frames = 0;
    fresh.track_id = options_.min_frames == 0 ? next_id_++ : -1;  // --tracker-min-frames 0: every detection counts
    fresh.track_status = fresh.track_id >= 0 ? 1 : 0;
    fresh.track_lost = 0;
    fresh.track_first_frame = frame_;
    tracks_.push_back(fresh);
  }
  std::vector<Detection> confirmed;
  for (const Detection& track : tracks_)
    if (track.track_id >= 0) confirmed.push_back(track);
  ++frame_;
  tracks_.erase(std::remove_if(tracks_.begin(), tracks_.end(), [](const Detection& t) { return t.track_status < 0; }),
                tracks_.end());
  return confirmed;
}

}  // namespace edgessd
