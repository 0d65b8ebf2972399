// The layouts of real plates for the reader's synthetic data; see plate_render.h.
// Proportions are the plates' own (mm or inches), drawn 120 px high.
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <iterator>

#include "edgessd/common/random.h"
#include "edgessd/plates/plate_drawing.h"
#include "edgessd/plates/plate_render.h"

namespace edgessd {

using namespace plate_drawing;

namespace {

const char* const kAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const cv::Scalar kEuBlue(150, 50, 0), kEuYellow(0, 210, 255), kBlack(25, 25, 25), kWhite(250, 250, 250);

// ' ' marks where a separator (or on EU plates a city's emblem) may stand.
const std::vector<std::string> kUsFormats = {"9AAA999", "AAA 9999", "AAA 999", "999 AAA", "9AA 9999",
                                             "AA9 9999", "99A 999",  "A99 AAA", "AAA9A9",  "9 AAA 999"};
const std::vector<std::string> kEuFormats = {"AA 999 AA", "AA 9999 AA", "AA99 AAA", "AA 999AA", "9999 AAA",
                                             "A 999 AAA", "AA 99999",   "AAA 999",  "AA 9999 A", "AAA 99AA"};
const std::vector<std::string> kMercosurFormats = {"AAA9A99", "AAA9A99", "AAA9A99", "AA 999 AA", "AAA 9999"};
// '|' breaks the rows of two-row plates (square EU plates, South American motorcycles).
const std::vector<std::string> kEuSquareFormats = {"AA|9999", "AAA|999", "AA 999|AA", "A 99|AAA",
                                                   "AA|999 AA", "AA 99|999", "AAA|99A"};
const std::vector<std::string> kMotorcycleFormats = {"AAA|9A99", "AAA|9999"};
const std::vector<std::string> kCountries = {"BRASIL", "ARGENTINA", "URUGUAY", "PARAGUAY"};

const PlateFace* face_for(Random& r, FaceStyle style) {
  if (r.below(10) == 0) style = FaceStyle::Any;
  const std::vector<const PlateFace*> faces = faces_of_style(style);
  return faces.empty() ? nullptr : faces[static_cast<size_t>(r.below(static_cast<int>(faces.size())))];
}

// The registration's style: a TrueType face (a Hershey face when none is installed),
// made a little bolder at times.
void choose_face(Random& r, DrawnPlate& p, FaceStyle style) {
  p.face = face_for(r, style);
  p.font = cv::FONT_HERSHEY_DUPLEX;
  int baseline = 0;
  p.font_scale = 60.0 / cv::getTextSize("0", p.font, 1.0, 1, &baseline).height;
  p.thickness = p.face ? (r.below(3) == 0 ? r.between(2, 4) : 0) : r.between(4, 7);  // bolder, counters kept open
}

std::string random_word(Random& r, int lo, int hi) {
  std::string w;
  for (int i = r.between(lo, hi); i > 0; --i) w += static_cast<char>('A' + r.below(26));
  return w;
}

// The EU band: twelve stars in a ring over the country code.
void eu_band(Random& r, cv::Mat& plate, int band) {
  const int h = plate.rows;
  cv::rectangle(plate, cv::Rect(0, 0, band, h), kEuBlue, cv::FILLED);
  const cv::Point2d centre(band / 2.0, h * 0.3);
  const double radius = band * 0.3;
  for (int i = 0; i < 12; ++i) {
    const double a = i * M_PI / 6;
    cv::circle(plate, cv::Point(static_cast<int>(centre.x + radius * std::cos(a)), static_cast<int>(centre.y + radius * std::sin(a))),
               std::max(1, band / 22), kEuYellow, cv::FILLED, cv::LINE_AA);
  }
  const std::string code = r.coin() ? std::string(1, static_cast<char>('A' + r.below(26))) : random_word(r, 2, 2);
  face_text(code, face_for(r, FaceStyle::Din), plate, cv::Rect(0, h * 6 / 10, band, h * 35 / 100), kWhite);
}

// A national mark where the band would stand (plates from before the band, and countries
// outside the EU): a shield or a flag over the country code, on the plate's own paper.
void national_mark(Random& r, cv::Mat& plate, int band, const cv::Scalar& paper) {
  const int h = plate.rows, side = band * 7 / 10, x = (band - side) / 2 + 2, y = h / 8;
  static const cv::Scalar colours[] = {{40, 40, 200}, {150, 50, 0}, {250, 250, 250}, {40, 140, 40}, {0, 200, 250}};
  const int stripes = r.between(2, 3);
  for (int i = 0; i < stripes; ++i) {  // a flag's stripes, or a shield's fields
    const cv::Rect field(x, y + side * i / stripes, side, side / stripes + 1);
    cv::rectangle(plate, field, colours[r.below(static_cast<int>(std::size(colours)))], cv::FILLED);
  }
  if (r.coin()) {  // a shield: its lower corners cut away, a cross on it
    const cv::Point left[] = {{x, y + side * 2 / 3}, {x, y + side + 1}, {x + side / 2, y + side + 1}};
    const cv::Point right[] = {{x + side, y + side * 2 / 3}, {x + side, y + side + 1}, {x + side / 2, y + side + 1}};
    cv::fillConvexPoly(plate, left, 3, paper);
    cv::fillConvexPoly(plate, right, 3, paper);
    cv::line(plate, {x + side / 2, y + side / 6}, {x + side / 2, y + side * 2 / 3}, kWhite, std::max(1, side / 8));
    cv::line(plate, {x + side / 4, y + side / 3}, {x + side * 3 / 4, y + side / 3}, kWhite, std::max(1, side / 8));
  }
  const std::string code = random_word(r, 1, 3);
  face_text(code, face_for(r, FaceStyle::Din), plate, cv::Rect(0, y + side + h / 20, band, h / 5), kBlack);
}

// Mercosur's blue band across the top, `top` high, naming a member country in `name`.
void mercosur_band(Random& r, cv::Mat& plate, int top, const cv::Rect& name) {
  cv::rectangle(plate, cv::Rect(0, 0, plate.cols, top), kEuBlue, cv::FILLED);
  const std::string& country = kCountries[static_cast<size_t>(r.below(static_cast<int>(kCountries.size())))];
  face_text(country, face_for(r, FaceStyle::Din), plate, name, kWhite);
}

// A city's emblem, a sticker or a seal in a gap between the registration's groups.
void emblem(Random& r, cv::Mat& plate, const cv::Rect& gap) {
  if (gap.width < 4) return;
  const cv::Point centre(gap.x + gap.width / 2, gap.y + gap.height / 2);
  const int radius = std::max(2, std::min(gap.width, gap.height) / 2 - 1);
  if (r.coin()) {  // a shield: red and white
    cv::rectangle(plate, cv::Rect(centre.x - radius * 2 / 3, centre.y - radius, radius * 4 / 3, radius * 3 / 2),
                  cv::Scalar(40, 40, 200), cv::FILLED);
    cv::circle(plate, centre + cv::Point(0, radius / 2), radius * 2 / 3, cv::Scalar(40, 40, 200), cv::FILLED);
    cv::rectangle(plate, cv::Rect(centre.x - radius / 4, centre.y - radius * 3 / 4, radius / 2, radius / 2), kWhite, cv::FILLED);
  } else {  // round stickers, one above the other
    cv::circle(plate, centre - cv::Point(0, radius / 2), radius / 2, random_colour(r, 60, 230), cv::FILLED);
    cv::circle(plate, centre + cv::Point(0, radius / 2), radius / 2, random_colour(r, 60, 230), cv::FILLED);
  }
}

// A ragged shape in one colour, at times with a second inside it (a state's outline, a
// keystone).
void ragged_shape(Random& r, cv::Mat& plate, const cv::Point2d& centre, double rx, double ry) {
  const int shapes = r.between(1, 2);
  for (int s = 0; s < shapes; ++s) {
    const double scale = s == 0 ? 1.0 : r.uniform(0.3, 0.6);
    std::vector<cv::Point> outline;
    const int corners = r.between(5, 10);
    for (int i = 0; i < corners; ++i) {
      const double a = 2 * M_PI * i / corners, reach = scale * r.uniform(0.6, 1.0);
      outline.emplace_back(static_cast<int>(centre.x + rx * reach * std::cos(a)),
                           static_cast<int>(centre.y + ry * reach * std::sin(a)));
    }
    cv::fillPoly(plate, std::vector<std::vector<cv::Point>>{outline}, random_colour(r, 20, 230), cv::LINE_AA);
  }
}

// A flag: a dark field strewn with light stars (Alaska's dipper).
void flag_graphic(Random& r, cv::Mat& plate, const cv::Point2d& centre, double rx, double ry) {
  const cv::Rect field(static_cast<int>(centre.x - rx), static_cast<int>(centre.y - ry), static_cast<int>(2 * rx),
                       static_cast<int>(2 * ry));
  cv::rectangle(plate, field, random_colour(r, 20, 150), cv::FILLED);
  const cv::Scalar star = random_colour(r, 170, 255);
  for (int i = r.between(4, 9); i > 0; --i) {
    const int x = field.x + r.below(std::max(1, field.width));  // one draw a statement: a fixed order
    const int y = field.y + r.below(std::max(1, field.height));
    cv::circle(plate, {x, y}, std::max(1, static_cast<int>(rx * r.uniform(0.12, 0.25))), star, cv::FILLED, cv::LINE_AA);
  }
}

// A picture in many colours (a bird on a branch, a flower, a landscape): blobs of
// saturated colour over one another, taller than the letters at times.
void picture_graphic(Random& r, cv::Mat& plate, const cv::Point2d& centre, double rx, double ry) {
  for (int i = r.between(3, 7); i > 0; --i) {
    const int x = static_cast<int>(centre.x + rx * r.uniform(-0.5, 0.5));  // one draw a statement
    const int y = static_cast<int>(centre.y + ry * r.uniform(-0.5, 0.5));
    const int ax = std::max(1, static_cast<int>(rx * r.uniform(0.35, 0.7)));
    const int ay = std::max(1, static_cast<int>(ry * r.uniform(0.3, 0.6)));
    cv::Scalar colour = random_colour(r, 0, 255);
    const int low = r.below(3);
    colour[low] = r.uniform(0, 60);  // saturated: one channel low
    const double angle = r.uniform(0, 180);
    cv::ellipse(plate, {x, y}, {ax, ay}, angle, 0, 360, colour, cv::FILLED, cv::LINE_AA);
  }
}

// A state's graphic between the groups: a ragged shape, a flag or a picture, about as tall
// as the letters.
void state_graphic(Random& r, cv::Mat& plate, const cv::Rect& gap) {
  if (gap.width < 4) return;
  const cv::Point2d centre(gap.x + gap.width / 2.0, gap.y + gap.height / 2.0);
  const double rx = gap.width / 2.0;
  const int kind = r.below(3);
  if (kind == 0) {
    ragged_shape(r, plate, centre, rx, gap.height * r.uniform(0.35, 0.55));
  } else if (kind == 1) {
    const double fx = r.uniform(0.85, 1.0);
    flag_graphic(r, plate, centre, rx * fx, gap.height * r.uniform(0.35, 0.5));
  } else {
    picture_graphic(r, plate, centre, rx, gap.height * r.uniform(0.45, 0.6));
  }
}

DrawnPlate us_plate(Random& r, const std::string& alphabet) {
  DrawnPlate p;
  const int h = 120, w = static_cast<int>(h * r.uniform(1.9, 2.1));
  static const cv::Scalar backgrounds[] = {{250, 250, 250}, {240, 245, 250}, {215, 240, 250}, {250, 235, 215},
                                           {200, 230, 245}};
  static const cv::Scalar inks[] = {{110, 30, 10}, {25, 25, 25}, {30, 30, 160}, {30, 90, 20}, {90, 20, 60}};
  const cv::Scalar ink = inks[r.below(5)];
  p.bgr = plate_background(r, cv::Size(w, h), backgrounds[r.below(5)]);
  choose_face(r, p, FaceStyle::Narrow);
  std::string drawn;
  p.registration = formatted_registration(r, alphabet, kUsFormats, 0.4, std::string(". -") + kEmblemSpace, &drawn);
  const cv::Rect room(w / 14, h * 26 / 100, w - w / 7, h * 56 / 100);
  const std::string state = random_word(r, 4, 12);  // one draw a statement: a fixed order on every compiler
  const PlateFace* state_face = face_for(r, FaceStyle::Any);
  const cv::Scalar state_ink = r.coin() ? ink : random_colour(r, 0, 160);
  face_text(state, state_face, p.bgr, cv::Rect(w / 6, 3, w * 2 / 3, room.y - 4), state_ink);
  if (r.coin()) small_text(r, p.bgr, cv::Rect(w / 5, room.br().y + 2, w * 3 / 5, h - room.br().y - 6), ink);
  if (r.coin()) cv::rectangle(p.bgr, cv::Rect(0, 0, w, h), ink, r.between(2, 5));
  if (r.below(3) == 0) {  // registration stickers in the top corners
    const int sw = w / 9, x = r.coin() ? 6 : w - sw - 6;
    cv::rectangle(p.bgr, cv::Rect(x, 4, sw, room.y - 6), random_colour(r, 60, 255), cv::FILLED);
  }
  RegistrationInk registration = registration_ink(r, drawn, p, room);
  for (const cv::Rect& gap : registration.emblem_gaps) state_graphic(r, p.bgr, gap);
  set_registration(p, std::move(registration));
  paint(p.bgr, p.ink, ink);
  return p;
}

DrawnPlate eu_plate(Random& r, const std::string& alphabet) {
  DrawnPlate p;
  const int h = 120, w = static_cast<int>(h * r.uniform(4.4, 4.8)), band = w * 9 / 100;
  const bool yellow = r.below(6) == 0;  // rear plates of the Netherlands and the UK
  // Light on dark, one in ten: historic plates (black, silver or cream letters), special
  // series and older national ones (dark blue, green or red, white letters).
  static const cv::Scalar dark_papers[] = {{25, 25, 25}, {20, 20, 20}, {110, 40, 10}, {40, 80, 20}, {30, 30, 130}};
  static const cv::Scalar light_inks[] = {{245, 245, 245}, {190, 190, 190}, {170, 220, 235}};
  const bool dark = r.below(10) == 0;
  const cv::Scalar paper = dark ? dark_papers[r.below(5)] : yellow ? cv::Scalar(20, 200, 250) : cv::Scalar(245, 245, 245);
  const cv::Scalar ink = dark ? light_inks[r.below(3)] : kBlack;
  p.bgr = plate_background(r, cv::Size(w, h), paper);
  cv::rectangle(p.bgr, cv::Rect(0, 0, w, h), ink, r.between(2, 5));
  const int mark = r.below(8);  // the band on most, a national mark on some, nothing on the rest
  if (mark > 2) eu_band(r, p.bgr, band);
  if (mark == 1 || mark == 2) national_mark(r, p.bgr, band, paper);
  choose_face(r, p, FaceStyle::Din);
  std::string drawn;
  p.registration = formatted_registration(r, alphabet, kEuFormats, 0.2, std::string(" -.") + kEmblemSpace, &drawn);
  const cv::Rect room(band + w / 40, h / 10, w - band - w / 20, h * 8 / 10);
  RegistrationInk registration = registration_ink(r, drawn, p, room, 0.85);
  for (const cv::Rect& gap : registration.gaps)
    if (r.coin()) emblem(r, p.bgr, gap);
  for (const cv::Rect& gap : registration.emblem_gaps) emblem(r, p.bgr, gap);
  set_registration(p, std::move(registration));
  paint(p.bgr, p.ink, ink);
  return p;
}

// Brazil's grey plates (AAA-9999 under the town) and the Mercosur plates that replace them.
DrawnPlate south_american_plate(Random& r, bool mercosur, const std::string& alphabet) {
  DrawnPlate p;
  const int h = 120, w = static_cast<int>(h * r.uniform(2.95, 3.2));
  const cv::Scalar paper = mercosur ? cv::Scalar(245, 245, 245) : cv::Scalar::all(r.between(160, 205));
  p.bgr = plate_background(r, cv::Size(w, h), paper);
  cv::rectangle(p.bgr, cv::Rect(0, 0, w, h), kBlack, r.between(2, 5));
  choose_face(r, p, mercosur ? FaceStyle::Din : FaceStyle::Narrow);
  std::string drawn;
  const int top = h * 24 / 100;
  if (mercosur) {
    mercosur_band(r, p.bgr, top, cv::Rect(w / 4, 0, w / 2, top));
    cv::rectangle(p.bgr, cv::Rect(w - w / 9, top / 5, w / 12, top * 3 / 5), cv::Scalar(40, 160, 40), cv::FILLED);
    p.registration = formatted_registration(r, alphabet, kMercosurFormats, 0.1, ". ", &drawn);
  } else {
    small_text(r, p.bgr, cv::Rect(w / 5, 3, w * 3 / 5, top - 4), kBlack);
    p.registration = formatted_registration(r, alphabet, {"AAA 9999"}, 0.1, "-", &drawn);
  }
  const cv::Rect room(w / 20, top + h / 20, w - w / 10, h - top - h / 10);
  set_registration(p, registration_ink(r, drawn, p, room, 0.85));
  paint(p.bgr, p.ink, kBlack);
  return p;
}

// Two rows, each in its half of `room`: `drawn` broken at its '|', or a free one after
// half of its characters.
RegistrationInk two_row_ink(Random& r, const std::string& drawn, const DrawnPlate& style, const cv::Rect& room) {
  const size_t bar = drawn.find('|');
  size_t cut = bar;
  if (bar == std::string::npos) {  // a free registration: its first half of characters on top
    auto is_char = [](char c) { return c != ' ' && c != '-' && c != kEmblemSpace; };
    const size_t chars = static_cast<size_t>(std::count_if(drawn.begin(), drawn.end(), is_char));
    size_t seen = 0;
    for (cut = 0; cut < drawn.size() && seen < (chars + 1) / 2; ++cut) seen += is_char(drawn[cut]);
  }
  const std::string top = drawn.substr(0, cut);
  const std::string bottom = bar == std::string::npos ? drawn.substr(cut) : drawn.substr(bar + 1);
  const int gap = room.height / 10, row = (room.height - gap) / 2;
  RegistrationInk ink = registration_ink(r, top, style, cv::Rect(room.x, room.y, room.width, row), 0.85);
  RegistrationInk lower = registration_ink(r, bottom, style, cv::Rect(room.x, room.y + row + gap, room.width, row), 0.85);
  cv::max(ink.ink, lower.ink, ink.ink);
  ink.gaps.insert(ink.gaps.end(), lower.gaps.begin(), lower.gaps.end());
  ink.emblem_gaps.insert(ink.emblem_gaps.end(), lower.emblem_gaps.begin(), lower.emblem_gaps.end());
  ink.centres.insert(ink.centres.end(), lower.centres.begin(), lower.centres.end());
  return ink;
}

// A square EU plate (280 x 200 mm and kin): the band down the left, two rows.
DrawnPlate eu_square_plate(Random& r, const std::string& alphabet) {
  DrawnPlate p;
  const int h = 120, w = static_cast<int>(h * r.uniform(1.3, 1.5)), band = w * 13 / 100;
  p.bgr = plate_background(r, cv::Size(w, h), r.below(6) == 0 ? cv::Scalar(20, 200, 250) : cv::Scalar(245, 245, 245));
  cv::rectangle(p.bgr, cv::Rect(0, 0, w, h), kBlack, r.between(2, 4));
  if (r.below(8) > 0) eu_band(r, p.bgr, band);
  choose_face(r, p, FaceStyle::Din);
  std::string drawn;
  p.registration = formatted_registration(r, alphabet, kEuSquareFormats, 0.2, " -.", &drawn);
  const cv::Rect room(band + w / 30, h / 14, w - band - w / 15, h - h / 7);
  set_registration(p, two_row_ink(r, drawn, p, room));
  paint(p.bgr, p.ink, kBlack);
  return p;
}

// South American motorcycle plates (200 x 170 mm): Mercosur's under its band, or Brazil's
// grey ones under the town; three letters over the rest.
DrawnPlate motorcycle_plate(Random& r, const std::string& alphabet) {
  DrawnPlate p;
  const bool mercosur = r.coin();
  const int h = 120, w = static_cast<int>(h * (mercosur ? r.uniform(1.12, 1.25) : r.uniform(1.3, 1.45)));
  const int top = h * 18 / 100;
  p.bgr = plate_background(r, cv::Size(w, h), mercosur ? cv::Scalar(245, 245, 245) : cv::Scalar::all(r.between(160, 205)));
  cv::rectangle(p.bgr, cv::Rect(0, 0, w, h), kBlack, r.between(2, 4));
  if (mercosur) {
    mercosur_band(r, p.bgr, top, cv::Rect(w / 6, 0, w * 2 / 3, top));
  } else {
    small_text(r, p.bgr, cv::Rect(w / 6, 3, w * 2 / 3, top - 4), kBlack);
  }
  choose_face(r, p, mercosur ? FaceStyle::Din : FaceStyle::Narrow);
  std::string drawn;
  p.registration = formatted_registration(r, alphabet, kMotorcycleFormats, 0.1, ".", &drawn);
  const cv::Rect room(w / 12, top + h / 30, w - w / 6, h - top - h / 15);
  set_registration(p, two_row_ink(r, drawn, p, room));
  paint(p.bgr, p.ink, kBlack);
  return p;
}

}  // namespace

PlateLayout random_layout(Random& r) {
  const int n = r.below(40);
  return n < 13 ? PlateLayout::US : n < 24 ? PlateLayout::EU : n < 28 ? PlateLayout::Brazil
       : n < 32 ? PlateLayout::Mercosur : n < 37 ? PlateLayout::Free : n < 39 ? PlateLayout::EUSquare
                                                                       : PlateLayout::Motorcycle;
}

PlateLayout random_two_row_layout(Random& r) { return r.below(3) < 2 ? PlateLayout::EUSquare : PlateLayout::Motorcycle; }

DrawnPlate draw_layout_plate(Random& r, PlateLayout layout, const std::string& alphabet) {
  const std::string chars = alphabet.empty() ? std::string(kAlphabet) : alphabet;
  DrawnPlate p;
  switch (layout) {
    case PlateLayout::US: p = us_plate(r, chars); break;
    case PlateLayout::EU: p = eu_plate(r, chars); break;
    case PlateLayout::Brazil: p = south_american_plate(r, false, chars); break;
    case PlateLayout::Mercosur: p = south_american_plate(r, true, chars); break;
    case PlateLayout::EUSquare: p = eu_square_plate(r, chars); break;
    case PlateLayout::Motorcycle: p = motorcycle_plate(r, chars); break;
    case PlateLayout::Free: p = draw_plate(r, r.coin() ? r.uniform(1.8, 2.4) : r.uniform(1.8, 4.7), alphabet); break;
  }
  p.layout = layout;
  return p;
}

}  // namespace edgessd
