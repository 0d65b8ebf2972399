// End-to-end: edgessd export / eval --model / detect and edgessd-detect on real files.
#include <nlohmann/json.hpp>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <regex>
#include <set>
#include <sstream>

#include "edgessd/common/boxes.h"
#include "edgessd/common/files.h"
#include "edgessd/data/dataset.h"
#include "edgessd/common/model_info.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;

namespace {

CommandResult edgessd_cli(const std::string& args) { return run_command(std::string(EDGESSD_CLI) + " " + args); }
CommandResult edgessd_detect(const std::string& args) { return run_command(std::string(EDGESSD_DETECT) + " " + args); }

std::string last_line(const std::string& output) {
  std::string s = output;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s.substr(s.rfind('\n') == std::string::npos ? 0 : s.rfind('\n') + 1);
}

// ref-trained.pth exported once through the CLI.
const std::string& reference_onnx() {
  static TempDir dir;
  static const std::string path = [] {
    const std::string p = dir.file("ref.onnx");
    CommandResult r = edgessd_cli("export --input " + fixture("ref-trained.pth") + " --net mb1-ssd-relu6 --labels " +
                                  fixture("ref-trained-labels.txt") + " --output " + p);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return p;
  }();
  return path;
}

std::vector<nlohmann::json> json_lines(const std::string& output) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line[0] == '{') lines.push_back(nlohmann::json::parse(line));
  return lines;
}

}  // namespace

TEST(DetectCli, ExportThenEvalOnnxMatchesEvalSsd) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  EDGESSD_REQUIRE_FILE(plates_dir());
  TempDir dir;
  CommandResult r = edgessd_cli("eval --model " + reference_onnx() + " --dataset " + plates_dir() + " --eval-dir " +
                                dir.file("eval"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const size_t at = r.output.find("Average Precision Across All Classes:");
  ASSERT_NE(at, std::string::npos) << r.output;
  // pytorch-ssd's eval_ssd.py on the same files: 0.22733056939306473
  EXPECT_NEAR(std::stod(r.output.substr(at + 37)), 0.22733056939306473, 0.005) << r.output;
}

TEST(DetectCli, ExportPicksTheLowestLossCheckpoint) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  EDGESSD_REQUIRE_FILE(plates_dir());
  TempDir dir;
  std::filesystem::create_symlink(fixture("ref-trained.pth"), dir.file("mb1-ssd-relu6-Epoch-29-Loss-3.78.pth"));
  write_file_atomic(dir.file("mb1-ssd-relu6-Epoch-2-Loss-6.1.pth"), std::string("not read: its loss is higher"));
  std::filesystem::copy_file(fixture("ref-trained-labels.txt"), dir.file("labels.txt"));
  CommandResult r = edgessd_cli("export --model-dir " + dir.path() + " --net mb1-ssd-relu6");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Epoch-29-Loss-3.78.pth"), std::string::npos) << r.output;
  // README's next command reads the name export wrote, whatever the net.
  r = edgessd_cli("detect --model " + dir.file("ssd-mobilenet.onnx") + " --headless " +
                  list_images(plates_dir() + "/test").front() + " " + dir.file("o.jpg"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = edgessd_cli("export --model-dir " + dir.path() + " --input x.pth");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(last_line(r.output).find("exactly one of"), std::string::npos) << r.output;
}

// A folder of plates-us test images in: annotated images and JSON out, boxes on plates.
TEST(DetectCli, FolderOfImagesToAnnotatedFolderAndJson) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  EDGESSD_REQUIRE_FILE(plates_dir());
  TempDir dir;
  CommandResult r = edgessd_detect("--model " + reference_onnx() + " --threshold 0.3 --headless --json " +
                                   plates_dir() + "/test " + dir.file("out"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  DatasetOptions options;
  options.class_names = {"BACKGROUND", "Vehicle registration plate"};
  options.keep_difficult = true;
  DetectionDataset test = read_open_images(plates_dir(), "test", options);
  std::map<std::string, const AnnotatedImage*> by_name;
  for (const auto& image : test.images) by_name[std::filesystem::path(image.image_path).filename().string()] = &image;

  const auto frames = json_lines(r.output);
  ASSERT_EQ(frames.size(), list_images(plates_dir() + "/test").size());
  size_t detections = 0, on_a_plate = 0;
  for (const auto& frame : frames) {
    const std::string name = frame["name"];
    EXPECT_TRUE(std::filesystem::exists(dir.file("out/" + name))) << name;
    const AnnotatedImage* image = by_name.at(name);
    for (const auto& d : frame["detections"]) {
      ++detections;
      EXPECT_EQ(d["class"], "Vehicle registration plate");
      const CornerBox box{d["left"], d["top"], d["right"], d["bottom"]};
      for (const auto& gt : image->boxes) {
        const float w = frame["width"].get<float>(), h = frame["height"].get<float>();
        const CornerBox truth{gt.x1 * w, gt.y1 * h, gt.x2 * w, gt.y2 * h};
        if (iou(box, truth) > 0.3f) {
          ++on_a_plate;
          break;
        }
      }
    }
  }
  ASSERT_GT(detections, 0u);
  // ref-trained is a weak model (mAP 0.23): a good part of its boxes sit on plates, loosely
  // (IoU > 0.3; 8 of 20 here). Boxes placed at random would almost never do so.
  EXPECT_GE(on_a_plate * 3, detections) << on_a_plate << " of " << detections << " on a plate";
  // The annotated image differs from the input where a box was drawn.
  const auto& first = frames.front();
  cv::Mat in = cv::imread(plates_dir() + "/test/" + first["name"].get<std::string>());
  cv::Mat out = cv::imread(dir.file("out/" + first["name"].get<std::string>()));
  EXPECT_EQ(in.size(), out.size());
}

TEST(DetectCli, VideoInAnnotatedVideoOut) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  EDGESSD_REQUIRE_FILE(plates_dir());
  TempDir dir;
  const auto images = list_images(plates_dir() + "/test");
  {
    cv::VideoWriter writer(dir.file("in.avi"), cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 5, cv::Size(480, 360));
    ASSERT_TRUE(writer.isOpened());
    for (size_t i = 0; i < 6; ++i) {
      cv::Mat frame = cv::imread(images[i % images.size()]);
      cv::resize(frame, frame, cv::Size(480, 360));
      writer.write(frame);
    }
  }
  CommandResult r = edgessd_cli("detect --model " + reference_onnx() + " --threshold 0.3 --headless " +
                                dir.file("in.avi") + " " + dir.file("out.mp4"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("detected "), std::string::npos);
  EXPECT_NE(r.output.find("Timing Report"), std::string::npos);
  EXPECT_NE(r.output.find("-- ClassID: 1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("-- Center: ("), std::string::npos);
  EXPECT_EQ(count_video_frames(dir.file("out.mp4"), cv::Size(480, 360)), 6);
}

TEST(DetectCli, ErrorsAreOneClearLine) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  TempDir dir;
  CommandResult r = edgessd_detect("--model " + dir.file("none.onnx") + " --headless x.jpg");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(last_line(r.output).find("none.onnx"), std::string::npos) << r.output;

  r = edgessd_detect("--model " + reference_onnx() + " --headless " + dir.file("missing.jpg"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(last_line(r.output).find("missing.jpg: no such file"), std::string::npos) << r.output;

  write_labels(dir.file("labels.txt"), {"BACKGROUND", "a", "b"});
  r = edgessd_detect("--model " + reference_onnx() + " --labels " + dir.file("labels.txt") + " --headless " +
                     fixture("ref-trained-labels.txt"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(last_line(r.output).find("3 classes"), std::string::npos) << r.output;

  // An unreadable image in a folder: the rest are processed, the run says so and fails.
  std::filesystem::create_directory(dir.file("imgs"));
  cv::imwrite(dir.file("imgs/a.jpg"), cv::Mat(300, 300, CV_8UC3, cv::Scalar(90, 90, 90)));
  write_file_atomic(dir.file("imgs/b.jpg"), std::string("truncated"));
  r = edgessd_detect("--model " + reference_onnx() + " --headless " + dir.file("imgs") + " " + dir.file("out"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("b.jpg"), std::string::npos) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir.file("out/a.jpg")));
}

TEST(DetectCli, DeployProgramHasNoLibTorch) {
  CommandResult r = run_command(std::string("ldd ") + EDGESSD_DETECT);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("libtorch"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("libc10"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("libopencv_dnn"), std::string::npos) << r.output;
}

TEST(DetectCli, BenchAndQuantize) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  EDGESSD_REQUIRE_FILE(plates_dir());
  TempDir dir;
  CommandResult r = edgessd_cli("quantize --model " + reference_onnx() + " --calibration " + plates_dir() +
                                "/train --images 8 --output " + dir.file("int8.onnx"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const auto& [model, engine] : std::vector<std::pair<std::string, std::string>>{
           {reference_onnx(), "onednn"}, {dir.file("int8.onnx"), "onednn-int8"}, {reference_onnx(), "opencv"}}) {
    const std::string flags = " --model " + model + " --engine " + (engine == "opencv" ? "opencv" : "onednn") +
                              " --threads 1 --runs 3";
    r = edgessd_cli("bench" + flags);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const std::regex last("engine=" + engine + " threads=1 min_ms=[0-9.]+ median_ms=[0-9.]+");
    EXPECT_TRUE(std::regex_match(last_line(r.output), last)) << r.output;
    EXPECT_NE(r.output.find("peak_rss_mb="), std::string::npos) << r.output;
    // edgessd-bench, the deploy side's (a board's) program: the same printout.
    const CommandResult board = run_command(std::string(EDGESSD_BENCH) + flags);
    ASSERT_EQ(board.exit_code, 0) << board.output;
    EXPECT_TRUE(std::regex_match(last_line(board.output), last)) << board.output;
    EXPECT_EQ(board.output.substr(0, board.output.find('\n')), r.output.substr(0, r.output.find('\n')));
  }
}

// --tracking on a made video: one photograph panned a few pixels a frame, so the plates
// move and stay. Nothing is reported until a track is confirmed (--tracker-min-frames 3),
// then an object keeps one id in the printout, the JSON and from frame to frame.
TEST(DetectCli, TrackingGivesEachObjectOneIdAcrossFrames) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  EDGESSD_REQUIRE_FILE(plates_dir());
  TempDir dir;
  // The first test photograph in which the (weak) reference model finds something.
  std::string chosen;
  for (const auto& frame : json_lines(edgessd_cli("detect --model " + reference_onnx() + " --threshold 0.3 --headless --json " +
                                                  plates_dir() + "/test").output))
    if (!frame["detections"].empty()) {
      chosen = frame["name"].get<std::string>();
      break;
    }
  ASSERT_FALSE(chosen.empty());
  const cv::Mat photo = cv::imread(std::filesystem::path(chosen).is_absolute() ? chosen : plates_dir() + "/test/" + chosen);
  ASSERT_FALSE(photo.empty()) << chosen;
  {
    cv::VideoWriter writer(dir.file("pan.avi"), cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10, cv::Size(480, 360));
    ASSERT_TRUE(writer.isOpened());
    cv::Mat big;
    cv::resize(photo, big, cv::Size(520, 390));
    for (int f = 0; f < 10; ++f) writer.write(big(cv::Rect(2 * f, f, 480, 360)).clone());
  }
  CommandResult r = edgessd_cli("detect --model " + reference_onnx() + " --threshold 0.3 --headless --json --tracking " +
                                dir.file("pan.avi"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::map<int, int> frames_of_id;
  std::istringstream lines(r.output);
  int frame_lines = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] != '{') continue;
    const auto frame = nlohmann::json::parse(line);
    ++frame_lines;
    if (frame["frame"].get<int>() < 3) EXPECT_TRUE(frame["detections"].empty()) << line;
    for (const auto& d : frame["detections"]) {
      ASSERT_TRUE(d.contains("track_id")) << line;
      ++frames_of_id[d["track_id"].get<int>()];
    }
  }
  EXPECT_EQ(frame_lines, 10);
  ASSERT_FALSE(frames_of_id.empty()) << r.output;
  // The reference model is weak (its scores hover near the threshold), so a track may coast
  // through a missed frame; what must hold is one id per object, kept for frames.
  int longest = 0;
  for (const auto& [id, frames] : frames_of_id) longest = std::max(longest, frames);
  EXPECT_GE(longest, 3) << r.output;
  EXPECT_LE(frames_of_id.size(), 3u) << "ids are not handed out afresh every frame\n" << r.output;
  r = edgessd_cli("detect --model " + reference_onnx() + " --threshold 0.3 --headless --tracking " + dir.file("pan.avi"));
  EXPECT_NE(r.output.find("-- TrackID: 0\n-- TrackStatus: 1\n-- TrackFrames: 3\n-- TrackLost: 0"), std::string::npos)
      << r.output;
  r = edgessd_cli("detect --model " + reference_onnx() + " --headless --tracking --tracker-overlap 2 " + dir.file("pan.avi"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("--tracker-overlap must be within (0, 1]"), std::string::npos) << r.output;

  // --events: one line per track id seen, each with its crop beside the file.
  r = edgessd_cli("detect --model " + reference_onnx() + " --threshold 0.3 --headless --json --tracking --events " +
                  dir.file("events.jsonl") + " " + dir.file("pan.avi"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::istringstream events(read_file(dir.file("events.jsonl")));
  std::set<int> event_ids;
  for (std::string line; std::getline(events, line);) {
    const auto e = nlohmann::json::parse(line);
    event_ids.insert(e["track_id"].get<int>());
    EXPECT_LE(e["first_frame"].get<int>(), e["best_frame"].get<int>());
    EXPECT_LE(e["best_frame"].get<int>(), e["last_frame"].get<int>());
    EXPECT_EQ(e["class"], "Vehicle registration plate");
    EXPECT_FALSE(cv::imread(dir.file(e["crop"].get<std::string>())).empty()) << line;
  }
  std::set<int> tracked_ids;
  for (const auto& [id, frames] : frames_of_id) tracked_ids.insert(id);
  EXPECT_EQ(event_ids, tracked_ids);
}

// --roi: detection in a region at full resolution, boxes in frame pixels clipped to it; bad
// regions and --events without --tracking are one-line errors that write nothing.
TEST(DetectCli, RegionOfInterestAndEventsFlagsAreChecked) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  EDGESSD_REQUIRE_FILE(plates_dir());
  TempDir dir;
  const std::string images = plates_dir() + "/test";
  CommandResult r = edgessd_cli("detect --model " + reference_onnx() + " --threshold 0.2 --headless --json --roi 0,0,300,200 " +
                                images);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  int boxes = 0;
  for (const auto& frame : json_lines(r.output))
    for (const auto& d : frame["detections"]) {
      ++boxes;
      EXPECT_GE(d["left"].get<double>(), 0.0);
      EXPECT_GE(d["top"].get<double>(), 0.0);
      EXPECT_LE(d["right"].get<double>(), 300.0);
      EXPECT_LE(d["bottom"].get<double>(), 200.0);
    }
  EXPECT_GT(boxes, 0) << "some plate lies in the top-left 300x200 of some test photograph";
  for (const auto& [flags, expected] : std::vector<std::pair<std::string, std::string>>{
           {"--roi 10,10,0,5", "--roi 10,10,0,5: expected x,y,w,h"},
           {"--roi 1,2,3", "--roi 1,2,3: expected x,y,w,h"},
           {"--roi 100000,0,10,10", "--roi 100000,0,10,10: expected x,y,w,h"},
           {"--roi 0,0,99999999999,10", "--roi 0,0,99999999999,10: expected x,y,w,h"},
           {"--roi 9000,9000,5,5", "--roi 9000,9000,5,5: outside the"},
           {"--roi 0,0,5000,10", "--roi 0,0,5000,10: reaches beyond the"},
           {"--tracker-overlap 0.5", "--tracker-overlap: needs --tracking"},
           {"--tracking --events ''", "--events: empty path"},
           {"--tracking --event-merge-seconds 3", "--event-merge-seconds: needs --events"},
           {"--events " + dir.file("e.jsonl"), "needs --tracking"},
           {"--tracking --events " + dir.path(), "is a folder"},
           {"--tracking --events " + dir.file("e.jsonl") + " --event-merge-seconds -1", "--event-merge-seconds must be within 0"},
           {"--tracking --events " + dir.file("e.jsonl") + " --event-merge-seconds nan",
            "--event-merge-seconds must be within 0"}}) {
    r = edgessd_cli("detect --model " + reference_onnx() + " --headless " + flags + " " + images + "/" +
                    std::filesystem::path(list_images(images)[0]).filename().string());
    EXPECT_EQ(r.exit_code, 1) << flags << "\n" << r.output;
    EXPECT_NE(last_line(r.output).find(expected), std::string::npos) << flags << "\n" << r.output;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("e.jsonl")));
}
