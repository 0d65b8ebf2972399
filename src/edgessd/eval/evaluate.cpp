#include "edgessd/eval/evaluate.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/image.h"
#include "edgessd/common/progress.h"
#include "edgessd/eval/average_precision.h"
#include "edgessd/model/model_info.h"

namespace edgessd {

namespace {

// Python's str() of a float32 value as numpy prints it: shortest round-trip text.
std::string shortest(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  for (int digits = 1; digits <= 9; ++digits) {
    char trial[32];
    std::snprintf(trial, sizeof trial, "%.*g", digits, v);
    if (std::strtof(trial, nullptr) == v) return trial;
  }
  return buf;
}

void draw_pr_curves(const std::vector<std::string>& names, const std::vector<PrecisionRecall>& curves,
                    const std::vector<double>& aps, const std::string& path) {
  const int W = 640, H = 520, left = 60, right = 20, top = 30, bottom = 60;
  cv::Mat img(H, W, CV_8UC3, cv::Scalar(255, 255, 255));
  auto px = [&](double r, double p) {
    return cv::Point(left + static_cast<int>((W - left - right) * r), H - bottom - static_cast<int>((H - top - bottom) * p));
  };
  cv::rectangle(img, px(0, 0), px(1, 1), cv::Scalar(0, 0, 0), 1);
  for (int k = 0; k <= 10; k += 2) {
    char label[16];
    std::snprintf(label, sizeof label, "%.1f", k / 10.0);
    cv::putText(img, label, px(k / 10.0, 0) + cv::Point(-10, 20), cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
    cv::putText(img, label, px(0, k / 10.0) + cv::Point(-35, 5), cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  }
  cv::putText(img, "recall", cv::Point(W / 2 - 20, H - 25), cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  cv::putText(img, "precision-recall per class", cv::Point(left, 20), cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  static const cv::Scalar kColors[] = {{200, 100, 0}, {0, 100, 230}, {0, 160, 0}, {160, 0, 160}, {0, 0, 200}, {120, 120, 0}};
  for (size_t c = 0; c < curves.size(); ++c) {
    const cv::Scalar color = kColors[c % 6];
    cv::Point prev = px(0, curves[c].precision.empty() ? 0 : curves[c].precision[0]);
    for (size_t i = 0; i < curves[c].recall.size(); ++i) {
      const cv::Point p = px(curves[c].recall[i], curves[c].precision[i]);
      cv::line(img, prev, p, color, 2, cv::LINE_AA);
      prev = p;
    }
    char label[128];
    std::snprintf(label, sizeof label, "%s (AP %.3f)", names[c].c_str(), aps[c]);
    cv::putText(img, label, cv::Point(W - 300, top + 20 + 18 * static_cast<int>(c)), cv::FONT_HERSHEY_SIMPLEX, 0.45,
                color, 1, cv::LINE_AA);
  }
  std::vector<uchar> png;
  cv::imencode(".png", img, png);
  write_file_atomic(path, std::string(png.begin(), png.end()));
}

}  // namespace

EvalResult evaluate(const DetectionDataset& dataset, const DetectFunction& detect, const EvalOptions& options) {
  const size_t num_classes = dataset.class_names.size();
  const size_t n = dataset.images.size();
  if (!(options.iou_threshold > 0 && options.iou_threshold <= 1))
    throw Error("--iou-threshold " + std::to_string(options.iou_threshold) + ": must be within 0 (exclusive) and 1");
  if (n == 0) throw Error(dataset.description + ": no images to evaluate");
  // The output folder is checked before the work, not after it.
  if (!options.eval_dir.empty()) make_folder(options.eval_dir, "--eval-dir");
  // Ground truth per class and image, in pixels (boxes are scaled with the image size).
  std::vector<std::vector<std::vector<CornerBox>>> gt(num_classes, std::vector<std::vector<CornerBox>>(n));
  std::vector<std::vector<std::vector<uint8_t>>> difficult(num_classes, std::vector<std::vector<uint8_t>>(n));
  std::vector<std::vector<ClassDetection>> detections(num_classes);
  const auto start = std::chrono::steady_clock::now();
  Progress progress("Evaluating image", n, 10);
  for (size_t i = 0; i < n; ++i) {
    const AnnotatedImage& item = dataset.images[i];
    const cv::Mat rgb = read_rgb_image(item.image_path);
    const float w = static_cast<float>(rgb.cols), h = static_cast<float>(rgb.rows);
    for (size_t b = 0; b < item.boxes.size(); ++b) {
      const CornerBox& nb = item.boxes[b];
      gt[item.labels[b]][i].push_back({nb.x1 * w, nb.y1 * h, nb.x2 * w, nb.y2 * h});
      difficult[item.labels[b]][i].push_back(item.difficult[b]);
    }
    for (const Detection& d : detect(rgb)) {
      if (d.label <= 0 || static_cast<size_t>(d.label) >= num_classes)
        throw Error("the model predicts class " + std::to_string(d.label) + " but the dataset has " +
                    std::to_string(num_classes - 1) + " classes");
      detections[d.label].push_back({i, d.probability, d.box});
    }
    progress.update(i + 1, "", i + 1);
  }
  progress.finish();

  EvalResult result;
  result.images = n;
  std::vector<PrecisionRecall> curves;
  for (size_t c = 1; c < num_classes; ++c) {
    const std::string& name = dataset.class_names[c];
    if (!options.eval_dir.empty()) {
      // pytorch-ssd's det_test_<class>.txt: image id, probability, box + 1 (1-based pixels).
      std::string text;
      for (const ClassDetection& d : detections[c]) {
        text += dataset.images[d.image_index].image_id + " " + shortest(d.probability) + " " + shortest(d.box.x1 + 1.0f) +
                " " + shortest(d.box.y1 + 1.0f) + " " + shortest(d.box.x2 + 1.0f) + " " + shortest(d.box.y2 + 1.0f) + "\n";
      }
      write_file_atomic(join_path(options.eval_dir, "det_test_" + file_name_of(name) + ".txt"), text);
    }
    PrecisionRecall pr = precision_recall(detections[c], gt[c], difficult[c], options.iou_threshold);
    const double ap = options.use_2007_metric ? voc2007_average_precision(pr) : area_average_precision(pr);
    result.class_names.push_back(name);
    result.average_precision.push_back(ap);
    curves.push_back(std::move(pr));
  }
  double sum = 0;
  for (double ap : result.average_precision) sum += ap;
  result.mean_average_precision = sum / result.average_precision.size();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!options.eval_dir.empty())
    draw_pr_curves(result.class_names, curves, result.average_precision, join_path(options.eval_dir, "pr_curve.png"));
  return result;
}

std::string format_eval_report(const EvalResult& result) {
  std::ostringstream out;
  out.precision(17);
  out << "\n\nAverage Precision Per-class:\n";
  for (size_t c = 0; c < result.class_names.size(); ++c)
    out << result.class_names[c] << ": " << result.average_precision[c] << "\n";
  out << "\nAverage Precision Across All Classes:" << result.mean_average_precision << "\n";
  return out.str();
}

}  // namespace edgessd
