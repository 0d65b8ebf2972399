#include <opencv2/imgcodecs.hpp>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/data/dataset.h"
#include "edgessd/common/csv.h"
#include "edgessd/data/synth.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;

TEST(Synth, OpenImagesLayoutThatTheReaderTakes) {
  TempDir dir;
  SynthOptions options;
  options.out = dir.file("synth");
  options.count = 30;
  options.seed = 5;
  options.photo_dirs = default_photo_dirs();
  const SynthReport report = write_synthetic_plates(options);
  EXPECT_EQ(report.train_images, 24);
  EXPECT_EQ(report.validation_images, 3);
  EXPECT_EQ(report.test_images, 3);
  EXPECT_GE(report.boxes, 30);
  for (const char* split : {"train", "validation", "test"}) {
    const DetectionDataset d = read_open_images(options.out, split);
    EXPECT_EQ(d.class_names, (std::vector<std::string>{"BACKGROUND", "Vehicle registration plate"}));
    for (const auto& image : d.images) {
      const cv::Mat pixels = cv::imread(image.image_path);
      ASSERT_FALSE(pixels.empty()) << image.image_path;
      for (const auto& b : image.boxes) {
        EXPECT_GE(b.x1, 0.0f);
        EXPECT_LE(b.x2, 1.0f);
        EXPECT_LT(b.x1, b.x2);
        EXPECT_LT(b.y1, b.y2);
        // A plate is wider than tall, and at least a few pixels big.
        EXPECT_GT((b.x2 - b.x1) * pixels.cols, (b.y2 - b.y1) * pixels.rows * 0.8);
        EXPECT_GE((b.y2 - b.y1) * pixels.rows, 4.0f);
      }
    }
  }
  // A complete data set of the same size and seed is reused, not redrawn.
  EXPECT_TRUE(write_synthetic_plates(options).reused);
}

TEST(Synth, DeterministicForASeedWhateverTheThreads) {
  TempDir dir;
  SynthOptions a;
  a.out = dir.file("a");
  a.count = 12;
  a.seed = 9;
  a.threads = 1;
  SynthOptions b = a;
  b.out = dir.file("b");
  b.threads = 3;
  SynthOptions c = a;
  c.out = dir.file("c");
  c.seed = 10;
  write_synthetic_plates(a);
  write_synthetic_plates(b);
  write_synthetic_plates(c);
  EXPECT_EQ(read_file(dir.file("a/sub-train-annotations-bbox.csv")), read_file(dir.file("b/sub-train-annotations-bbox.csv")));
  const auto images = list_images(dir.file("a/train"));
  ASSERT_FALSE(images.empty());
  const std::string name = std::filesystem::path(images[0]).filename().string();
  EXPECT_TRUE(read_file(images[0]) == read_file(dir.file("b/train/" + name))) << name << " differs";
  EXPECT_NE(read_file(dir.file("a/sub-train-annotations-bbox.csv")), read_file(dir.file("c/sub-train-annotations-bbox.csv")));
}

// Each plate's registration is in the CSV's PlateText column, as the OpenALPR-derived sets
// carry it: 5-8 characters of the drawn alphabet, separators left out.
TEST(Synth, EveryPlateHasItsTextInPlateText) {
  TempDir dir;
  SynthOptions o;
  o.out = dir.file("s");
  o.count = 10;
  o.threads = 1;
  write_synthetic_plates(o);
  const std::string path = dir.file("s/sub-train-annotations-bbox.csv");
  CsvTable table(read_file(path), path);
  ASSERT_TRUE(table.has_column("PlateText"));
  const size_t column = table.column("PlateText");
  int rows = 0;
  for (size_t r = 0; r < table.rows(); ++r, ++rows) {
    const std::string text = table.row(r)[column];
    EXPECT_GE(text.size(), 5u) << text;
    EXPECT_LE(text.size(), 8u) << text;
    EXPECT_EQ(text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), std::string::npos) << text;
  }
  EXPECT_GT(rows, 0);
}

// A rerun with another --count or --seed replaces the earlier set of ours whole (no stale
// image left behind); a folder holding anything else is refused untouched; a photo too
// small to crop is skipped, and a --photos folder with nothing usable is an Error.
TEST(Synth, ReplacesOnlyItsOwnSetsAndSkipsTinyPhotos) {
  TempDir dir;
  SynthOptions options;
  options.out = dir.file("s");
  options.count = 20;
  options.threads = 1;
  write_synthetic_plates(options);
  options.count = 10;
  options.seed = 2;
  write_synthetic_plates(options);
  size_t images = 0;
  for (const char* split : {"train", "validation", "test"})
    images += std::distance(std::filesystem::directory_iterator(dir.file(std::string("s/") + split)), {});
  EXPECT_EQ(images, 10u) << "the first set's images are gone";

  std::filesystem::create_directories(dir.file("mine"));
  write_file_atomic(dir.file("mine/notes.txt"), "keep me");
  options.out = dir.file("mine");
  EXPECT_THROW(write_synthetic_plates(options), Error);
  EXPECT_EQ(read_file(dir.file("mine/notes.txt")), "keep me");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.file("mine")), {}), 1);

  std::filesystem::create_directories(dir.file("tiny"));
  ASSERT_TRUE(cv::imwrite(dir.file("tiny/a.jpg"), cv::Mat(1, 1, CV_8UC3, cv::Scalar(1, 2, 3))));
  options.out = dir.file("t");
  options.photo_dirs = {dir.file("tiny")};
  options.photos_given = true;
  EXPECT_THROW(write_synthetic_plates(options), Error) << "a folder of one 1x1 photo";
  cv::imwrite(dir.file("tiny/b.jpg"), cv::Mat(240, 320, CV_8UC3, cv::Scalar(90, 80, 70)));
  options.count = 6;
  EXPECT_EQ(write_synthetic_plates(options).photos, 1) << "the 1x1 photo is skipped, the other used";
}

// --plates: one plate close-up an image, its box the plate with room around it and its
// text the drawn registration; --clean ones at least 80 px wide; --clean alone is an error.
TEST(Synth, PlateCloseUpsForTheReader) {
  TempDir dir;
  SynthOptions options;
  options.out = dir.file("plates");
  options.count = 20;
  options.plates = options.clean = true;
  const SynthReport report = write_synthetic_plates(options);
  EXPECT_EQ(report.boxes, 20);
  for (const char* split : {"train", "validation", "test"}) {
    const DetectionDataset d = read_open_images(options.out, split);
    for (const auto& image : d.images) {
      ASSERT_EQ(image.boxes.size(), 1u);
      ASSERT_EQ(image.texts.size(), 1u);
      EXPECT_GE(image.texts[0].size(), 5u);
      const cv::Mat pixels = cv::imread(image.image_path);
      const auto& b = image.boxes[0];
      EXPECT_GE((b.x2 - b.x1) * pixels.cols, 80.0f * 0.9f) << "a clean plate is at least 80 px wide";
      EXPECT_GT(b.x1, 0.1f) << "room left of the plate";
      EXPECT_LT(b.x2, 0.9f) << "room right of the plate";
    }
  }
  SynthOptions bad;
  bad.out = dir.file("bad");
  bad.clean = true;
  EXPECT_NE(error_of([&] { write_synthetic_plates(bad); }).find("--clean"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(bad.out));
}
