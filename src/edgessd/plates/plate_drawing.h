#pragma once
// The drawing steps that the free plates (plate_render.cpp) and the real layouts
// (plate_layouts.cpp) share; not used outside plates/.
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "edgessd/plates/plate_render.h"

namespace edgessd {

class Random;

namespace plate_drawing {

cv::Scalar random_colour(Random& r, int lo = 0, int hi = 255);
// Dark enough for light characters (and too dark for a pictured background).
bool is_dark(const cv::Scalar& colour);
// Plain, a vertical gradient, or a pictured plate (large soft blobs of colour).
cv::Mat plate_background(Random& r, cv::Size size, const cv::Scalar& colour);
// `colour` painted over `plate` with `alpha` (CV_8U, 255 = opaque).
void paint(cv::Mat& plate, const cv::Mat& alpha, const cv::Scalar& colour);
// A line of capitals (a state, a slogan, a town) centred in `band`, in a stroke face.
void small_text(Random& r, cv::Mat& plate, const cv::Rect& band, const cv::Scalar& ink);
// `text` in `face` (or a stroke face when null) centred in `band`: country names, codes.
void face_text(const std::string& text, const PlateFace* face, cv::Mat& plate, const cv::Rect& band,
               const cv::Scalar& colour);

// In a drawn registration: a space as wide as a character, where a seal, a shield or a
// state's graphic stands between the groups (as on German, Czech, Slovak and many US plates).
constexpr char kEmblemSpace = '_';

// The registration's strokes, plate-sized (CV_8U, 255 = ink), and where its gaps (the
// spaces of `drawn`) landed on the plate, for emblems drawn between the groups.
struct RegistrationInk {
  cv::Mat ink;
  std::vector<cv::Rect> gaps;
  std::vector<cv::Rect> emblem_gaps;  // of each kEmblemSpace
  std::vector<cv::Point2f> centres;  // of each registration character (not ' ' or '-') on the plate
};
// The ink and the character centres into `plate`.
void set_registration(DrawnPlate& plate, RegistrationInk&& ink);
// The characters drawn large one by one on a common baseline (in style.face, or style's
// Hershey face), each cropped to its strokes and spaced apart as on a plate, then the
// line scaled into `room` (its height `fill` to 100% of the room's, condensed or widened
// by up to 30%, never clipped) and placed with a jitter.
RegistrationInk registration_ink(Random& r, const std::string& drawn, const DrawnPlate& style, const cv::Rect& room,
                                 double fill = 0.75);

// A registration in one of `formats` ('A' a letter, '9' a digit, '?' either; ' ' where a
// separator may be drawn: one of `separators`' characters, '.' for none, kEmblemSpace for
// an emblem's space; '|' where a two-row plate's rows break, kept in `drawn`) from `alphabet`, or with
// `free_share` probability 5-8 free characters; `drawn` gets what is painted.
std::string formatted_registration(Random& r, const std::string& alphabet, const std::vector<std::string>& formats,
                                   double free_share, const std::string& separators, std::string* drawn);

}  // namespace plate_drawing
}  // namespace edgessd
