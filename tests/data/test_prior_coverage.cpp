#include <gtest/gtest.h>

#include "edgessd/common/model_info.h"
#include "edgessd/data/prior_coverage.h"

using namespace edgessd;

namespace {

AnnotatedImage image_with(std::vector<CornerBox> boxes, std::vector<uint8_t> difficult) {
  AnnotatedImage image;
  image.boxes = std::move(boxes);
  image.difficult = std::move(difficult);
  image.labels.assign(image.boxes.size(), 1);
  return image;
}

}  // namespace

// Two priors: 0.2 x 0.2 at the centre, 0.1 x 0.1 near the top left. Boxes: the first prior
// itself (IoU 1), a 0.1 x 0.08 box on the second (IoU 0.8), a 0.1 x 0.04 one (IoU 0.4), a
// tiny far one (IoU 0), and a difficult box that does not count.
TEST(PriorCoverage, BestPossibleRecallOnHandMadeBoxes) {
  const std::vector<CenterBox> priors = {{0.5f, 0.5f, 0.2f, 0.2f}, {0.1f, 0.1f, 0.1f, 0.1f}};
  DetectionDataset data;
  data.class_names = {"BACKGROUND", "plate"};
  data.images.push_back(image_with({{0.4f, 0.4f, 0.6f, 0.6f}, {0.05f, 0.06f, 0.15f, 0.14f}}, {0, 0}));
  data.images.push_back(image_with({{0.05f, 0.08f, 0.15f, 0.12f}, {0.89f, 0.89f, 0.91f, 0.91f},
                                    {0.4f, 0.4f, 0.6f, 0.6f}},
                                   {0, 0, 1}));
  const PriorCoverage c = prior_coverage(data, priors, 100, 100, 0.5f);
  EXPECT_EQ(c.boxes, 4u);
  EXPECT_DOUBLE_EQ(c.best_possible_recall, 0.5);
  EXPECT_NEAR(c.median_best_iou, 0.8, 1e-3);
  EXPECT_NEAR(c.width[0], 2, 1e-3);  // 10th / 50th / 90th percentile, input pixels
  EXPECT_NEAR(c.width[1], 10, 1e-3);
  EXPECT_NEAR(c.width[2], 20, 1e-3);
  EXPECT_NEAR(c.height[1], 8, 1e-3);
  EXPECT_NEAR(c.smallest_prior, 10, 1e-3);
  ModelInfo pytorch_ssd;  // mb1-ssd, 300x300, pytorch-ssd's priors: every remedy is named
  std::string warning = prior_coverage_warning(c, pytorch_ssd);
  EXPECT_NE(warning.find("only 50%"), std::string::npos) << warning;
  EXPECT_NE(warning.find("a larger input (--resolution, now 300x300), priors fitted to the data (--priors auto) or "
                         "a stride-8 head (--net mb1-ssd-s8)"),
            std::string::npos)
      << warning;
  // Remedies already in use are not offered again; a larger input always remains.
  ModelInfo small_object = pytorch_ssd;
  small_object.net = "mb1-ssd-relu6-s8";
  small_object.priors = "auto";
  small_object.input_width = 384;
  small_object.input_height = 256;
  warning = prior_coverage_warning(c, small_object);
  EXPECT_NE(warning.find("the smallest prior's side 10 px: a larger input (--resolution, now 384x256) brings"),
            std::string::npos)
      << warning;
  EXPECT_EQ(warning.find("--priors auto"), std::string::npos) << warning;
  EXPECT_EQ(warning.find("stride-8"), std::string::npos) << warning;
  EXPECT_NE(format_prior_coverage("train", c).find("best possible recall 0.500"), std::string::npos);
}

TEST(PriorCoverage, PytorchSsdPriorsMissPlatesOf20Pixels) {
  // A 21 x 18 px plate at 300 x 300 (plates-us' median): no mb1-ssd prior reaches IoU 0.5;
  // the same plate 3x larger is matched.
  const PriorBoxes priors(mobilenet_v1_ssd_config());
  DetectionDataset small, large;
  small.images.push_back(image_with({{0.5f, 0.5f, 0.5f + 21 / 300.0f, 0.5f + 18 / 300.0f}}, {0}));
  large.images.push_back(image_with({{0.4f, 0.4f, 0.4f + 63 / 300.0f, 0.4f + 54 / 300.0f}}, {0}));
  EXPECT_EQ(prior_coverage(small, priors.center_form(), 300, 300).best_possible_recall, 0.0);
  EXPECT_EQ(prior_coverage(large, priors.center_form(), 300, 300).best_possible_recall, 1.0);
  EXPECT_EQ(prior_coverage_warning(prior_coverage(large, priors.center_form(), 300, 300), ModelInfo{}), "");
}
