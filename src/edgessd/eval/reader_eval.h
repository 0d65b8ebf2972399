#pragma once
// `edgessd eval-reader`: a plate reader scored on a data set's ground-truth plate boxes
// (exact plates and characters), and end to end with a detector: a plate counts when a
// detection matches its box at IoU >= 0.5 and that detection's crop reads exactly. Both
// also with O/0 and I/1 folded, reported separately (published figures differ there).
#include <functional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "edgessd/data/dataset.h"
#include "edgessd/eval/evaluate.h"
#include "edgessd/plates/plate_text.h"

namespace edgessd {

// Reads the plates inside `boxes` (pixels) of an RGB image: a LibTorch net or an engine.
using ReadFunction = std::function<std::vector<PlateReading>(const cv::Mat& rgb, const std::vector<CornerBox>& boxes)>;

struct PlateRead {  // one ground-truth plate, for the per-plate listing
  std::string image_id, truth, read, end_to_end;  // end_to_end: "" when no detection matched
  bool found = false;
};

struct ReaderEvalResult {
  ReadingScore crops, crops_folded;  // on the ground-truth boxes
  bool end_to_end = false;           // a detector was given
  ReadingScore e2e, e2e_folded;      // unmatched plates count as read "" (wrong)
  size_t found = 0;                  // plates some detection matched
  std::vector<PlateRead> plates;
};

// Every box with a PlateText counts (texts normalised: upper case, no space or dash).
ReaderEvalResult evaluate_reader(const DetectionDataset& dataset, const ReadFunction& read,
                                 const DetectFunction& detect = nullptr, float iou_threshold = 0.5f);
// The printout, and the same as one JSON object.
void print_reader_result(const ReaderEvalResult& r, const std::string& what);
std::string reader_result_json(const ReaderEvalResult& r);

}  // namespace edgessd
