#pragma once
// Which boxes of a data set carry a plate text the reader can learn: the reader's training,
// eval and int8 calibration sets.
#include <cstddef>
#include <string>
#include <vector>

#include "edgessd/common/boxes.h"
#include "edgessd/data/dataset.h"

namespace edgessd {

struct PlateSample {
  std::string image_path;
  CornerBox box;     // normalised to the image
  std::string text;  // normalise_plate_text(PlateText)
};

struct PlateSamples {
  std::vector<PlateSample> samples;
  size_t without_text = 0;     // boxes whose PlateText is empty
  std::string outside_charset; // the first text with a character not in the set, if any
  size_t outside_count = 0;
  std::string too_long;        // the first text CTC cannot align to `columns`, if any
  size_t too_long_count = 0;
};
// Every box of `dataset` with a PlateText (any class) whose characters are all in `charset`
// and, when `columns` > 0, that CTC can align to that many output columns (a character
// each, and a blank between two alike).
PlateSamples plate_samples(const DetectionDataset& dataset, const std::string& charset, int columns = 0);

}  // namespace edgessd
