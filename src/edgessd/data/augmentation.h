#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

#include "edgessd/common/boxes.h"
#include "edgessd/common/random.h"

namespace edgessd {

struct NetworkInputSpec {
  int width = 300;
  int height = 300;
  std::array<float, 3> mean{127.0f, 127.0f, 127.0f};  // R, G, B
  float std = 128.0f;
};

// One image ready for the net: CHW floats, and its boxes (normalised corner form).
struct AugmentedSample {
  std::vector<float> image;
  std::vector<CornerBox> boxes;
  std::vector<int64_t> labels;
};

// Geometry beyond pytorch-ssd's, so a detector meets objects of other shapes and sizes
// than its training set's (a US-plate training set has 2:1 plates filling 2-5% of the
// photo's width; European plates are 4.7:1, close-ups fill half the frame). Off by
// default: {} is pytorch-ssd's pipeline exactly.
struct ShapeJitter {
  // Half the samples come out stretched horizontally by a factor drawn log-uniformly from
  // [1/stretch, stretch] (1: never): their crop narrowed or widened by it before the resize.
  double stretch = 1;
  // This share of samples replaces the random crop by a crop around one object that makes
  // it fill 25-90% of the crop's width (the photo's aspect kept): the large, close-up
  // objects the zoom-out and the >= 30% crops rarely make.
  double zoom_in = 0;
};

// pytorch-ssd's TrainAugmentation: photometric distortion (brightness, contrast,
// saturation, hue, channel swap), expand onto a mean-filled canvas up to 4x, SSD random
// sample crop, horizontal mirror, resize, (x - mean) / std.
//
// Where pytorch-ssd materialises every step on the full-size float image (a 1024x768
// photo expanded 4x is a 4096x3072 float canvas), this decides the geometry on the boxes
// first and then samples the final 300x300 pixels straight from the decoded photo with
// one affine warp; the photometric steps run on those 300x300 pixels only, and the
// expanded area is filled with the mean afterwards, as pytorch-ssd's order has it.
//
// The crop keeps pytorch-ssd's acceptance test exactly: `overlap.min() < min_iou and
// max_iou < overlap.max()` rejects a trial, and with its infinite max_iou that never
// happens, so every crop mode accepts the first trial of good aspect that keeps a box
// centre. The SSD paper's "some box reaches min_iou" test looks more correct but rejects
// almost every crop around small objects (a licence plate covers 1-2% of a photo, so no
// crop of >= 9% of the image reaches IoU 0.3); the crops that zoom in on small objects
// are what make them learnable. Measured on plates-us: with the paper's test the model
// had not learnt to find plates after 10 epochs (mAP < 0.01).
class TrainAugmentation {
 public:
  explicit TrainAugmentation(NetworkInputSpec spec = {}, bool photometric = true, ShapeJitter jitter = {})
      : spec_(spec), photometric_(photometric), jitter_(jitter) {}
  // `rgb` is a decoded 8-bit RGB image; `boxes` are normalised to it.
  void apply(const cv::Mat& rgb, const std::vector<CornerBox>& boxes, const std::vector<int64_t>& labels,
             Random& random, AugmentedSample& out) const;
  // The boxes (normalised to the network input) that apply() would make of a
  // width x height photo's `boxes`, without the pixels: how training presents the objects.
  std::vector<CornerBox> place_boxes(int width, int height, const std::vector<CornerBox>& boxes,
                                     Random& random) const;

 private:
  NetworkInputSpec spec_;
  bool photometric_;
  ShapeJitter jitter_;
};

// pytorch-ssd's TestTransform: resize, (x - mean) / std; boxes pass through.
void test_transform(const cv::Mat& rgb, const std::vector<CornerBox>& boxes, const std::vector<int64_t>& labels,
                    const NetworkInputSpec& spec, AugmentedSample& out);

}  // namespace edgessd
