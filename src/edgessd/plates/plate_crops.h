#pragma once
// Plate crops for the reader: how a box becomes the reader's input (the same crop for
// training, eval and the runtime, so a model never sees a framing at deployment that it
// did not train on).
#include <opencv2/core.hpp>

#include <vector>

#include "edgessd/common/boxes.h"
#include "edgessd/plates/reader_info.h"

namespace edgessd {

class Random;

// A normalised box (as data sets hold them) in the pixels of `image`.
CornerBox in_pixels(const CornerBox& normalised, const cv::Mat& image);

// The pixel rectangle the reader sees for a box (pixels): grown by info.crop_margin of its
// size on each side and clipped to the image; at least 1x1.
cv::Rect plate_crop_rect(const CornerBox& pixels, const ReaderInfo& info, int image_width, int image_height);
// Whether the reader reads `pixels` (a box) as two rows: narrower than info.two_row_aspect.
bool reads_two_rows(const CornerBox& pixels, const ReaderInfo& info);
// That rectangle of `rgb`, resized to the reader's input (area when shrinking), or with
// info.geometry "letterbox" to the largest rectangle of its shape, centred in grey; a
// two-row box's upper rows on the left half of the input, its lower rows on the right.
cv::Mat crop_plate(const cv::Mat& rgb, const CornerBox& pixels, const ReaderInfo& info);
// For training: each side of the box moved by up to `box_jitter` of the box's size (as a
// detector frames it otherwise), the crop turned by up to 4 degrees and each corner moved
// by up to 4% (perspective), then gain, contrast, colour cast, blur, noise and sometimes
// grey, drawn from `random`. `points` (of `rgb`), when given, are moved to where they
// land in the crop.
cv::Mat augmented_plate_crop(const cv::Mat& rgb, const CornerBox& pixels, const ReaderInfo& info, Random& random,
                             std::vector<cv::Point2f>* points = nullptr, float box_jitter = kDefaultBoxJitter);
// (x - mean) / std, HWC -> CHW: 3 x input_height x input_width floats into `out`.
void reader_input(const cv::Mat& crop_rgb, const ReaderInfo& info, float* out);

}  // namespace edgessd
