#include "edgessd/download/open_images_csv.h"
#include "edgessd/common/edit_distance.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <tuple>

#include "edgessd/common/csv.h"
#include "edgessd/common/error.h"
#include "edgessd/common/files.h"

namespace edgessd {

namespace {

constexpr size_t kExamples = 3;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::string_view strip_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool parse_float(const std::string& s, float& value) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  value = std::strtof(s.c_str(), &end);
  return errno == 0 && end == s.c_str() + s.size();
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::string word;
  for (char c : text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      word += c;
    } else if (!word.empty()) {
      out.push_back(word);
      word.clear();
    }
  }
  return out;
}

// Reads a file in large blocks and hands out complete CSV records (quoted line ends kept
// inside their record), each with the line number it starts on.
class RecordReader {
 public:
  explicit RecordReader(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
    buffer_.resize(kBlock);
  }
  ~RecordReader() { ::close(fd_); }
  RecordReader(const RecordReader&) = delete;
  RecordReader& operator=(const RecordReader&) = delete;

  // The next record without its line end, or false at the end of the file.
  bool next(std::string_view& record, uint64_t& line) {
    for (;;) {
      const char* begin = buffer_.data() + pos_;
      const char* limit = buffer_.data() + end_;
      const char* nl = static_cast<const char*>(std::memchr(begin, '\n', limit - begin));
      if (nl) {
        const char* quote = static_cast<const char*>(std::memchr(begin, '"', nl - begin));
        if (quote) nl = end_of_quoted_record(begin, limit);
      }
      if (nl) {
        record = std::string_view(begin, nl - begin);
        line = line_;
        line_ += 1 + std::count(begin, nl, '\n');
        pos_ = nl + 1 - buffer_.data();
        return true;
      }
      if (eof_) {
        if (pos_ == end_) return false;
        record = std::string_view(begin, limit - begin);
        line = line_;
        pos_ = end_;
        return true;
      }
      refill();
    }
  }
  uint64_t bytes_read() const { return bytes_; }

 private:
  static constexpr size_t kBlock = 8u << 20;

  // The newline that ends a record containing quotes, or null if it is not in the buffer.
  static const char* end_of_quoted_record(const char* begin, const char* limit) {
    bool quoted = false;
    for (const char* p = begin; p < limit; ++p) {
      if (*p == '"') quoted = !quoted;
      else if (*p == '\n' && !quoted) return p;
    }
    return nullptr;
  }

  void refill() {
    // Keep the unfinished record, move it to the front, read behind it.
    const size_t keep = end_ - pos_;
    if (keep > 0 && pos_ > 0) std::memmove(buffer_.data(), buffer_.data() + pos_, keep);
    pos_ = 0;
    end_ = keep;
    if (buffer_.size() - end_ < kBlock / 2) buffer_.resize(buffer_.size() * 2);
    const ssize_t n = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
    if (n < 0) throw Error(path_ + ": read failed (" + std::strerror(errno) + ")");
    if (n == 0) eof_ = true;
    end_ += static_cast<size_t>(n);
    bytes_ += static_cast<uint64_t>(n);
  }

  std::string path_;
  int fd_ = -1;
  std::vector<char> buffer_;
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  uint64_t line_ = 1, bytes_ = 0;
};

}  // namespace

std::vector<ClassDescription> read_class_descriptions(const std::string& path) {
  RecordReader reader(path);
  std::vector<ClassDescription> classes;
  std::string_view record;
  uint64_t line = 0;
  std::vector<std::string> fields;
  while (reader.next(record, line)) {
    record = strip_cr(record);
    if (line == 1) record = strip_bom(record);
    if (record.empty()) continue;
    if (!split_csv_record(record, fields) || fields.size() != 2 || fields[0].empty())
      throw Error(path + ":" + std::to_string(line) + ": expected '<LabelName>,<class name>'");
    classes.push_back({fields[0], fields[1]});
  }
  if (classes.empty()) throw Error(path + ": no classes in it");
  return classes;
}

std::vector<ClassDescription> match_class_names(const std::vector<ClassDescription>& known,
                                                const std::vector<std::string>& requested) {
  std::vector<ClassDescription> matched;
  for (const std::string& raw : requested) {
    const std::string want = lower(trim(raw));
    if (want.empty()) throw Error("--class-names: an empty class name");
    auto it = std::find_if(known.begin(), known.end(), [&](const ClassDescription& c) { return lower(c.name) == want; });
    if (it != known.end()) {
      if (std::none_of(matched.begin(), matched.end(), [&](const auto& m) { return m.label == it->label; }))
        matched.push_back(*it);
      continue;
    }
    // Nearest: containing the request (or contained in it), then most words in common,
    // then fewest edits.
    const std::vector<std::string> want_words = words(want);
    std::vector<std::tuple<int, size_t, std::string>> scored;
    for (const auto& c : known) {
      const std::string name = lower(c.name);
      int shared = 0;
      for (const auto& w : words(name)) shared += std::count(want_words.begin(), want_words.end(), w) > 0;
      const bool contains = name.find(want) != std::string::npos || want.find(name) != std::string::npos;
      scored.emplace_back(contains ? -1000 : -shared, edit_distance(want, name), c.name);
    }
    std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
      return std::tie(std::get<0>(a), std::get<1>(a)) < std::tie(std::get<0>(b), std::get<1>(b));
    });
    std::string nearest;
    for (size_t i = 0; i < std::min<size_t>(5, scored.size()); ++i) nearest += (i ? "', '" : "'") + std::get<2>(scored[i]);
    throw Error("--class-names: no Open Images class '" + trim(raw) + "'; nearest: " + nearest + "'");
  }
  return matched;
}

bool is_open_images_id(const std::string& id) {
  return !id.empty() && id.size() <= 64 &&
         std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isxdigit(c); });
}

namespace {

struct AnnotationColumns {
  long id, label, x1, x2, y1, y2, group, depiction;  // -1: an optional column that is absent
};

AnnotationColumns find_columns(const std::vector<std::string>& header, const std::string& path) {
  auto column = [&](const char* name, bool required) -> long {
    auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) {
      if (required) throw Error(path + ": no '" + name + "' column in the header");
      return -1;
    }
    return it - header.begin();
  };
  return {column("ImageID", true), column("LabelName", true), column("XMin", true), column("XMax", true),
          column("YMin", true),    column("YMax", true),      column("IsGroupOf", false),
          column("IsDepiction", false)};
}

enum class LabelScan { OtherClass, Wanted, Quoted, TooFewColumns };

// The fast path: walks to the LabelName field only, since most rows are other classes.
// Quoted means a quote came first, and the row must be split properly to know.
LabelScan scan_label(std::string_view record, long c_label, const std::vector<ClassDescription>& classes,
                     size_t& class_index) {
  const char* p = record.data();
  const char* end = p + record.size();
  long col = 0;
  while (col < c_label) {
    const char* comma = p;
    while (comma < end && *comma != ',' && *comma != '"') ++comma;
    if (comma == end) return LabelScan::TooFewColumns;
    if (*comma == '"') return LabelScan::Quoted;
    p = comma + 1;
    ++col;
  }
  const char* label_end = p;
  while (label_end < end && *label_end != ',' && *label_end != '"') ++label_end;
  if (label_end < end && *label_end == '"') return LabelScan::Quoted;
  const std::string_view label(p, label_end - p);
  for (size_t i = 0; i < classes.size(); ++i)
    if (label == classes[i].label) class_index = i;
  return class_index == classes.size() ? LabelScan::OtherClass : LabelScan::Wanted;
}

enum class RowOutcome { Parsed, BadId, Malformed };

// A wanted row's fields checked and parsed into `row`; `why` says what is malformed. A bad
// ImageID is counted apart from malformed rows.
RowOutcome parse_row(std::vector<std::string>& fields, const AnnotationColumns& c, size_t columns,
                     AnnotationRow& row, std::string& why) {
  if (fields.size() != columns) {
    why = std::to_string(fields.size()) + " columns, the header has " + std::to_string(columns);
    return RowOutcome::Malformed;
  }
  if (!parse_float(fields[c.x1], row.x_min) || !parse_float(fields[c.x2], row.x_max) ||
      !parse_float(fields[c.y1], row.y_min) || !parse_float(fields[c.y2], row.y_max)) {
    why = "a coordinate is not a number";
    return RowOutcome::Malformed;
  }
  row.image_id = fields[c.id];
  if (!is_open_images_id(row.image_id)) return RowOutcome::BadId;
  row.is_group = c.group >= 0 && fields[c.group] == "1";
  row.is_depiction = c.depiction >= 0 && fields[c.depiction] == "1";
  row.fields = std::move(fields);
  fields = {};
  return RowOutcome::Parsed;
}

}  // namespace

FilteredAnnotations filter_annotations(const std::string& path, const std::vector<ClassDescription>& classes) {
  RecordReader reader(path);
  FilteredAnnotations out;
  std::string_view record;
  uint64_t line = 0;
  if (!reader.next(record, line) || !split_csv_record(strip_bom(strip_cr(record)), out.header))
    throw Error(path + ": empty, or no CSV header line");
  const AnnotationColumns c = find_columns(out.header, path);
  auto malformed = [&](uint64_t at, const std::string& why) {
    ++out.malformed;
    if (out.malformed_examples.size() < kExamples)
      out.malformed_examples.push_back(path + ":" + std::to_string(at) + ": " + why);
  };
  std::vector<std::string> fields;
  while (reader.next(record, line)) {
    record = strip_cr(record);
    if (record.empty()) continue;
    ++out.rows_read;
    size_t class_index = classes.size();
    const LabelScan scan = scan_label(record, c.label, classes, class_index);
    if (scan == LabelScan::OtherClass) continue;
    if (scan == LabelScan::TooFewColumns) {
      malformed(line, "too few columns");
      continue;
    }
    if (!split_csv_record(record, fields)) {
      malformed(line, "unbalanced quotes");
      continue;
    }
    if (scan == LabelScan::Quoted) {
      if (static_cast<long>(fields.size()) <= c.label) {
        malformed(line, "too few columns");
        continue;
      }
      for (size_t i = 0; i < classes.size(); ++i)
        if (fields[c.label] == classes[i].label) class_index = i;
      if (class_index == classes.size()) continue;
    }
    AnnotationRow row;
    row.class_index = class_index;
    std::string why;
    const RowOutcome outcome = parse_row(fields, c, out.header.size(), row, why);
    if (outcome == RowOutcome::Parsed) {
      out.rows.push_back(std::move(row));
    } else if (outcome == RowOutcome::BadId) {
      ++out.bad_ids;
      if (out.bad_id_examples.size() < kExamples)
        out.bad_id_examples.push_back(path + ":" + std::to_string(line) + ": ImageID '" + row.image_id + "'");
    } else {
      malformed(line, why);
    }
  }
  out.bytes_read = reader.bytes_read();
  return out;
}

}  // namespace edgessd
