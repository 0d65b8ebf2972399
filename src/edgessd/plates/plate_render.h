#pragma once
// Synthetic licence plates, drawn once here for both users: `edgessd synth` warps flat
// plates into whole images (the detector's data), and train-reader draws plate regions
// on the fly (a fresh set every epoch, so the reader never memorises its synthetic half).
// Text is OpenCV's Hershey faces, condensed or widened, so nothing outside OpenCV is needed.
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "edgessd/common/boxes.h"

namespace edgessd {

class Random;

struct DrawnPlate {
  cv::Mat bgr;               // the flat plate, 120 px high, width = 120 * aspect
  cv::Mat ink;               // CV_8U, plate-sized: the registration's strokes alone (255 = ink)
  std::string registration;  // as PlateText writes it: the drawn characters, no space or dash
  int font = 0;              // the Hershey face, scale and stroke thickness of the
  double font_scale = 1;     //   registration before it is fitted to the plate, for
  int thickness = 1;         //   tests that read the ink back
};

// A registration of 5-8 characters of `alphabet` ("" = 0-9 A-Z): half follow a common
// US or European format (letters and digits in fixed places), half are free; sometimes a
// space or dash is drawn inside (never part of `registration`).
std::string random_registration(Random& r, const std::string& alphabet, std::string* drawn);

// A flat plate of width / height `aspect`: background (plain, gradient or pictured),
// border, registration, and sometimes a state line, a slogan, bolt holes and a sticker,
// none of which covers the registration.
DrawnPlate draw_plate(Random& r, double aspect, const std::string& alphabet = "");

// Warps `plate` onto `image` so that its corners land on `quad` (clockwise from the top
// left); returns the rectangle its pixels cover (empty when nothing landed).
cv::Rect warp_plate_into(cv::Mat& image, const cv::Mat& plate, const std::vector<cv::Point2f>& quad);

// Gradients, stripes, clutter (shapes and text-like glyphs) or a crude street.
cv::Mat procedural_background(Random& r, cv::Size size);

struct PlateRegion {
  cv::Mat rgb;       // the plate and about 30% of its size around it on each side
  CornerBox box;     // pixels of `rgb` the plate covers
  std::string text;  // its registration
};

// A plate as a camera sees it, for the reader: 40-200 px wide, tilted and in
// perspective, on a procedural background, sometimes at a lower resolution and through
// JPEG. The same `r` state gives the same region.
PlateRegion synthetic_plate_region(Random& r, const std::string& alphabet);

}  // namespace edgessd
