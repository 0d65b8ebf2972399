// --plate-pattern: the most probable CTC path whose text fits a format, on hand-made
// column probabilities whose answers are worked out by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>

#include "edgessd/common/error.h"
#include "edgessd/plates/plate_pattern.h"
#include "support/test_support.h"

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

// RK003AB over 14 columns (a blank after each character) whose third character's column
// holds `third`.
std::vector<float> rk003ab(const std::vector<std::pair<char, float>>& third) {
  std::vector<std::vector<std::pair<char, float>>> spec;
  for (const auto& column : std::vector<std::vector<std::pair<char, float>>>{
           {{'R', 0.9f}}, {{'K', 0.9f}}, third, {{'0', 0.9f}}, {{'3', 0.9f}}, {{'A', 0.9f}}, {{'B', 0.9f}}})
    spec.push_back(column), spec.push_back({{' ', 0.9f}});
  return columns(spec);
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

namespace {

// One column per character of `text` with that character at 0.9, a blank column between.
std::vector<float> reading(const std::string& text) {
  std::vector<std::vector<std::pair<char, float>>> spec;
  for (char c : text) spec.push_back({{c, 0.9f}}), spec.push_back({{' ', 0.9f}});
  return columns(spec);
}

// A reading whose first character is read as a digit the format forbids: the preset turns it
// back into the letter that was second best.
std::vector<float> misread_first(char read, char truth, const std::string& rest) {
  std::vector<std::vector<std::pair<char, float>>> spec = {{{read, 0.6f}, {truth, 0.35f}}, {{' ', 0.9f}}};
  for (char c : rest) spec.push_back({{c, 0.9f}}), spec.push_back({{' ', 0.9f}});
  return columns(spec);
}

}  // namespace

// The region presets stand for their formats: a Croatian, French or Italian read fits
// `eu`, a Mercosur one `mercosur` and `br`, and a misread first letter is mended by each.
TEST(PlatePattern, RegionPresetsDecodeTheirFormats) {
  for (const std::string& name : plate_pattern_presets()) EXPECT_NO_THROW(PlatePattern(name, kCharset)) << name;
  const std::vector<std::string> presets = plate_pattern_presets();
  ASSERT_GT(presets.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(presets.begin(), presets.begin() + 4),
            (std::vector<std::string>{"us", "eu", "br", "mercosur"}));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"eu", "RK857AI"}, {"eu", "ZG1234AB"}, {"eu", "AB12CDE"}, {"eu", "1234BCD"}, {"eu", "2T40211"}, {"br", "ABC1D23"},
      {"br", "ABC1234"}, {"mercosur", "ABC1D23"}, {"mercosur", "AB123CD"}, {"us", "7ABC123"}, {"us", "ABC1234"}};
  for (const auto& [name, text] : cases) {
    const std::vector<float> p = reading(text);
    EXPECT_EQ(PlatePattern(name, kCharset).decode(p.data(), p.size() / (kCharset.size() + 1)).text, text) << name;
    const std::vector<float> q = misread_first('8', text[0], text.substr(1));
    if (std::isalpha(static_cast<unsigned char>(text[0])) && name != "us")  // 8BC1234 is a US format
      EXPECT_EQ(PlatePattern(name, kCharset).decode(q.data(), q.size() / (kCharset.size() + 1)).text, text) << name;
  }
  // Seven digits are no EU registration: the preset reads something else.
  const std::vector<float> p = reading("9999999");
  EXPECT_NE(PlatePattern("eu", kCharset).decode(p.data(), p.size() / (kCharset.size() + 1)).text, "9999999");
}

// A country's preset, alone or among others and formats, stands for its formats; an empty
// item is still refused. Where `eu`'s union admits two readings (RKO03AB is a Polish
// 3-letter district's format), `sk` reads the Slovak one.
TEST(PlatePattern, CountryPresetsAloneOrAmongOthers) {
  const std::vector<std::string> presets = plate_pattern_presets();
  for (const char* code : {"cz", "de", "fr", "gb", "it", "nl", "pl", "sk"})
    EXPECT_NE(std::find(presets.begin(), presets.end(), code), presets.end()) << code;
  EXPECT_NE(plate_pattern_presets_list().find("mercosur, "), std::string::npos);
  EXPECT_EQ(expand_plate_pattern("sk"), "AA999AA");
  EXPECT_EQ(expand_plate_pattern("sk|cz"), "AA999AA|9A99999|9AA9999");
  EXPECT_EQ(expand_plate_pattern("!AAA999|sk"), "AAA999|AA999AA");
  EXPECT_EQ(expand_plate_pattern("SK"), "SK") << "a format of literal characters, as before";
  for (const std::string bad : {"sk||cz", "|sk", "sk|"}) {
    const std::string e = edgessd::testing::error_of([&] { check_plate_pattern_syntax(bad); });
    EXPECT_EQ(e.rfind("--plate-pattern " + bad + ": ", 0), 0u) << "names what the user wrote: " << e;
  }
  // The network 3.75x surer of O than of 0 after the district: `eu` holds Poland's AAA99AA
  // and reads RKO03AB; Slovakia's format alone reads RK003AB.
  const std::vector<float> sure_o = rk003ab({{'O', 0.75f}, {'0', 0.2f}});
  EXPECT_EQ(PlatePattern("eu", kCharset).read(sure_o.data(), 14).text, "RKO03AB");
  EXPECT_EQ(PlatePattern("sk", kCharset).read(sure_o.data(), 14).text, "RK003AB");
  EXPECT_EQ(PlatePattern("sk|cz", kCharset).read(sure_o.data(), 14).text, "RK003AB");
}

// Formats that both fit compete with a prior: a digit is one of 10 where a letter is one
// of 26, so at a near tie the format with a digit there wins; a format is not credited for
// being shorter, so a weak last letter stays.
TEST(PlatePattern, ANearTieGoesToTheDigitAndAWeakLetterStays) {
  const std::vector<float> tie = rk003ab({{'O', 0.5f}, {'0', 0.4f}});
  EXPECT_EQ(ctc_greedy_read(tie.data(), 14, kCharset).text, "RKO03AB");
  EXPECT_EQ(PlatePattern("AAA99AA|AA999AA", kCharset).read(tie.data(), 14).text, "RK003AB");
  EXPECT_EQ(PlatePattern("AA999AA|AAA99AA", kCharset).read(tie.data(), 14).text, "RK003AB") << "in either order";
  EXPECT_EQ(PlatePattern("eu", kCharset).read(tie.data(), 14).text, "RK003AB");
  // The O 3.75x surer than the 0 outweighs the digit's 2.6.
  const std::vector<float> sure_o = rk003ab({{'O', 0.75f}, {'0', 0.2f}});
  EXPECT_EQ(PlatePattern("AAA99AA|AA999AA", kCharset).read(sure_o.data(), 14).text, "RKO03AB");
  // RK587AC whose C shares its column with a blank (0.5 against 0.4): AA999A, one letter
  // shorter, admits 26x fewer texts, yet the letter is read.
  std::vector<std::vector<std::pair<char, float>>> spec;
  for (char c : std::string("RK587A")) spec.push_back({{c, 0.9f}}), spec.push_back({{' ', 0.9f}});
  spec.push_back({{'C', 0.5f}, {' ', 0.4f}});
  const std::vector<float> weak = columns(spec);
  EXPECT_EQ(PlatePattern("AA999A|AA999AA", kCharset).read(weak.data(), spec.size()).text, "RK587AC");
}

// '@FILE': a format a line, '#' comments and blank lines skipped; a bad line is an Error
// naming FILE:LINE, an empty file or a folder one naming the file.
TEST(PlatePattern, FormatsFromAFile) {
  edgessd::testing::TempDir dir;
  const std::string good = dir.file("formats.txt");
  std::ofstream(good) << "# Croatia\nAA999AA   # city, digits, letters\n\n  AA9999AA\r\nAAA9A99|AAA9999\n";
  EXPECT_EQ(expand_plate_pattern("@" + good), "AA999AA|AA9999AA|AAA9A99|AAA9999");
  const std::vector<float> p = reading("ZG1234AB");
  EXPECT_EQ(PlatePattern("@" + good, kCharset).decode(p.data(), p.size() / (kCharset.size() + 1)).text, "ZG1234AB");
  const std::string bad = dir.file("bad.txt");
  std::ofstream(bad) << "AA999AA\n" << std::string(17, 'A') << "\n";
  const std::string e = edgessd::testing::error_of([&] { check_plate_pattern_syntax("@" + bad); });
  EXPECT_EQ(e.rfind(bad + ":2: --plate-pattern " + std::string(17, 'A') + ": ", 0), 0u) << e;
  const std::string empty = dir.file("empty.txt");
  std::ofstream(empty) << "# nothing\n\n";
  EXPECT_NE(edgessd::testing::error_of([&] { check_plate_pattern_syntax("@" + empty); }).find(empty), std::string::npos);
  EXPECT_NE(edgessd::testing::error_of([&] { check_plate_pattern_syntax("@" + dir.path()); }).find(dir.path()),
            std::string::npos);
  EXPECT_NE(edgessd::testing::error_of([&] { check_plate_pattern_syntax("@" + dir.file("absent")); }).find("absent"),
            std::string::npos);
}

// read(): a format mends a near tie, but a reading the network is sure of and no format
// fits stays as read, and a reading no format can fit in its columns is the free one;
// strict ('!') patterns read only what fits.
TEST(PlatePattern, ReadPrefersAFittingReadButKeepsASureOne) {
  const PlatePattern eu("AA999AA", kCharset);
  // RK-099AN with the first digit a near tie between O and 0: the format wants the 0.
  std::vector<std::vector<std::pair<char, float>>> spec;
  for (const auto& column : std::vector<std::vector<std::pair<char, float>>>{
           {{'R', 0.9f}}, {{'K', 0.9f}}, {{'O', 0.5f}, {'0', 0.4f}}, {{'9', 0.9f}}, {{'9', 0.9f}}, {{'A', 0.9f}}, {{'N', 0.9f}}})
    spec.push_back(column), spec.push_back({{' ', 0.9f}});
  const std::vector<float> tie = columns(spec);
  EXPECT_EQ(ctc_greedy_read(tie.data(), spec.size(), kCharset).text, "RKO99AN");
  EXPECT_EQ(eu.read(tie.data(), spec.size()).text, "RK099AN");
  // A vanity plate read surely: the format's best fit is far less probable, so the free read stays.
  const std::vector<float> vanity = reading("GWAGEN");
  const size_t vanity_columns = vanity.size() / (kCharset.size() + 1);
  EXPECT_FALSE(eu.decode(vanity.data(), vanity_columns).text.empty()) << "decode() forces a fit";
  EXPECT_NE(eu.decode(vanity.data(), vanity_columns).text, "GWAGEN");
  EXPECT_EQ(eu.read(vanity.data(), vanity_columns).text, "GWAGEN");
  // A leading '!': strict, every read fits (a preset's or a file's formats as well).
  EXPECT_EQ(PlatePattern("!AA999AA", kCharset).read(vanity.data(), vanity_columns).text,
            eu.decode(vanity.data(), vanity_columns).text);
  EXPECT_NE(PlatePattern("!eu", kCharset).read(vanity.data(), vanity_columns).text, "GWAGEN");
  EXPECT_EQ(expand_plate_pattern("!eu"), expand_plate_pattern("eu"));
  EXPECT_EQ(plate_pattern_file("!@f.txt"), "f.txt");
  EXPECT_EQ(plate_pattern_file("@f.txt"), "f.txt");
  EXPECT_EQ(plate_pattern_file("!eu"), "");
  // Seven characters in three columns: nothing fits, the free read is given.
  const auto three = columns({{{'7', 0.9f}}, {{' ', 0.9f}}, {{'4', 0.9f}}});
  EXPECT_EQ(eu.decode(three.data(), 3).text, "");
  EXPECT_EQ(eu.read(three.data(), 3).text, "74");
}
