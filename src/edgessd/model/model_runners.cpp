#include "edgessd/model/model_runners.h"

#include <memory>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/model/model_open.h"
#include "edgessd/model/plate_reader_net.h"
#include "edgessd/model/ssd_predictor.h"
#include "edgessd/runtime/detector.h"
#include "edgessd/runtime/plate_reader.h"

namespace edgessd {

namespace {

bool is_onnx(const std::string& path) { return path.size() > 5 && path.compare(path.size() - 5, 5, ".onnx") == 0; }

}  // namespace

DetectFunction open_detect_function(const std::string& path, const EngineOptions& engine,
                                    const PostprocessOptions& post, std::string& what) {
  if (is_onnx(path)) {
    auto detector = std::make_shared<Detector>(load_onnx_model(path), engine, post);
    what = path + " (ONNX, engine " + detector->engine_name() + ")";
    return [detector](const cv::Mat& rgb) { return detector->detect_rgb(rgb); };
  }
  // No --net or --labels here (eval-reader, detect's reader path): the classes come with it.
  check_readable_file(path);
  ModelInfo info;
  if (!load_model_info(path, info))
    throw Error(path + ": no model JSON beside it (" + model_info_path(path) +
                "); give a checkpoint that train wrote, or an ONNX export of this one");
  OpenedCheckpoint opened = open_checkpoint(path, {});
  auto predictor = std::make_shared<SsdPredictor>(opened.net, opened.info, post);
  what = path + " (" + opened.info.net + ")";
  return [predictor](const cv::Mat& rgb) { return predictor->predict(rgb); };
}

ReadFunction open_read_function(const std::string& path, const EngineOptions& engine, const std::string& pattern,
                                std::string& what, std::string* charset) {
  if (is_onnx(path)) {
    auto reader = std::make_shared<PlateReader>(path, engine, pattern);
    what = path + " (ONNX, engine " + reader->engine_name() + ")";
    if (charset) *charset = reader->info().charset;
    return [reader](const cv::Mat& rgb, const std::vector<CornerBox>& boxes) {
      std::vector<PlateReading> out;
      for (const CornerBox& b : boxes) out.push_back(reader->read_rgb(rgb, b));
      return out;
    };
  }
  auto opened = std::make_shared<OpenedReader>(open_reader_checkpoint(path));
  auto formats = std::make_shared<PlatePattern>();
  if (!pattern.empty()) *formats = PlatePattern(pattern, opened->info.charset);
  what = path + " (LibTorch)";
  if (charset) *charset = opened->info.charset;
  return [opened, formats](const cv::Mat& rgb, const std::vector<CornerBox>& boxes) {
    return read_plates(opened->net, opened->info, rgb, boxes, formats.get());
  };
}

}  // namespace edgessd
