#include <opencv2/imgcodecs.hpp>

#include <cmath>

#include "edgessd/common/detection.h"
#include "edgessd/eval/average_precision.h"
#include "edgessd/eval/evaluate.h"
#include "edgessd/model/ssd_predictor.h"
#include "edgessd/model/checkpoint.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;

TEST(AveragePrecision, MatchesHandComputedCurves) {
  // Two ground truths in image 0; detections: hit (0.9), duplicate of it (0.8), miss (0.7), hit (0.6).
  std::vector<std::vector<CornerBox>> gt = {{{0, 0, 10, 10}, {20, 20, 30, 30}}};
  std::vector<std::vector<uint8_t>> difficult = {{0, 0}};
  std::vector<ClassDetection> d = {
      {0, 0.9f, {0, 0, 10, 10}}, {0, 0.8f, {0, 0, 10, 10}}, {0, 0.7f, {50, 50, 60, 60}}, {0, 0.6f, {20, 20, 30, 30}}};
  PrecisionRecall pr = precision_recall(d, gt, difficult, 0.5f);
  EXPECT_EQ(pr.precision, (std::vector<double>{1.0, 0.5, 1.0 / 3, 0.5}));
  EXPECT_EQ(pr.recall, (std::vector<double>{0.5, 0.5, 0.5, 1.0}));
  EXPECT_NEAR(area_average_precision(pr), 0.5 * 1.0 + 0.5 * 0.5, 1e-12);
  EXPECT_NEAR(voc2007_average_precision(pr), (6 * 1.0 + 5 * 0.5) / 11, 1e-12);
}

TEST(AveragePrecision, DifficultBoxesNeitherCountNorPenalise) {
  std::vector<std::vector<CornerBox>> gt = {{{0, 0, 10, 10}, {20, 20, 30, 30}}};
  std::vector<std::vector<uint8_t>> difficult = {{0, 1}};
  std::vector<ClassDetection> d = {{0, 0.9f, {20, 20, 30, 30}}, {0, 0.8f, {0, 0, 10, 10}}};
  PrecisionRecall pr = precision_recall(d, gt, difficult, 0.5f);
  ASSERT_EQ(pr.precision.size(), 2u);
  EXPECT_EQ(pr.recall.back(), 1.0);  // one countable box, found
  EXPECT_EQ(pr.precision.back(), 1.0);
}

// Image 0 holds a small plate A (10x10 px) and a large one B (100x100 px). Detections, best
// first: a false small box, B, a false large box, A.
struct SizedCase {
  std::vector<std::vector<CornerBox>> gt = {{{0, 0, 10, 10}, {100, 100, 200, 200}}};
  std::vector<std::vector<uint8_t>> difficult = {{0, 0}};
  std::vector<ClassDetection> detections = {{0, 0.95f, {300, 300, 310, 310}},
                                            {0, 0.9f, {100, 100, 200, 200}},
                                            {0, 0.85f, {300, 0, 400, 100}},
                                            {0, 0.8f, {0, 0, 10, 10}}};
};

TEST(AveragePrecision, BySizeCountsOnlyThatSize) {
  const SizedCase k;
  EXPECT_EQ(counted_objects(k.gt, k.difficult, kSmallObjects), 1u);
  EXPECT_EQ(counted_objects(k.gt, k.difficult, kMediumObjects), 0u);
  EXPECT_EQ(counted_objects(k.gt, k.difficult, kLargeObjects), 1u);
  // Small: the false small box counts; B is ignored; the false large box is left out.
  PrecisionRecall small = precision_recall(k.detections, k.gt, k.difficult, 0.5f, kSmallObjects);
  EXPECT_EQ(small.precision, (std::vector<double>{0.0, 0.0, 0.5}));
  EXPECT_EQ(small.recall, (std::vector<double>{0.0, 0.0, 1.0}));
  EXPECT_NEAR(voc2007_average_precision(small), 0.5, 1e-12);
  // Large: the false small box is left out, B is found first, then the false large box.
  PrecisionRecall large = precision_recall(k.detections, k.gt, k.difficult, 0.5f, kLargeObjects);
  EXPECT_EQ(large.precision, (std::vector<double>{1.0, 0.5, 0.5}));
  EXPECT_EQ(large.recall, (std::vector<double>{1.0, 1.0, 1.0}));
  EXPECT_NEAR(voc2007_average_precision(large), 1.0, 1e-12);
  // All sizes: every detection counts, as pytorch-ssd's eval.
  PrecisionRecall all = precision_recall(k.detections, k.gt, k.difficult, 0.5f);
  EXPECT_EQ(all.precision, (std::vector<double>{0.0, 0.5, 1.0 / 3, 0.5}));
  EXPECT_EQ(all.recall, (std::vector<double>{0.0, 0.5, 0.5, 1.0}));
  // Bounds: COCO's, area in pixels, the lower one inclusive.
  EXPECT_TRUE(kSmallObjects.contains({0, 0, 31, 31}));
  EXPECT_FALSE(kSmallObjects.contains({0, 0, 32, 32}));
  EXPECT_TRUE(kMediumObjects.contains({0, 0, 32, 32}));
  EXPECT_TRUE(kLargeObjects.contains({0, 0, 96, 96}));
}

TEST(Eval, ReportsApBySizeAndRecallInTextAndJson) {
  TempDir dir;
  const std::string image = dir.file("0.jpg");
  ASSERT_TRUE(cv::imwrite(image, cv::Mat(400, 400, CV_8UC3, cv::Scalar(90, 90, 90))));
  DetectionDataset data;
  data.class_names = {"BACKGROUND", "plate"};
  data.description = "hand-made";
  const SizedCase k;
  data.images.push_back({"0", image, {}, {1, 1}, {0, 0}});
  for (const CornerBox& b : k.gt[0]) data.images[0].boxes.push_back({b.x1 / 400, b.y1 / 400, b.x2 / 400, b.y2 / 400});
  const DetectFunction detect = [&](const cv::Mat&) {
    std::vector<Detection> out;
    for (const ClassDetection& d : k.detections) out.push_back({d.box, 1, d.probability});
    return out;
  };
  const EvalResult r = evaluate(data, detect, {});
  ASSERT_EQ(r.by_size.size(), 3u);
  EXPECT_EQ(r.by_size[0].name, "small");
  EXPECT_NEAR(r.by_size[0].mean_average_precision, 0.5, 1e-6);
  EXPECT_TRUE(std::isnan(r.by_size[1].mean_average_precision));  // no medium plate
  EXPECT_NEAR(r.by_size[2].mean_average_precision, 1.0, 1e-6);
  EXPECT_NEAR(r.mean_recall, 1.0, 1e-12);
  const std::string text = format_eval_report(r);
  EXPECT_NE(text.find("small (1 objects): 0.5000"), std::string::npos) << text;
  EXPECT_NE(text.find("medium (0 objects): -"), std::string::npos) << text;
  EXPECT_NE(text.find("Recall at IoU 0.5 (every detection): 1.0000"), std::string::npos) << text;
  const std::string json = eval_report_json(r);
  EXPECT_NE(json.find("\"by_size\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"mAP\": null"), std::string::npos) << json;  // medium
}

TEST(Nms, HardAndSoft) {
  std::vector<ScoredBox> boxes = {{{0, 0, 1, 1}, 0.9f}, {{0, 0, 1, 0.95f}, 0.8f}, {{2, 2, 3, 3}, 0.7f}};
  auto hard = hard_nms(boxes, 0.45f);
  ASSERT_EQ(hard.size(), 2u);
  EXPECT_EQ(hard[0].score, 0.9f);
  EXPECT_EQ(hard[1].score, 0.7f);
  auto soft = soft_nms(boxes, 0.01f, 0.5f);
  ASSERT_EQ(soft.size(), 3u);  // the overlapping box survives with a decayed score
  EXPECT_LT(soft[2].score, 0.8f * 0.3f);
  EXPECT_EQ(hard_nms(boxes, 0.45f, /*top_k=*/1).size(), 1u);
}

TEST(Eval, ReferenceModelScoresAsEvalSsdPy) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  EDGESSD_REQUIRE_FILE(plates_dir());
  ModelInfo info;
  info.net = "mb1-ssd-relu6";
  info.class_names = read_labels(fixture("ref-trained-labels.txt"));
  Ssd net(NetKind::Mb1SsdRelu6, info.num_classes());
  load_state_dict(*net, read_state_dict(fixture("ref-trained.pth")), LoadMode::Everything, "ref-trained.pth");
  DatasetOptions options;
  options.class_names = info.class_names;
  DetectionDataset test = read_open_images(plates_dir(), "test", options);
  SsdPredictor predictor(net, info);
  TempDir dir;
  EvalOptions eval_options;
  eval_options.eval_dir = dir.path();
  EvalResult result = evaluate(test, [&](const cv::Mat& rgb) { return predictor.predict(rgb); }, eval_options);
  // pytorch-ssd's eval_ssd.py on the same files: 0.22733056939306473
  EXPECT_NEAR(result.mean_average_precision, 0.22733056939306473, 0.005);
  EXPECT_TRUE(std::filesystem::exists(dir.file("det_test_Vehicle registration plate.txt")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("pr_curve.png")));
  const std::string report = format_eval_report(result);
  EXPECT_NE(report.find("Average Precision Per-class:\nVehicle registration plate: 0.22"), std::string::npos) << report;
  EXPECT_NE(report.find("Average Precision Across All Classes:0.22"), std::string::npos) << report;
}
