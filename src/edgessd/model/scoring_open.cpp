#include "edgessd/model/scoring_open.h"

#include <memory>

#include "edgessd/model/plate_reader_net.h"
#include "edgessd/model/ssd_predictor.h"

namespace edgessd {

OpenedDetector open_checkpoint_detector(const std::string& path, const ModelFlags& flags,
                                        const PostprocessOptions& post) {
  OpenedCheckpoint opened = open_checkpoint(path, flags);
  auto predictor = std::make_shared<SsdPredictor>(opened.net, opened.info, post);
  OpenedDetector d;
  d.info = opened.info;
  d.what = path + " (" + opened.info.net + ")";
  d.detect = [predictor](const cv::Mat& rgb) { return predictor->predict(rgb); };
  return d;
}

ReadFunction open_checkpoint_reader(const std::string& path, const std::string& pattern, std::string& what,
                                    std::string* charset) {
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
