#include "edgessd/plates/plate_text.h"

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

PlateReading ctc_greedy_read(const float* probs, size_t columns, const std::string& charset) {
  const size_t classes = charset.size() + 1;
  PlateReading reading;
  reading.confidence = 1;
  size_t previous = 0;
  float run_peak = 0;
  auto close_run = [&] {
    if (previous != 0) reading.confidence = std::min(reading.confidence, run_peak);
  };
  for (size_t t = 0; t < columns; ++t) {
    const float* row = probs + t * classes;
    const size_t best = static_cast<size_t>(std::max_element(row, row + classes) - row);
    if (best != previous) {
      close_run();
      run_peak = 0;
      if (best != 0) reading.text += charset[best - 1];
    }
    run_peak = std::max(run_peak, row[best]);
    previous = best;
  }
  close_run();
  if (reading.text.empty()) reading.confidence = 0;
  return reading;
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
