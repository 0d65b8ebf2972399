#include "edgessd/plates/plate_pattern.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"

namespace edgessd {

namespace {

// The formats between '|'s ("" for an empty one).
std::vector<std::string> formats_of(const std::string& text) {
  std::vector<std::string> formats;
  for (size_t start = 0; start <= text.size();) {
    const size_t end = std::min(text.find('|', start), text.size());
    formats.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return formats;
}

// German registrations: a district of 1-3 letters, 1-2 letters, 1-4 digits, 8 at most.
std::string german_formats() {
  std::string out;
  for (int district = 1; district <= 3; ++district)
    for (int letters = 1; letters <= 2; ++letters)
      for (int digits = 1; digits <= 4 && district + letters + digits <= 8; ++digits)
        out += "|" + std::string(district + letters, 'A') + std::string(digits, '9');
  return out;
}

// The standard issues of each region, from the registration rules of the larger issuers
// (vanity and special plates fit none: read() keeps them as read, a strict '!' forces them).
const std::pair<const char*, std::string> kPresets[] = {
    // California, New York, Texas, Pennsylvania, Florida, Illinois, New Jersey, Ohio, ...
    {"us", "9AAA999|AAA9999|AAA999|999AAA|AAAA99|AA99999|A99AAA|9AA9999|AAA99A|9AAA99|AAA9A9|999A999"},
    // France, Italy, Croatia, Spain, the UK, Poland, Czechia, the Netherlands, Portugal,
    // Belgium, Germany
    {"eu", "AA999AA|AA9999AA|AA999A|AA9999A|9999AAA|AA99AAA|AA99999|AAA9999|AAA99AA|9A?9999|"
           "AA99AA|99AA99|99AAA9|9AAA99|A999AA|AAA99A|9AA999|A99AAA|AA9999|9AAA999" + german_formats()},
    {"br", "AAA9999|AAA9A99"},  // Brazil: the grey plates and their Mercosur successors
    {"mercosur", "AAA9A99|AA999AA|AAA9999|AAAA999"},  // Brazil, Argentina, Uruguay, Paraguay
    // One country's standard issues, by the code on the plate's band (as OpenALPR's
    // `-c eu -p sk`): a reader in one country mends what the union of `eu` cannot (RK003AB
    // is Slovak, RKO03AB a Polish 3-letter district's format). The older issues still on the
    // road are kept (Spain's provincial plates, Portugal's, Hungary's 3 + 3).
    {"be", "9AAA999|AAA999|999AAA"},
    {"bg", "AA9999AA|A9999AA"},
    {"ch", "AA9|AA99|AA999|AA9999|AA99999|AA999999"},
    {"cz", "9A99999|9AA9999"},
    {"de", german_formats().substr(1)},
    {"dk", "AA99999"},
    {"es", "9999AAA|A9999AA|AA9999AA|A9999A|AA9999A"},
    {"fi", "AAA999|AA999|AAA99"},
    {"fr", "AA999AA"},
    {"gb", "AA99AAA"},
    {"hr", "AA999A|AA9999A|AA999AA|AA9999AA"},
    {"hu", "AAA999|AAAA999"},
    {"it", "AA999AA"},
    {"lt", "AAA999"},
    {"lv", "AA9999|AA999|A9999"},
    {"nl", "AA9999|9999AA|99AA99|AA99AA|AAAA99|99AAAA|99AAA9|9AAA99|AA999A|A999AA|AAA99A|A99AAA|9AA999|999AA9"},
    {"no", "AA99999"},
    {"pl", "AA99999|AA9999A|AA999AA|AA9A999|AA9AA99|AAAA999|AAA99AA|AAA9A99|AAA99A9|AAA9AA9|AAAAA99|AAA99999|"
           "AAA9999A|AAA999AA"},
    {"pt", "AA9999|9999AA|99AA99|AA99AA"},
    {"ro", "AA99AAA|AA999AAA|A99AAA|A999AAA"},
    {"se", "AAA999|AAA99A"},
    {"sk", "AA999AA"},
};

// `shown`: what the user wrote, named in the error (a preset's name, not its formats).
void check_formats(const std::string& text, const std::string& flag, const std::string& shown) {
  for (const std::string& format : formats_of(text)) {
    // Plates have at most ~10 characters; a longer format only ever matched nothing.
    if (format.empty() || format.size() > kMaxPatternPositions)
      throw Error(flag + " " + shown + ": each format must have 1.." + std::to_string(kMaxPatternPositions) +
                  " positions ('A' letter, '9' digit, '?' any)");
    for (char p : format)
      if (static_cast<unsigned char>(p) >= 0x80 || !std::isgraph(static_cast<unsigned char>(p)))
        throw Error(flag + " " + shown + ": only ASCII letters and digits, 'A', '9', '?' and '|' make a pattern");
  }
}

constexpr uintmax_t kMaxPatternFileBytes = 64 * 1024;

// '@FILE': one format per line ('|' also separates), '#' starts a comment.
std::string formats_from_file(const std::string& path, const std::string& flag) {
  const std::string text = read_file(path, kMaxPatternFileBytes);
  std::string out;
  size_t line_number = 0;
  for (size_t start = 0; start < text.size();) {
    const size_t end = std::min(text.find('\n', start), text.size());
    std::string line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    line = line.substr(0, line.find('#'));
    const size_t first = line.find_first_not_of(" \t\r"), last = line.find_last_not_of(" \t\r");
    if (first == std::string::npos) continue;
    line = line.substr(first, last - first + 1);
    try {
      check_formats(line, flag, line);
    } catch (const Error& e) {
      throw Error(path + ":" + std::to_string(line_number) + ": " + e.what());
    }
    out += (out.empty() ? "" : "|") + line;
  }
  if (out.empty()) throw Error(flag + " @" + path + ": the file holds no format");
  return out;
}

}  // namespace

std::string expand_plate_pattern(const std::string& value, const std::string& flag) {
  const std::string file = plate_pattern_file(value);
  if (!file.empty()) return formats_from_file(file, flag);
  // Each of the '|'-separated items that names a preset stands for its formats ("sk|cz").
  std::string out;
  bool first = true;
  for (const std::string& item : formats_of(is_strict_plate_pattern(value) ? value.substr(1) : value)) {
    std::string expanded = item;  // an empty item stays, for check_formats to refuse
    for (const auto& [name, preset] : kPresets)
      if (item == name) expanded = preset;
    out += (first ? "" : "|") + expanded;
    first = false;
  }
  return out;
}

bool is_strict_plate_pattern(const std::string& value) { return !value.empty() && value[0] == '!'; }

std::string plate_pattern_file(const std::string& value) {
  const size_t at = is_strict_plate_pattern(value) ? 1 : 0;
  return value.size() > at && value[at] == '@' ? value.substr(at + 1) : std::string();
}

std::vector<std::string> plate_pattern_presets() {
  std::vector<std::string> names;
  for (const auto& preset : kPresets) names.push_back(preset.first);
  return names;
}

std::string plate_pattern_presets_list() {
  std::string out;
  for (const auto& preset : kPresets) out += (out.empty() ? "" : ", ") + std::string(preset.first);
  return out;
}

void check_plate_pattern_syntax(const std::string& value, const std::string& flag) {
  check_formats(expand_plate_pattern(value, flag), flag, value);
}

PlatePattern::PlatePattern(const std::string& value, const std::string& charset, const std::string& flag)
    : charset_(charset), strict_(is_strict_plate_pattern(value)) {
  const std::string text = expand_plate_pattern(value, flag);
  check_formats(text, flag, value);
  const double letters = static_cast<double>(
      std::max<std::ptrdiff_t>(1, std::count_if(charset.begin(), charset.end(), [](char c) {
        return std::isalpha(static_cast<unsigned char>(c));
      })));
  for (const std::string& format : formats_of(text)) {
    std::vector<std::vector<int>> positions;
    double prior = 0;
    for (char p : format) {
      std::vector<int> allowed;
      for (size_t c = 0; c < charset.size(); ++c) {
        const unsigned char ch = static_cast<unsigned char>(charset[c]);
        const bool ok = p == '?' || (p == 'A' && std::isalpha(ch)) || (p == '9' && std::isdigit(ch)) ||
                        (p != 'A' && p != '9' && p != '?' && ch == static_cast<unsigned char>(std::toupper(p)));
        if (ok) allowed.push_back(static_cast<int>(c) + 1);
      }
      if (allowed.empty())
        throw Error(flag + " " + value + ": '" + std::string(1, p) + "' matches no character the reader knows (" +
                    charset + ")");
      prior += std::log(letters / static_cast<double>(allowed.size()));
      positions.push_back(std::move(allowed));
    }
    formats_.push_back(std::move(positions));
    log_priors_.push_back(prior);
  }
}

// Formats that fit the columns compete on their path's probability times their prior: a
// position's odds against a letter's (a digit is one of 10, a letter one of 26), so where
// the network is torn between O and 0 the format with a digit there wins (RK003AB over
// RKO03AB when both fit). Against a letter, not against every text the format admits:
// that prior would make a format 26x less probable for each letter it has more, and drop
// weak letters (README, "Reading plates of several countries").
PlateReading PlatePattern::decode(const float* probs, size_t columns, double* log_score) const {
  PlateReading best;
  double best_score = -std::numeric_limits<double>::infinity(), best_posterior = best_score;
  for (size_t f = 0; f < formats_.size(); ++f) {
    double score = 0;
    PlateReading r = decode_format(formats_[f], probs, columns, score);
    if (!r.text.empty() && score + log_priors_[f] > best_posterior)
      best = r, best_score = score, best_posterior = score + log_priors_[f];
  }
  if (log_score) *log_score = best_score;
  return best;
}

PlateReading PlatePattern::read(const float* probs, size_t columns) const {
  double fitting = 0;
  PlateReading r = decode(probs, columns, &fitting);
  if (strict_) return r;
  const size_t classes = charset_.size() + 1;
  double free = 0;  // the free reading's path: every column's most probable class
  for (size_t t = 0; t < columns; ++t)
    free += std::log(std::max(*std::max_element(probs + t * classes, probs + (t + 1) * classes), 1e-30f));
  if (r.text.empty() || fitting < free - std::log(kFormatOdds)) return ctc_greedy_read(probs, columns, charset_);
  return r;
}

// States: blank before position k (2k), or position k holding allowed class j. A path
// moves from a character to the next position directly only when the classes differ
// (CTC would merge equal neighbours), else through a blank.
PlateReading PlatePattern::decode_format(const std::vector<std::vector<int>>& format, const float* probs,
                                         size_t columns, double& log_score) const {
  const size_t classes = charset_.size() + 1, L = format.size();
  const double none = -std::numeric_limits<double>::infinity();
  auto lp = [&](size_t t, int c) { return std::log(std::max(probs[t * classes + c], 1e-30f)); };
  // State index: blanks 0..L (blank after k-1 characters), characters after them.
  std::vector<size_t> char_base(L + 1, L + 1);
  for (size_t k = 0; k < L; ++k) char_base[k + 1] = char_base[k] + format[k].size();
  const size_t states = char_base[L];
  std::vector<double> score(states, none), next(states);
  std::vector<std::vector<int>> from(columns, std::vector<int>(states, -1));
  auto char_state = [&](size_t k, size_t j) { return char_base[k] + j; };
  auto relax = [&](size_t t, size_t to, size_t f, double add) {
    if (score[f] + add > next[to]) next[to] = score[f] + add, from[t][to] = static_cast<int>(f);
  };
  for (size_t t = 0; t < columns; ++t) {
    std::fill(next.begin(), next.end(), none);
    for (size_t k = 0; k <= L; ++k) {  // blank after k characters
      const double add = lp(t, 0);
      if (t == 0) { if (k == 0) next[0] = add; continue; }
      relax(t, k, k, add);
      if (k > 0) for (size_t j = 0; j < format[k - 1].size(); ++j) relax(t, k, char_state(k - 1, j), add);
    }
    for (size_t k = 0; k < L; ++k)
      for (size_t j = 0; j < format[k].size(); ++j) {
        const size_t s = char_state(k, j);
        const double add = lp(t, format[k][j]);
        if (t == 0) { if (k == 0) next[s] = add; continue; }
        relax(t, s, s, add);
        relax(t, s, k, add);
        if (k > 0)
          for (size_t i = 0; i < format[k - 1].size(); ++i)
            if (format[k - 1][i] != format[k][j]) relax(t, s, char_state(k - 1, i), add);
      }
    score.swap(next);
  }
  size_t end = L;
  for (size_t j = 0; j < format[L - 1].size(); ++j)
    if (score[char_state(L - 1, j)] > score[end]) end = char_state(L - 1, j);
  log_score = columns ? score[end] : none;
  if (!std::isfinite(log_score)) return {};
  // Back along the path: the class of each column, then the greedy reading of that path.
  std::vector<int> path(columns);
  for (size_t t = columns; t-- > 0;) {
    if (end <= L) path[t] = 0;
    else {
      size_t k = L - 1;
      while (end < char_base[k]) --k;
      path[t] = format[k][end - char_base[k]];
    }
    if (t > 0) end = static_cast<size_t>(from[t][end]);
  }
  // The text and confidence along that path, as ctc_greedy_read computes them.
  PlateReading r;
  r.confidence = 1;
  for (size_t t = 0; t < columns;) {
    size_t end_run = t;
    float peak = 0;
    for (; end_run < columns && path[end_run] == path[t]; ++end_run) peak = std::max(peak, probs[end_run * classes + path[t]]);
    if (path[t] != 0) {
      r.text += charset_[path[t] - 1];
      r.confidence = std::min(r.confidence, peak);
    }
    t = end_run;
  }
  if (r.text.empty()) r.confidence = 0;
  return r;
}

}  // namespace edgessd
