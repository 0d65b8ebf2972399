#pragma once
// Reading plates, scored: CTC greedy decoding of a recogniser's per-column scores, and
// the accuracies published plate readers report (exact plates, characters by edit
// distance), optionally with the look-alike letters folded into digits (O->0, I->1), which
// is how some published figures are counted.
#include <cstddef>
#include <string>
#include <vector>

#include "edgessd/common/edit_distance.h"

namespace edgessd {

// scores: T columns x (1 + charset.size()) classes, row-major; class 0 is CTC's blank.
// The best class per column, repeats collapsed, blanks dropped.
std::string ctc_greedy_decode(const float* scores, size_t columns, const std::string& charset);

// A plate's text and how sure the reader is: the lowest, over the characters read, of
// the highest probability in that character's run of columns (a read is as good as its
// weakest character); 0 for an empty read.
struct PlateReading {
  std::string text;
  float confidence = 0;
};
// ctc_greedy_decode on probabilities (softmaxed over each column), with the confidence.
PlateReading ctc_greedy_read(const float* probs, size_t columns, const std::string& charset);

// O -> 0 and I -> 1, for the "folded" scores.
std::string fold_look_alikes(const std::string& text);

// The sorted distinct characters of `texts`: a reader's character set from its data.
std::string charset_of(const std::vector<std::string>& texts);

struct ReadingScore {
  size_t plates = 0, exact = 0;
  size_t characters = 0, edits = 0;  // of the ground truths; the edit distances summed
  void add(const std::string& read, const std::string& truth);
  double exact_accuracy() const { return plates ? double(exact) / plates : 0; }
  // 1 - edits / characters, at least 0.
  double character_accuracy() const;
};

}  // namespace edgessd
