// The main job at a tiny size: synth -> base model -> train -> eval -> export -> detect.
#include "edgessd/common/files.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;

TEST(DemoCli, WholePipelineAtATinySizeAndRerunReuses) {
  TempDir dir;
  const std::string command = std::string(EDGESSD_CLI) + " demo --workdir " + dir.file("demo") +
                              " --count 20 --epochs 1 --threads 2";
  CommandResult r = run_command(command);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Average Precision Across All Classes:"), std::string::npos) << r.output;
  for (const char* path : {"data/sub-train-annotations-bbox.csv", "base/mb1-ssd-relu6-face-api.pth",
                           "model/labels.txt", "model/loss.png", "model/metrics.csv", "model/ssd-mobilenet.onnx",
                           "eval/pr_curve.png", "report.md"})
    EXPECT_TRUE(std::filesystem::exists(dir.file("demo/" + std::string(path)))) << path;
  EXPECT_EQ(list_images(dir.file("demo/detections")).size(), list_images(dir.file("demo/data/test")).size());
  const std::string report = read_file(dir.file("demo/report.md"));
  EXPECT_NE(report.find("mAP"), std::string::npos);
  EXPECT_NE(report.find("![loss](model/loss.png)"), std::string::npos);

  r = run_command(command);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Reusing " + dir.file("demo/data")), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Reusing the trained model"), std::string::npos) << r.output;
}
