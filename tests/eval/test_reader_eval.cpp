// eval-reader's arithmetic on a hand-made data set: ground-truth crops, end to end with
// box matching at IoU 0.5, and the O/0 I/1 folded scores, with answers worked out by hand.
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "edgessd/common/csv.h"
#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/data/plate_samples.h"
#include "edgessd/plates/plate_crops.h"
#include "edgessd/eval/reader_eval.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;

TEST(ReaderEval, CropsEndToEndAndFoldedScores) {
  TempDir dir;
  cv::imwrite(dir.file("a.jpg"), cv::Mat(100, 200, CV_8UC3, cv::Scalar(90, 90, 90)));
  DetectionDataset data;
  data.class_names = {"BACKGROUND", "plate"};
  AnnotatedImage a;
  a.image_id = "a";
  a.image_path = dir.file("a.jpg");
  // Three plates with text, one box without (not scored).
  a.boxes = {{0.0f, 0.0f, 0.25f, 0.2f}, {0.5f, 0.5f, 0.75f, 0.7f}, {0.5f, 0.0f, 0.75f, 0.2f}, {0.0f, 0.6f, 0.2f, 0.8f}};
  a.labels = {1, 1, 1, 1};
  a.difficult = {0, 0, 0, 0};
  a.texts = {"ab-c 123", "XYZ10", "OIL", ""};
  data.images = {a};
  // The reader reads by where the box is: left top "ABC123" (right), right bottom "XYZ1O"
  // (O for 0: right only when folded), right top "0IL" (right only when folded).
  const ReadFunction read = [](const cv::Mat& rgb, const std::vector<CornerBox>& boxes) {
    EXPECT_EQ(rgb.cols, 200);
    std::vector<PlateReading> out;
    for (const CornerBox& b : boxes)
      out.push_back({b.x1 < 60 ? "ABC123" : b.y1 > 40 ? "XYZ1O" : "0IL", 0.9f});
    return out;
  };
  // The detector finds the first plate (IoU ~0.8) and, badly placed, the second (IoU < 0.5).
  const DetectFunction detect = [](const cv::Mat&) {
    return std::vector<Detection>{{{2, 2, 50, 20}, 1, 0.9f}, {{140, 65, 190, 85}, 1, 0.8f}};
  };
  const ReaderEvalResult r = evaluate_reader(data, read, detect);
  EXPECT_EQ(r.crops.plates, 3u);
  EXPECT_EQ(r.crops.exact, 1u);
  EXPECT_EQ(r.crops_folded.exact, 3u);
  EXPECT_EQ(r.crops.characters, 6u + 5u + 3u);
  EXPECT_EQ(r.crops.edits, 0u + 1u + 1u);
  EXPECT_EQ(r.found, 1u);
  EXPECT_EQ(r.e2e.exact, 1u) << "the one found plate reads right";
  EXPECT_EQ(r.e2e.plates, 3u) << "missed plates count as wrong";
  EXPECT_EQ(r.e2e.edits, 0u + 5u + 3u) << "a missed plate reads nothing";
  ASSERT_EQ(r.plates.size(), 3u);
  EXPECT_EQ(r.plates[0].truth, "ABC123");
  EXPECT_TRUE(r.plates[0].found);
  EXPECT_FALSE(r.plates[1].found);
  const nlohmann::json j = nlohmann::json::parse(reader_result_json(r));
  EXPECT_DOUBLE_EQ(j["ground_truth_boxes"]["exact_accuracy"].get<double>(), 1.0 / 3);
  EXPECT_DOUBLE_EQ(j["ground_truth_boxes_folded"]["exact_accuracy"].get<double>(), 1.0);
  EXPECT_TRUE(j["plates"][1]["end_to_end"].is_null());
}

TEST(PlateCrops, TheCropKeepsAMarginInsideTheImageAndSamplesNeedText) {
  ReaderInfo info;
  info.crop_margin = 0.1f;
  const cv::Rect r = plate_crop_rect({10, 20, 110, 60}, info, 640, 480);
  EXPECT_EQ(r, cv::Rect(0, 16, 120, 48));
  const cv::Rect edge = plate_crop_rect({600, 470, 640, 480}, info, 640, 480);
  EXPECT_EQ(edge.x + edge.width, 640);
  EXPECT_EQ(edge.y + edge.height, 480);
  const cv::Rect outside = plate_crop_rect({700, 500, 720, 510}, info, 640, 480);
  EXPECT_GE(outside.width, 1);
  EXPECT_LE(outside.x + outside.width, 640);
  const cv::Mat crop = crop_plate(cv::Mat(480, 640, CV_8UC3, cv::Scalar(1, 2, 3)), {10, 20, 110, 60}, info);
  EXPECT_EQ(crop.size(), cv::Size(info.input_width, 32));
  DetectionDataset d;
  AnnotatedImage a;
  a.boxes = {{0, 0, 1, 1}, {0, 0, 1, 1}, {0, 0, 1, 1}};
  a.texts = {"ab 12", "", "Ä12"};
  d.images = {a};
  const PlateSamples s = plate_samples(d, info.charset);
  ASSERT_EQ(s.samples.size(), 1u);
  EXPECT_EQ(s.samples[0].text, "AB12");
  EXPECT_EQ(s.without_text, 1u);
  EXPECT_EQ(s.outside_count, 1u);
}

// The reader-text fuzz target's seeds (a Latin-1 PlateText among them) and 400 mutations of
// each, replayed in the normal build: every input ends in a result or an edgessd::Error.
TEST(ReaderTextFuzzTarget, SurvivesMutatedSeeds) {
  const std::string corpus = std::string(EDGESSD_SOURCE_DIR) + "/fuzz/corpus-reader";
  std::string seeds;
  size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    seeds += " " + entry.path().string();
    ++count;
  }
  const edgessd::testing::CommandResult r =
      edgessd::testing::run_command(std::string(EDGESSD_FUZZ_READER_REPLAY) + " --mutate 400" + seeds);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("replayed " + std::to_string(count * 401) + " inputs without a crash"), std::string::npos)
      << r.output;
}

// A PlateText that is not UTF-8 (a Latin-1 export) is an Error naming the file and line
// (eval-reader --json once ended in nlohmann's type_error 316, exit 2), and a header that
// names a column twice is one too (the last one used to win silently).
TEST(ReaderData, NonUtf8PlateTextAndDuplicateColumnsAreErrors) {
  edgessd::testing::TempDir dir;
  std::filesystem::create_directories(dir.file("test"));
  edgessd::write_file_atomic(dir.file("sub-test-annotations-bbox.csv"),
                             "ImageID,XMin,XMax,YMin,YMax,ClassName,PlateText\n"
                             "a,0.1,0.5,0.2,0.6,plate,ABC\n"
                             "b,0.1,0.5,0.2,0.6,plate,K\xd6LN 12\n");
  try {
    edgessd::read_open_images(dir.path(), "test");
    ADD_FAILURE() << "a Latin-1 PlateText was accepted";
  } catch (const edgessd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("sub-test-annotations-bbox.csv:3: PlateText is not UTF-8 text"),
              std::string::npos) << e.what();
  }
  edgessd::write_file_atomic(dir.file("sub-test-annotations-bbox.csv"),
                             "ImageID,XMin,XMax,YMin,YMax,ClassName,PlateText,PlateText\na,0.1,0.5,0.2,0.6,plate,A,B\n");
  try {
    edgessd::read_open_images(dir.path(), "test");
    ADD_FAILURE() << "a duplicate column was accepted";
  } catch (const edgessd::Error& e) {
    EXPECT_NE(std::string(e.what()).find(":1: column 'PlateText' appears twice in the header"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(edgessd::is_utf8("AB\xc3\xa4"));
  EXPECT_FALSE(edgessd::is_utf8("\xed\xa0\x80")) << "a UTF-16 surrogate";
  EXPECT_FALSE(edgessd::is_utf8("\xc0\xaf")) << "an overlong '/'";
}
