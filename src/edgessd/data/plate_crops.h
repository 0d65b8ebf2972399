#pragma once
// Plate crops for the reader: which boxes of a data set carry a text, and how a box
// becomes the reader's input (the same crop for training, eval and the runtime, so a
// model never sees a framing at deployment that it did not train on).
#include <cstddef>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "edgessd/common/boxes.h"
#include "edgessd/common/reader_info.h"
#include "edgessd/data/dataset.h"

namespace edgessd {

class Random;

struct PlateSample {
  std::string image_path;
  CornerBox box;     // normalised to the image
  std::string text;  // normalise_plate_text(PlateText)
};

struct PlateSamples {
  std::vector<PlateSample> samples;
  size_t without_text = 0;     // boxes whose PlateText is empty
  std::string outside_charset; // the first text with a character not in the set, if any
  size_t outside_count = 0;
  std::string too_long;        // the first text CTC cannot align to `columns`, if any
  size_t too_long_count = 0;
};
// Every box of `dataset` with a PlateText (any class) whose characters are all in `charset`
// and, when `columns` > 0, that CTC can align to that many output columns (a character
// each, and a blank between two alike).
PlateSamples plate_samples(const DetectionDataset& dataset, const std::string& charset, int columns = 0);

// A normalised box (as data sets hold them) in the pixels of `image`.
CornerBox in_pixels(const CornerBox& normalised, const cv::Mat& image);

// The pixel rectangle the reader sees for a box (pixels): grown by info.crop_margin of its
// size on each side and clipped to the image; at least 1x1.
cv::Rect plate_crop_rect(const CornerBox& pixels, const ReaderInfo& info, int image_width, int image_height);
// That rectangle of `rgb`, resized to the reader's input (area when shrinking).
cv::Mat crop_plate(const cv::Mat& rgb, const CornerBox& pixels, const ReaderInfo& info);
// For training: each side of the box moved by up to 8% of the box's size, then gain,
// contrast, colour cast, blur, noise and sometimes grey, drawn from `random`.
cv::Mat augmented_plate_crop(const cv::Mat& rgb, const CornerBox& pixels, const ReaderInfo& info, Random& random);
// (x - mean) / std, HWC -> CHW: 3 x input_height x input_width floats into `out`.
void reader_input(const cv::Mat& crop_rgb, const ReaderInfo& info, float* out);

}  // namespace edgessd
