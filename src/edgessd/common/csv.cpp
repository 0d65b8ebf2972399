#include "edgessd/common/csv.h"

#include <cstdlib>

#include "edgessd/common/error.h"

namespace edgessd {

std::string_view strip_bom(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  return text;
}

bool split_csv_record(std::string_view record, std::vector<std::string>& fields) {
  fields.clear();
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < record.size(); ++i) {
    const char c = record[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < record.size() && record[i + 1] == '"') field += '"', ++i;
        else quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
    } else {
      field += c;
    }
  }
  fields.push_back(std::move(field));
  return !quoted;
}

CsvTable::CsvTable(std::string text, std::string what) : what_(std::move(what)) {
  std::vector<std::string> fields;
  size_t line = 1;
  size_t at = text.size() - strip_bom(text).size();
  while (at < text.size()) {
    // The record ends at the first line end outside quotes ("" toggles twice).
    size_t end = at, inner_lines = 0;
    bool quoted = false;
    for (; end < text.size(); ++end) {
      if (text[end] == '"') quoted = !quoted;
      else if (text[end] == '\n' && !quoted) break;
      else if (text[end] == '\n') ++inner_lines;
    }
    if (quoted) throw Error(what_ + ":" + std::to_string(line) + ": unterminated quoted field");
    std::string_view record(text.data() + at, end - at);
    if (!record.empty() && record.back() == '\r') record.remove_suffix(1);
    split_csv_record(record, fields);
    if (header_.empty()) {
      header_ = fields;
    } else if (!(fields.size() == 1 && fields[0].empty())) {  // skip blank lines
      if (fields.size() != header_.size())
        throw Error(what_ + ":" + std::to_string(line) + ": " + std::to_string(fields.size()) +
                    " fields, the header has " + std::to_string(header_.size()));
      rows_.push_back(fields);
      lines_.push_back(line);
    }
    line += inner_lines + 1;
    at = end + 1;
  }
  if (header_.empty()) throw Error(what_ + ": empty CSV file");
  for (size_t c = 0; c < header_.size(); ++c)
    if (!index_.emplace(header_[c], c).second)  // which of the two would be read is a guess
      throw Error(what_ + ":1: column '" + header_[c] + "' appears twice in the header");
}

bool is_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size() || (n == 2 && c < 0xc2) || c > 0xf4) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    // No overlong forms, no UTF-16 surrogates, nothing past U+10FFFF.
    const unsigned char next = n > 1 ? static_cast<unsigned char>(s[i + 1]) : 0;
    if ((c == 0xe0 && next < 0xa0) || (c == 0xed && next >= 0xa0) || (c == 0xf0 && next < 0x90) ||
        (c == 0xf4 && next >= 0x90))
      return false;
    i += n;
  }
  return true;
}

size_t CsvTable::column(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) throw Error(what_ + ": no column '" + name + "' in the header");
  return it->second;
}

float parse_float_field(const CsvTable& table, size_t row, size_t column) {
  const std::string& s = table.row(row)[column];
  char* end = nullptr;
  const float v = std::strtof(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size())
    throw Error(table.what() + ":" + std::to_string(table.line_of(row)) + ": column '" + table.header()[column] +
                "' is not a number: '" + s + "'");
  return v;
}

}  // namespace edgessd
