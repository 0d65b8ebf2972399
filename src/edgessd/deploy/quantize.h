#pragma once
// `edgessd quantize`: int8 calibration of an exported detector or plate reader on the
// inputs of its own task (the engine's calibrate_int8 on them), the table written into a
// copy of the model's metadata as "edgessd.int8".
#include <cstddef>
#include <string>
#include <vector>

#include "edgessd/data/plate_samples.h"

namespace edgessd {

// `count` items spread evenly over `items` (all of them when there are no more): a
// calibration set drawn from the whole folder, not its first files.
template <typename T>
std::vector<T> even_spread(const std::vector<T>& items, size_t count) {
  if (items.size() <= count) return items;
  std::vector<T> picked;
  for (size_t i = 0; i < count; ++i) picked.push_back(items[i * items.size() / count]);
  return picked;
}

// A detector on `images` (its own pre-processing); returns the number of tensors covered.
size_t quantize_onnx_model(const std::string& model_path, const std::string& labels_path,
                           const std::vector<std::string>& images, const std::string& output_path);

// A plate reader on its crops of `plates`.
size_t quantize_reader_onnx(const std::string& model_path, const std::vector<PlateSample>& plates,
                            const std::string& output_path);

}  // namespace edgessd
