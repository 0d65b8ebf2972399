// CTC greedy decoding and the plate-reading accuracies on hand-made cases.
#include <gtest/gtest.h>

#include "edgessd/plates/plate_text.h"

using namespace edgessd;

namespace {

// One-hot score rows for a sequence of class indices (0 = blank).
std::vector<float> columns_of(const std::vector<int>& classes, size_t charset_size) {
  std::vector<float> scores(classes.size() * (charset_size + 1), 0.f);
  for (size_t t = 0; t < classes.size(); ++t) scores[t * (charset_size + 1) + classes[t]] = 1.f;
  return scores;
}

}  // namespace

TEST(PlateText, GreedyDecodingCollapsesRepeatsAndDropsBlanks) {
  const std::string charset = "0123ABC";  // class k is charset[k - 1]
  // A A blank A 1 1 blank blank C -> "AA1C": a blank separates a real double letter.
  const auto s = columns_of({5, 5, 0, 5, 2, 2, 0, 0, 7}, charset.size());
  EXPECT_EQ(ctc_greedy_decode(s.data(), 9, charset), "AA1C");
  const auto blanks = columns_of({0, 0, 0}, charset.size());
  EXPECT_EQ(ctc_greedy_decode(blanks.data(), 3, charset), "");
  EXPECT_EQ(ctc_greedy_decode(nullptr, 0, charset), "");
}

TEST(PlateText, EditDistanceAndAccuracies) {
  EXPECT_EQ(edit_distance("ABC123", "ABC123"), 0u);
  EXPECT_EQ(edit_distance("ABC123", "ABC12"), 1u);   // a deletion
  EXPECT_EQ(edit_distance("ABC123", "A8C123"), 1u);  // a substitution
  EXPECT_EQ(edit_distance("", "ABC"), 3u);
  EXPECT_EQ(edit_distance("KITTEN", "SITTING"), 3u);
  ReadingScore score;
  score.add("ABC123", "ABC123");
  score.add("ABC12", "ABC123");
  score.add("", "XY");
  EXPECT_EQ(score.plates, 3u);
  EXPECT_DOUBLE_EQ(score.exact_accuracy(), 1.0 / 3);
  EXPECT_DOUBLE_EQ(score.character_accuracy(), 1.0 - 3.0 / 14);
  ReadingScore none;
  EXPECT_EQ(none.character_accuracy(), 0);
  none.add("WAY TOO LONG", "A");
  EXPECT_EQ(none.character_accuracy(), 0) << "never below 0";
}

TEST(PlateText, FoldingAndCharset) {
  EXPECT_EQ(fold_look_alikes("OI0Q1"), "010Q1");
  EXPECT_EQ(fold_look_alikes("BOLT"), "B0LT");
  ReadingScore folded;
  folded.add(fold_look_alikes("8OI"), fold_look_alikes("801"));
  EXPECT_EQ(folded.exact, 1u);
  EXPECT_EQ(charset_of({"B2A", "AZ9"}), "29ABZ");
}
