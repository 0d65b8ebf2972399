#include "edgessd/model/plate_reader_net.h"

#include <torch/torch.h>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/model_info.h"
#include "edgessd/plates/plate_crops.h"
#include "edgessd/model/checkpoint.h"

namespace edgessd {

PlateReaderNetImpl::PlateReaderNetImpl(int num_classes) {
  if (num_classes < 2) throw Error("a plate reader needs at least one character");
  const auto& layers = reader_layers();
  int in = 3;
  for (size_t i = 0; i + 1 < layers.size(); ++i) {
    const ReaderLayer& l = layers[i];
    auto options = torch::nn::Conv2dOptions(in, l.out_channels, {l.kernel_h, l.kernel_w})
                       .stride({l.stride_h, l.stride_w})
                       .padding({l.pad_h, l.pad_w})
                       .bias(false);
    convs.push_back(register_module("conv" + std::to_string(i), torch::nn::Conv2d(options)));
    norms.push_back(register_module("bn" + std::to_string(i), torch::nn::BatchNorm2d(l.out_channels)));
    in = l.out_channels;
  }
  dropout = register_module("dropout", torch::nn::Dropout(0.2));
  classifier = register_module("classifier", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, num_classes, 1)));
  for (auto& conv : convs) torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
}

torch::Tensor PlateReaderNetImpl::forward(const torch::Tensor& images) {
  torch::Tensor x = images;
  for (size_t i = 0; i < convs.size(); ++i) x = torch::relu(norms[i]->forward(convs[i]->forward(x)));
  x = classifier->forward(dropout->forward(x));  // (N, C, 1, T)
  return x.squeeze(2);
}

OpenedReader open_reader_checkpoint(const std::string& path) {
  OpenedReader r;
  check_readable_file(path);
  if (!load_reader_info(path, r.info))
    throw Error(path + ": no plate reader JSON beside it (" + model_info_path(path) + "); train-reader writes one");
  r.net = PlateReaderNet(r.info.num_classes());
  load_state_dict(*r.net, read_state_dict(path), LoadMode::Everything, path);
  r.net->eval();
  return r;
}

std::vector<PlateReading> read_plates(PlateReaderNet& net, const ReaderInfo& info, const cv::Mat& rgb,
                                      const std::vector<CornerBox>& boxes, const PlatePattern* pattern) {
  std::vector<PlateReading> out;
  if (boxes.empty()) return out;
  const int64_t plane = int64_t{3} * info.input_height * info.input_width;
  torch::Tensor input = torch::empty({static_cast<int64_t>(boxes.size()), 3, info.input_height, info.input_width});
  for (size_t i = 0; i < boxes.size(); ++i)
    reader_input(crop_plate(rgb, boxes[i], info), info, input.data_ptr<float>() + i * plane);
  torch::NoGradGuard no_grad;
  // (N, C, T) -> (N, T, C) probabilities, what the ONNX export outputs as "chars".
  const torch::Tensor probs = torch::softmax(net->forward(input), 1).transpose(1, 2).contiguous();
  const int64_t columns = probs.size(1);
  for (size_t i = 0; i < boxes.size(); ++i) {
    const float* p = probs[static_cast<int64_t>(i)].data_ptr<float>();
    out.push_back(pattern && !pattern->empty() ? pattern->read(p, static_cast<size_t>(columns))
                                               : ctc_greedy_read(p, static_cast<size_t>(columns), info.charset));
  }
  return out;
}

}  // namespace edgessd
