#include "edgessd/data/prior_fit.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgcodecs.hpp>

#include "edgessd/common/error.h"
#include "edgessd/common/random.h"

namespace edgessd {

double shape_iou(const BoxShape& a, const BoxShape& b) {
  const double inter = std::min(a.first, b.first) * std::min(a.second, b.second);
  const double uni = a.first * a.second + b.first * b.second - inter;
  return uni > 0 ? inter / uni : 0;
}

namespace {

struct Clustering {
  std::vector<BoxShape> centres;
  double mean_iou = 0;
};

size_t nearest(const std::vector<BoxShape>& centres, const BoxShape& s, double* best_iou = nullptr) {
  size_t best = 0;
  double top = -1;
  for (size_t c = 0; c < centres.size(); ++c) {
    const double v = shape_iou(centres[c], s);
    if (v > top) top = v, best = c;
  }
  if (best_iou) *best_iou = top;
  return best;
}

// k-means++ seeding with 1 - IoU as the distance.
std::vector<BoxShape> seed_centres(const std::vector<BoxShape>& shapes, size_t k, Random& random) {
  std::vector<BoxShape> centres{shapes[random.next() % shapes.size()]};
  std::vector<double> weight(shapes.size());
  while (centres.size() < k) {
    double total = 0;
    for (size_t i = 0; i < shapes.size(); ++i) {
      double iou = 0;
      nearest(centres, shapes[i], &iou);
      total += weight[i] = (1 - iou) * (1 - iou);
    }
    double pick = random.uniform(0, total);
    size_t i = 0;
    while (i + 1 < shapes.size() && pick >= weight[i]) pick -= weight[i++];
    centres.push_back(shapes[i]);
  }
  return centres;
}

// Lloyd's iterations: each centre the mean shape of its members, until nothing moves.
Clustering lloyd(const std::vector<BoxShape>& shapes, std::vector<BoxShape> centres) {
  std::vector<size_t> member(shapes.size(), centres.size());
  for (int iteration = 0; iteration < 100; ++iteration) {
    bool moved = false;
    for (size_t i = 0; i < shapes.size(); ++i) {
      const size_t c = nearest(centres, shapes[i]);
      moved = moved || c != member[i];
      member[i] = c;
    }
    if (!moved) break;
    std::vector<BoxShape> sums(centres.size(), {0, 0});
    std::vector<size_t> counts(centres.size(), 0);
    for (size_t i = 0; i < shapes.size(); ++i) {
      sums[member[i]].first += shapes[i].first;
      sums[member[i]].second += shapes[i].second;
      ++counts[member[i]];
    }
    for (size_t c = 0; c < centres.size(); ++c)
      if (counts[c]) centres[c] = {sums[c].first / counts[c], sums[c].second / counts[c]};
  }
  Clustering result{centres, 0};
  for (const BoxShape& s : shapes) {
    double iou = 0;
    nearest(centres, s, &iou);
    result.mean_iou += iou / shapes.size();
  }
  return result;
}

}  // namespace

std::vector<BoxShape> kmeans_box_shapes(const std::vector<BoxShape>& shapes, int k, uint64_t seed) {
  std::vector<BoxShape> distinct = shapes;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  auto by_area = [](const BoxShape& a, const BoxShape& b) { return a.first * a.second < b.first * b.second; };
  if (distinct.empty() || k < 1) return {};
  std::vector<BoxShape> centres;
  if (distinct.size() <= static_cast<size_t>(k)) {
    centres = distinct;
  } else {
    Random random(seed);
    Clustering best;
    for (int restart = 0; restart < 5; ++restart) {
      Clustering c = lloyd(shapes, seed_centres(distinct, k, random));
      if (c.mean_iou > best.mean_iou) best = c;
    }
    centres = best.centres;
  }
  std::sort(centres.begin(), centres.end(), by_area);
  for (size_t i = 0; centres.size() < static_cast<size_t>(k); ++i) centres.push_back(centres[centres.size() - 1 - i]);
  std::sort(centres.begin(), centres.end(), by_area);
  return centres;
}

std::vector<BoxShape> box_shapes(const DetectionDataset& data, int width, int height) {
  std::vector<BoxShape> shapes;
  for (const AnnotatedImage& image : data.images)
    for (size_t b = 0; b < image.boxes.size(); ++b) {
      if (image.difficult.size() > b && image.difficult[b]) continue;
      const CornerBox& box = image.boxes[b];
      const double w = (box.x2 - box.x1) * width, h = (box.y2 - box.y1) * height;
      if (w > 0 && h > 0) shapes.emplace_back(w, h);
    }
  return shapes;
}

std::vector<BoxShape> augmented_box_shapes(const DetectionDataset& data, const TrainAugmentation& augmentation,
                                           int width, int height) {
  size_t boxes = 0;
  for (const AnnotatedImage& image : data.images) boxes += image.boxes.size();
  if (boxes == 0) return {};
  const size_t step = (data.images.size() + kMaxImagesToSize - 1) / kMaxImagesToSize;
  const size_t passes = std::max<size_t>(1, kAugmentedShapes * step / boxes);
  Random random(0x5eed);
  std::vector<BoxShape> shapes;
  for (size_t i = 0; i < data.images.size(); i += step) {
    const AnnotatedImage& image = data.images[i];
    std::vector<CornerBox> kept;
    for (size_t b = 0; b < image.boxes.size(); ++b)
      if (!(image.difficult.size() > b && image.difficult[b])) kept.push_back(image.boxes[b]);
    if (kept.empty()) continue;
    // An eighth-size decode: the photo's aspect is all the geometry needs.
    const cv::Mat small = cv::imread(image.image_path, cv::IMREAD_REDUCED_GRAYSCALE_8);
    if (small.empty()) throw Error(image.image_path + ": cannot read the image");
    for (size_t pass = 0; pass < passes; ++pass)
      for (const CornerBox& b : augmentation.place_boxes(small.cols * 8, small.rows * 8, kept, random)) {
        const double w = (b.x2 - b.x1) * width, h = (b.y2 - b.y1) * height;
        if (w > 0 && h > 0) shapes.emplace_back(w, h);
      }
  }
  return shapes;
}

std::string recorded_priors_kind(const std::string& kind) { return kind == "auto-stored" ? "auto" : kind; }

std::vector<BoxShape> shapes_to_fit(const DetectionDataset& data, const std::string& kind, const ShapeJitter& jitter,
                                    const ModelInfo& model) {
  const int width = model.input_width, height = model.input_height;
  if (kind == "auto-stored") return box_shapes(data, width, height);
  const TrainAugmentation augmentation({width, height, model.image_mean, model.image_std}, /*photometric=*/false,
                                       jitter);
  return augmented_box_shapes(data, augmentation, width, height);
}

std::vector<FeatureMapSpec> fit_prior_maps(std::vector<FeatureMapSpec> maps, const std::vector<BoxShape>& shapes) {
  std::vector<std::vector<BoxShape>> assigned(maps.size());
  for (const BoxShape& s : shapes) {
    const double size = std::sqrt(s.first * s.second);
    size_t owner = 0;
    for (size_t m = 0; m < maps.size(); ++m) {
      const double stride_y = maps[m].shrinkage_y > 0 ? maps[m].shrinkage_y : maps[m].shrinkage;
      if (size >= 2 * std::sqrt(maps[m].shrinkage * stride_y) && maps[m].shrinkage >= maps[owner].shrinkage) owner = m;
    }
    assigned[owner].push_back(s);
  }
  for (size_t m = 0; m < maps.size(); ++m) {
    if (assigned[m].size() < kMinBoxesToFit) continue;
    const int k = maps[m].boxes_per_location();
    maps[m].boxes = kmeans_box_shapes(assigned[m], k, m);
    maps[m].aspect_ratios.clear();
    maps[m].min_box_size = maps[m].max_box_size = 0;
  }
  return maps;
}

}  // namespace edgessd
