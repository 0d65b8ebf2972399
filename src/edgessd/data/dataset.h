#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "edgessd/common/boxes.h"

namespace edgessd {

// One image and its objects. Boxes are corner form, normalised to the image.
struct AnnotatedImage {
  std::string image_id;
  std::string image_path;
  std::vector<CornerBox> boxes;
  std::vector<int64_t> labels;     // 1.. (0 is BACKGROUND)
  std::vector<uint8_t> difficult;  // VOC `difficult`, Open Images `IsGroupOf`: ignored by eval
  std::vector<std::string> texts;  // each box's PlateText where the CSV has that column, else empty
};

struct DetectionDataset {
  std::vector<std::string> class_names;  // BACKGROUND first
  std::vector<AnnotatedImage> images;
  std::string description;               // e.g. "data/plates (open_images, train)"

  size_t box_count() const;
};

enum class DatasetType { OpenImages, Voc };
DatasetType parse_dataset_type(const std::string& name);  // "open_images" | "voc"

struct DatasetOptions {
  // Class list to use (BACKGROUND first); empty = derive it from this split.
  std::vector<std::string> class_names;
  // Drop `difficult` boxes (VOC) as pytorch-ssd's training set does; eval keeps them.
  bool keep_difficult = true;
  // Decode every image once (at 1/8 scale) so that broken files are dropped up front.
  bool verify_images = true;
};

// `<root>/sub-<split>-annotations-bbox.csv` + `<root>/<split>/<ImageID>.jpg`.
// Classes = BACKGROUND + sorted unique ClassName. Images that are missing or do not decode
// and invalid boxes are dropped, each kind counted in one warning naming the first few.
DetectionDataset read_open_images(const std::string& root, const std::string& split,
                                  const DatasetOptions& options = {});

// Pascal VOC: Annotations/<id>.xml, JPEGImages/<id>.jpg, ImageSets/Main/<split>.txt and
// an optional labels.txt (else the 20 VOC classes). Split: trainval or test.
DetectionDataset read_voc(const std::string& root, const std::string& split, const DatasetOptions& options = {});

DetectionDataset read_dataset(DatasetType type, const std::string& root, const std::string& split,
                              const DatasetOptions& options = {});

// Whether the root has this split (open_images: the CSV; voc: the ImageSets file).
bool has_split(DatasetType type, const std::string& root, const std::string& split);

// pytorch-ssd's --balance-data: every class keeps as many images as the rarest class has.
DetectionDataset balance_classes(const DetectionDataset& dataset, uint64_t seed);

// Joins datasets read from several roots; their class lists must be equal.
DetectionDataset concat_datasets(const std::vector<DetectionDataset>& parts);

}  // namespace edgessd
