// Synthetic licence plates; see plate_render.h.
#include "edgessd/plates/plate_render.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "edgessd/common/error.h"
#include "edgessd/common/random.h"
#include "edgessd/plates/plate_drawing.h"

namespace edgessd {

using namespace plate_drawing;

namespace {

double uniform(Random& r, double lo, double hi) { return r.uniform(lo, hi); }
int uniform_int(Random& r, int lo, int hi) { return r.between(lo, hi); }

}  // namespace

namespace plate_drawing {

cv::Scalar random_colour(Random& r, int lo, int hi) {
  // One draw a statement (argument order is the compiler's): red first, as GCC drew it.
  const int red = uniform_int(r, lo, hi), green = uniform_int(r, lo, hi), blue = uniform_int(r, lo, hi);
  return cv::Scalar(blue, green, red);
}

}  // namespace plate_drawing

namespace {

// One shape of a cluttered background: a rectangle, circle, line or short word. One draw
// a statement, in the order GCC drew them when several shared one (right to left), so the
// data sets and readers made before stay what they were.
void clutter_shape(Random& r, cv::Mat& image) {
  const int y = uniform_int(r, 0, image.rows), x = uniform_int(r, 0, image.cols);
  const cv::Point p(x, y);
  const int s = uniform_int(r, 5, image.cols / 4);
  switch (uniform_int(r, 0, 3)) {
    case 0: {
      const cv::Scalar colour = random_colour(r);
      const int height = uniform_int(r, 5, s + 5);
      cv::rectangle(image, cv::Rect(p.x, p.y, s, height), colour, cv::FILLED);
      break;
    }
    case 1: cv::circle(image, p, s / 2, random_colour(r), cv::FILLED); break;
    case 2: {
      const int thickness = uniform_int(r, 1, 6);
      const cv::Scalar colour = random_colour(r);
      const int dy = uniform_int(r, -s, s), dx = uniform_int(r, -s, s);
      cv::line(image, p, p + cv::Point(dx, dy), colour, thickness);
      break;
    }
    default: {
      std::string word;
      for (int k = uniform_int(r, 2, 6); k > 0; --k) word += static_cast<char>('a' + uniform_int(r, 0, 25));
      const int thickness = uniform_int(r, 1, 3);
      const cv::Scalar colour = random_colour(r);
      const double scale = uniform(r, 0.4, 1.5);
      const int font = uniform_int(r, 0, 4);
      cv::putText(image, word, p, font, scale, colour, thickness);
    }
  }
}

}  // namespace

// Procedural backgrounds: gradients, stripes, clutter, and a crude street scene.
cv::Mat procedural_background(Random& r, cv::Size size) {
  cv::Mat image(size, CV_8UC3);
  const int kind = uniform_int(r, 0, 3);
  if (kind == 0) {  // vertical gradient with low-frequency noise
    const cv::Scalar top = random_colour(r), bottom = random_colour(r);
    for (int y = 0; y < size.height; ++y) {
      const double t = static_cast<double>(y) / size.height;
      image.row(y).setTo(top * (1 - t) + bottom * t);
    }
    cv::Mat noise(size.height / 16 + 1, size.width / 16 + 1, CV_8UC3);
    cv::RNG(r.next()).fill(noise, cv::RNG::UNIFORM, 0, 60);  // seeded: cv::theRNG() is per-thread state
    cv::resize(noise, noise, size, 0, 0, cv::INTER_CUBIC);
    image += noise;
  } else if (kind == 1) {  // stripes or a checkerboard (fences, tiles, grilles)
    image.setTo(random_colour(r));
    const cv::Scalar c = random_colour(r);
    const int period = uniform_int(r, 6, 60);
    const bool checker = uniform_int(r, 0, 1) == 1;
    for (int y = 0; y < size.height; y += period)
      for (int x = 0; x < size.width; x += period)
        if (!checker || ((x / period + y / period) % 2 == 0))
          cv::rectangle(image, cv::Rect(x, y, checker ? period : period / 2, checker ? period : size.height), c,
                        cv::FILLED);
  } else if (kind == 2) {  // clutter: rectangles, circles, lines, text-like glyphs
    image.setTo(random_colour(r));
    const int shapes = uniform_int(r, 15, 60);
    for (int i = 0; i < shapes; ++i) clutter_shape(r, image);
  } else {  // a street: sky, buildings, road, car-like bodies
    const int horizon = static_cast<int>(size.height * uniform(r, 0.3, 0.55));
    const int sky_red = uniform_int(r, 80, 200), sky_green = uniform_int(r, 120, 220), sky_blue = uniform_int(r, 150, 255);
    image(cv::Rect(0, 0, size.width, horizon)).setTo(cv::Scalar(sky_blue, sky_green, sky_red));
    image(cv::Rect(0, horizon, size.width, size.height - horizon)).setTo(cv::Scalar::all(uniform_int(r, 50, 130)));
    for (int x = 0; x < size.width;) {
      const int w = uniform_int(r, 30, 140), h = uniform_int(r, horizon / 3, horizon);
      cv::rectangle(image, cv::Rect(x, horizon - h, w, h), random_colour(r, 40, 200), cv::FILLED);
      for (int wy = horizon - h + 8; wy < horizon - 12; wy += 18)
        for (int wx = x + 6; wx < x + w - 10; wx += 16) cv::rectangle(image, cv::Rect(wx, wy, 8, 10), random_colour(r, 0, 90), cv::FILLED);
      x += w;
    }
    const int cars = uniform_int(r, 1, 3);
    for (int i = 0; i < cars; ++i) {
      const int w = static_cast<int>(size.width * uniform(r, 0.25, 0.6)), h = w / 2;
      const int y = uniform_int(r, horizon - h / 3, size.height - h / 2), x = uniform_int(r, -w / 4, size.width - w / 2);
      const cv::Point p(x, y);
      const cv::Scalar body = random_colour(r);
      cv::rectangle(image, cv::Rect(p.x, p.y, w, h), body, cv::FILLED);
      cv::rectangle(image, cv::Rect(p.x + w / 6, p.y - h / 3, w * 2 / 3, h / 3 + 2), body * 0.8, cv::FILLED);
      cv::circle(image, p + cv::Point(w / 5, h), h / 4, cv::Scalar::all(20), cv::FILLED);
      cv::circle(image, p + cv::Point(w * 4 / 5, h), h / 4, cv::Scalar::all(20), cv::FILLED);
      cv::rectangle(image, cv::Rect(p.x + w / 20, p.y + h / 6, w / 8, h / 8), cv::Scalar(200, 230, 255), cv::FILLED);
    }
  }
  return image;
}

namespace {

const char* const kDefaultAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

// 'A' letter, '9' digit: formats seen on US (California, New York, ...) and European
// (France/Italy, the UK, ...) plates.
const char* const kFormats[] = {"9AAA999", "AAA9999", "AAA999", "999AAA", "AA99999", "AA999AA", "AA99AAA", "A999AAA"};

char pick(Random& r, const std::string& from) { return from[static_cast<size_t>(r.below(static_cast<int>(from.size())))]; }

struct PlateColours {
  cv::Scalar background, ink;
};

PlateColours plate_colours(Random& r) {
  static const cv::Scalar backgrounds[] = {{255, 255, 255}, {40, 220, 250}, {235, 235, 235}, {250, 220, 180},
                                           {200, 255, 255}, {60, 60, 60},    {245, 240, 225}};
  static const cv::Scalar inks[] = {{20, 20, 20}, {120, 40, 0}, {0, 0, 150}, {0, 90, 0}, {90, 30, 30}};
  PlateColours c;
  c.background = backgrounds[r.below(7)];
  c.ink = is_dark(c.background) ? cv::Scalar(230, 230, 230) : inks[r.below(5)];
  return c;
}

// Border, an EU band, a state line above and a slogan below the registration's room,
// bolt holes and a sticker in the top margin: all outside `room`.
void decorate(Random& r, cv::Mat& plate, const cv::Rect& room, int band, const PlateColours& c) {
  const int width = plate.cols, height = plate.rows;
  cv::rectangle(plate, cv::Rect(0, 0, width, height), c.ink, r.between(2, 8));
  if (band > 0) cv::rectangle(plate, cv::Rect(0, 0, band, height), cv::Scalar(150, 40, 0), cv::FILLED);
  if (room.y >= 28 && r.coin()) small_text(r, plate, cv::Rect(width / 6, 4, width * 2 / 3, room.y - 6), c.ink);
  if (height - room.br().y >= 18 && r.coin())
    small_text(r, plate, cv::Rect(width / 5, room.br().y + 2, width * 3 / 5, height - room.br().y - 6), c.ink);
  if (room.y >= 16 && r.below(3) == 0)
    for (double fx : {0.22, 0.78}) cv::circle(plate, cv::Point(static_cast<int>(width * fx), room.y / 2), 4, c.ink * 0.5, cv::FILLED);
  if (room.y >= 20 && r.below(3) == 0) {
    const int w = width / 9, x = r.coin() ? band + 6 : width - w - 6;
    cv::rectangle(plate, cv::Rect(x, 4, w, room.y - 8), random_colour(r, 60, 255), cv::FILLED);
  }
}

}  // namespace

std::string random_registration(Random& r, const std::string& alphabet, std::string* drawn) {
  std::string letters, digits;
  for (char c : alphabet.empty() ? std::string(kDefaultAlphabet) : alphabet) {
    if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
    else if (std::isalpha(static_cast<unsigned char>(c))) letters += c;
  }
  const std::string both = letters + digits;
  if (both.empty()) throw Error("the character set '" + alphabet + "' has no letter or digit to draw plates with");
  const bool formatted = !letters.empty() && !digits.empty() && r.coin();
  const std::string pattern = formatted ? kFormats[r.below(static_cast<int>(std::size(kFormats)))]
                                        : std::string(static_cast<size_t>(r.between(5, 8)), '?');
  // The separator goes where letters meet digits (formats) or after the third character.
  size_t gap = 3;
  for (size_t i = 1; formatted && i < pattern.size(); ++i)
    if (pattern[i] != pattern[i - 1]) { gap = i; break; }
  const char separator = r.coin() ? 0 : r.coin() ? ' ' : '-';
  std::string text;
  if (drawn) drawn->clear();
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pick(r, pattern[i] == 'A' ? letters : pattern[i] == '9' ? digits : both);
    if (drawn && separator && i == gap) *drawn += separator;
    text += c;
    if (drawn) *drawn += c;
  }
  return text;
}

DrawnPlate draw_plate(Random& r, double aspect, const std::string& alphabet) {
  const int height = 120, width = std::max(height, static_cast<int>(std::lround(height * aspect)));
  const PlateColours colours = plate_colours(r);
  DrawnPlate p;
  p.bgr = plate_background(r, cv::Size(width, height), colours.background);
  std::string drawn;
  p.registration = random_registration(r, alphabet, &drawn);
  const int band = r.below(3) == 0 ? width / 10 : 0;
  const int top = static_cast<int>(height * (r.coin() ? 0.27 : 0.12));
  const int bottom = static_cast<int>(height * (r.below(3) == 0 ? 0.80 : 0.89));
  const cv::Rect room(band + width / 16, top, width - band - width / 8, bottom - top);
  static const int fonts[] = {cv::FONT_HERSHEY_SIMPLEX, cv::FONT_HERSHEY_DUPLEX, cv::FONT_HERSHEY_COMPLEX,
                              cv::FONT_HERSHEY_TRIPLEX, cv::FONT_HERSHEY_PLAIN};
  const int face = r.below(5);  // one draw a statement, in GCC's old order
  p.font = fonts[face] | (r.below(6) == 0 ? cv::FONT_ITALIC : 0);
  // Every face drawn with a 60 px cap height, so a stroke of 3-8 px is as bold on each.
  int baseline = 0;
  p.font_scale = 60.0 / cv::getTextSize("0", p.font, 1.0, 1, &baseline).height;
  p.thickness = r.between(3, 8);
  decorate(r, p.bgr, room, band, colours);
  set_registration(p, registration_ink(r, drawn, p, room));
  if (r.below(4) == 0) {  // embossed: a shadow of the strokes down and to the right
    const int dx = r.between(1, 3), dy = r.between(1, 3);
    cv::Mat shadow(p.ink.size(), CV_8U, cv::Scalar(0));
    p.ink(cv::Rect(0, 0, width - dx, height - dy)).copyTo(shadow(cv::Rect(dx, dy, width - dx, height - dy)));
    paint(p.bgr, shadow, colours.ink * 0.5 + colours.background * 0.2);
  }
  paint(p.bgr, p.ink, colours.ink);
  return p;
}

cv::Rect warp_plate_into(cv::Mat& image, const cv::Mat& plate, const std::vector<cv::Point2f>& quad,
                         std::vector<cv::Point2f>* points) {
  const std::vector<cv::Point2f> source = {{0, 0}, {float(plate.cols), 0}, {float(plate.cols), float(plate.rows)},
                                           {0, float(plate.rows)}};
  const cv::Mat transform = cv::getPerspectiveTransform(source, quad);
  if (points && !points->empty()) cv::perspectiveTransform(std::vector<cv::Point2f>(*points), *points, transform);
  cv::Mat warped, mask;
  cv::warpPerspective(plate, warped, transform, image.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT);
  cv::warpPerspective(cv::Mat(plate.size(), CV_8U, cv::Scalar(255)), mask, transform, image.size(), cv::INTER_LINEAR,
                      cv::BORDER_CONSTANT);
  const cv::Mat covered = mask > 127;
  warped.copyTo(image, covered);
  return cv::boundingRect(covered);
}

PlateRegion synthetic_plate_region(Random& r, const std::string& alphabet, bool clean, RegionLayouts layouts) {
  const PlateLayout layout = layouts == RegionLayouts::TwoRow ? random_two_row_layout(r) : random_layout(r);
  const DrawnPlate plate = draw_layout_plate(r, layout, alphabet);
  const double aspect = static_cast<double>(plate.bgr.cols) / plate.bgr.rows;
  // At least 12 px a row: a plate smaller than that is unreadable to anyone.
  const bool two_rows = layout == PlateLayout::EUSquare || layout == PlateLayout::Motorcycle;
  const double width =
      std::max((two_rows ? 28 : 12) * aspect, std::exp(uniform(r, std::log(clean ? 80.0 : 40.0), std::log(220.0))));
  const double height = width / aspect;
  const double mx = 0.3 * width + 2, my = 0.3 * height + 2;
  cv::Mat image = procedural_background(r, cv::Size(static_cast<int>(width + 2 * mx), static_cast<int>(height + 2 * my)));
  // A tilt of up to 6 degrees, then each corner moved by up to 8% of the plate's size.
  const double tilt = clean ? 2 : 6, moved = clean ? 0.03 : 0.08;
  const double angle = uniform(r, -tilt, tilt) * M_PI / 180, cx = mx + width / 2, cy = my + height / 2;
  std::vector<cv::Point2f> quad;
  for (auto [fx, fy] : {std::pair{-0.5, -0.5}, {0.5, -0.5}, {0.5, 0.5}, {-0.5, 0.5}}) {
    const double x = fx * width + uniform(r, -moved, moved) * width, y = fy * height + uniform(r, -moved, moved) * height;
    quad.emplace_back(static_cast<float>(cx + x * std::cos(angle) - y * std::sin(angle)),
                      static_cast<float>(cy + x * std::sin(angle) + y * std::cos(angle)));
  }
  PlateRegion region;
  region.centres = plate.centres;
  const cv::Rect covered = warp_plate_into(image, plate.bgr, quad, &region.centres);
  const double fewest = 48 / width;  // never below 48 px of plate width: too few pixels a character
  if (!clean && r.below(5) < 2 && fewest < 0.8) {  // far away: fewer pixels than the region shows
    cv::Mat small;
    const double f = uniform(r, std::max(0.35, fewest), 0.8);
    cv::resize(image, small, cv::Size(), f, f, cv::INTER_AREA);
    cv::resize(small, image, image.size(), 0, 0, cv::INTER_LINEAR);
  }
  if (!clean && r.below(10) < 3) {
    std::vector<uchar> jpeg;
    cv::imencode(".jpg", image, jpeg, {cv::IMWRITE_JPEG_QUALITY, r.between(25, 85)});
    image = cv::imdecode(jpeg, cv::IMREAD_COLOR);
  }
  cv::cvtColor(image, region.rgb, cv::COLOR_BGR2RGB);
  region.box = {float(covered.x), float(covered.y), float(covered.br().x), float(covered.br().y)};
  region.text = plate.registration;
  return region;
}

}  // namespace edgessd
