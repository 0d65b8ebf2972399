#pragma once
#include <string>

#include "edgessd/model/checkpoint.h"
#include "edgessd/common/model_info.h"

namespace edgessd {

struct OnnxExportOptions {
  int width = 0;   // 0: the model's input size; another size keeps the priors' pixel sizes
  int height = 0;
  int batch_size = 1;
};

// The opset we write. 10 is the newest where Clip takes min/max as attributes (OpenCV
// 4.6 reads only that form) and inside what TensorRT 7.1's parser (JetPack 4.x) accepts.
constexpr int kOnnxOpset = 10;

// Writes an SSD checkpoint as ONNX, the graph jetson-inference's detectNet expects:
// `input_0` (N,3,H,W) -> `scores` (N,P,C) softmaxed and `boxes` (N,P,4) corner form,
// normalised, unclamped. BatchNorm is folded into the convolutions and the priors are a
// constant, so the graph holds only Conv, Relu/Clip, Transpose, Reshape, Concat, Softmax,
// Split and elementwise ops. The model JSON, its prior maps made explicit, rides along in
// the metadata ("edgessd"), with the labels also as plain text ("labels"). The model is checked (onnx::checker and shape
// inference) before it is written atomically.
void export_onnx(const StateDict& state, const ModelInfo& info, const std::string& output_path,
                 const OnnxExportOptions& options = {});

// The exported model's name in a model folder, for every net (the article's and README's
// `--model=models/ssd-mobilenet.onnx`): export, the demo and the docs use this one rule.
constexpr const char* kOnnxFileName = "ssd-mobilenet.onnx";

}  // namespace edgessd
