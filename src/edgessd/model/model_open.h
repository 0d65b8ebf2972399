#pragma once
// Opening a checkpoint for a command: its model info from flags, the JSON beside it and
// the checkpoint's own head shapes; then the net, built and loaded. Every command that
// reads a .pth (convert, eval, export, bench, demo) goes through here.
#include <string>

#include "edgessd/model/checkpoint.h"
#include "edgessd/common/model_info.h"
#include "edgessd/model/ssd.h"

namespace edgessd {

// What the user said on the command line; empty means "from the model JSON".
struct ModelFlags {
  std::string net;
  std::string labels;
  std::string labels_flag = "--labels";  // how the command spells it, for errors
  std::string resolution;                // "W" or "WxH": run at this input size (priors keep their pixels)
};

// Without a JSON or labels: an Error, or names "class1".. (convert keeps the weights).
enum class MissingNames { Error, Numbered };

// The class count a plain classification head and its regression twin tell (k x classes
// and k x 4 rows); an Error naming `path` when the state_dict is not an SSD's.
int num_classes_of(const StateDict& state, const std::string& path);
// The net a checkpoint without a model JSON holds, told by its keys (pytorch-ssd's files).
std::string net_of_keys(const StateDict& state);
// An mb2-ssd-lite's width multiplier, told by its channel counts (the values pytorch-ssd's
// users pass); an Error naming `path` otherwise.
double width_mult_of(const StateDict& state, const std::string& path);

// --net over the JSON's net (without either, the net the keys tell); --labels over the
// JSON's names; --resolution over its input size; the class count checked against the
// heads, naming both files.
ModelInfo resolve_model_info(const std::string& checkpoint, const StateDict& state, const ModelFlags& flags,
                             MissingNames missing = MissingNames::Error);

struct OpenedCheckpoint {
  ModelInfo info;
  StateDict state;
  Ssd net{nullptr};  // every weight loaded, eval mode, CPU
};
OpenedCheckpoint open_checkpoint(const std::string& checkpoint, const ModelFlags& flags,
                                 MissingNames missing = MissingNames::Error);

}  // namespace edgessd
