#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "edgessd/common/boxes.h"

namespace edgessd {

// One detected object. `box` is in pixels of the original image.
struct Detection {
  CornerBox box;
  int64_t label;
  float probability;
  // Filled by an IouTracker (detectNet's TrackID, TrackStatus, TrackFrames, TrackLost):
  // id -1 until the track is confirmed; status 0 initialising, 1 active, -1 dropped.
  int track_id = -1;
  int track_status = 0;
  int track_frames = 0;
  int track_lost = 0;
  int64_t track_first_frame = -1;  // the tracker's frame number of the track's first detection
  // Filled by a plate reader (detect --reader): what this frame's crop reads, and how sure.
  std::string text;
  float text_confidence = 0;
};

// A candidate box with its score, normalised coordinates.
struct ScoredBox {
  CornerBox box;
  float score;
};

// pytorch-ssd's hard_nms: best first among the `candidate_size` highest scores, dropping
// every box whose IoU with a kept one exceeds `iou_threshold`; at most `top_k` (if > 0).
std::vector<ScoredBox> hard_nms(std::vector<ScoredBox> boxes, float iou_threshold, int top_k = -1,
                                int candidate_size = 200);

// pytorch-ssd's soft_nms (Gaussian): scores decay by exp(-iou^2 / sigma); boxes falling
// to `score_threshold` or below are dropped.
std::vector<ScoredBox> soft_nms(std::vector<ScoredBox> boxes, float score_threshold, float sigma = 0.5f,
                                int top_k = -1);

struct PostprocessOptions {
  float probability_threshold = 0.01f;  // pytorch-ssd's filter_threshold
  float iou_threshold = 0.45f;
  int candidate_size = 200;
  int top_k = -1;
  bool soft_nms = false;
  float sigma = 0.5f;
};

// pytorch-ssd's Predictor after the forward pass: per class (BACKGROUND skipped), keep
// probabilities above the threshold, NMS, scale to pixels. `scores` is (P, C) softmaxed,
// `boxes` (P, 4) corner form normalised.
std::vector<Detection> postprocess_detections(const float* scores, const float* boxes, int64_t num_priors,
                                              int num_classes, int image_width, int image_height,
                                              const PostprocessOptions& options = {});

}  // namespace edgessd
