#pragma once
// --plate-pattern: plate formats that constrain what the reader may read, for places
// whose plates follow a known layout. A format is a string of position classes: 'A' any
// letter, '9' any digit, '?' any character of the reader's set, anything else that
// character itself; several formats are separated by '|' ("AAA9999|9AAA999"). A region's
// preset by name (`us`, `eu`, `br`, `mercosur`, or one country's by the code on its band:
// `sk`, `de`, ...), alone or among formats ("sk|cz|AAA999"), or `@FILE` (a format a line,
// '#' comments) stands for its formats. A leading '!' makes them strict: every read fits one.
#include <string>
#include <vector>

#include "edgessd/plates/plate_text.h"

namespace edgessd {

constexpr size_t kMaxPatternPositions = 16;
// How much less probable than the free reading a fitting one may be and still be read
// (a round figure fixed beforehand; README, "Reading plates of several countries").
constexpr double kFormatOdds = 100;

// The formats `value` stands for: a file's (an Error naming FILE:LINE), or its own with each
// item that names a preset replaced by the preset's formats.
std::string expand_plate_pattern(const std::string& value, const std::string& flag = "--plate-pattern");
std::vector<std::string> plate_pattern_presets();
std::string plate_pattern_presets_list();  // "us, eu, ..., sk": the presets' names for a flag's help
bool is_strict_plate_pattern(const std::string& value);  // a leading '!'
std::string plate_pattern_file(const std::string& value);  // FILE of "@FILE" or "!@FILE", else ""

// What needs no reader: every format 1..kMaxPatternPositions printable ASCII characters.
// An Error naming `flag` otherwise, before any model loads.
void check_plate_pattern_syntax(const std::string& text, const std::string& flag = "--plate-pattern");

class PlatePattern {
 public:
  PlatePattern() = default;
  // An Error naming `flag` when the syntax check fails, or a format asks for a character
  // the reader's set lacks.
  PlatePattern(const std::string& text, const std::string& charset, const std::string& flag = "--plate-pattern");
  bool empty() const { return formats_.empty(); }
  // The CTC path (Viterbi, log probabilities) that fits a format, most probable once each
  // format's prior is counted (digits narrower than letters), with ctc_greedy_read's
  // confidence along it, and that path's log probability (without the prior). Text ""
  // (confidence 0) when no format fits in the columns there are.
  PlateReading decode(const float* probs, size_t columns, double* log_score = nullptr) const;
  // What --plate-pattern reads: decode()'s reading when the pattern is strict or its path
  // is at least 1/kFormatOdds as probable as the free reading's (every column's most
  // probable class), else the free reading (ctc_greedy_read). A format mends near ties (a 0 where it wants an O, an 8
  // where it wants a B) but does not overrule what the network is sure of: vanity and
  // foreign plates fit no format, and forcing one misreads them (as OpenALPR's patterns
  // prefer the best candidate that matches, and keep the best one when none does).
  PlateReading read(const float* probs, size_t columns) const;

 private:
  // Per format, per position, the classes (1-based CTC indices) allowed there.
  std::vector<std::vector<std::vector<int>>> formats_;
  std::vector<double> log_priors_;  // per format: sum over positions of log(letters / classes allowed)
  std::string charset_;
  bool strict_ = false;
  PlateReading decode_format(const std::vector<std::vector<int>>& format, const float* probs, size_t columns,
                             double& log_score) const;
};

}  // namespace edgessd
