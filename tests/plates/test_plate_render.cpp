#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cctype>
#include <map>
#include <set>
#include <tuple>

#include "edgessd/common/error.h"
#include "edgessd/common/random.h"
#include "edgessd/plates/plate_render.h"
#include "support/test_support.h"

using namespace edgessd;

namespace {

const std::string kReadable = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-";

// A glyph's strokes as the drawer draws them large (putText, or the TrueType face made
// bolder by the plate's extra stroke), cropped to their bounds.
cv::Mat glyph(char c, const DrawnPlate& plate) {
  cv::Mat canvas(200, 200, CV_8U, cv::Scalar(0));
  if (plate.face) {
    const Glyph g = render_glyph(*plate.face, c, 96);
    if (g.coverage.empty()) return canvas;
    g.coverage.copyTo(canvas(cv::Rect(40, 40, g.coverage.cols, g.coverage.rows)));
    if (plate.thickness > 0)
      cv::dilate(canvas, canvas, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(plate.thickness, plate.thickness)));
  } else {
    cv::putText(canvas, std::string(1, c), cv::Point(40, 140), plate.font, plate.font_scale, cv::Scalar(255),
                plate.thickness, cv::LINE_AA);
  }
  return canvas(cv::boundingRect(canvas > 0)).clone();
}

// The ink's connected strokes, grouped into characters (parts overlapping in x are one),
// left to right.
std::vector<cv::Rect> glyph_boxes(const cv::Mat& ink) {
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(ink > 100, labels, stats, centroids);
  std::vector<cv::Rect> parts;
  for (int i = 1; i < n; ++i)
    if (stats.at<int>(i, cv::CC_STAT_AREA) >= 4)
      parts.emplace_back(stats.at<int>(i, 0), stats.at<int>(i, 1), stats.at<int>(i, 2), stats.at<int>(i, 3));
  std::sort(parts.begin(), parts.end(), [](const cv::Rect& a, const cv::Rect& b) { return a.x < b.x; });
  std::vector<cv::Rect> groups;
  for (const cv::Rect& p : parts) {
    if (!groups.empty()) {
      cv::Rect& last = groups.back();
      const int overlap = std::min(last.br().x, p.br().x) - std::max(last.x, p.x);
      if (overlap > 0.5 * std::min(last.width, p.width)) {
        last |= p;
        continue;
      }
    }
    groups.push_back(p);
  }
  return groups;
}

// How unlike two same-sized stroke images are: differing ink over all ink.
double mismatch(const cv::Mat& a, const cv::Mat& b) {
  return cv::norm(a, b, cv::NORM_L1) / std::max(1.0, cv::norm(a, cv::NORM_L1) + cv::norm(b, cv::NORM_L1));
}

// Reads a drawn plate back from its ink alone: each character group is matched against
// every glyph of the plate's font scaled to the group's box, and the group's width
// against the glyph's under one condensing factor for the whole line (searched), as the
// drawer scales the line. Separators
// are read too and then left out, as PlateText leaves them out.
std::string read_back(const DrawnPlate& plate) {
  std::vector<cv::Mat> glyphs;
  for (char c : kReadable) glyphs.push_back(glyph(c, plate));
  const std::vector<cv::Rect> boxes = glyph_boxes(plate.ink);
  std::vector<std::vector<double>> shape(boxes.size(), std::vector<double>(glyphs.size()));
  for (size_t b = 0; b < boxes.size(); ++b)
    for (size_t g = 0; g < glyphs.size(); ++g) {
      cv::Mat scaled;
      cv::resize(glyphs[g], scaled, boxes[b].size(), 0, 0, cv::INTER_AREA);
      shape[b][g] = mismatch(plate.ink(boxes[b]), scaled);
    }
  std::string best_text;
  double best_cost = 1e300;
  for (double widen = 0.3; widen <= 1.6; widen += 0.005) {
    std::string text;
    double cost = 0;
    for (size_t b = 0; b < boxes.size(); ++b) {
      double best = 1e300;
      char read = '?';
      for (size_t g = 0; g < glyphs.size(); ++g) {
        const double predicted = glyphs[g].cols * widen * boxes[b].height / glyphs[g].rows;
        const double m = shape[b][g] + 2.0 * std::abs(std::log(predicted / boxes[b].width));
        if (m < best) best = m, read = kReadable[g];
      }
      cost += best;
      if (read != '-') text += read;
    }
    if (cost < best_cost) best_cost = cost, best_text = text;
  }
  return best_text;
}

}  // namespace

// The text a synthetic plate reports (its CSV PlateText) is what its ink shows: read back
// from the strokes alone on the clean flat plate, every plate of many styles.
TEST(PlateRender, TheRegistrationIsWhatTheInkReads) {
  int read_right = 0;
  const int plates = 100;
  for (int i = 0; i < plates; ++i) {
    Random r(mix_seed(42, static_cast<uint64_t>(i)));
    const double aspect = r.uniform(1.8, 4.7);
    const DrawnPlate plate = draw_plate(r, aspect);
    const std::string read = read_back(plate);
    EXPECT_EQ(read, plate.registration) << "plate " << i << " font " << plate.font << " thickness " << plate.thickness;
    read_right += read == plate.registration;
  }
  EXPECT_EQ(read_right, plates);
}

// Drawn from a given character set only, 5-8 characters, separators left out.
TEST(PlateRender, RegistrationsComeFromTheCharacterSet) {
  std::set<char> seen;
  for (int i = 0; i < 300; ++i) {
    Random r(mix_seed(3, static_cast<uint64_t>(i)));
    std::string drawn;
    const std::string text = random_registration(r, "ABC123-", &drawn);
    EXPECT_GE(text.size(), 5u);
    EXPECT_LE(text.size(), 8u);
    EXPECT_EQ(text.find_first_not_of("ABC123"), std::string::npos) << text;
    std::string without;
    for (char c : drawn)
      if (c != ' ' && c != '-') without += c;
    EXPECT_EQ(without, text);
    seen.insert(text.begin(), text.end());
  }
  EXPECT_EQ(seen.size(), 6u);
  Random r(1);
  EXPECT_THROW(random_registration(r, "-+", nullptr), Error);
}

// The reader's regions: the plate lies inside with room around it, the same random state
// gives the same region, and the text is the drawn registration's.
TEST(PlateRender, SyntheticRegionsFrameThePlate) {
  for (int i = 0; i < 30; ++i) {
    Random a(mix_seed(5, static_cast<uint64_t>(i))), b(mix_seed(5, static_cast<uint64_t>(i)));
    const PlateRegion p = synthetic_plate_region(a, ""), q = synthetic_plate_region(b, "");
    ASSERT_EQ(p.rgb.type(), CV_8UC3);
    EXPECT_EQ(cv::norm(p.rgb, q.rgb, cv::NORM_INF), 0.0);
    EXPECT_EQ(p.text, q.text);
    const float w = p.box.x2 - p.box.x1, h = p.box.y2 - p.box.y1;
    EXPECT_GE(w, 30.0f);
    EXPECT_GT(w, 0.9f * h);
    EXPECT_GE(p.box.x1, 0.0f);
    EXPECT_LE(p.box.x2, static_cast<float>(p.rgb.cols));
    EXPECT_GT(p.box.x1, 0.1f * w) << "no room left of the plate";
    EXPECT_LT(p.box.x2, p.rgb.cols - 0.1f * w) << "no room right of the plate";
    EXPECT_EQ(p.text.find_first_not_of("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"), std::string::npos);
    // The characters' middles, warped with the plate, lie inside it in reading order
    // (a two-row plate's lower row after its upper one).
    ASSERT_EQ(p.centres.size(), p.text.size());
    for (size_t k = 0; k < p.centres.size(); ++k) {
      EXPECT_GT(p.centres[k].x, p.box.x1);
      EXPECT_LT(p.centres[k].x, p.box.x2);
      EXPECT_GT(p.centres[k].y, p.box.y1);
      EXPECT_LT(p.centres[k].y, p.box.y2);
      if (k > 0) EXPECT_TRUE(p.centres[k].x > p.centres[k - 1].x || p.centres[k].y > p.centres[k - 1].y + h / 5) << i;
    }
  }
}

// The real layouts in TrueType faces: the text each reports is what its ink reads (read
// back against the face's own glyphs), the plate has its layout's proportions, and the
// registration stays clear of the EU band and the Mercosur band.
TEST(PlateRender, LayoutPlatesReadBackInTheirProportions) {
  if (installed_plate_faces().empty()) GTEST_SKIP() << "no TrueType plate face installed (scripts/setup.sh installs the fonts)";
  const std::vector<std::tuple<PlateLayout, double, double>> layouts = {
      {PlateLayout::US, 1.85, 2.15}, {PlateLayout::EU, 4.3, 4.9}, {PlateLayout::Brazil, 2.9, 3.25},
      {PlateLayout::Mercosur, 2.9, 3.25}};
  for (const auto& [layout, low, high] : layouts) {
    int read_right = 0, in_face = 0;
    const int plates = 40;
    for (int i = 0; i < plates; ++i) {
      Random r(mix_seed(77, static_cast<uint64_t>(layout), static_cast<uint64_t>(i)));
      const DrawnPlate plate = draw_layout_plate(r, layout);
      const double aspect = static_cast<double>(plate.bgr.cols) / plate.bgr.rows;
      EXPECT_GE(aspect, low);
      EXPECT_LE(aspect, high);
      EXPECT_EQ(plate.layout, layout);
      in_face += plate.face != nullptr;
      const std::string read = read_back(plate);
      read_right += read == plate.registration;
      // Each character's middle lies on its own glyph, left to right.
      ASSERT_EQ(plate.centres.size(), plate.registration.size());
      const std::vector<cv::Rect> groups = glyph_boxes(plate.ink);
      size_t g = 0;
      for (const cv::Point2f& c : plate.centres) {
        while (g < groups.size() && groups[g].br().x <= c.x) ++g;
        ASSERT_LT(g, groups.size()) << "a middle right of every glyph";
        EXPECT_GE(c.x, groups[g].x - 1.0f);
        EXPECT_NEAR(c.y, groups[g].y + groups[g].height / 2.0, groups[g].height * 0.6);
      }
      const cv::Rect inked = cv::boundingRect(plate.ink > 0);
      if (layout == PlateLayout::EU) EXPECT_GE(inked.x, plate.bgr.cols * 9 / 100) << "over the EU band";
      if (layout == PlateLayout::Mercosur) EXPECT_GE(inked.y, plate.bgr.rows * 24 / 100) << "over the blue band";
    }
    EXPECT_EQ(in_face, plates) << "every registration in a TrueType face";
    EXPECT_GE(read_right, plates - 2) << "layout " << static_cast<int>(layout);
  }
}

// What stands left of an EU registration: the band on most plates, a national mark (a
// shield or flag over the country code, on the plate's paper) on some, nothing on the rest.
TEST(PlateRender, EuPlatesCarryTheBandOrANationalMark) {
  int band = 0, mark = 0, plain = 0;
  const int plates = 160;
  for (int i = 0; i < plates; ++i) {
    Random r(mix_seed(81, static_cast<uint64_t>(i)));
    const DrawnPlate plate = draw_layout_plate(r, PlateLayout::EU);
    const int width = plate.bgr.cols * 9 / 100;
    const cv::Mat left = plate.bgr(cv::Rect(width / 6, plate.bgr.rows / 6, width * 2 / 3, plate.bgr.rows * 2 / 3));
    cv::Scalar mean, spread;
    cv::meanStdDev(left, mean, spread);
    if (mean[0] > mean[2] + 60) ++band;  // blue (BGR)
    else if ((spread[0] + spread[1] + spread[2]) / 3 > 25) ++mark;
    else ++plain;
  }
  EXPECT_NEAR(band, plates * 5 / 8, 20);
  EXPECT_NEAR(mark, plates * 2 / 8, 16);
  EXPECT_NEAR(plain, plates / 8, 12);
}

// The registrations follow their layouts' formats: Brazil's grey plates are AAA9999 and
// most Mercosur plates AAA9A99; the shares of random_layout are as documented.
TEST(PlateRender, LayoutsFollowTheirFormatsAndShares) {
  auto fits = [](const std::string& text, const std::string& format) {
    if (text.size() != format.size()) return false;
    for (size_t i = 0; i < text.size(); ++i)
      if ((format[i] == 'A') != (std::isalpha(static_cast<unsigned char>(text[i])) != 0)) return false;
    return true;
  };
  int brazil = 0, mercosur = 0;
  for (int i = 0; i < 100; ++i) {
    Random a(mix_seed(8, static_cast<uint64_t>(i))), b(mix_seed(9, static_cast<uint64_t>(i)));
    brazil += fits(draw_layout_plate(a, PlateLayout::Brazil).registration, "AAA9999");
    mercosur += fits(draw_layout_plate(b, PlateLayout::Mercosur).registration, "AAA9A99");
  }
  EXPECT_GE(brazil, 80);
  EXPECT_GE(mercosur, 45);
  std::map<PlateLayout, int> counts;
  Random r(5);
  for (int i = 0; i < 4000; ++i) ++counts[random_layout(r)];
  EXPECT_NEAR(counts[PlateLayout::US], 1300, 120);
  EXPECT_NEAR(counts[PlateLayout::EU], 1100, 120);
  EXPECT_NEAR(counts[PlateLayout::Brazil], 400, 80);
  EXPECT_NEAR(counts[PlateLayout::Mercosur], 400, 80);
  EXPECT_NEAR(counts[PlateLayout::Free], 500, 90);
  EXPECT_NEAR(counts[PlateLayout::EUSquare], 200, 60);
  EXPECT_NEAR(counts[PlateLayout::Motorcycle], 100, 45);
}

// Two-row plates: square proportions, the upper row's characters (first in the text)
// above the lower row's, each row left to right, clear of the EU band; their regions'
// boxes are narrower than the reader's two-row aspect (1.6) and single-row ones wider.
TEST(PlateRender, TwoRowPlatesReadTopRowFirst) {
  const std::vector<std::tuple<PlateLayout, double, double>> layouts = {{PlateLayout::EUSquare, 1.25, 1.55},
                                                                        {PlateLayout::Motorcycle, 1.08, 1.5}};
  for (const auto& [layout, low, high] : layouts) {
    for (int i = 0; i < 40; ++i) {
      Random r(mix_seed(78, static_cast<uint64_t>(layout), static_cast<uint64_t>(i)));
      const DrawnPlate plate = draw_layout_plate(r, layout);
      const double aspect = static_cast<double>(plate.bgr.cols) / plate.bgr.rows;
      EXPECT_GE(aspect, low);
      EXPECT_LE(aspect, high);
      ASSERT_EQ(plate.centres.size(), plate.registration.size());
      ASSERT_GE(plate.registration.size(), 5u) << plate.registration;
      size_t lower = 1;  // where the lower row starts: the first middle left of its predecessor
      while (lower < plate.centres.size() && plate.centres[lower].x > plate.centres[lower - 1].x) ++lower;
      ASSERT_LT(lower, plate.centres.size()) << "one row only: " << plate.registration;
      for (size_t k = 0; k < plate.centres.size(); ++k) {
        EXPECT_LT(plate.centres[k].y, plate.bgr.rows) << k;
        if (k < lower) EXPECT_LT(plate.centres[k].y, plate.bgr.rows * 0.6) << plate.registration << " upper " << k;
        else EXPECT_GT(plate.centres[k].y, plate.bgr.rows * 0.45) << plate.registration << " lower " << k;
        if (k > lower) EXPECT_GT(plate.centres[k].x, plate.centres[k - 1].x) << k;
      }
      const cv::Rect inked = cv::boundingRect(plate.ink > 0);
      if (layout == PlateLayout::EUSquare) EXPECT_GE(inked.x, plate.bgr.cols * 13 / 100) << "over the EU band";
    }
  }
  int two_row_narrow = 0, single_row_wide = 0, singles = 0;
  for (int i = 0; i < 300; ++i) {
    Random a(mix_seed(79, static_cast<uint64_t>(i))), b(mix_seed(80, static_cast<uint64_t>(i)));
    const PlateRegion two = synthetic_plate_region(a, "", false, RegionLayouts::TwoRow);
    two_row_narrow += two.box.x2 - two.box.x1 < 1.6f * (two.box.y2 - two.box.y1);
    const PlateRegion any = synthetic_plate_region(b, "");
    const float w = any.box.x2 - any.box.x1, h = any.box.y2 - any.box.y1;
    const bool lower_row = any.centres.size() > 1 && std::any_of(any.centres.begin() + 1, any.centres.end(), [&](const cv::Point2f& c) {
      return c.y > any.centres.front().y + h / 4;
    });
    if (!lower_row) ++singles, single_row_wide += w >= 1.6f * h;
  }
  EXPECT_GE(two_row_narrow, 291) << "of 300 two-row regions narrower than 1.6:1";
  EXPECT_GE(single_row_wide, singles * 97 / 100) << "of " << singles << " single-row regions at least 1.6:1";
}

// Some US and EU plates carry an emblem between their groups (a seal, a shield, a state's
// graphic), in a space as wide as a character: the widest spacing of their character
// centres stands out from the rest, and the space, the ink aside, is not paper alone.
TEST(PlateRender, SomeUsAndEuPlatesCarryAnEmblemBetweenTheirGroups) {
  for (const PlateLayout layout : {PlateLayout::US, PlateLayout::EU}) {
    int emblems = 0;
    const int plates = 400;
    for (int i = 0; i < plates; ++i) {
      Random r(mix_seed(82, static_cast<uint64_t>(layout), static_cast<uint64_t>(i)));
      const DrawnPlate plate = draw_layout_plate(r, layout);
      std::vector<float> steps;
      for (size_t k = 1; k < plate.centres.size(); ++k) steps.push_back(plate.centres[k].x - plate.centres[k - 1].x);
      if (steps.size() < 3) continue;
      std::vector<float> sorted = steps;
      std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
      const float median = sorted[sorted.size() / 2];
      const size_t widest = static_cast<size_t>(std::max_element(steps.begin(), steps.end()) - steps.begin());
      if (steps[widest] < 1.75f * median) continue;
      const cv::Point2f from = plate.centres[widest], to = plate.centres[widest + 1];
      const int x = static_cast<int>(from.x + (to.x - from.x) * 0.35f), w = static_cast<int>((to.x - from.x) * 0.3f);
      const cv::Rect middle(x, static_cast<int>(from.y - median * 0.3f), std::max(1, w), static_cast<int>(median * 0.6f));
      cv::Scalar mean, spread;
      const cv::Rect inside = middle & cv::Rect(0, 0, plate.bgr.cols, plate.bgr.rows);
      cv::meanStdDev(plate.bgr(inside), mean, spread, plate.ink(inside) == 0);  // a dash's ink is no emblem
      emblems += (spread[0] + spread[1] + spread[2]) / 3 > 20;
    }
    // A space in the format (formatted, US 60% x 8 formats in 10, EU 80% x all; free, half
    // of 40% and 20%) and the emblem's space one separator in four: US ~17%, EU ~22%.
    const int expected = layout == PlateLayout::US ? plates * 17 / 100 : plates * 22 / 100;
    EXPECT_NEAR(emblems, expected, expected / 3) << (layout == PlateLayout::US ? "US" : "EU");
  }
}

// About one EU plate in ten is light on dark (historic plates, special series): the
// registration's ink brighter than the paper around it.
TEST(PlateRender, SomeEuPlatesAreLightOnDark) {
  int light_on_dark = 0;
  const int plates = 400;
  for (int i = 0; i < plates; ++i) {
    Random r(mix_seed(83, static_cast<uint64_t>(i)));
    const DrawnPlate plate = draw_layout_plate(r, PlateLayout::EU);
    cv::Mat grey;
    cv::cvtColor(plate.bgr, grey, cv::COLOR_BGR2GRAY);
    const double ink = cv::mean(grey, plate.ink > 128)[0], paper = cv::mean(grey, plate.ink == 0)[0];
    light_on_dark += ink > paper + 40;
  }
  EXPECT_NEAR(light_on_dark, plates / 10, plates / 30);
}
