// The shared drawing steps of synthetic plates; see plate_drawing.h.
#include "edgessd/plates/plate_drawing.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>

#include "edgessd/common/error.h"
#include "edgessd/common/random.h"

namespace edgessd::plate_drawing {

bool is_dark(const cv::Scalar& colour) { return colour[0] + colour[1] + colour[2] < 300; }

cv::Mat plate_background(Random& r, cv::Size size, const cv::Scalar& colour) {
  cv::Mat plate(size, CV_8UC3, colour);
  const int kind = r.below(4);
  if (kind == 1) {
    const cv::Scalar other = colour * r.uniform(0.7, 1.0);
    for (int y = 0; y < size.height; ++y) {
      const double t = static_cast<double>(y) / size.height;
      plate.row(y).setTo(colour * (1 - t) + other * t);
    }
  } else if (kind == 2 && !is_dark(colour)) {
    cv::Mat blobs(size, CV_8UC3, colour);
    for (int i = r.between(2, 5); i > 0; --i) {  // one draw a statement, in GCC's old order
      const double shade = r.uniform(0.6, 0.95), angle = r.uniform(0, 180);
      const int half_height = r.between(10, size.height / 2), half_width = r.between(20, size.width / 3);
      const int y = r.below(size.height), x = r.below(size.width);
      cv::ellipse(blobs, cv::Point(x, y), cv::Size(half_width, half_height), angle, 0, 360, colour * shade, cv::FILLED);
    }
    cv::GaussianBlur(blobs, plate, cv::Size(), 9);
  }
  return plate;
}

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

namespace {

constexpr int kEm = 96;  // TrueType glyphs are drawn this large, then scaled with the line

// One character as a column of the line: `height` rows, the glyph's ink at its place
// relative to the baseline row, cropped to its ink in x. A space is an empty column, and
// an emblem's space ('_') one as wide as a character.
cv::Mat character_column(char c, const DrawnPlate& style, int height, int baseline_row, int space) {
  if (c == ' ') return cv::Mat(height, space, CV_8U, cv::Scalar(0));
  if (c == kEmblemSpace) return cv::Mat(height, 2 * space, CV_8U, cv::Scalar(0));
  cv::Mat cell(height, 3 * height, CV_8U, cv::Scalar(0));
  if (style.face) {
    const Glyph g = render_glyph(*style.face, c, kEm);
    if (g.coverage.empty()) return cv::Mat(height, space, CV_8U, cv::Scalar(0));
    const int y = std::clamp(baseline_row - g.top, 0, std::max(0, height - g.coverage.rows));
    const cv::Rect at(height / 2, y, g.coverage.cols, std::min(g.coverage.rows, height - y));
    g.coverage(cv::Rect(0, 0, at.width, at.height)).copyTo(cell(at));
    if (style.thickness > 0)  // bolder than the face: plates' strokes are heavy
      cv::dilate(cell, cell, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(style.thickness, style.thickness)));
  } else {
    cv::putText(cell, std::string(1, c), cv::Point(height / 4, baseline_row), style.font, style.font_scale,
                cv::Scalar(255), style.thickness, cv::LINE_AA);
  }
  const cv::Rect inked = cv::boundingRect(cell > 0);
  if (inked.empty()) return cv::Mat(height, space, CV_8U, cv::Scalar(0));
  return cell(cv::Rect(inked.x, 0, inked.width, height));
}

}  // namespace

RegistrationInk registration_ink(Random& r, const std::string& drawn, const DrawnPlate& style, const cv::Rect& room,
                                 double fill) {
  int height = 0, baseline_row = 0, stroke = style.thickness, space = 0;
  if (style.face) {
    height = kEm + kEm / 3, baseline_row = kEm, space = kEm / 3;
    stroke = std::max(2, kEm / 12);
  } else {
    int baseline = 0;
    const cv::Size cap = cv::getTextSize("0", style.font, style.font_scale, style.thickness, &baseline);
    height = cap.height + baseline + 4 * style.thickness, baseline_row = cap.height + 2 * style.thickness;
    space = cap.width / 2;
  }
  const int gap = stroke + r.between(2, 3 * stroke);
  cv::Mat big(height, 2 * stroke, CV_8U, cv::Scalar(0));
  std::vector<std::pair<int, int>> spaces, emblem_spaces;  // x range of each space on the big line
  std::vector<double> middles;                              // x of each registration character on it
  for (char c : drawn) {
    const cv::Mat column = character_column(c, style, height, baseline_row, space);
    if (c == ' ') spaces.emplace_back(big.cols, big.cols + column.cols);
    else if (c == kEmblemSpace) emblem_spaces.emplace_back(big.cols, big.cols + column.cols);
    else if (c != '-') middles.push_back(big.cols + column.cols / 2.0);
    cv::hconcat(std::vector<cv::Mat>{big, column, cv::Mat(height, gap, CV_8U, cv::Scalar(0))}, big);
  }
  RegistrationInk out;
  out.ink = cv::Mat(style.bgr.size(), CV_8U, cv::Scalar(0));
  const cv::Rect inked = cv::boundingRect(big > 0);
  if (inked.empty()) return out;  // nothing drawable (no glyph for any character)
  const cv::Mat strokes = big(inked);
  double h = room.height * r.uniform(fill, 1.0);
  double w = strokes.cols * h / strokes.rows * r.uniform(0.75, 1.3);
  if (w > room.width) {  // too long for the plate: condense, never clip
    w = room.width;
    h = std::min(h, w * strokes.rows / strokes.cols * 1.35);
  }
  cv::Mat scaled;
  cv::resize(strokes, scaled, cv::Size(std::max(1, static_cast<int>(w)), std::max(1, static_cast<int>(h))), 0, 0,
             cv::INTER_AREA);
  const int x = room.x + r.between(0, room.width - scaled.cols), y = room.y + r.between(0, room.height - scaled.rows);
  scaled.copyTo(out.ink(cv::Rect(x, y, scaled.cols, scaled.rows)));
  const double sx = static_cast<double>(scaled.cols) / strokes.cols;
  auto on_plate = [&](const std::pair<int, int>& space_x) {
    return cv::Rect(x + static_cast<int>((space_x.first - inked.x) * sx), y,
                    std::max(1, static_cast<int>((space_x.second - space_x.first) * sx)), scaled.rows);
  };
  for (const auto& s : spaces) out.gaps.push_back(on_plate(s));
  for (const auto& s : emblem_spaces) out.emblem_gaps.push_back(on_plate(s));
  for (double m : middles)
    out.centres.emplace_back(static_cast<float>(x + (m - inked.x) * sx), static_cast<float>(y + scaled.rows / 2.0));
  return out;
}

void set_registration(DrawnPlate& plate, RegistrationInk&& ink) {
  plate.ink = std::move(ink.ink);
  plate.centres = std::move(ink.centres);
}

void face_text(const std::string& text, const PlateFace* face, cv::Mat& plate, const cv::Rect& band,
               const cv::Scalar& colour) {
  if (band.width < 8 || band.height < 6 || text.empty()) return;
  DrawnPlate style;
  style.bgr = cv::Mat(band.size(), CV_8UC3);
  style.face = face;
  style.font = cv::FONT_HERSHEY_SIMPLEX;
  style.font_scale = 2.0;
  style.thickness = face ? 0 : 3;
  Random fixed(1);  // centred, no jitter: the same text looks the same on every plate
  const cv::Rect inner(band.width / 10, band.height / 10, band.width - band.width / 5, band.height - band.height / 5);
  const cv::Mat ink = registration_ink(fixed, text, style, inner, 1.0).ink;
  cv::Mat region = plate(band);
  paint(region, ink, colour);
}

std::string formatted_registration(Random& r, const std::string& alphabet, const std::vector<std::string>& formats,
                                   double free_share, const std::string& separators, std::string* drawn) {
  std::string letters, digits;
  for (char c : alphabet) {
    if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
    else if (std::isalpha(static_cast<unsigned char>(c))) letters += c;
  }
  const std::string both = letters + digits;
  if (both.empty()) throw Error("the character set '" + alphabet + "' has no letter or digit to draw plates with");
  const bool formatted = !letters.empty() && !digits.empty() && !formats.empty() && r.uniform(0, 1) >= free_share;
  std::string format = formatted ? formats[static_cast<size_t>(r.below(static_cast<int>(formats.size())))]
                                 : std::string(static_cast<size_t>(r.between(5, 8)), '?');
  if (!formatted && r.coin()) format.insert(static_cast<size_t>(r.between(2, 4)), " ");
  const char separator = separators.empty() ? '.' : separators[static_cast<size_t>(r.below(int(separators.size())))];
  auto pick = [&](const std::string& from) { return from[static_cast<size_t>(r.below(static_cast<int>(from.size())))]; };
  std::string text;
  if (drawn) drawn->clear();
  for (char f : format) {
    if (f == ' ' || f == '|') {
      if (drawn && (f == '|' || separator != '.')) *drawn += f == '|' ? '|' : separator;
      continue;
    }
    const char c = pick(f == 'A' && !letters.empty() ? letters : f == '9' && !digits.empty() ? digits : both);
    text += c;
    if (drawn) *drawn += c;
  }
  return text;
}

}  // namespace edgessd::plate_drawing
