#pragma once
// Priors fitted to a data set (--priors auto): each feature map's six prior shapes are
// the k-means centres (distance 1 - IoU of boxes sharing a centre, as YOLO's anchors) of
// the training boxes that map is responsible for, in input pixels.
#include <string>
#include <utility>
#include <vector>

#include "edgessd/common/model_info.h"
#include "edgessd/common/priors.h"
#include "edgessd/data/augmentation.h"
#include "edgessd/data/dataset.h"

namespace edgessd {

using BoxShape = std::pair<double, double>;  // (w, h), input pixels

// IoU of two boxes of these shapes placed on the same centre.
double shape_iou(const BoxShape& a, const BoxShape& b);

// k shapes that maximise the mean best IoU of `shapes` (Lloyd's iterations from k-means++
// starts; the best of a few restarts), sorted by area. Fewer distinct shapes than k: the
// distinct shapes, repeated from the largest. Deterministic for a given seed.
std::vector<BoxShape> kmeans_box_shapes(const std::vector<BoxShape>& shapes, int k, uint64_t seed = 0);

// The training boxes' shapes at a width x height input (difficult boxes left out).
std::vector<BoxShape> box_shapes(const DetectionDataset& data, int width, int height);

// The training boxes' shapes as training presents them (--priors auto): `augmentation`'s
// geometry drawn several times over each image (about kAugmentedShapes boxes in all, from
// at most kMaxImagesToSize images, whose pixel sizes are read from their files), at
// `augmentation`'s input size. A fixed seed: `priors` and `train` fit the same priors.
constexpr size_t kAugmentedShapes = 4000;
constexpr size_t kMaxImagesToSize = 2000;
std::vector<BoxShape> augmented_box_shapes(const DetectionDataset& data, const TrainAugmentation& augmentation,
                                           int width, int height);

// `maps` (the net's maps, with their strides) with fitted shapes: a box belongs to the
// coarsest map whose stride is at most half its size (the finest map takes the rest);
// a map given at least kMinBoxesToFit boxes gets their six k-means shapes, the others keep
// their shapes, so a model still has priors for objects its training set lacks.
constexpr size_t kMinBoxesToFit = 12;

// --priors KIND as the model JSON records it: fitted priors are "auto" whatever boxes
// they were fitted to ("auto-stored" too).
std::string recorded_priors_kind(const std::string& kind);

// The shapes `--priors KIND` fits `model`'s maps to, at its input size: the boxes as the
// geometry of training's augmentation with `jitter` presents them ("auto"), or as stored
// ("auto-stored").
std::vector<BoxShape> shapes_to_fit(const DetectionDataset& data, const std::string& kind, const ShapeJitter& jitter,
                                    const ModelInfo& model);
std::vector<FeatureMapSpec> fit_prior_maps(std::vector<FeatureMapSpec> maps, const std::vector<BoxShape>& shapes);

}  // namespace edgessd
