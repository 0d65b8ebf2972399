#include "edgessd/train/loss_plot.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "edgessd/common/csv.h"
#include "edgessd/common/error.h"
#include "edgessd/common/files.h"

namespace edgessd {

void draw_loss_curve(const std::string& metrics_csv, const std::string& png_path) {
  CsvTable table(read_file(metrics_csv), metrics_csv);
  const size_t c_epoch = table.column("epoch"), c_train = table.column("train_loss"), c_val = table.column("val_loss");
  std::vector<cv::Point2d> train, val;
  for (size_t r = 0; r < table.rows(); ++r) {
    const double epoch = parse_float_field(table, r, c_epoch);
    train.emplace_back(epoch, parse_float_field(table, r, c_train));
    if (!table.row(r)[c_val].empty()) val.emplace_back(epoch, parse_float_field(table, r, c_val));
  }
  if (train.empty()) return;
  double max_epoch = 1, max_loss = 0;
  for (const auto* series : {&train, &val})
    for (const auto& p : *series) {
      max_epoch = std::max(max_epoch, p.x);
      if (std::isfinite(p.y)) max_loss = std::max(max_loss, p.y);
    }
  max_loss = max_loss > 0 ? max_loss * 1.1 : 1;
  const int W = 800, H = 480, left = 70, right = 20, top = 40, bottom = 50;
  cv::Mat img(H, W, CV_8UC3, cv::Scalar(255, 255, 255));
  auto to_px = [&](const cv::Point2d& p) {
    return cv::Point(left + static_cast<int>((W - left - right) * p.x / max_epoch),
                     H - bottom - static_cast<int>((H - top - bottom) * p.y / max_loss));
  };
  cv::rectangle(img, cv::Point(left, top), cv::Point(W - right, H - bottom), cv::Scalar(0, 0, 0), 1);
  for (int k = 0; k <= 5; ++k) {
    const double v = max_loss * k / 5;
    const cv::Point a = to_px({0, v});
    cv::line(img, a, cv::Point(W - right, a.y), cv::Scalar(225, 225, 225), 1);
    char label[32];
    std::snprintf(label, sizeof label, "%.2f", v);
    cv::putText(img, label, cv::Point(8, a.y + 5), cv::FONT_HERSHEY_SIMPLEX, 0.45, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  }
  for (int k = 0; k <= 5; ++k) {
    const double e = max_epoch * k / 5;
    char label[32];
    std::snprintf(label, sizeof label, "%.0f", e);
    cv::putText(img, label, cv::Point(to_px({e, 0}).x - 8, H - bottom + 20), cv::FONT_HERSHEY_SIMPLEX, 0.45,
                cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  }
  auto draw = [&](const std::vector<cv::Point2d>& series, const cv::Scalar& color) {
    for (size_t i = 0; i < series.size(); ++i) {
      if (!std::isfinite(series[i].y)) continue;
      cv::circle(img, to_px(series[i]), 3, color, cv::FILLED, cv::LINE_AA);
      if (i > 0 && std::isfinite(series[i - 1].y))
        cv::line(img, to_px(series[i - 1]), to_px(series[i]), color, 2, cv::LINE_AA);
    }
  };
  draw(train, cv::Scalar(200, 100, 0));
  draw(val, cv::Scalar(0, 100, 230));
  cv::putText(img, "loss per epoch: training (blue), validation (orange)", cv::Point(left, 25),
              cv::FONT_HERSHEY_SIMPLEX, 0.55, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  cv::putText(img, "epoch", cv::Point(W / 2, H - 10), cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(0, 0, 0), 1,
              cv::LINE_AA);
  std::vector<uchar> png;
  if (!cv::imencode(".png", img, png)) throw Error(png_path + ": PNG encoding failed");
  write_file_atomic(png_path, std::string(png.begin(), png.end()));
}

}  // namespace edgessd
