#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace edgessd {

struct SynthOptions {
  std::string out;
  int count = 300;    // images over all splits
  uint64_t seed = 1;
  int threads = 0;    // 0 = every core
  // Folders searched for background photos (jpg/png), used alongside the procedural ones.
  std::vector<std::string> photo_dirs;
  bool photos_given = false;  // by the user (--photos): each must be a folder of usable photos
  // Plate close-ups for the reader (one synthetic_plate_region an image, its plate the
  // box) instead of scenes; `clean` ones with `plates` only.
  bool plates = false;
  bool clean = false;
  bool two_row = false;  // with `plates`: two-row plates only (square EU, motorcycles)
};

struct SynthReport {
  int train_images = 0, validation_images = 0, test_images = 0;
  int boxes = 0;
  int photos = 0;     // background photos found
  bool reused = false;  // the data set was already complete
};

// A synthetic licence-plate data set in the Open Images layout (train/validation/test
// folders and sub-<split>-annotations-bbox.csv, class "Vehicle registration plate"):
// plate-like objects (bordered rectangles with random alphanumeric text in several
// fonts and colours, perspective warp) at varied scales on procedural backgrounds and
// photos, then blur, noise and lighting over the whole image. Boxes are the exact
// bounds of each warped plate. Image i depends only on (seed, i), so a run is
// deterministic however many threads draw it. Every file is written atomically and the
// CSVs last, so a complete data set is recognised and reused.
SynthReport write_synthetic_plates(const SynthOptions& options);

// Where photos for backgrounds are found by default: the face-api demo photos (npm) and
// the usual Debian wallpaper/pixmap folders, where present.
std::vector<std::string> default_photo_dirs();

}  // namespace edgessd
