// --plate-pattern: the most probable CTC path whose text fits a format, on hand-made
// column probabilities whose answers are worked out by hand.
#include <gtest/gtest.h>

#include "edgessd/common/error.h"
#include "edgessd/plates/plate_pattern.h"

using namespace edgessd;

namespace {

const std::string kCharset = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

// Columns of probabilities: each column's listed characters (' ' = blank) with their
// probability, the rest of the mass spread evenly.
std::vector<float> columns(const std::vector<std::vector<std::pair<char, float>>>& spec) {
  const size_t classes = kCharset.size() + 1;
  std::vector<float> p(spec.size() * classes);
  for (size_t t = 0; t < spec.size(); ++t) {
    float used = 0;
    for (const auto& [c, prob] : spec[t]) used += prob;
    for (size_t k = 0; k < classes; ++k) p[t * classes + k] = (1 - used) / (classes - spec[t].size());
    for (const auto& [c, prob] : spec[t]) p[t * classes + (c == ' ' ? 0 : kCharset.find(c) + 1)] = prob;
  }
  return p;
}

}  // namespace

TEST(PlatePattern, TheBestPathThatFitsAFormatWins) {
  // Greedy reads "8BC12": the first column's 8 beats B, but "AAA99" wants a letter there.
  const auto p = columns({{{'8', 0.6f}, {'B', 0.3f}}, {{' ', 0.9f}}, {{'B', 0.8f}}, {{'C', 0.8f}}, {{' ', 0.9f}},
                          {{'1', 0.9f}}, {{'2', 0.7f}, {'Z', 0.2f}}});
  EXPECT_EQ(ctc_greedy_read(p.data(), 7, kCharset).text, "8BC12");
  const PlatePattern pattern("AAA99", kCharset);
  const PlateReading r = pattern.decode(p.data(), 7);
  EXPECT_EQ(r.text, "BBC12");
  EXPECT_NEAR(r.confidence, 0.3f, 1e-6) << "the weakest character on the chosen path";
  // Of two formats the more probable fitting path wins: "9AA99" keeps the 8.
  EXPECT_EQ(PlatePattern("AAA99|9AA99", kCharset).decode(p.data(), 7).text, "8BC12");
  // A literal and '?' positions.
  EXPECT_EQ(PlatePattern("8?C?2", kCharset).decode(p.data(), 7).text, "8BC12");
}

TEST(PlatePattern, EqualNeighboursNeedABlankAndTooFewColumnsReadNothing) {
  // "77" over two columns with 7 at the top of both: CTC merges them, so the path needs a
  // blank between, and two columns cannot read "77".
  const auto two = columns({{{'7', 0.9f}}, {{'7', 0.9f}}});
  EXPECT_EQ(PlatePattern("77", kCharset).decode(two.data(), 2).text, "") << "7, 7 collapse to one 7";
  EXPECT_EQ(PlatePattern("7", kCharset).decode(two.data(), 2).text, "7");
  const std::string any_two = PlatePattern("99", kCharset).decode(two.data(), 2).text;
  ASSERT_EQ(any_two.size(), 2u);
  EXPECT_NE(any_two[0], any_two[1]) << "two digits in two columns must differ";
  const auto three = columns({{{'7', 0.9f}}, {{'7', 0.5f}, {' ', 0.4f}}, {{'7', 0.9f}}});
  EXPECT_EQ(PlatePattern("77", kCharset).decode(three.data(), 3).text, "77");
  EXPECT_EQ(PlatePattern("7777", kCharset).decode(three.data(), 3).text, "") << "four characters in three columns";
}

TEST(PlatePattern, BadFormatsAreErrorsNamingTheFlag) {
  EXPECT_THROW(PlatePattern("", kCharset), Error);
  EXPECT_THROW(PlatePattern("AAA||999", kCharset), Error);
  EXPECT_THROW(PlatePattern(std::string(33, 'A'), kCharset), Error);
  try {
    PlatePattern("AA#9", kCharset);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--plate-pattern AA#9"), std::string::npos) << e.what();
  }
  EXPECT_THROW(PlatePattern("AAA", "0123456789"), Error) << "no letters in a digits-only reader";
}

// A pattern no plate can fit, or a character outside ASCII, is an Error naming the flag
// (a 30-position format once made every read empty; "ÄÄÄ999" printed a lone byte).
TEST(PlatePattern, OverlongAndNonAsciiFormatsAreErrors) {
  const std::string charset = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  for (const std::string& bad : {std::string(30, '9'), std::string("\xc3\x84\xc3\x84\xc3\x84" "999")}) {
    try {
      edgessd::PlatePattern(bad, charset, "--plate-pattern");
      ADD_FAILURE() << bad << " accepted";
    } catch (const edgessd::Error& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.rfind("--plate-pattern " + bad + ": ", 0), 0u) << what;
    }
  }
  EXPECT_NO_THROW(edgessd::PlatePattern(std::string(16, '?'), charset, "--plate-pattern"));
}
