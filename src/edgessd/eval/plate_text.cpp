#include "edgessd/eval/plate_text.h"

#include <algorithm>
#include <set>

namespace edgessd {

std::string ctc_greedy_decode(const float* scores, size_t columns, const std::string& charset) {
  const size_t classes = charset.size() + 1;
  std::string text;
  size_t previous = 0;
  for (size_t t = 0; t < columns; ++t) {
    const float* row = scores + t * classes;
    const size_t best = static_cast<size_t>(std::max_element(row, row + classes) - row);
    if (best != 0 && best != previous) text += charset[best - 1];
    previous = best;
  }
  return text;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string fold_look_alikes(const std::string& text) {
  std::string out = text;
  for (char& c : out) c = c == 'O' ? '0' : c == 'I' ? '1' : c;
  return out;
}

std::string charset_of(const std::vector<std::string>& texts) {
  std::set<char> seen;
  for (const auto& t : texts) seen.insert(t.begin(), t.end());
  return std::string(seen.begin(), seen.end());
}

void ReadingScore::add(const std::string& read, const std::string& truth) {
  ++plates;
  exact += read == truth;
  characters += truth.size();
  edits += edit_distance(read, truth);
}

double ReadingScore::character_accuracy() const {
  return characters ? std::max(0.0, 1.0 - double(edits) / characters) : 0;
}

}  // namespace edgessd
