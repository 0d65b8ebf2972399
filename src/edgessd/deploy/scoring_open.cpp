#include "edgessd/deploy/scoring_open.h"

#include <memory>

#include "edgessd/deploy/detector.h"
#include "edgessd/deploy/plate_reader.h"

namespace edgessd {

OpenedDetector open_onnx_detector(const std::string& path, const std::string& labels, const std::string& resolution,
                                  const EngineOptions& engine, const PostprocessOptions& post) {
  DetectorModel model = load_detector_model(path, labels);
  check_input_size(model.graph, resolution);
  auto detector = std::make_shared<Detector>(std::move(model), engine, post);
  OpenedDetector d;
  d.info = detector->info();
  d.what = path + " (ONNX, engine " + detector->engine_name() + ")";
  d.detect = [detector](const cv::Mat& rgb) { return detector->detect_rgb(rgb); };
  return d;
}

ReadFunction open_onnx_reader(const std::string& path, const EngineOptions& engine, const std::string& pattern,
                              std::string& what, std::string* charset) {
  auto reader = std::make_shared<PlateReader>(path, engine, pattern);
  what = path + " (ONNX, engine " + reader->engine_name() + ")";
  if (charset) *charset = reader->info().charset;
  return [reader](const cv::Mat& rgb, const std::vector<CornerBox>& boxes) {
    std::vector<PlateReading> out;
    for (const CornerBox& b : boxes) out.push_back(reader->read_rgb(rgb, b));
    return out;
  };
}

}  // namespace edgessd
