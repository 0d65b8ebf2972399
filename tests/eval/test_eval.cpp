#include "edgessd/common/detection.h"
#include "edgessd/eval/average_precision.h"
#include "edgessd/eval/evaluate.h"
#include "edgessd/eval/ssd_predictor.h"
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
