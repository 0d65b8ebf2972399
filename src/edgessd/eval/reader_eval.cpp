#include "edgessd/eval/reader_eval.h"

#include <nlohmann/json.hpp>

#include <cstdio>

#include "edgessd/common/image.h"
#include "edgessd/plates/reader_info.h"
#include "edgessd/plates/plate_crops.h"

namespace edgessd {

namespace {

// Each ground-truth box takes the unclaimed detection of highest IoU at or above the threshold.
std::vector<int> match_boxes(const std::vector<CornerBox>& truths, const std::vector<Detection>& found, float threshold) {
  std::vector<int> match(truths.size(), -1);
  std::vector<bool> taken(found.size(), false);
  for (size_t t = 0; t < truths.size(); ++t) {
    float best = threshold;
    for (size_t d = 0; d < found.size(); ++d) {
      const float overlap = iou(truths[t], found[d].box);
      if (!taken[d] && overlap >= best) best = overlap, match[t] = static_cast<int>(d);
    }
    if (match[t] >= 0) taken[match[t]] = true;
  }
  return match;
}

void score(ReadingScore& plain, ReadingScore& folded, const std::string& read, const std::string& truth) {
  plain.add(read, truth);
  folded.add(fold_look_alikes(read), fold_look_alikes(truth));
}

}  // namespace

ReaderEvalResult evaluate_reader(const DetectionDataset& dataset, const ReadFunction& read,
                                 const DetectFunction& detect, float iou_threshold) {
  ReaderEvalResult r;
  r.end_to_end = static_cast<bool>(detect);
  for (const AnnotatedImage& image : dataset.images) {
    std::vector<CornerBox> boxes;
    std::vector<std::string> truths;
    for (size_t b = 0; b < image.boxes.size(); ++b) {
      const std::string text = b < image.texts.size() ? normalise_plate_text(image.texts[b]) : "";
      if (text.empty()) continue;
      boxes.push_back(image.boxes[b]);
      truths.push_back(text);
    }
    if (boxes.empty()) continue;
    const cv::Mat rgb = read_rgb_image(image.image_path);
    for (CornerBox& b : boxes) b = in_pixels(b, rgb);
    const std::vector<PlateReading> reads = read(rgb, boxes);
    std::vector<PlateReading> e2e_reads(boxes.size());
    std::vector<int> match(boxes.size(), -1);
    if (detect) {
      const std::vector<Detection> found = detect(rgb);
      match = match_boxes(boxes, found, iou_threshold);
      std::vector<CornerBox> matched;
      for (int m : match)
        if (m >= 0) matched.push_back(found[m].box);
      const std::vector<PlateReading> matched_reads = read(rgb, matched);
      for (size_t t = 0, k = 0; t < boxes.size(); ++t)
        if (match[t] >= 0) e2e_reads[t] = matched_reads[k++];
    }
    for (size_t t = 0; t < boxes.size(); ++t) {
      score(r.crops, r.crops_folded, reads[t].text, truths[t]);
      PlateRead p{image.image_id, truths[t], reads[t].text, "", match[t] >= 0};
      if (detect) {
        score(r.e2e, r.e2e_folded, e2e_reads[t].text, truths[t]);
        r.found += p.found;
        p.end_to_end = e2e_reads[t].text;
      }
      r.plates.push_back(p);
    }
  }
  return r;
}

void print_reader_result(const ReaderEvalResult& r, const std::string& what) {
  auto pct = [](double v) { return 100.0 * v; };
  std::printf("Plate reading, %s: %zu plates\n", what.c_str(), r.crops.plates);
  std::printf("On ground-truth boxes: exact plates %.1f%% (%zu/%zu), characters %.1f%%\n", pct(r.crops.exact_accuracy()),
              r.crops.exact, r.crops.plates, pct(r.crops.character_accuracy()));
  std::printf("  O/0 and I/1 folded: exact plates %.1f%%, characters %.1f%%\n", pct(r.crops_folded.exact_accuracy()),
              pct(r.crops_folded.character_accuracy()));
  if (!r.end_to_end) return;
  std::printf("End to end (box IoU >= 0.5 and the exact text): %.1f%% (%zu/%zu), characters %.1f%%; plates found %zu/%zu\n",
              pct(r.e2e.exact_accuracy()), r.e2e.exact, r.e2e.plates, pct(r.e2e.character_accuracy()), r.found,
              r.e2e.plates);
  std::printf("  O/0 and I/1 folded: %.1f%%, characters %.1f%%\n", pct(r.e2e_folded.exact_accuracy()),
              pct(r.e2e_folded.character_accuracy()));
}

std::string reader_result_json(const ReaderEvalResult& r) {
  auto scores = [](const ReadingScore& s) {
    return nlohmann::ordered_json{{"plates", s.plates},
                                  {"exact", s.exact},
                                  {"exact_accuracy", s.exact_accuracy()},
                                  {"character_accuracy", s.character_accuracy()}};
  };
  nlohmann::ordered_json j;
  j["ground_truth_boxes"] = scores(r.crops);
  j["ground_truth_boxes_folded"] = scores(r.crops_folded);
  if (r.end_to_end) {
    j["end_to_end"] = scores(r.e2e);
    j["end_to_end_folded"] = scores(r.e2e_folded);
    j["plates_found"] = r.found;
  }
  nlohmann::ordered_json plates = nlohmann::ordered_json::array();
  for (const PlateRead& p : r.plates) {
    nlohmann::ordered_json one{{"image_id", p.image_id}, {"truth", p.truth}, {"read", p.read}};
    if (r.end_to_end) one["end_to_end"] = p.found ? nlohmann::ordered_json(p.end_to_end) : nlohmann::ordered_json();
    plates.push_back(one);
  }
  j["plates"] = plates;
  return j.dump();
}

}  // namespace edgessd
