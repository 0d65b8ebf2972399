#include "edgessd/common/csv.h"

#include <cstdlib>

#include "edgessd/common/error.h"

namespace edgessd {

CsvTable::CsvTable(std::string text, std::string what) : what_(std::move(what)) {
  std::vector<std::string> fields;
  std::string field;
  size_t line = 1, row_line = 1;
  bool quoted = false, any = false;
  auto end_row = [&] {
    fields.push_back(std::move(field));
    field.clear();
    if (header_.empty()) {
      header_ = std::move(fields);
    } else if (!(fields.size() == 1 && fields[0].empty())) {  // skip blank lines
      if (fields.size() != header_.size())
        throw Error(what_ + ":" + std::to_string(row_line) + ": " + std::to_string(fields.size()) +
                    " fields, the header has " + std::to_string(header_.size()));
      rows_.push_back(std::move(fields));
      lines_.push_back(row_line);
    }
    fields.clear();
  };
  size_t i = 0;
  if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) i = 3;  // UTF-8 BOM
  for (; i < text.size(); ++i) {
    const char c = text[i];
    any = true;
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') { field += '"'; ++i; }
        else quoted = false;
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    switch (c) {
      case '"': quoted = true; break;
      case ',': fields.push_back(std::move(field)); field.clear(); break;
      case '\r': break;
      case '\n':
        end_row();
        row_line = ++line;
        any = false;
        break;
      default: field += c;
    }
  }
  if (quoted) throw Error(what_ + ":" + std::to_string(row_line) + ": unterminated quoted field");
  if (any) end_row();
  if (header_.empty()) throw Error(what_ + ": empty CSV file");
  for (size_t c = 0; c < header_.size(); ++c) index_[header_[c]] = c;
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
