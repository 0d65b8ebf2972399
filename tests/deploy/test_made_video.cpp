// A made video through detect's frame loop (DetectionFollower: tracker, reads, events):
// three synthetic plates (plates/plate_render) move over a procedural street; one drives
// out of the frame and comes back three seconds later. The video goes through an MJPG
// file and VideoSource as detect reads it. The detector and the reader are stand-ins, so
// that what is tested is the following, not a network: the detector reports where the
// plates were drawn (jittered, one plate missed for two frames, plates less than 60%
// inside the frame not reported); the reader matches the crop's pixels against the
// drawn plates, and misreads every fourth crop with low confidence.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <map>
#include <set>
#include <sstream>

#include "edgessd/common/files.h"
#include "edgessd/common/random.h"
#include "edgessd/plates/plate_render.h"
#include "edgessd/deploy/detection_follower.h"
#include "edgessd/deploy/video_source.h"
#include "support/test_support.h"

using namespace edgessd;

namespace {

const cv::Size kFrame(640, 360);
const int kFrames = 90;
const double kFps = 10;

struct MovingPlate {
  std::string text;
  cv::Mat bgr;  // as drawn into the frames
  // Its rectangle in frame `f` (it may lie partly or wholly outside the frame).
  cv::Rect at(int f) const {
    if (path == 0) return {20 + 4 * f, 40, bgr.cols, bgr.rows};
    if (path == 2) return {260 - f, 280, bgr.cols, bgr.rows};
    // Out through the right edge by frame 18, away until frame 55, then back in.
    const int x = f < 25 ? 460 + 10 * f : f < 55 ? 2000 : 640 - 10 * (f - 55);
    return {x, 180, bgr.cols, bgr.rows};
  }
  int path = 0;
};

std::vector<MovingPlate> make_plates() {
  std::vector<MovingPlate> plates;
  for (int i = 0; i < 3; ++i) {
    Random r(mix_seed(77, static_cast<uint64_t>(i)));
    const DrawnPlate drawn = draw_plate(r, 2.0);
    MovingPlate p;
    p.text = drawn.registration, p.path = i;
    cv::resize(drawn.bgr, p.bgr, cv::Size(120, 60), 0, 0, cv::INTER_AREA);
    plates.push_back(p);
  }
  return plates;
}

void write_video(const std::string& path, const std::vector<MovingPlate>& plates) {
  Random r(5);
  const cv::Mat street = procedural_background(r, kFrame);
  cv::VideoWriter writer(path, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), kFps, kFrame);
  ASSERT_TRUE(writer.isOpened());
  for (int f = 0; f < kFrames; ++f) {
    cv::Mat frame = street.clone();
    for (const MovingPlate& p : plates) {
      const cv::Rect at = p.at(f), inside = at & cv::Rect(cv::Point(), kFrame);
      if (inside.area() > 0) p.bgr(inside - at.tl()).copyTo(frame(inside));
    }
    writer.write(frame);
  }
}

// Where the plates are in frame `f`, as a detector that finds each plate at least 60%
// inside the frame would report them; plate 0 is missed in frames 40 and 41.
std::vector<Detection> stand_in_detections(const std::vector<MovingPlate>& plates, int f, Random& jitter) {
  std::vector<Detection> found;
  for (size_t i = 0; i < plates.size(); ++i) {
    const cv::Rect at = plates[i].at(f), inside = at & cv::Rect(cv::Point(), kFrame);
    if (inside.area() < 0.6 * at.area() || (i == 0 && (f == 40 || f == 41))) continue;
    auto j = [&] { return static_cast<float>(jitter.uniform(-1.5, 1.5)); };
    found.push_back(Detection{CornerBox{inside.x + j(), inside.y + j(), inside.br().x + j(), inside.br().y + j()}, 1,
                              static_cast<float>(jitter.uniform(0.55, 0.95))});
  }
  return found;
}

// Reads a crop by its pixels: the drawn plate it correlates with best (none below 0.6).
class StandInReader {
 public:
  explicit StandInReader(const std::vector<MovingPlate>& plates) : plates_(plates) {}
  PlateReading operator()(const cv::Mat& bgr, const CornerBox& box) {
    const cv::Rect want(cv::Point(static_cast<int>(box.x1), static_cast<int>(box.y1)),
                        cv::Point(static_cast<int>(box.x2), static_cast<int>(box.y2)));
    const cv::Rect inside = want & cv::Rect(0, 0, bgr.cols, bgr.rows);
    if (inside.width < 8 || inside.height < 8) return {};
    const cv::Mat crop = normalised(bgr(inside));
    double best = 0.6;
    const MovingPlate* read = nullptr;
    for (const MovingPlate& p : plates_) {
      cv::Mat score;
      cv::matchTemplate(crop, normalised(p.bgr), score, cv::TM_CCOEFF_NORMED);
      if (score.at<float>(0, 0) > best) best = score.at<float>(0, 0), read = &p;
    }
    if (!read) return {};
    if (++reads_ % 4 == 0) return {(read->text[0] == 'X' ? "Y" : "X") + read->text.substr(1), 0.3f};
    return {read->text, 0.8f};
  }
  int reads() const { return reads_; }

 private:
  static cv::Mat normalised(const cv::Mat& bgr) {
    cv::Mat gray, small;
    cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
    cv::resize(gray, small, cv::Size(96, 48), 0, 0, cv::INTER_AREA);
    return small;
  }
  const std::vector<MovingPlate>& plates_;
  int reads_ = 0;
};

// The plate a reported box belongs to (IoU >= 0.5 with where it was drawn), or -1.
int plate_of(const Detection& d, const std::vector<MovingPlate>& plates, int f) {
  for (size_t i = 0; i < plates.size(); ++i) {
    const cv::Rect r = plates[i].at(f) & cv::Rect(cv::Point(), kFrame);
    if (r.area() == 0) continue;
    if (iou(d.box, CornerBox{float(r.x), float(r.y), float(r.br().x), float(r.br().y)}) >= 0.5f) return int(i);
  }
  return -1;
}

struct FollowedVideo {
  std::map<int, std::set<int>> ids_of_visit;  // plate * 10 + visit (plate 1 comes twice) -> track ids
  bool plate0_coasted_with_its_id = false;
  std::vector<nlohmann::json> events;
  int reads = 0;
};

FollowedVideo follow_video(const std::string& video, const std::string& events, double merge_seconds,
                           const std::vector<MovingPlate>& plates) {
  ModelInfo info;
  info.class_names = {"BACKGROUND", "Vehicle registration plate"};
  FollowOptions options;
  options.tracking = true, options.events = events, options.event_merge_seconds = merge_seconds;
  std::unique_ptr<VideoSource> source = VideoSource::open(video);
  EXPECT_NEAR(source->fps(), kFps, 0.01);
  StandInReader reader(plates);
  DetectionFollower follower(options, info, std::ref(reader), source->fps());
  Random jitter(9);
  FollowedVideo result;
  Frame frame;
  int frames = 0, plate0_id = -1;
  for (; source->read(frame); ++frames) {
    const int f = static_cast<int>(frame.index);
    for (const Detection& d : follower.follow(stand_in_detections(plates, f, jitter), frame.bgr, frame.index)) {
      const int p = plate_of(d, plates, f);
      if (d.track_lost > 0) {
        result.plate0_coasted_with_its_id |= f == 41 && d.track_id == plate0_id;
        continue;
      }
      EXPECT_GE(p, 0) << "frame " << f << ": a track on no plate";
      if (p >= 0) result.ids_of_visit[p * 10 + (p == 1 && f >= 55)].insert(d.track_id);
      if (p == 0) plate0_id = d.track_id;
    }
  }
  follower.finish();
  EXPECT_EQ(frames, kFrames);
  std::istringstream lines(read_file(events));
  for (std::string line; std::getline(lines, line);) result.events.push_back(nlohmann::json::parse(line));
  result.reads = reader.reads();
  return result;
}

}  // namespace

TEST(MadeVideo, TracksKeepTheirIdsAndEachPlateIsOneEventWithItsText) {
  edgessd::testing::TempDir dir;
  const std::vector<MovingPlate> plates = make_plates();
  ASSERT_EQ(std::set<std::string>({plates[0].text, plates[1].text, plates[2].text}).size(), 3u);
  write_video(dir.file("street.avi"), plates);
  const FollowedVideo run = follow_video(dir.file("street.avi"), dir.file("events.jsonl"), 10, plates);

  // One id per plate for as long as it stays (plate 0 through its two missed frames); a
  // plate away for longer than --tracker-drop-frames comes back under a new id.
  ASSERT_EQ(run.ids_of_visit.size(), 4u);
  std::set<int> all;
  for (const auto& [visit, ids] : run.ids_of_visit) {
    EXPECT_EQ(ids.size(), 1u) << "visit " << visit;
    all.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(all.size(), 4u) << "no two plates or visits share an id";
  EXPECT_TRUE(run.plate0_coasted_with_its_id);
  EXPECT_GT(run.reads, 150);

  // One event line per plate, with its text; the returning plate's line spans both visits.
  ASSERT_EQ(run.events.size(), 3u) << read_file(dir.file("events.jsonl"));
  std::map<std::string, nlohmann::json> by_text;
  for (const auto& e : run.events) by_text[e["text"].get<std::string>()] = e;
  for (const MovingPlate& p : plates) {
    ASSERT_EQ(by_text.count(p.text), 1u) << p.text << "\n" << read_file(dir.file("events.jsonl"));
    const nlohmann::json& e = by_text[p.text];
    EXPECT_GE(e["text_votes"].size(), 2u) << "the misreads voted too, and lost";
    const cv::Mat crop = cv::imread(dir.file(e["crop"].get<std::string>()));
    ASSERT_FALSE(crop.empty()) << e.dump();
    EXPECT_GE(crop.cols, 0.6 * 120) << "a plate at least 60% inside the frame";
    EXPECT_LE(crop.cols, 1.2 * 120 + 6) << "the plate and a tenth around it";
  }
  const nlohmann::json& back = by_text[plates[1].text];
  EXPECT_EQ(back["track_ids"].size(), 2u) << back.dump();
  EXPECT_LE(back["first_frame"].get<int>(), 2) << back.dump();
  EXPECT_GE(back["last_frame"].get<int>(), kFrames - 2) << back.dump();
  EXPECT_GE(back["last_time_s"].get<double>() - back["first_time_s"].get<double>(), 8.5);
  EXPECT_EQ(by_text[plates[0].text]["track_ids"].size(), 1u);

  // Without merging (0), the returning plate is two events with the same text.
  const FollowedVideo apart = follow_video(dir.file("street.avi"), dir.file("apart.jsonl"), 0, plates);
  ASSERT_EQ(apart.events.size(), 4u) << read_file(dir.file("apart.jsonl"));
  int returning = 0;
  for (const auto& e : apart.events) returning += e["text"] == plates[1].text;
  EXPECT_EQ(returning, 2);
}
