#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "edgessd/download/open_images_csv.h"

namespace edgessd {

// The boxes chosen from one split's annotation file.
struct SplitSelection {
  std::string split;                   // train, validation, test
  std::vector<std::string> header;     // the source file's columns
  std::vector<AnnotationRow> rows;     // in file order
  std::vector<std::string> image_ids;  // distinct, in download order

  void refresh_image_ids();            // distinct ids of `rows`, first-seen order
};

struct SelectionOptions {
  bool include_depiction = false;
  bool remove_overlapped = false;
  int64_t max_images = -1;                 // over all splits, shared in proportion
  int64_t max_annotations_per_class = -1;  // per class over all splits, shared in proportion
  uint64_t seed = 0;
};

// open_images_downloader.py's selection, in its order: drop depictions (unless asked),
// drop single boxes lying inside a group box of the same class and image
// (--remove-overlapped), print "Available <split> images/boxes" and the totals, then
// the limits (random, seeded) with a "Limiting" line per split. Log lines go to `log`.
void select_annotations(std::vector<SplitSelection>& splits, const std::vector<ClassDescription>& classes,
                        const SelectionOptions& options, std::string& log);

// The per-split and overall statistics block the Python tool prints.
std::string format_statistics(const std::vector<SplitSelection>& splits, const std::vector<ClassDescription>& classes);

// sub-<split>-annotations-bbox.csv: the source columns plus `id` (LabelName) and
// `ClassName`, as pandas' merge with the class table writes them. Atomic.
void write_sub_annotations(const std::string& path, const SplitSelection& split,
                           const std::vector<ClassDescription>& classes);

}  // namespace edgessd
