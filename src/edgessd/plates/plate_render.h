#pragma once
// Synthetic licence plates, drawn once here for both users: `edgessd synth` warps flat
// plates into whole images (the detector's data), and train-reader draws plate regions
// on the fly (a fresh set every epoch, so the reader never memorises its synthetic half).
// Registrations are drawn in TrueType faces close to plate fonts (plates/plate_faces.h) on
// the layouts of real plates (US, EU, Brazil, Mercosur), or in OpenCV's Hershey stroke
// faces on a free layout.
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "edgessd/common/boxes.h"
#include "edgessd/plates/plate_faces.h"

namespace edgessd {

class Random;

enum class PlateLayout {
  Free,      // any colours and decorations, stroke faces, 1.8:1 to 4.7:1 as asked
  US,        // 2:1 (12 x 6 in), a state line above and a slogan below, narrow faces
  EU,        // 4.7:1 (520 x 110 mm), the blue band with stars and country code, DIN-like faces
  Brazil,    // 3.1:1 (400 x 130 mm), grey, the town line above, AAA-9999
  Mercosur,  // 3.1:1, white under a blue band that names the country, AAA9A99
  EUSquare,  // 1.3-1.5:1 (280 x 200 mm and kin), the band down the left, two rows
  Motorcycle,  // 1.1-1.45:1 (200 x 170 mm), Mercosur's or Brazil's grey, AAA over 9A99 / 9999
};

struct DrawnPlate {
  cv::Mat bgr;               // the flat plate, 120 px high, width = 120 * aspect
  cv::Mat ink;               // CV_8U, plate-sized: the registration's strokes alone (255 = ink)
  std::string registration;  // as PlateText writes it: the drawn characters, no space or dash,
                             // a two-row plate's upper row first
  std::vector<cv::Point2f> centres;  // each registration character's middle, plate pixels
  PlateLayout layout = PlateLayout::Free;
  const PlateFace* face = nullptr;  // the TrueType face, or none: then a Hershey face,
  int font = 0;              // scale and stroke thickness (for TrueType: the extra
  double font_scale = 1;     //   stroke width) of the registration before it is fitted
  int thickness = 1;         //   to the plate, for tests that read the ink back
};

// A registration of 5-8 characters of `alphabet` ("" = 0-9 A-Z): half follow a common
// US or European format (letters and digits in fixed places), half are free; sometimes a
// space or dash is drawn inside (never part of `registration`).
std::string random_registration(Random& r, const std::string& alphabet, std::string* drawn);

// A flat plate of width / height `aspect`: background (plain, gradient or pictured),
// border, registration, and sometimes a state line, a slogan, bolt holes and a sticker,
// none of which covers the registration.
DrawnPlate draw_plate(Random& r, double aspect, const std::string& alphabet = "");
// A flat plate of a real layout, its registration in that layout's formats (most of the
// time) from `alphabet`, in a TrueType face of the layout's style (stroke faces when none
// is installed).
DrawnPlate draw_layout_plate(Random& r, PlateLayout layout, const std::string& alphabet = "");
// The layouts synthetic_plate_region draws, in these shares: US 32.5%, EU 27.5%, Brazil
// 10%, Mercosur 10%, free 12.5%, square EU 5%, motorcycle 2.5%.
PlateLayout random_layout(Random& r);
// Two-row layouts only: square EU 2/3, motorcycle 1/3.
PlateLayout random_two_row_layout(Random& r);

// Warps `plate` onto `image` so that its corners land on `quad` (clockwise from the top
// left); returns the rectangle its pixels cover (empty when nothing landed).
// `points` (of the flat plate), when given, are moved to where they land on `image`.
cv::Rect warp_plate_into(cv::Mat& image, const cv::Mat& plate, const std::vector<cv::Point2f>& quad,
                         std::vector<cv::Point2f>* points = nullptr);

// Gradients, stripes, clutter (shapes and text-like glyphs) or a crude street.
cv::Mat procedural_background(Random& r, cv::Size size);

struct PlateRegion {
  cv::Mat rgb;       // the plate and about 30% of its size around it on each side
  CornerBox box;     // pixels of `rgb` the plate covers
  std::string text;  // its registration
  std::vector<cv::Point2f> centres;  // where each of its characters lies in `rgb`
};

// A plate as a camera sees it, for the reader: a random_layout plate 40-200 px wide,
// tilted and in perspective, on a procedural background, sometimes at a lower resolution and through
// JPEG. The same `r` state gives the same region.
// `clean`: frontal (tilt up to 2 degrees, corners moved up to 3%), 80-220 px wide, never
// at a lower resolution or through JPEG: plates any reader should read.
// `layouts`: random_layout's, or random_two_row_layout's.
enum class RegionLayouts { All, TwoRow };
PlateRegion synthetic_plate_region(Random& r, const std::string& alphabet, bool clean = false,
                                   RegionLayouts layouts = RegionLayouts::All);

}  // namespace edgessd
