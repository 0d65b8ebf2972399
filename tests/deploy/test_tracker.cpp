// detectNet's IOU tracker on hand-made frames: confirmation after --tracker-min-frames,
// ids that follow a moving box, coasting while lost, dropping, classes kept apart.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <sstream>
#include <tuple>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/deploy/track_events.h"
#include "edgessd/deploy/tracker.h"
#include "support/test_support.h"

using namespace edgessd;

namespace {

Detection box(float x, float y, int64_t label = 1, float w = 40, float h = 20) {
  return Detection{CornerBox{x, y, x + w, y + h}, label, 0.9f};
}

}  // namespace

TEST(IouTracker, ConfirmsAfterMinFramesAndFollowsAMovingBox) {
  IouTracker tracker({3, 15, 0.5f});
  for (int f = 0; f < 3; ++f) EXPECT_TRUE(tracker.update({box(100 + 4 * f, 50)}).empty()) << "frame " << f;
  for (int f = 3; f < 10; ++f) {
    const auto out = tracker.update({box(100 + 4 * f, 50)});  // 4 px a frame: IoU 0.82
    ASSERT_EQ(out.size(), 1u) << "frame " << f;
    EXPECT_EQ(out[0].track_id, 0);
    EXPECT_EQ(out[0].track_status, 1);
    EXPECT_EQ(out[0].track_frames, f);
    EXPECT_EQ(out[0].track_lost, 0);
    EXPECT_FLOAT_EQ(out[0].box.x1, 100 + 4 * f);
  }
}

TEST(IouTracker, LostTracksCoastThenDropAndAReturnIsANewTrack) {
  IouTracker tracker({1, 3, 0.5f});
  tracker.update({box(10, 10)});
  ASSERT_EQ(tracker.update({box(11, 10)}).at(0).track_id, 0);
  for (int lost = 1; lost <= 3; ++lost) {
    const auto out = tracker.update({});
    ASSERT_EQ(out.size(), 1u) << "a lost track is still reported, lost " << lost;
    EXPECT_EQ(out[0].track_lost, lost);
    EXPECT_EQ(out[0].track_status, lost < 3 ? 1 : -1);
    EXPECT_FLOAT_EQ(out[0].box.x1, 11) << "with its last box";
  }
  EXPECT_TRUE(tracker.update({}).empty()) << "dropped after --tracker-drop-frames";
  tracker.update({box(11, 10)});
  EXPECT_EQ(tracker.update({box(11, 10)}).at(0).track_id, 1) << "the IOU tracker does not re-identify";
}

TEST(IouTracker, TwoObjectsKeepTheirIdsAndClassesNeverMix) {
  IouTracker tracker({0, 15, 0.5f});
  auto out = tracker.update({box(0, 0), box(200, 0)});
  ASSERT_EQ(out.size(), 2u);
  const int left = out[0].box.x1 < 100 ? out[0].track_id : out[1].track_id;
  for (int f = 1; f < 5; ++f) {
    out = tracker.update({box(200 - 2 * f, 0), box(2 * f, 0)});  // listed in the other order
    ASSERT_EQ(out.size(), 2u);
    for (const auto& d : out) EXPECT_EQ(d.track_id == left, d.box.x1 < 100) << "frame " << f;
  }
  out = tracker.update({box(8, 0, 2), box(192, 0)});  // same place, another class: a new track
  int new_ids = 0;
  for (const auto& d : out) new_ids += d.track_id >= 2;
  EXPECT_EQ(new_ids, 1);
  EXPECT_EQ(out.size(), 3u) << "the class-1 track on the left is lost, not taken over";
}

TEST(IouTracker, BadSettingsNameTheFlag) {
  EXPECT_THROW(IouTracker({-1, 15, 0.5f}), Error);
  EXPECT_THROW(IouTracker({3, 0, 0.5f}), Error);
  try {
    IouTracker({3, 15, 0.0f});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--tracker-overlap"), std::string::npos);
  }
}

// Track events: one line per track when it is dropped or the input ends, with its first
// frame (before confirmation), times, detections count, best detection and crop.
TEST(TrackEvents, OneLinePerTrackWithItsFirstFrameAndBestCrop) {
  edgessd::testing::TempDir dir;
  ModelInfo info;
  info.class_names = {"BACKGROUND", "plate"};
  IouTracker tracker({3, 2, 0.5f});
  TrackEventWriter events(dir.file("events.jsonl"), info);
  cv::Mat frame(120, 320, CV_8UC3, cv::Scalar(40, 40, 40));
  for (int f = 0; f < 12; ++f) {
    std::vector<Detection> found;
    if (f < 6) found.push_back(box(20 + 2 * f, 30));                 // leaves after frame 5
    if (f >= 4) found.push_back(box(200, 60, 1, 40, 20));            // stays to the end
    if (f < 6) found.back().probability = f == 2 ? 0.99f : 0.5f;     // frame 2, before confirmation: not kept
    if (f == 4) found[0].probability = 0.95f;
    events.observe(tracker.update(found), frame, f, f / 10.0);
  }
  EXPECT_EQ(events.events(), 1u) << "the first track was dropped two frames after it left";
  events.finish();
  const std::string text = read_file(dir.file("events.jsonl"));
  std::istringstream lines(text);
  std::vector<nlohmann::json> parsed;
  for (std::string line; std::getline(lines, line);) parsed.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(parsed.size(), 2u) << text;
  EXPECT_EQ(parsed[0]["track_id"], 0);
  EXPECT_EQ(parsed[0]["first_frame"], 0) << "from its first detection, before it was confirmed";
  EXPECT_EQ(parsed[0]["last_frame"], 5);
  EXPECT_DOUBLE_EQ(parsed[0]["last_time_s"].get<double>(), 0.5);
  EXPECT_EQ(parsed[0]["frames_detected"], 6);
  EXPECT_EQ(parsed[0]["best_frame"], 4);
  EXPECT_NEAR(parsed[0]["best_confidence"].get<double>(), 0.95, 1e-6);
  EXPECT_EQ(parsed[1]["first_frame"], 4);
  EXPECT_EQ(parsed[1]["last_frame"], 11);
  const cv::Mat crop = cv::imread(dir.file(parsed[0]["crop"].get<std::string>()));
  ASSERT_FALSE(crop.empty());
  EXPECT_EQ(crop.cols, 49);  // 40 px and a tenth on each side, rounded out
  EXPECT_THROW(TrackEventWriter(dir.path(), info), Error);
  EXPECT_THROW(TrackEventWriter(dir.file("missing/events.jsonl"), info), Error);
}

// With a plate reader, each frame's read votes for the track's text with its confidence:
// one confident read outweighs two unsure ones, and the event lists every text's votes.
TEST(TrackEvents, TheTrackTextIsTheConfidenceWeightedVote) {
  EXPECT_EQ(voted_text({}), "");
  EXPECT_EQ(voted_text({{"ABC123", 0.9}, {"A8C123", 0.5 + 0.45}}), "A8C123");
  EXPECT_EQ(voted_text({{"ABC123", 1.0}, {"A8C123", 1.0}}), "A8C123") << "a tie: the first in text order";
  edgessd::testing::TempDir dir;
  ModelInfo info;
  info.class_names = {"BACKGROUND", "plate"};
  TrackEventWriter events(dir.file("events.jsonl"), info);
  cv::Mat frame(120, 320, CV_8UC3, cv::Scalar(40, 40, 40));
  const std::vector<std::pair<std::string, float>> reads = {{"8ABC123", 0.4f}, {"BABC123", 0.95f}, {"8ABC123", 0.4f}, {"", 0}};
  for (size_t f = 0; f < reads.size(); ++f) {
    Detection d = box(20, 30);  // one confirmed track, seen in every frame
    d.track_id = 0, d.track_status = 1, d.track_frames = static_cast<int>(f) + 1;
    d.text = reads[f].first, d.text_confidence = reads[f].second;
    events.observe({d}, frame, static_cast<int64_t>(f), f / 10.0);
  }
  events.finish();
  const nlohmann::json line = nlohmann::json::parse(read_file(dir.file("events.jsonl")));
  EXPECT_EQ(line["text"], "BABC123");
  EXPECT_EQ(line["text_reads"], 3) << "an empty read does not vote";
  EXPECT_NEAR(line["text_votes"]["8ABC123"].get<double>(), 0.8, 1e-6);
  EXPECT_NEAR(line["text_votes"]["BABC123"].get<double>(), 0.95, 1e-6);
}

// A track joins an ended event when it reads the same text, is of the same class and
// began at most the merge window after that event's last sighting: the line is rewritten
// with both ids, the earliest first sighting and the latest last one, and the votes summed.
TEST(TrackEvents, AReturningPlateJoinsItsEventWithinTheWindow) {
  edgessd::testing::TempDir dir;
  ModelInfo info;
  info.class_names = {"BACKGROUND", "plate", "car"};
  // Tracks as (id, label, text, first frame, last frame); frames are 0.1 s apart.
  const std::vector<std::tuple<int, int64_t, std::string, int, int>> tracks = {
      {0, 1, "ABC123", 0, 9},   {1, 1, "XYZ789", 5, 14},  {2, 1, "ABC123", 40, 49},  // 3 s after 0 ended
      {3, 2, "ABC123", 50, 55},                                                    // another class
      {4, 1, "ABC123", 200, 205},                                                  // 15 s after 2 ended
      {5, 1, "XYZ789", 10, 20}};  // seen with 1 at once: another plate read alike
  auto run = [&](double window, const std::string& name) {
    TrackEventWriter events(dir.file(name), info, window);
    cv::Mat frame(120, 320, CV_8UC3, cv::Scalar(40, 40, 40));
    for (int f = 0; f <= 206; ++f) {
      std::vector<Detection> seen;
      for (const auto& [id, label, text, first, last] : tracks) {
        if (f < first || f > last + 1) continue;
        Detection d = box(20.f + 50 * id, 30, label);
        d.track_id = id, d.track_status = f > last ? -1 : 1, d.track_lost = f > last ? 1 : 0;
        d.track_first_frame = first, d.text = text, d.text_confidence = 0.5f;
        d.probability = id == 2 && f == 45 ? 0.99f : 0.6f;
        seen.push_back(d);
      }
      events.observe(seen, frame, f, f / 10.0);
    }
    events.finish();
    std::vector<nlohmann::json> lines;
    std::istringstream text(read_file(dir.file(name)));
    for (std::string line; std::getline(text, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
  };
  const auto merged = run(10, "merged.jsonl");
  ASSERT_EQ(merged.size(), 5u);
  EXPECT_EQ(merged[0]["track_ids"], nlohmann::json({0, 2}));
  EXPECT_EQ(merged[0]["first_frame"], 0);
  EXPECT_EQ(merged[0]["last_frame"], 49);
  EXPECT_EQ(merged[0]["text_reads"], 20);
  EXPECT_NEAR(merged[0]["text_votes"]["ABC123"].get<double>(), 10.0, 1e-6);
  EXPECT_EQ(merged[0]["best_frame"], 45) << "the better detection of the second sighting";
  EXPECT_EQ(merged[0]["crop"], "merged-track-0.jpg") << "named by the event's first track";
  EXPECT_FALSE(std::filesystem::exists(dir.file("merged-track-2.jpg")));
  EXPECT_EQ(merged[1]["track_ids"], nlohmann::json({1}));
  EXPECT_EQ(merged[2]["track_ids"], nlohmann::json({5})) << "a track that began before the other ended never joins it";
  EXPECT_EQ(merged[3]["track_ids"], nlohmann::json({3})) << "a car's text never joins a plate's";
  EXPECT_EQ(merged[4]["track_ids"], nlohmann::json({4})) << "15 s later is another visit";
  EXPECT_EQ(run(0, "apart.jsonl").size(), 6u) << "0: one line per track";
  // A second run onto the same file would overwrite the first run's crops one by one.
  try {
    TrackEventWriter again(dir.file("merged.jsonl"), info, 10);
    ADD_FAILURE() << "an earlier run's crops were not noticed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(".jpg (an earlier run's crop) is beside it"), std::string::npos)
        << e.what();
  }
}
