#pragma once
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace edgessd {

// RFC-4180 CSV over a whole file held in memory: quoted fields (with "" escapes and
// embedded commas or newlines), CRLF or LF line ends. Columns are found by header name.
class CsvTable {
 public:
  // Parses `text`; `what` names the file in errors.
  CsvTable(std::string text, std::string what);

  const std::vector<std::string>& header() const { return header_; }
  // Index of a header column, or an Error naming the file and the column.
  size_t column(const std::string& name) const;
  bool has_column(const std::string& name) const { return index_.count(name) != 0; }
  size_t rows() const { return rows_.size(); }
  const std::vector<std::string>& row(size_t i) const { return rows_[i]; }
  // 1-based line number in the file where row i starts (for error messages).
  size_t line_of(size_t i) const { return lines_[i]; }
  const std::string& what() const { return what_; }

 private:
  std::string what_;
  std::vector<std::string> header_;
  std::unordered_map<std::string, size_t> index_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<size_t> lines_;
};

// `text` without a leading UTF-8 byte-order mark, which spreadsheet exports put before the
// first line of a CSV.
std::string_view strip_bom(std::string_view text);

// One CSV record (without its line end) into unquoted fields, "" standing for a quote
// inside a quoted field; false if a quote is left open.
bool split_csv_record(std::string_view record, std::vector<std::string>& fields);

// Whether `s` is well-formed UTF-8 (JSON output and the reader's characters need it).
bool is_utf8(std::string_view s);

// Parses a float field; an Error naming file, line and column if it is not a number.
float parse_float_field(const CsvTable& table, size_t row, size_t column);

}  // namespace edgessd
