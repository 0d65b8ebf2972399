#include "edgessd/deploy/track_events.h"

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include <filesystem>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"

namespace edgessd {

namespace {

// The box with a tenth of its size around it, inside the frame.
cv::Mat crop_of(const cv::Mat& bgr, const CornerBox& b) {
  const float pad_x = 0.1f * (b.x2 - b.x1), pad_y = 0.1f * (b.y2 - b.y1);
  const cv::Rect want(cv::Point(static_cast<int>(b.x1 - pad_x), static_cast<int>(b.y1 - pad_y)),
                      cv::Point(static_cast<int>(b.x2 + pad_x + 1), static_cast<int>(b.y2 + pad_y + 1)));
  const cv::Rect inside = want & cv::Rect(0, 0, bgr.cols, bgr.rows);
  return inside.area() > 0 ? bgr(inside).clone() : cv::Mat();
}

}  // namespace

std::string voted_text(const std::map<std::string, double>& votes) {
  std::string best;
  double weight = 0;
  for (const auto& [text, w] : votes)
    if (best.empty() || w > weight) best = text, weight = w;
  return best;
}

TrackEventWriter::TrackEventWriter(std::string path, const ModelInfo& info, double merge_seconds)
    : path_(std::move(path)), info_(info), merge_seconds_(merge_seconds) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path_, ec)) throw Error("--events " + path_ + ": is a folder; give a file such as events.jsonl");
  const fs::path parent = fs::path(path_).parent_path();
  if (!parent.empty() && !fs::is_directory(parent, ec))
    throw Error("--events " + path_ + ": its folder " + parent.string() + " does not exist");
  check_no_earlier_crops();
  write_file_atomic(path_, "");
}

// Crops are named by track id, and ids start again at 1 every run: an earlier run's crops
// would be overwritten one by one and mixed with this run's.
void TrackEventWriter::check_no_earlier_crops() const {
  namespace fs = std::filesystem;
  const fs::path stem(crop_path(0).substr(0, crop_path(0).size() - 5));  // ".../events-track-"
  const fs::path dir = stem.parent_path().empty() ? fs::path(".") : stem.parent_path();
  const std::string prefix = stem.filename().string();
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > prefix.size() + 4 && name.rfind(prefix, 0) == 0 && name.compare(name.size() - 4, 4, ".jpg") == 0)
      throw Error("--events " + path_ + ": " + entry.path().string() +
                  " (an earlier run's crop) is beside it; move those crops away or give another --events");
  }
}

std::string TrackEventWriter::crop_path(int id) const {
  std::string stem = path_;
  if (stem.size() > 6 && stem.compare(stem.size() - 6, 6, ".jsonl") == 0) stem.resize(stem.size() - 6);
  return stem + "-track-" + std::to_string(id) + ".jpg";
}

void TrackEventWriter::observe(const std::vector<Detection>& tracked, const cv::Mat& bgr, int64_t frame,
                               double seconds) {
  seconds_of_frame_[frame] = seconds;
  while (seconds_of_frame_.size() > 100000) seconds_of_frame_.erase(seconds_of_frame_.begin());
  for (const Detection& d : tracked) {
    if (d.track_id < 0) continue;
    auto [it, fresh] = open_.try_emplace(d.track_id);
    Track& t = it->second;
    if (fresh) {
      t.first_frame = d.track_first_frame >= 0 ? d.track_first_frame : frame;
      const auto known = seconds_of_frame_.lower_bound(t.first_frame);
      t.first_seconds = known != seconds_of_frame_.end() ? known->second : seconds;
      t.frames_detected = d.track_frames;  // its matches before it was confirmed
    }
    if (d.track_lost == 0) {  // seen in this frame, not coasting
      t.last_frame = frame, t.last_seconds = seconds;
      ++t.frames_detected;
      if (!d.text.empty()) {
        t.votes[d.text] += d.text_confidence;
        ++t.reads;
      }
      if (t.best_crop.empty() || d.probability > t.best.probability) {
        t.best = d, t.best_frame = frame;
        t.best_crop = crop_of(bgr, d.box);
      }
    }
    if (d.track_status < 0) {
      close_track(d.track_id, std::move(t));
      open_.erase(it);
    }
  }
}

void TrackEventWriter::finish() {
  for (const auto& [id, track] : open_) close_track(id, track);
  open_.clear();
}

// The event a just-ended track continues: the latest one of its class and voted text
// that ended before the track began, at most merge_seconds_ before. Tracks seen at the
// same time are different objects, whatever their text (a reader that reads every plate
// alike must not fold a street's plates into one).
TrackEventWriter::Event* TrackEventWriter::event_to_join(const Track& track) {
  if (merge_seconds_ <= 0 || track.reads == 0) return nullptr;
  const std::string text = voted_text(track.votes);
  for (auto it = closed_.rbegin(); it != closed_.rend(); ++it) {
    const Track& e = it->track;
    if (e.reads > 0 && e.best.label == track.best.label && track.first_frame > e.last_frame &&
        track.first_seconds - e.last_seconds <= merge_seconds_ && voted_text(e.votes) == text)
      return &*it;
  }
  return nullptr;
}

void TrackEventWriter::close_track(int id, Track t) {
  Event* event = event_to_join(t);
  bool new_crop = !t.best_crop.empty();
  if (!event) {
    closed_.push_back(Event{{id}, std::move(t), "", ""});
    event = &closed_.back();
  } else {
    Track& e = event->track;
    event->track_ids.push_back(id);
    if (t.first_frame < e.first_frame) e.first_frame = t.first_frame, e.first_seconds = t.first_seconds;
    if (t.last_frame > e.last_frame) e.last_frame = t.last_frame, e.last_seconds = t.last_seconds;
    e.frames_detected += t.frames_detected;
    for (const auto& [text, votes] : t.votes) e.votes[text] += votes;
    e.reads += t.reads;
    new_crop = new_crop && (event->crop.empty() || t.best.probability > e.best.probability);
    if (new_crop) e.best = t.best, e.best_frame = t.best_frame, e.best_crop = t.best_crop;
  }
  std::vector<uchar> jpeg;
  if (new_crop && cv::imencode(".jpg", event->track.best_crop, jpeg)) {
    event->crop = crop_path(event->track_ids.front());
    write_file_atomic(event->crop, std::string(jpeg.begin(), jpeg.end()));
  }
  event->track.best_crop.release();  // on disk now; a long stream keeps only the lines
  event->line = line_of(*event);
  write_events();
}

std::string TrackEventWriter::line_of(const Event& event) const {
  const Track& t = event.track;
  const int64_t label = t.best.label;
  nlohmann::json line = {
      {"track_id", event.track_ids.front()},
      {"track_ids", event.track_ids},
      {"class_id", label},
      {"class", label >= 0 && label < info_.num_classes() ? info_.class_names[label] : std::to_string(label)},
      {"first_frame", t.first_frame},
      {"last_frame", t.last_frame},
      {"first_time_s", t.first_seconds},
      {"last_time_s", t.last_seconds},
      {"frames_detected", t.frames_detected},
      {"best_frame", t.best_frame},
      {"best_confidence", t.best.probability},
      {"best_box", {{"left", t.best.box.x1}, {"top", t.best.box.y1}, {"right", t.best.box.x2}, {"bottom", t.best.box.y2}}},
      {"crop", event.crop.empty() ? nlohmann::json() : nlohmann::json(std::filesystem::path(event.crop).filename().string())}};
  if (t.reads > 0) {
    line["text"] = voted_text(t.votes);
    line["text_votes"] = t.votes;
    line["text_reads"] = t.reads;
  }
  return line.dump();
}

void TrackEventWriter::write_events() const {
  std::string text;
  for (const Event& e : closed_) text += e.line + "\n";
  write_file_atomic(path_, text);
}

}  // namespace edgessd
