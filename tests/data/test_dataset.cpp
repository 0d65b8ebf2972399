#include <opencv2/imgcodecs.hpp>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/data/dataset.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;

namespace {

const char* kHeader = "ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,IsGroupOf,"
                      "IsDepiction,IsInside,id,ClassName\n";

std::string row(const std::string& id, const std::string& cls, const std::string& box, const std::string& group = "0") {
  return id + ",xclick,/m/x,1," + box + ",0,0," + group + ",0,0,/m/x," + cls + "\n";
}

void write_jpeg(const std::string& path, int w = 64, int h = 48) {
  cv::Mat img(h, w, CV_8UC3, cv::Scalar(10, 120, 200));
  cv::imwrite(path, img);
}

std::string captured_warning_of(const std::function<void()>& f) {
  ::testing::internal::CaptureStderr();
  f();
  return ::testing::internal::GetCapturedStderr();
}

}  // namespace

TEST(OpenImagesDataset, ReadsGoodFilesAndSortsClasses) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("train"));
  for (const char* id : {"b1", "a1"}) write_jpeg(dir.file(std::string("train/") + id + ".jpg"));
  write_file_atomic(dir.file("sub-train-annotations-bbox.csv"),
                    std::string(kHeader) + row("b1", "Zebra", "0.1,0.5,0.2,0.6") + row("a1", "Car", "0.0,1.0,0.0,1.0") +
                        row("b1", "Car", "0.2,0.3,0.2,0.3", "1"));
  DetectionDataset d = read_open_images(dir.path(), "train");
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"BACKGROUND", "Car", "Zebra"}));
  ASSERT_EQ(d.images.size(), 2u);
  EXPECT_EQ(d.images[0].image_id, "a1");  // sorted by ImageID, as pandas' groupby
  ASSERT_EQ(d.images[1].boxes.size(), 2u);
  EXPECT_EQ(d.images[1].labels, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(d.images[1].difficult, (std::vector<uint8_t>{0, 1}));  // IsGroupOf
  EXPECT_FLOAT_EQ(d.images[1].boxes[0].x2, 0.5f);
  EXPECT_FLOAT_EQ(d.images[1].boxes[0].y1, 0.2f);
}

TEST(OpenImagesDataset, DropsAndCountsBadImagesAndBoxes) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("train"));
  write_jpeg(dir.file("train/good.jpg"));
  write_file_atomic(dir.file("train/broken.jpg"), std::string("not a jpeg at all"));
  std::string csv = kHeader;
  csv += row("good", "Plate", "0.1,0.5,0.2,0.6");
  csv += row("good", "Plate", "0.5,0.4,0.2,0.6");   // XMin >= XMax
  csv += row("good", "Plate", "0.1,1.5,0.2,0.6");   // outside [0, 1]
  csv += row("good", "Plate", "nan,0.5,0.2,0.6");   // NaN
  csv += row("missing", "Plate", "0.1,0.5,0.2,0.6");
  csv += row("broken", "Plate", "0.1,0.5,0.2,0.6");
  write_file_atomic(dir.file("sub-train-annotations-bbox.csv"), csv);
  DetectionDataset d;
  const std::string log = captured_warning_of([&] { d = read_open_images(dir.path(), "train"); });
  ASSERT_EQ(d.images.size(), 1u);
  EXPECT_EQ(d.images[0].boxes.size(), 1u);
  EXPECT_NE(log.find("dropped 3 invalid boxes (line 3, line 4, line 5)"), std::string::npos) << log;
  EXPECT_NE(log.find("dropped 1 missing images"), std::string::npos) << log;
  EXPECT_NE(log.find("missing.jpg"), std::string::npos) << log;
  EXPECT_NE(log.find("dropped 1 undecodable images"), std::string::npos) << log;
  EXPECT_NE(log.find("broken.jpg"), std::string::npos) << log;
}

TEST(OpenImagesDataset, MissingFileColumnOrMalformedRowIsAnError) {
  TempDir dir;
  EXPECT_THROW(read_open_images(dir.path(), "train"), Error);
  write_file_atomic(dir.file("sub-train-annotations-bbox.csv"), std::string("ImageID,XMin,XMax,YMin,YMax\nx,0,1,0,1\n"));
  try {
    read_open_images(dir.path(), "train");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no column 'ClassName'"), std::string::npos) << e.what();
  }
  write_file_atomic(dir.file("sub-train-annotations-bbox.csv"), std::string(kHeader) + "a,b,c\n");
  try {
    read_open_images(dir.path(), "train");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sub-train-annotations-bbox.csv:2: 3 fields"), std::string::npos) << e.what();
  }
  write_file_atomic(dir.file("sub-train-annotations-bbox.csv"), std::string(kHeader) + row("a", "C", "0.1,zero,0,1"));
  try {
    read_open_images(dir.path(), "train");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(":2: column 'XMax' is not a number"), std::string::npos) << e.what();
  }
}

TEST(OpenImagesDataset, QuotedFieldsAndCrlf) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("test"));
  write_jpeg(dir.file("test/q.jpg"));
  std::string csv = kHeader;
  csv.insert(csv.size() - 1, "\r");
  csv += "q,xclick,/m/x,1,0.1,0.5,0.2,0.6,0,0,0,0,0,/m/x,\"Plate, licence\"\r\n";
  write_file_atomic(dir.file("sub-test-annotations-bbox.csv"), csv);
  DetectionDataset d = read_open_images(dir.path(), "test");
  EXPECT_EQ(d.class_names.back(), "Plate, licence");
  EXPECT_EQ(d.images.size(), 1u);
}

TEST(OpenImagesDataset, PlatesUsSplits) {
  EDGESSD_REQUIRE_FILE(plates_dir());
  DetectionDataset train = read_open_images(plates_dir(), "train");
  EXPECT_EQ(train.class_names, (std::vector<std::string>{"BACKGROUND", "Vehicle registration plate"}));
  EXPECT_EQ(train.images.size(), 130u);
  EXPECT_EQ(read_open_images(plates_dir(), "validation").images.size(), 20u);
  EXPECT_EQ(read_open_images(plates_dir(), "test").images.size(), 30u);
  // plates-us carries each plate's text: one PlateText per box.
  size_t texts = 0;
  for (const auto& image : train.images) {
    ASSERT_EQ(image.texts.size(), image.boxes.size()) << image.image_id;
    for (const auto& t : image.texts) texts += !t.empty();
  }
  EXPECT_GT(texts, 100u);
}

TEST(VocDataset, ReadsAnnotationsDifficultAndLabels) {
  TempDir dir;
  for (const char* sub : {"Annotations", "JPEGImages", "ImageSets/Main"}) std::filesystem::create_directories(dir.file(sub));
  write_file_atomic(dir.file("labels.txt"), std::string("plate\ncar\n"));
  write_file_atomic(dir.file("ImageSets/Main/trainval.txt"), std::string("img1\nimg2\n"));
  write_jpeg(dir.file("JPEGImages/img1.jpg"), 200, 100);
  write_jpeg(dir.file("JPEGImages/img2.jpg"), 200, 100);
  auto xml = [](const std::string& objects) {
    return "<annotation><size><width>200</width><height>100</height><depth>3</depth></size>" + objects + "</annotation>";
  };
  auto object = [](const std::string& name, int difficult, const std::string& box) {
    return "<object><name>" + name + "</name><difficult>" + std::to_string(difficult) + "</difficult><bndbox>" + box +
           "</bndbox></object>";
  };
  write_file_atomic(dir.file("Annotations/img1.xml"),
                    xml(object("Plate", 0, "<xmin>21</xmin><ymin>11</ymin><xmax>101</xmax><ymax>51</ymax>") +
                        object("car", 1, "<xmin>1</xmin><ymin>1</ymin><xmax>200</xmax><ymax>100</ymax>")));
  write_file_atomic(dir.file("Annotations/img2.xml"),
                    xml(object("car", 0, "<xmin>50</xmin><ymin>10</ymin><xmax>40</xmax><ymax>20</ymax>") +  // invalid
                        object("car", 0, "<xmin>ten</xmin><ymin>10</ymin><xmax>40</xmax><ymax>20</ymax>") +
                        object("car", 0, "<xmin>5</xmin><ymin>10abc</ymin><xmax>40</xmax><ymax>20</ymax>") +
                        object("bus", 0, "<xmin>5</xmin><ymin>10</ymin><xmax>40</xmax><ymax>20</ymax>")));
  // img2 is left without a usable box: dropped, as Open Images never lists such an image
  // (kept, its detections all counted as false positives in eval).
  DetectionDataset all = read_voc(dir.path(), "trainval");
  EXPECT_EQ(all.class_names, (std::vector<std::string>{"BACKGROUND", "plate", "car"}));
  ASSERT_EQ(all.images.size(), 1u);
  ASSERT_EQ(all.images[0].boxes.size(), 2u);
  EXPECT_FLOAT_EQ(all.images[0].boxes[0].x1, 0.1f);  // (21 - 1) / 200
  EXPECT_FLOAT_EQ(all.images[0].boxes[0].y2, 0.5f);  // (51 - 1) / 100
  EXPECT_EQ(all.images[0].difficult, (std::vector<uint8_t>{0, 1}));
  DatasetOptions training;
  training.keep_difficult = false;
  EXPECT_EQ(read_voc(dir.path(), "trainval", training).images[0].boxes.size(), 1u);
  // An image whose only boxes are difficult: kept for eval (they are ignored there), not for
  // training (pytorch-ssd's VOCDataset would hand the loss an empty target).
  write_file_atomic(dir.file("Annotations/img2.xml"),
                    xml(object("car", 1, "<xmin>5</xmin><ymin>10</ymin><xmax>40</xmax><ymax>20</ymax>")));
  EXPECT_EQ(read_voc(dir.path(), "trainval").images.size(), 2u);
  EXPECT_EQ(read_voc(dir.path(), "trainval", training).images.size(), 1u);
  std::filesystem::remove(dir.file("Annotations/img2.xml"));
  EXPECT_THROW(read_voc(dir.path(), "trainval"), Error);
  EXPECT_THROW(read_voc(dir.path(), "test"), Error);
}

TEST(Datasets, ConcatNeedsEqualClassesAndBalanceEvensThemOut) {
  DetectionDataset a, b;
  a.class_names = {"BACKGROUND", "x", "y"};
  b.class_names = {"BACKGROUND", "x"};
  a.description = "a";
  b.description = "b";
  EXPECT_THROW(concat_datasets({a, b}), Error);
  for (int i = 0; i < 10; ++i) a.images.push_back({"i" + std::to_string(i), "", {{0, 0, 1, 1}}, {i < 8 ? 1 : 2}, {0}});
  DetectionDataset balanced = balance_classes(a, 3);
  EXPECT_EQ(balanced.images.size(), 4u);  // 2 of class x + both of class y
}

// The CSV and VOC fuzz targets, replayed over their seeds and deterministic mutations of
// them (scripts/fuzz.sh runs them under libFuzzer with sanitizers).
TEST(DatasetFuzzTargets, SurviveMutatedSeeds) {
  const std::string fuzz = std::string(EDGESSD_SOURCE_DIR) + "/fuzz";
  for (const auto& [replay, corpus] : {std::pair<std::string, std::string>{EDGESSD_FUZZ_CSV_REPLAY, "corpus-csv"},
                                       {EDGESSD_FUZZ_VOC_REPLAY, "corpus-voc"}}) {
    std::string seeds;
    size_t count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(fuzz + "/" + corpus)) {
      seeds += " " + entry.path().string();
      ++count;
    }
    const CommandResult r = run_command(replay + " --mutate 400" + seeds);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("replayed " + std::to_string(count * 401) + " inputs without a crash"), std::string::npos)
        << r.output;
  }
}
