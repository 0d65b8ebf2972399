// Synthetic licence plates; see plate_render.h.
#include "edgessd/plates/plate_render.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "edgessd/common/error.h"
#include "edgessd/common/random.h"

namespace edgessd {

namespace {

double uniform(Random& r, double lo, double hi) { return r.uniform(lo, hi); }
int uniform_int(Random& r, int lo, int hi) { return r.between(lo, hi); }

cv::Scalar random_colour(Random& r, int lo = 0, int hi = 255) {
  return cv::Scalar(uniform_int(r, lo, hi), uniform_int(r, lo, hi), uniform_int(r, lo, hi));
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
    for (int i = 0; i < shapes; ++i) {
      const cv::Point p(uniform_int(r, 0, size.width), uniform_int(r, 0, size.height));
      const int s = uniform_int(r, 5, size.width / 4);
      switch (uniform_int(r, 0, 3)) {
        case 0: cv::rectangle(image, cv::Rect(p.x, p.y, s, uniform_int(r, 5, s + 5)), random_colour(r), cv::FILLED); break;
        case 1: cv::circle(image, p, s / 2, random_colour(r), cv::FILLED); break;
        case 2: cv::line(image, p, p + cv::Point(uniform_int(r, -s, s), uniform_int(r, -s, s)), random_colour(r), uniform_int(r, 1, 6)); break;
        default: {
          std::string word;
          for (int k = uniform_int(r, 2, 6); k > 0; --k) word += static_cast<char>('a' + uniform_int(r, 0, 25));
          cv::putText(image, word, p, uniform_int(r, 0, 4), uniform(r, 0.4, 1.5), random_colour(r), uniform_int(r, 1, 3));
        }
      }
    }
  } else {  // a street: sky, buildings, road, car-like bodies
    const int horizon = static_cast<int>(size.height * uniform(r, 0.3, 0.55));
    image(cv::Rect(0, 0, size.width, horizon)).setTo(cv::Scalar(uniform_int(r, 150, 255), uniform_int(r, 120, 220), uniform_int(r, 80, 200)));
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
      const cv::Point p(uniform_int(r, -w / 4, size.width - w / 2), uniform_int(r, horizon - h / 3, size.height - h / 2));
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

// Dark enough for light characters (and too dark for a pictured background).
bool is_dark(const cv::Scalar& colour) { return colour[0] + colour[1] + colour[2] < 300; }

PlateColours plate_colours(Random& r) {
  static const cv::Scalar backgrounds[] = {{255, 255, 255}, {40, 220, 250}, {235, 235, 235}, {250, 220, 180},
                                           {200, 255, 255}, {60, 60, 60},    {245, 240, 225}};
  static const cv::Scalar inks[] = {{20, 20, 20}, {120, 40, 0}, {0, 0, 150}, {0, 90, 0}, {90, 30, 30}};
  PlateColours c;
  c.background = backgrounds[r.below(7)];
  c.ink = is_dark(c.background) ? cv::Scalar(230, 230, 230) : inks[r.below(5)];
  return c;
}

// Plain, a vertical gradient, or a pictured plate (large soft blobs of colour).
cv::Mat plate_background(Random& r, cv::Size size, const cv::Scalar& colour) {
  cv::Mat plate(size, CV_8UC3, colour);
  const int kind = r.below(4);
  if (kind == 1) {
    const cv::Scalar other = colour * uniform(r, 0.7, 1.0);
    for (int y = 0; y < size.height; ++y) {
      const double t = static_cast<double>(y) / size.height;
      plate.row(y).setTo(colour * (1 - t) + other * t);
    }
  } else if (kind == 2 && !is_dark(colour)) {
    cv::Mat blobs(size, CV_8UC3, colour);
    for (int i = r.between(2, 5); i > 0; --i)
      cv::ellipse(blobs, cv::Point(r.below(size.width), r.below(size.height)),
                  cv::Size(r.between(20, size.width / 3), r.between(10, size.height / 2)), uniform(r, 0, 180), 0, 360,
                  colour * uniform(r, 0.6, 0.95), cv::FILLED);
    cv::GaussianBlur(blobs, plate, cv::Size(), 9);
  }
  return plate;
}

// The registration's characters drawn large one by one on a common baseline, each
// cropped to its strokes and spaced by at least the stroke width (so neighbours never
// touch, as on a real plate), then the line is scaled into `room` (its height 75-100%,
// condensed or widened by up to 30%) and centred with a jitter.
cv::Mat registration_ink(Random& r, const std::string& drawn, const DrawnPlate& style, const cv::Rect& room) {
  const int font = style.font, thickness = style.thickness;
  const double scale = style.font_scale;
  int baseline = 0;
  const cv::Size cap = cv::getTextSize("0", font, scale, thickness, &baseline);
  const int line_height = cap.height + baseline + 4 * thickness;
  const int gap = thickness + r.between(2, 3 * thickness);
  cv::Mat big(line_height, 2 * thickness, CV_8U, cv::Scalar(0));
  for (char c : drawn) {
    cv::Mat cell(line_height, cap.width * 3, CV_8U, cv::Scalar(0));
    if (c != ' ') cv::putText(cell, std::string(1, c), cv::Point(cap.width / 2, cap.height + 2 * thickness), font, scale,
                              cv::Scalar(255), thickness, cv::LINE_AA);
    const cv::Rect inked = cv::boundingRect(cell > 0);
    const cv::Mat column = c == ' ' ? cv::Mat(line_height, cap.width / 2, CV_8U, cv::Scalar(0))
                                    : cell(cv::Rect(inked.x, 0, inked.width, line_height));
    cv::hconcat(std::vector<cv::Mat>{big, column, cv::Mat(line_height, gap, CV_8U, cv::Scalar(0))}, big);
  }
  cv::Mat strokes = big(cv::boundingRect(big > 0));
  double h = room.height * uniform(r, 0.75, 1.0);
  double w = strokes.cols * h / strokes.rows * uniform(r, 0.75, 1.3);
  if (w > room.width) {  // too long for the plate: condense, never clip
    w = room.width;
    h = std::min(h, w * strokes.rows / strokes.cols * 1.35);
  }
  cv::Mat scaled;
  cv::resize(strokes, scaled, cv::Size(std::max(1, static_cast<int>(w)), std::max(1, static_cast<int>(h))), 0, 0,
             cv::INTER_AREA);
  const int x = room.x + r.between(0, room.width - scaled.cols), y = room.y + r.between(0, room.height - scaled.rows);
  cv::Mat ink(style.bgr.size(), CV_8U, cv::Scalar(0));
  scaled.copyTo(ink(cv::Rect(x, y, scaled.cols, scaled.rows)));
  return ink;
}

// `colour` painted over `plate` with `alpha` (CV_8U, 255 = opaque).
void paint(cv::Mat& plate, const cv::Mat& alpha, const cv::Scalar& colour) {
  for (int y = 0; y < plate.rows; ++y) {
    cv::Vec3b* p = plate.ptr<cv::Vec3b>(y);
    const uchar* a = alpha.ptr<uchar>(y);
    for (int x = 0; x < plate.cols; ++x)
      for (int c = 0; c < 3; ++c) p[x][c] = cv::saturate_cast<uchar>(p[x][c] + (colour[c] - p[x][c]) * a[x] / 255.0);
  }
}

void small_text(Random& r, cv::Mat& plate, const cv::Rect& band, const cv::Scalar& ink) {
  if (band.height < 8 || band.width < 20) return;
  std::string words;
  for (int i = r.between(4, 12); i > 0; --i) words += static_cast<char>('A' + r.below(26));
  int baseline = 0;
  const cv::Size one = cv::getTextSize(words, cv::FONT_HERSHEY_SIMPLEX, 1.0, 2, &baseline);
  const double s = std::min(band.height * 0.8 / one.height, band.width * 0.9 / one.width);
  const cv::Size ss = cv::getTextSize(words, cv::FONT_HERSHEY_SIMPLEX, s, 2, &baseline);
  cv::putText(plate, words, cv::Point(band.x + (band.width - ss.width) / 2, band.y + (band.height + ss.height) / 2),
              cv::FONT_HERSHEY_SIMPLEX, s, ink, 2, cv::LINE_AA);
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
  p.font = fonts[r.below(5)] | (r.below(6) == 0 ? cv::FONT_ITALIC : 0);
  // Every face drawn with a 60 px cap height, so a stroke of 3-8 px is as bold on each.
  int baseline = 0;
  p.font_scale = 60.0 / cv::getTextSize("0", p.font, 1.0, 1, &baseline).height;
  p.thickness = r.between(3, 8);
  decorate(r, p.bgr, room, band, colours);
  p.ink = registration_ink(r, drawn, p, room);
  if (r.below(4) == 0) {  // embossed: a shadow of the strokes down and to the right
    const int dx = r.between(1, 3), dy = r.between(1, 3);
    cv::Mat shadow(p.ink.size(), CV_8U, cv::Scalar(0));
    p.ink(cv::Rect(0, 0, width - dx, height - dy)).copyTo(shadow(cv::Rect(dx, dy, width - dx, height - dy)));
    paint(p.bgr, shadow, colours.ink * 0.5 + colours.background * 0.2);
  }
  paint(p.bgr, p.ink, colours.ink);
  return p;
}

cv::Rect warp_plate_into(cv::Mat& image, const cv::Mat& plate, const std::vector<cv::Point2f>& quad) {
  const std::vector<cv::Point2f> source = {{0, 0}, {float(plate.cols), 0}, {float(plate.cols), float(plate.rows)},
                                           {0, float(plate.rows)}};
  const cv::Mat transform = cv::getPerspectiveTransform(source, quad);
  cv::Mat warped, mask;
  cv::warpPerspective(plate, warped, transform, image.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT);
  cv::warpPerspective(cv::Mat(plate.size(), CV_8U, cv::Scalar(255)), mask, transform, image.size(), cv::INTER_LINEAR,
                      cv::BORDER_CONSTANT);
  const cv::Mat covered = mask > 127;
  warped.copyTo(image, covered);
  return cv::boundingRect(covered);
}

PlateRegion synthetic_plate_region(Random& r, const std::string& alphabet) {
  const double aspect = r.coin() ? uniform(r, 1.8, 2.4) : uniform(r, 1.8, 4.7);
  const DrawnPlate plate = draw_plate(r, aspect, alphabet);
  const double width = std::exp(uniform(r, std::log(40.0), std::log(200.0))), height = width / aspect;
  const double mx = 0.3 * width + 2, my = 0.3 * height + 2;
  cv::Mat image = procedural_background(r, cv::Size(static_cast<int>(width + 2 * mx), static_cast<int>(height + 2 * my)));
  // A tilt of up to 6 degrees, then each corner moved by up to 8% of the plate's size.
  const double angle = uniform(r, -6, 6) * M_PI / 180, cx = mx + width / 2, cy = my + height / 2;
  std::vector<cv::Point2f> quad;
  for (auto [fx, fy] : {std::pair{-0.5, -0.5}, {0.5, -0.5}, {0.5, 0.5}, {-0.5, 0.5}}) {
    const double x = fx * width + uniform(r, -0.08, 0.08) * width, y = fy * height + uniform(r, -0.08, 0.08) * height;
    quad.emplace_back(static_cast<float>(cx + x * std::cos(angle) - y * std::sin(angle)),
                      static_cast<float>(cy + x * std::sin(angle) + y * std::cos(angle)));
  }
  const cv::Rect covered = warp_plate_into(image, plate.bgr, quad);
  const double fewest = 48 / width;  // never below 48 px of plate width: too few pixels a character
  if (r.below(5) < 2 && fewest < 0.8) {  // far away: fewer pixels than the region shows
    cv::Mat small;
    const double f = uniform(r, std::max(0.35, fewest), 0.8);
    cv::resize(image, small, cv::Size(), f, f, cv::INTER_AREA);
    cv::resize(small, image, image.size(), 0, 0, cv::INTER_LINEAR);
  }
  if (r.below(10) < 3) {
    std::vector<uchar> jpeg;
    cv::imencode(".jpg", image, jpeg, {cv::IMWRITE_JPEG_QUALITY, r.between(25, 85)});
    image = cv::imdecode(jpeg, cv::IMREAD_COLOR);
  }
  PlateRegion region;
  cv::cvtColor(image, region.rgb, cv::COLOR_BGR2RGB);
  region.box = {float(covered.x), float(covered.y), float(covered.br().x), float(covered.br().y)};
  region.text = plate.registration;
  return region;
}

}  // namespace edgessd
