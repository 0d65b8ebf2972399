#include "edgessd/common/detection.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace edgessd {

std::vector<ScoredBox> hard_nms(std::vector<ScoredBox> boxes, float iou_threshold, int top_k, int candidate_size) {
  std::vector<size_t> order(boxes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return boxes[a].score > boxes[b].score; });
  if (candidate_size >= 0 && order.size() > static_cast<size_t>(candidate_size)) order.resize(candidate_size);
  std::vector<ScoredBox> picked;
  std::vector<bool> removed(order.size(), false);
  for (size_t i = 0; i < order.size(); ++i) {
    if (removed[i]) continue;
    const ScoredBox& current = boxes[order[i]];
    picked.push_back(current);
    if (top_k > 0 && static_cast<int>(picked.size()) == top_k) break;
    for (size_t j = i + 1; j < order.size(); ++j)
      if (!removed[j] && iou(boxes[order[j]].box, current.box) > iou_threshold) removed[j] = true;
  }
  return picked;
}

std::vector<ScoredBox> soft_nms(std::vector<ScoredBox> boxes, float score_threshold, float sigma, int top_k) {
  std::vector<ScoredBox> picked;
  while (!boxes.empty()) {
    size_t best = 0;
    for (size_t i = 1; i < boxes.size(); ++i)
      if (boxes[i].score > boxes[best].score) best = i;
    const ScoredBox current = boxes[best];
    picked.push_back(current);
    if ((top_k > 0 && static_cast<int>(picked.size()) == top_k) || boxes.size() == 1) break;
    boxes[best] = boxes.back();
    boxes.pop_back();
    std::vector<ScoredBox> kept;
    for (ScoredBox& b : boxes) {
      const float o = iou(current.box, b.box);
      b.score *= std::exp(-(o * o) / sigma);
      if (b.score > score_threshold) kept.push_back(b);
    }
    boxes = std::move(kept);
  }
  return picked;
}

std::vector<Detection> postprocess_detections(const float* scores, const float* boxes, int64_t num_priors,
                                              int num_classes, int image_width, int image_height,
                                              const PostprocessOptions& options) {
  std::vector<Detection> detections;
  for (int c = 1; c < num_classes; ++c) {
    std::vector<ScoredBox> candidates;
    for (int64_t p = 0; p < num_priors; ++p) {
      const float prob = scores[p * num_classes + c];
      if (prob > options.probability_threshold) {
        const float* b = boxes + p * 4;
        candidates.push_back({{b[0], b[1], b[2], b[3]}, prob});
      }
    }
    if (candidates.empty()) continue;
    std::vector<ScoredBox> kept =
        options.soft_nms ? soft_nms(std::move(candidates), options.probability_threshold, options.sigma, options.top_k)
                         : hard_nms(std::move(candidates), options.iou_threshold, options.top_k, options.candidate_size);
    for (const ScoredBox& k : kept)
      detections.push_back({{k.box.x1 * image_width, k.box.y1 * image_height, k.box.x2 * image_width,
                             k.box.y2 * image_height},
                            c,
                            k.score});
  }
  return detections;
}

}  // namespace edgessd
