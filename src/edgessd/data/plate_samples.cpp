#include "edgessd/data/plate_samples.h"

#include "edgessd/plates/reader_info.h"

namespace edgessd {

namespace {

size_t ctc_columns_needed(const std::string& text) {
  size_t n = text.size();
  for (size_t i = 1; i < text.size(); ++i) n += text[i] == text[i - 1];
  return n;
}

}  // namespace

PlateSamples plate_samples(const DetectionDataset& dataset, const std::string& charset, int columns) {
  PlateSamples out;
  for (const AnnotatedImage& image : dataset.images)
    for (size_t b = 0; b < image.boxes.size(); ++b) {
      const std::string text = b < image.texts.size() ? normalise_plate_text(image.texts[b]) : "";
      if (text.empty()) {
        ++out.without_text;
        continue;
      }
      if (text.find_first_not_of(charset) != std::string::npos) {
        if (out.outside_charset.empty()) out.outside_charset = text;
        ++out.outside_count;
        continue;
      }
      if (columns > 0 && ctc_columns_needed(text) > static_cast<size_t>(columns)) {
        if (out.too_long.empty()) out.too_long = text;
        ++out.too_long_count;
        continue;
      }
      out.samples.push_back({image.image_path, image.boxes[b], text});
    }
  return out;
}

}  // namespace edgessd
