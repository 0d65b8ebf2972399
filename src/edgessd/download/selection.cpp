#include "edgessd/download/selection.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "edgessd/common/files.h"

namespace edgessd {

namespace {

std::string line(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string line(const char* format, ...) {
  char buffer[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buffer, sizeof buffer, format, args);
  va_end(args);
  return std::string(buffer) + "\n";
}

// A single box at least 90% covered by a group box counts as inside it (group boxes are
// drawn loosely around their members).
bool inside(const AnnotationRow& single, const AnnotationRow& group) {
  const float w = std::min(single.x_max, group.x_max) - std::max(single.x_min, group.x_min);
  const float h = std::min(single.y_max, group.y_max) - std::max(single.y_min, group.y_min);
  const float area = (single.x_max - single.x_min) * (single.y_max - single.y_min);
  return w > 0 && h > 0 && area > 0 && w * h >= 0.9f * area;
}

void remove_overlapped(SplitSelection& split) {
  std::unordered_map<std::string, std::vector<size_t>> groups;  // image -> group rows
  for (size_t i = 0; i < split.rows.size(); ++i)
    if (split.rows[i].is_group) groups[split.rows[i].image_id].push_back(i);
  std::vector<AnnotationRow> kept;
  for (size_t i = 0; i < split.rows.size(); ++i) {
    const AnnotationRow& row = split.rows[i];
    bool covered = false;
    if (!row.is_group) {
      auto it = groups.find(row.image_id);
      if (it != groups.end())
        for (size_t g : it->second)
          covered |= split.rows[g].class_index == row.class_index && inside(row, split.rows[g]);
    }
    if (!covered) kept.push_back(row);
  }
  split.rows = std::move(kept);
}

void keep_images(SplitSelection& split, const std::unordered_set<std::string>& ids) {
  split.rows.erase(std::remove_if(split.rows.begin(), split.rows.end(),
                                  [&](const AnnotationRow& r) { return !ids.count(r.image_id); }),
                   split.rows.end());
}

}  // namespace

void SplitSelection::refresh_image_ids() {
  std::unordered_set<std::string> seen;
  image_ids.clear();
  for (const auto& row : rows)
    if (seen.insert(row.image_id).second) image_ids.push_back(row.image_id);
}

void select_annotations(std::vector<SplitSelection>& splits, const std::vector<ClassDescription>& classes,
                        const SelectionOptions& options, std::string& log) {
  std::mt19937_64 random(options.seed);
  size_t total_images = 0, total_boxes = 0;
  for (auto& split : splits) {
    if (!options.include_depiction)
      split.rows.erase(std::remove_if(split.rows.begin(), split.rows.end(),
                                      [](const AnnotationRow& r) { return r.is_depiction; }),
                       split.rows.end());
    if (options.remove_overlapped) remove_overlapped(split);
    split.refresh_image_ids();
    log += line("Available %s images:  %zu", split.split.c_str(), split.image_ids.size());
    log += line("Available %s boxes:   %zu\n", split.split.c_str(), split.rows.size());
    total_images += split.image_ids.size();
    total_boxes += split.rows.size();
  }
  log += line("Total available images: %zu", total_images);
  log += line("Total available boxes:  %zu\n", total_boxes);

  if (options.max_annotations_per_class > 0) {
    for (size_t c = 0; c < classes.size(); ++c) {
      size_t class_total = 0;
      for (const auto& split : splits)
        for (const auto& r : split.rows) class_total += r.class_index == c;
      if (class_total <= static_cast<size_t>(options.max_annotations_per_class)) continue;
      for (auto& split : splits) {
        // Images with this class, in random order, until the split's share of the limit.
        std::map<std::string, size_t> per_image;
        size_t split_total = 0;
        for (const auto& r : split.rows)
          if (r.class_index == c) ++per_image[r.image_id], ++split_total;
        const size_t limit = static_cast<size_t>(
            static_cast<double>(options.max_annotations_per_class) * split_total / class_total);
        std::vector<std::string> ids;
        for (const auto& kv : per_image) ids.push_back(kv.first);
        std::shuffle(ids.begin(), ids.end(), random);
        std::unordered_set<std::string> chosen;
        size_t boxes = 0;
        for (const auto& id : ids) {
          if (boxes + per_image[id] > limit) continue;
          boxes += per_image[id];
          chosen.insert(id);
        }
        split.rows.erase(std::remove_if(split.rows.begin(), split.rows.end(),
                                        [&](const AnnotationRow& r) {
                                          return r.class_index == c && !chosen.count(r.image_id);
                                        }),
                         split.rows.end());
        split.refresh_image_ids();
        log += line("Limiting '%s' in %s to:  %zu boxes (%zu images)", classes[c].name.c_str(), split.split.c_str(),
                    boxes, chosen.size());
      }
    }
    total_images = 0;
    for (const auto& split : splits) total_images += split.image_ids.size();
  }

  if (options.max_images > 0 && total_images > static_cast<size_t>(options.max_images)) {
    const size_t before = total_images;
    for (auto& split : splits) {
      const size_t keep = static_cast<size_t>(static_cast<double>(options.max_images) * split.image_ids.size() / before);
      std::vector<std::string> ids = split.image_ids;
      std::shuffle(ids.begin(), ids.end(), random);
      ids.resize(std::min(keep, ids.size()));
      keep_images(split, std::unordered_set<std::string>(ids.begin(), ids.end()));
      split.image_ids = ids;
      log += line("Limiting %s dataset to:  %zu images (%zu boxes)", split.split.c_str(), split.image_ids.size(),
                  split.rows.size());
    }
  }
}

std::string format_statistics(const std::vector<SplitSelection>& splits, const std::vector<ClassDescription>& classes) {
  std::string out;
  size_t images = 0, boxes = 0;
  for (const auto& split : splits) {
    out += "\n-------------------------------------\n '" + split.split +
           "' set statistics\n-------------------------------------\n";
    out += line("  Image count:  %zu", split.image_ids.size());
    out += line("  Bounding box count:  %zu", split.rows.size());
    out += "  Bounding box distribution: \n";
    std::vector<size_t> counts(classes.size(), 0);
    for (const auto& r : split.rows) ++counts[r.class_index];
    // pandas' value_counts order: most frequent first.
    std::vector<size_t> order(classes.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return counts[a] > counts[b]; });
    for (size_t c : order) {
      if (counts[c] == 0) continue;
      out += line("    %s:  %zu/%zu = %.2f", classes[c].name.c_str(), counts[c], split.rows.size(),
                  static_cast<double>(counts[c]) / split.rows.size());
    }
    out += " \n";
    images += split.image_ids.size();
    boxes += split.rows.size();
  }
  out += "\n-------------------------------------\n Overall statistics\n-------------------------------------\n";
  out += line("  Image count:  %zu", images);
  out += line("  Bounding box count:  %zu\n", boxes);
  return out;
}

void write_sub_annotations(const std::string& path, const SplitSelection& split,
                           const std::vector<ClassDescription>& classes) {
  auto field = [](const std::string& value) {
    if (value.find_first_of(",\"\n\r") == std::string::npos) return value;
    std::string quoted = "\"";
    for (char c : value) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
  };
  std::string text;
  text.reserve(split.rows.size() * 160 + 256);
  for (const auto& name : split.header) text += field(name) + ",";
  text += "id,ClassName\n";
  for (const auto& row : split.rows) {
    for (const auto& value : row.fields) text += field(value) + ",";
    text += field(classes[row.class_index].label) + "," + field(classes[row.class_index].name) + "\n";
  }
  write_file_atomic(path, text);
}

}  // namespace edgessd
