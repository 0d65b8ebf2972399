#pragma once
// SSD-VGG16's base_net up to conv5_3 (pytorch-ssd's vgg(cfg)), one entry a layer group:
// a 3x3 convolution's channels (a ReLU follows it), 0 a 2x2 pooling, -1 the same pooling
// rounding up (ceil_mode). The module tree (model/) and the ONNX nodes (export/) are both
// built from it; common/priors.h's vgg_ssd_feature_maps follows the same poolings.
#include <array>

namespace edgessd {

inline constexpr std::array<int, 17> kVgg16BaseLayers = {64, 64, 0,   128, 128, 0,   256, 256, 256,
                                                         -1, 512, 512, 512, 0,  512, 512, 512};

}  // namespace edgessd
