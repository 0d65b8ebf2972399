#pragma once
// The plate reader: an all-convolutional CTC recogniser in the spirit of LPRNet.
//   input (N, 3, 32, 96) -> 8 x [conv, BatchNorm, ReLU] (reader_layers(): strides take
//   it to 16x48, 8x24 and 4x24, a 4x1 kernel collapses the rows, a 1x5 kernel mixes neighbouring columns)
//   -> dropout -> 1x1 conv with bias -> logits (N, C, 24), C = 1 + charset size (0: blank).
// Parameter names conv<i>.weight, bn<i>.{weight,bias,running_mean,running_var},
// classifier.{weight,bias}: what the ONNX export reads.
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>

#include "edgessd/common/boxes.h"
#include "edgessd/plates/reader_info.h"
#include "edgessd/plates/plate_pattern.h"
#include "edgessd/plates/plate_text.h"

namespace edgessd {

struct PlateReaderNetImpl : torch::nn::Module {
  explicit PlateReaderNetImpl(int num_classes);
  torch::Tensor forward(const torch::Tensor& images);  // logits (N, C, T)

  std::vector<torch::nn::Conv2d> convs;
  std::vector<torch::nn::BatchNorm2d> norms;
  torch::nn::Dropout dropout{nullptr};
  torch::nn::Conv2d classifier{nullptr};
};
TORCH_MODULE(PlateReaderNet);

// A checkpoint opened for reading plates: its JSON (beside it; an Error without one) and
// its weights, every key present, in eval mode.
struct OpenedReader {
  ReaderInfo info;
  PlateReaderNet net{nullptr};
};
OpenedReader open_reader_checkpoint(const std::string& path);

// Reads a batch of plate boxes (pixels) of one RGB image; texts by greedy CTC, or by the
// pattern's formats when one is given.
std::vector<PlateReading> read_plates(PlateReaderNet& net, const ReaderInfo& info, const cv::Mat& rgb,
                                      const std::vector<CornerBox>& boxes, const PlatePattern* pattern = nullptr);

}  // namespace edgessd
