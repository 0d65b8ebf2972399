#pragma once
#include <cstdint>
#include <string>

namespace edgessd {

struct DemoOptions {
  std::string workdir = "demo";
  int count = 400;       // synthetic images over all splits
  int epochs = 12;
  int batch_size = 4;
  uint64_t seed = 1;
  int threads = 0;       // 0 = every core
  std::string precision = "auto";
  float threshold = 0.5f;  // detection threshold for the annotated images
};

struct DemoResult {
  double mean_average_precision = 0;
  std::string report_path;
  std::string onnx_path;
  std::string detections_dir;
  double seconds = 0;
};

// The whole mission offline: the face-api SSD-MobileNet-v1 as the base model, a
// synthetic plate data set, re-training, evaluation on its test split, ONNX export, and
// the deploy runtime detecting plates on the held-out images. Writes the annotated
// images, the loss curve and report.md into the work dir. Each stage reuses what an
// earlier run finished (an interrupted training resumes from its last checkpoint).
DemoResult run_demo(const DemoOptions& options);

}  // namespace edgessd
