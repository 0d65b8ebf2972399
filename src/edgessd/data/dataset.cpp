#include "edgessd/data/dataset.h"

#include <tinyxml2.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <opencv2/imgcodecs.hpp>

#include "edgessd/common/csv.h"
#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/logging.h"
#include "edgessd/common/parallel.h"
#include "edgessd/common/random.h"
#include "edgessd/common/model_info.h"

namespace edgessd {

size_t DetectionDataset::box_count() const {
  size_t n = 0;
  for (const auto& image : images) n += image.boxes.size();
  return n;
}

DatasetType parse_dataset_type(const std::string& name) {
  if (name == "open_images") return DatasetType::OpenImages;
  if (name == "voc") return DatasetType::Voc;
  throw Error("--dataset-type: unknown '" + name + "' (expected open_images or voc)");
}

namespace {

// Collects dropped items of one kind and reports them in one warning line.
class DropReport {
 public:
  explicit DropReport(std::string kind) : kind_(std::move(kind)) {}
  void add(const std::string& item) {
    if (examples_.size() < 5) examples_.push_back(item);
    ++count_;
  }
  void log(const std::string& where) const {
    if (count_ == 0) return;
    std::string list;
    for (const auto& e : examples_) list += (list.empty() ? "" : ", ") + e;
    log_warning(where + ": dropped " + std::to_string(count_) + " " + kind_ + " (" + list +
                (count_ > examples_.size() ? ", ..." : "") + ")");
  }

 private:
  std::string kind_;
  std::vector<std::string> examples_;
  size_t count_ = 0;
};

bool valid_box(const CornerBox& b) {
  for (float v : {b.x1, b.y1, b.x2, b.y2})
    if (!std::isfinite(v) || v < 0.0f || v > 1.0f) return false;
  return b.x1 < b.x2 && b.y1 < b.y2;
}

// 0 ok, 2 undecodable, 3 under 8 px on a side. Decoding at 1/8 scale keeps the check
// cheap; an image too small to have a 1/8 scale makes OpenCV throw there (it used to
// abort eval and train), and is too small to train or evaluate on anyway.
uint8_t image_state(const std::string& path) {
  try {
    return cv::imread(path, cv::IMREAD_REDUCED_GRAYSCALE_8).empty() ? 2 : 0;
  } catch (const cv::Exception&) {
    return 3;
  }
}

// Drops images whose file is missing, does not decode or is tiny (checked in parallel).
void drop_unreadable(std::vector<AnnotatedImage>& images, bool verify, const std::string& where) {
  std::vector<uint8_t> state(images.size(), 0);  // 0 ok, 1 missing, 2 undecodable, 3 tiny
  parallel_for(images.size(), std::min(8, hardware_threads()), [&](size_t i) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(images[i].image_path, ec)) state[i] = 1;
    else if (verify) state[i] = image_state(images[i].image_path);
  });
  DropReport missing("missing images"), broken("undecodable images"), tiny("images under 8 px on a side");
  std::vector<AnnotatedImage> kept;
  for (size_t i = 0; i < images.size(); ++i) {
    if (state[i] == 1) missing.add(images[i].image_path);
    else if (state[i] == 2) broken.add(images[i].image_path);
    else if (state[i] == 3) tiny.add(images[i].image_path);
    else kept.push_back(std::move(images[i]));
  }
  missing.log(where);
  broken.log(where);
  tiny.log(where);
  images = std::move(kept);
}

// One rule for both layouts: an image left without a box (every object of another class,
// invalid, or difficult when those are skipped) is not part of the data set. Open Images
// never lists such an image; VOC used to keep it, and its detections then all counted as
// false positives in eval.
void drop_boxless(std::vector<AnnotatedImage>& images, const std::string& where) {
  DropReport boxless("images without a usable box");
  std::vector<AnnotatedImage> kept;
  for (auto& image : images) {
    if (image.boxes.empty()) boxless.add(image.image_id);
    else kept.push_back(std::move(image));
  }
  boxless.log(where);
  images = std::move(kept);
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t start = 0;
  while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start]))) ++start;
  return s.substr(start);
}

}  // namespace

DetectionDataset read_open_images(const std::string& root, const std::string& split, const DatasetOptions& options) {
  const std::string csv_path = join_path(root, "sub-" + split + "-annotations-bbox.csv");
  if (!std::filesystem::exists(csv_path)) throw Error(csv_path + ": annotation file not found");
  CsvTable table(read_file(csv_path), csv_path);
  const size_t c_id = table.column("ImageID"), c_class = table.column("ClassName"), c_x1 = table.column("XMin"),
               c_x2 = table.column("XMax"), c_y1 = table.column("YMin"), c_y2 = table.column("YMax");
  const bool has_group = table.has_column("IsGroupOf");
  const size_t c_group = has_group ? table.column("IsGroupOf") : 0;
  const bool has_text = table.has_column("PlateText");
  const size_t c_text = has_text ? table.column("PlateText") : 0;

  DetectionDataset dataset;
  dataset.description = root + " (open_images, " + split + ")";
  if (options.class_names.empty()) {
    std::set<std::string> names;
    for (size_t r = 0; r < table.rows(); ++r) names.insert(table.row(r)[c_class]);
    dataset.class_names.push_back("BACKGROUND");
    dataset.class_names.insert(dataset.class_names.end(), names.begin(), names.end());
    check_class_names(dataset.class_names, csv_path + " (ClassName)");
  } else {
    dataset.class_names = options.class_names;
  }
  std::map<std::string, int64_t> class_index;
  for (size_t c = 1; c < dataset.class_names.size(); ++c) class_index[dataset.class_names[c]] = c;

  DropReport bad_boxes("invalid boxes"), unknown("boxes of classes not in the class list");
  std::map<std::string, size_t> by_id;  // sorted by ImageID, as pandas' groupby
  std::vector<AnnotatedImage> images;
  for (size_t r = 0; r < table.rows(); ++r) {
    const auto& row = table.row(r);
    const std::string where = csv_path + ":" + std::to_string(table.line_of(r));
    CornerBox box{parse_float_field(table, r, c_x1), parse_float_field(table, r, c_y1),
                  parse_float_field(table, r, c_x2), parse_float_field(table, r, c_y2)};
    const std::string& id = row[c_id];
    if (id.empty() || id.find('/') != std::string::npos || id.find("..") != std::string::npos)
      throw Error(where + ": bad ImageID '" + id + "'");
    auto cls = class_index.find(row[c_class]);
    if (cls == class_index.end()) { unknown.add("line " + std::to_string(table.line_of(r)) + " " + row[c_class]); continue; }
    if (!valid_box(box)) { bad_boxes.add("line " + std::to_string(table.line_of(r))); continue; }
    auto [it, inserted] = by_id.emplace(id, images.size());
    if (inserted) {
      images.push_back({id, join_path(join_path(root, split), id + ".jpg"), {}, {}, {}});
    }
    AnnotatedImage& image = images[it->second];
    image.boxes.push_back(box);
    image.labels.push_back(cls->second);
    image.difficult.push_back(has_group && row[c_group] == "1");
    if (has_text && !is_utf8(row[c_text])) throw Error(where + ": PlateText is not UTF-8 text");
    if (has_text) image.texts.push_back(row[c_text]);
  }
  bad_boxes.log(csv_path);
  unknown.log(csv_path);
  std::vector<AnnotatedImage> sorted;
  sorted.reserve(images.size());
  for (auto& [id, index] : by_id) sorted.push_back(std::move(images[index]));
  drop_unreadable(sorted, options.verify_images, join_path(root, split));
  dataset.images = std::move(sorted);
  return dataset;
}

namespace {

const std::vector<std::string> kVocClasses = {
    "BACKGROUND", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor"};

const char* child_text(const tinyxml2::XMLElement* e, const char* name) {
  const tinyxml2::XMLElement* c = e ? e->FirstChildElement(name) : nullptr;
  return c && c->GetText() ? c->GetText() : nullptr;
}

// A VOC coordinate: the whole field a number, else NaN (the box is then dropped as invalid;
// atof read "10abc" as 10 and "ten" as 0).
double voc_number(const char* text) {
  if (!text) return std::nan("");
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  while (end && std::isspace(static_cast<unsigned char>(*end))) ++end;
  return end != text && end && *end == '\0' ? v : std::nan("");
}

struct VocDrops {
  DropReport bad_boxes{"invalid boxes"}, unknown{"objects of classes not in the class list"};
};

// One Annotations/<id>.xml, read whole and bounded, parsed without entity expansion.
AnnotatedImage read_voc_annotation(const std::string& root, const std::string& id,
                                   const std::map<std::string, int64_t>& class_index, const DatasetOptions& options,
                                   VocDrops& drops) {
  const std::string xml_path = join_path(root, "Annotations/" + id + ".xml");
  const std::string text = read_file(xml_path, uintmax_t{16} << 20);
  tinyxml2::XMLDocument doc;
  if (doc.Parse(text.data(), text.size()) != tinyxml2::XML_SUCCESS)
    throw Error(xml_path + ": cannot read annotation (" + std::string(doc.ErrorStr()) + ")");
  const tinyxml2::XMLElement* annotation = doc.FirstChildElement("annotation");
  if (!annotation) throw Error(xml_path + ": no <annotation> element");
  AnnotatedImage image{id, join_path(root, "JPEGImages/" + id + ".jpg"), {}, {}, {}};
  double width = 0, height = 0;
  if (const auto* size = annotation->FirstChildElement("size")) {
    width = voc_number(child_text(size, "width"));
    height = voc_number(child_text(size, "height"));
  }
  if (!(width > 0) || !(height > 0)) {
    // camera-capture always writes <size>; other tools may not.
    cv::Mat probe = cv::imread(image.image_path, cv::IMREAD_COLOR);
    if (probe.empty()) return image;  // dropped with the unreadable images
    width = probe.cols;
    height = probe.rows;
  }
  for (const auto* obj = annotation->FirstChildElement("object"); obj; obj = obj->NextSiblingElement("object")) {
    const char* name = child_text(obj, "name");
    std::string lower = trim(name ? name : "");
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    auto cls = class_index.find(lower);
    if (cls == class_index.end()) { drops.unknown.add(id + " " + lower.substr(0, 64)); continue; }
    const double difficult_value = voc_number(child_text(obj, "difficult"));
    const bool difficult = std::isfinite(difficult_value) && difficult_value != 0;
    if (difficult && !options.keep_difficult) continue;
    const auto* bndbox = obj->FirstChildElement("bndbox");
    // VOC pixel coordinates are 1-based, as pytorch-ssd's VOCDataset reads them.
    CornerBox box{static_cast<float>((voc_number(child_text(bndbox, "xmin")) - 1) / width),
                  static_cast<float>((voc_number(child_text(bndbox, "ymin")) - 1) / height),
                  static_cast<float>((voc_number(child_text(bndbox, "xmax")) - 1) / width),
                  static_cast<float>((voc_number(child_text(bndbox, "ymax")) - 1) / height)};
    if (!valid_box(box)) { drops.bad_boxes.add(id); continue; }
    image.boxes.push_back(box);
    image.labels.push_back(cls->second);
    image.difficult.push_back(difficult);
  }
  return image;
}

std::vector<std::string> voc_class_names(const std::string& root, const DatasetOptions& options) {
  if (!options.class_names.empty()) return options.class_names;
  const std::string labels_path = join_path(root, "labels.txt");
  if (!std::filesystem::exists(labels_path)) return kVocClasses;
  std::vector<std::string> names = read_labels(labels_path);
  if (names.size() < 2) throw Error(labels_path + ": no class names");  // BACKGROUND alone
  return names;
}

}  // namespace

DetectionDataset read_voc(const std::string& root, const std::string& split, const DatasetOptions& options) {
  const std::string list_path = join_path(root, "ImageSets/Main/" + split + ".txt");
  if (!std::filesystem::exists(list_path)) throw Error(list_path + ": image list not found");
  std::istringstream list(read_file(list_path, uintmax_t{256} << 20));
  DetectionDataset dataset;
  dataset.description = root + " (voc, " + split + ")";
  dataset.class_names = voc_class_names(root, options);
  std::map<std::string, int64_t> class_index;
  for (size_t c = 1; c < dataset.class_names.size(); ++c) {
    std::string lower = dataset.class_names[c];
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    class_index[lower] = c;
  }
  VocDrops drops;
  std::vector<AnnotatedImage> images;
  for (std::string id; std::getline(list, id);) {
    id = trim(id);
    if (id.empty()) continue;
    if (id.find('/') != std::string::npos || id.find("..") != std::string::npos || id.size() > 255)
      throw Error(list_path + ": bad image id '" + id.substr(0, 64) + "'");
    images.push_back(read_voc_annotation(root, id, class_index, options, drops));
  }
  drops.bad_boxes.log(root);
  drops.unknown.log(root);
  drop_boxless(images, root);
  drop_unreadable(images, options.verify_images, join_path(root, "JPEGImages"));
  dataset.images = std::move(images);
  return dataset;
}

DetectionDataset read_dataset(DatasetType type, const std::string& root, const std::string& split,
                              const DatasetOptions& options) {
  return type == DatasetType::OpenImages ? read_open_images(root, split, options) : read_voc(root, split, options);
}

bool has_split(DatasetType type, const std::string& root, const std::string& split) {
  const std::string path = type == DatasetType::OpenImages ? join_path(root, "sub-" + split + "-annotations-bbox.csv")
                                                           : join_path(root, "ImageSets/Main/" + split + ".txt");
  return std::filesystem::exists(path);
}

DetectionDataset balance_classes(const DetectionDataset& dataset, uint64_t seed) {
  std::vector<std::vector<size_t>> per_class(dataset.class_names.size());
  for (size_t i = 0; i < dataset.images.size(); ++i) {
    std::set<int64_t> labels(dataset.images[i].labels.begin(), dataset.images[i].labels.end());
    for (int64_t l : labels) per_class[l].push_back(i);
  }
  size_t fewest = SIZE_MAX;
  for (size_t c = 1; c < per_class.size(); ++c) fewest = std::min(fewest, per_class[c].size());
  Random rng(seed);
  std::set<size_t> chosen;
  for (size_t c = 1; c < per_class.size(); ++c) {
    shuffle(per_class[c], rng);
    chosen.insert(per_class[c].begin(), per_class[c].begin() + std::min(fewest, per_class[c].size()));
  }
  DetectionDataset out;
  out.class_names = dataset.class_names;
  out.description = dataset.description + " balanced";
  for (size_t i : chosen) out.images.push_back(dataset.images[i]);
  return out;
}

DetectionDataset concat_datasets(const std::vector<DetectionDataset>& parts) {
  if (parts.empty()) throw Error("no dataset given");
  DetectionDataset out;
  out.class_names = parts.front().class_names;
  for (const auto& part : parts) {
    if (part.class_names != out.class_names) {
      std::string a, b;
      for (const auto& n : out.class_names) a += (a.empty() ? "" : ",") + n;
      for (const auto& n : part.class_names) b += (b.empty() ? "" : ",") + n;
      throw Error("datasets disagree on their classes: " + parts.front().description + " has [" + a + "], " +
                  part.description + " has [" + b + "]");
    }
    out.images.insert(out.images.end(), part.images.begin(), part.images.end());
    out.description += (out.description.empty() ? "" : " + ") + part.description;
  }
  return out;
}

}  // namespace edgessd
