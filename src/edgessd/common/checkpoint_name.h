#pragma once
// pytorch-ssd's checkpoint names, written and read in one place:
//   <net>-Epoch-<epoch>-Loss-<loss>.pth   (loss as Python prints a float: 2.5, 1e-05, nan)
// A training folder is read by these names: export takes best.pth (the best validation
// mAP, which train keeps beside them) or else the lowest loss; demo resumes from the
// highest epoch.
#include <optional>
#include <string>

namespace edgessd {

struct CheckpointName {
  std::string net;
  int epoch = 0;
  double loss = 0;
};

// Python's repr of a float: the shortest text that reads back as the same double.
std::string python_float(double v);

std::string checkpoint_file_name(const std::string& net, int epoch, double loss);
// The parts of a file name (no folder), or nothing for any other name.
std::optional<CheckpointName> parse_checkpoint_name(const std::string& file_name);

// The best checkpoint in a folder: best.pth when there is one, else the lowest loss (NaN
// never; ties: the first name); Error if none.
constexpr const char* kBestCheckpoint = "best.pth";
std::string best_checkpoint_in(const std::string& model_dir);
// The checkpoint of highest epoch, and its epoch; "" and -1 when the folder has none.
std::string latest_checkpoint_in(const std::string& model_dir, int& epoch);

}  // namespace edgessd
