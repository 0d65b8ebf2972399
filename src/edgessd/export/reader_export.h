#pragma once
// `edgessd export-reader`: a plate reader checkpoint as ONNX, for our runtime, ONNX
// Runtime and OpenCV DNN:
//   input_0 (N,3,32,96) -> Conv (BatchNorm folded) + Relu x 8 -> Conv -> Transpose ->
//   Reshape -> Softmax -> `chars` (N, T, C): each column's probabilities, class 0 CTC's blank.
// The reader JSON rides in the metadata ("edgessd-reader").
#include <string>

#include "edgessd/plates/reader_info.h"
#include "edgessd/model/checkpoint.h"

namespace edgessd {

// The default name in a reader's model folder.
constexpr const char* kReaderOnnxFileName = "plate-reader.onnx";
constexpr const char* kReaderOutputName = "chars";
constexpr const char* kReaderMetadataKey = "edgessd-reader";

void export_reader_onnx(const StateDict& state, const ReaderInfo& info, const std::string& output_path,
                        int batch_size = 1);

}  // namespace edgessd
