#include "edgessd/eval/evaluate.h"

#include <chrono>
#include <cmath>
#include <iomanip>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/image.h"
#include "edgessd/common/progress.h"
#include "edgessd/eval/average_precision.h"
#include "edgessd/common/model_info.h"

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

// pytorch-ssd's det_test_<class>.txt: image id, probability, box + 1 (1-based pixels).
void write_detections(const std::string& eval_dir, const std::string& class_name,
                      const std::vector<ClassDetection>& detections, const std::vector<std::string>& image_ids) {
  std::string text;
  for (const ClassDetection& d : detections) {
    text += image_ids[d.image_index] + " " + shortest(d.probability) + " " + shortest(d.box.x1 + 1.0f) + " " +
            shortest(d.box.y1 + 1.0f) + " " + shortest(d.box.x2 + 1.0f) + " " + shortest(d.box.y2 + 1.0f) + "\n";
  }
  write_file_atomic(join_path(eval_dir, "det_test_" + file_name_of(class_name) + ".txt"), text);
}

double mean_of(const std::vector<double>& values) {
  double sum = 0;
  size_t n = 0;
  for (double v : values)
    if (!std::isnan(v)) sum += v, ++n;
  return n ? sum / n : std::nan("");
}

using PerImage = std::vector<std::vector<CornerBox>>;
using PerImageFlags = std::vector<std::vector<uint8_t>>;

// AP per class over each size bucket.
std::vector<SizeBucketResult> score_by_size(const std::vector<std::vector<ClassDetection>>& detections,
                                            const std::vector<PerImage>& gt, const std::vector<PerImageFlags>& difficult,
                                            const EvalOptions& options) {
  const std::pair<const char*, AreaRange> buckets[] = {
      {"small", kSmallObjects}, {"medium", kMediumObjects}, {"large", kLargeObjects}};
  std::vector<SizeBucketResult> out;
  for (const auto& [name, range] : buckets) {
    SizeBucketResult bucket;
    bucket.name = name;
    for (size_t c = 1; c < gt.size(); ++c) {
      const size_t objects = counted_objects(gt[c], difficult[c], range);
      const PrecisionRecall pr = precision_recall(detections[c], gt[c], difficult[c], options.iou_threshold, range);
      bucket.objects.push_back(objects);
      bucket.average_precision.push_back(
          objects == 0 ? std::nan("") : options.use_2007_metric ? voc2007_average_precision(pr) : area_average_precision(pr));
    }
    bucket.mean_average_precision = mean_of(bucket.average_precision);
    out.push_back(std::move(bucket));
  }
  return out;
}

// Per-class AP (and det_test_<class>.txt, pr_curve.png), recall, AP by size.
EvalResult score(const std::vector<std::string>& class_names, const std::vector<std::vector<ClassDetection>>& detections,
                 const std::vector<PerImage>& gt, const std::vector<PerImageFlags>& difficult,
                 const EvalOptions& options, const std::vector<std::string>& image_ids) {
  EvalResult result;
  std::vector<PrecisionRecall> curves;
  for (size_t c = 1; c < class_names.size(); ++c) {
    if (!options.eval_dir.empty()) write_detections(options.eval_dir, class_names[c], detections[c], image_ids);
    PrecisionRecall pr = precision_recall(detections[c], gt[c], difficult[c], options.iou_threshold);
    result.class_names.push_back(class_names[c]);
    result.average_precision.push_back(options.use_2007_metric ? voc2007_average_precision(pr)
                                                               : area_average_precision(pr));
    result.recall.push_back(pr.recall.empty() ? 0.0 : pr.recall.back());
    curves.push_back(std::move(pr));
  }
  result.mean_average_precision = mean_of(result.average_precision);
  result.mean_recall = mean_of(result.recall);
  result.by_size = score_by_size(detections, gt, difficult, options);
  if (!options.eval_dir.empty())
    draw_pr_curves(result.class_names, curves, result.average_precision, join_path(options.eval_dir, "pr_curve.png"));
  return result;
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

  std::vector<std::string> image_ids;
  for (const AnnotatedImage& item : dataset.images) image_ids.push_back(item.image_id);
  EvalResult result = score(dataset.class_names, detections, gt, difficult, options, image_ids);
  result.images = n;
  result.iou_threshold = options.iou_threshold;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

namespace {

std::string size_bounds_text() {
  return "COCO's areas in the image's own pixels: small < 32^2, medium < 96^2, large >= 96^2";
}

}  // namespace

std::string format_eval_report(const EvalResult& result) {
  std::ostringstream out;
  out.precision(17);
  out << "\n\nAverage Precision Per-class:\n";
  for (size_t c = 0; c < result.class_names.size(); ++c)
    out << result.class_names[c] << ": " << result.average_precision[c] << "\n";
  out << "\nAverage Precision Across All Classes:" << result.mean_average_precision << "\n";
  out.precision(4);
  out << std::fixed << "\nAverage Precision by object size (" << size_bounds_text() << "):\n";
  for (const SizeBucketResult& b : result.by_size) {
    size_t objects = 0;
    for (size_t n : b.objects) objects += n;
    out << b.name << " (" << objects << " objects): ";
    if (std::isnan(b.mean_average_precision)) out << "-\n";
    else out << b.mean_average_precision << "\n";
  }
  out << "Recall at IoU " << std::defaultfloat << std::setprecision(3) << result.iou_threshold
      << " (every detection): " << std::fixed << std::setprecision(4) << result.mean_recall << "\n";
  return out.str();
}

std::string eval_report_json(const EvalResult& result) {
  using Json = nlohmann::ordered_json;
  auto number = [](double v) { return std::isnan(v) ? Json(nullptr) : Json(v); };
  Json j;
  j["images"] = result.images;
  j["iou_threshold"] = result.iou_threshold;
  j["mAP"] = result.mean_average_precision;
  j["recall"] = result.mean_recall;
  j["classes"] = Json::array();
  for (size_t c = 0; c < result.class_names.size(); ++c)
    j["classes"].push_back({{"name", result.class_names[c]}, {"AP", result.average_precision[c]},
                            {"recall", result.recall[c]}});
  j["size_bounds"] = size_bounds_text();
  for (const SizeBucketResult& b : result.by_size) {
    Json bucket;
    bucket["mAP"] = number(b.mean_average_precision);
    bucket["objects"] = b.objects;
    bucket["AP"] = Json::array();
    for (double ap : b.average_precision) bucket["AP"].push_back(number(ap));
    j["by_size"][b.name] = bucket;
  }
  return j.dump(2) + "\n";
}

}  // namespace edgessd
