#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace edgessd {

// class-descriptions-boxable.csv: "<LabelName>,<class name>" a line, no header.
struct ClassDescription {
  std::string label;  // the MID, e.g. /m/01jfm_
  std::string name;   // e.g. Vehicle registration plate
};
std::vector<ClassDescription> read_class_descriptions(const std::string& path);

// Finds each requested name (case-insensitive, surrounding spaces ignored). An unknown
// name is an Error listing the nearest known names.
std::vector<ClassDescription> match_class_names(const std::vector<ClassDescription>& known,
                                                const std::vector<std::string>& requested);

// One selected box: its row as in the file plus the fields the selection needs.
struct AnnotationRow {
  std::vector<std::string> fields;  // every column of the file, unquoted
  std::string image_id;
  size_t class_index = 0;           // into the requested classes
  float x_min = 0, x_max = 0, y_min = 0, y_max = 0;
  bool is_group = false;
  bool is_depiction = false;
};

struct FilteredAnnotations {
  std::vector<std::string> header;
  std::vector<AnnotationRow> rows;  // in file order
  uint64_t rows_read = 0;
  uint64_t bytes_read = 0;
  uint64_t malformed = 0;           // selected-class rows with a wrong column count or a bad number
  std::vector<std::string> malformed_examples;  // "file:line: why", the first few
  uint64_t bad_ids = 0;             // ImageIDs outside Open Images' hex IDs (path-safety)
  std::vector<std::string> bad_id_examples;
};

// Streams an Open Images *-annotations-bbox.csv (2.2 GB for v6 train) and keeps the rows
// whose LabelName is one of `classes`. Columns are found by header name; CRLF and quoted
// fields are accepted. Memory grows only with the kept rows. Rows of other classes are
// only scanned up to their LabelName; malformed kept rows are counted and skipped. A
// missing file, header or column is an Error naming the file.
FilteredAnnotations filter_annotations(const std::string& path, const std::vector<ClassDescription>& classes);

// Whether an ImageID is safe and of Open Images' form (hex digits only).
bool is_open_images_id(const std::string& id);

}  // namespace edgessd
