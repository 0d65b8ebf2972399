#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "edgessd/common/error.h"
#include "edgessd/common/random.h"
#include "edgessd/plates/plate_render.h"
#include "support/test_support.h"

using namespace edgessd;

namespace {

const std::string kReadable = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-";

// A glyph's strokes as putText draws them large, cropped to their bounds.
cv::Mat glyph(char c, const DrawnPlate& plate) {
  cv::Mat canvas(200, 200, CV_8U, cv::Scalar(0));
  cv::putText(canvas, std::string(1, c), cv::Point(40, 140), plate.font, plate.font_scale, cv::Scalar(255),
              plate.thickness, cv::LINE_AA);
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
    EXPECT_GT(w, h);
    EXPECT_GE(p.box.x1, 0.0f);
    EXPECT_LE(p.box.x2, static_cast<float>(p.rgb.cols));
    EXPECT_GT(p.box.x1, 0.1f * w) << "no room left of the plate";
    EXPECT_LT(p.box.x2, p.rgb.cols - 0.1f * w) << "no room right of the plate";
    EXPECT_EQ(p.text.find_first_not_of("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"), std::string::npos);
  }
}
