#pragma once
// One event per tracked object (detect --tracking --events FILE): when its track is
// dropped, or the input ends, a JSON line with its first and last frame and time, how
// many frames detected it, and its best detection, whose crop is saved as a JPEG beside
// the file. The file is rewritten atomically at each event, so a reader never sees half
// a line and an interrupted run keeps every event so far. With a plate reader, each
// frame's read of the track votes for its text with its confidence; the event carries
// the winning text, every text's votes and the number of reads. A plate that leaves and
// comes back gets a new track from the IOU tracker; when its track ends with the text of
// an event that ended at most `merge_seconds` before the new track began, the new track
// joins that event (its line is rewritten: one line per plate, as alprd groups plates).
#include <map>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "edgessd/common/detection.h"
#include "edgessd/common/model_info.h"

namespace edgessd {

// The text with the most confidence summed over its reads (ties: the one read first in
// text order); "" when there were none.
std::string voted_text(const std::map<std::string, double>& votes);

class TrackEventWriter {
 public:
  // `path`: the .jsonl to write (its folder must exist; a folder or a path equal to an
  // input is refused by the caller). Crops go to <path without .jsonl>-track-<id>.jpg,
  // <id> the event's first track. `merge_seconds` 0: one event per track.
  TrackEventWriter(std::string path, const ModelInfo& info, double merge_seconds = 0);
  // One frame's tracker output (confirmed tracks, dropped ones with status -1) on `bgr`,
  // at `seconds` into the input; `frame` counts the tracker's updates from 0.
  void observe(const std::vector<Detection>& tracked, const cv::Mat& bgr, int64_t frame, double seconds);
  // The tracks still open at the end of the input become events too.
  void finish();
  size_t events() const { return closed_.size(); }

 private:
  struct Track {
    Detection best;
    int64_t first_frame = 0, last_frame = 0, best_frame = 0;
    double first_seconds = 0, last_seconds = 0;
    int frames_detected = 0;
    cv::Mat best_crop;
    std::map<std::string, double> votes;  // text -> summed read confidence
    int reads = 0;
  };
  struct Event {
    std::vector<int> track_ids;  // the first names the event and its crop
    Track track;                 // the tracks' union: earliest first, latest last, summed votes
    std::string crop;            // its best crop's file ("" = none written)
    std::string line;            // as written
  };
  void close_track(int id, Track track);
  Event* event_to_join(const Track& track);
  std::string crop_path(int id) const;
  void check_no_earlier_crops() const;
  std::string line_of(const Event& event) const;
  void write_events() const;

  std::string path_;
  const ModelInfo& info_;
  double merge_seconds_ = 0;
  std::map<int, Track> open_;
  std::map<int64_t, double> seconds_of_frame_;  // recent frames only: a track's first one
  std::vector<Event> closed_;
};

}  // namespace edgessd
