#pragma once
// pytorch-ssd's ref-trained.pth (mb1-ssd-relu6 trained on plates-us), as several tests use it.
#include <string>

#include "edgessd/export/onnx_export.h"
#include "edgessd/model/checkpoint.h"
#include "edgessd/common/model_info.h"
#include "support/test_support.h"

namespace edgessd::testing {

inline ModelInfo reference_model_info() {
  ModelInfo info;
  info.net = "mb1-ssd-relu6";
  info.class_names = read_labels(fixture("ref-trained-labels.txt"));
  return info;
}

// Our ONNX export of ref-trained.pth at `path`.
inline void export_reference_onnx(const std::string& path) {
  export_onnx(read_state_dict(fixture("ref-trained.pth")), reference_model_info(), path);
}

}  // namespace edgessd::testing
