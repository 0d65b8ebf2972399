#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "edgessd/common/priors.h"

namespace edgessd {

// What a state_dict does not say about a model, kept in a small JSON beside the
// checkpoint (X.pth -> X.json) so later commands need not be told again.
struct ModelInfo {
  std::string net = "mb1-ssd";
  double width_mult = 1.0;  // mb2-ssd-lite's channel scale (pytorch-ssd's --mb2-width-mult)
  std::vector<std::string> class_names;  // BACKGROUND first
  int input_width = 300;
  int input_height = 300;
  std::array<float, 3> image_mean{127.0f, 127.0f, 127.0f};  // R, G, B
  float image_std = 128.0f;
  float center_variance = 0.1f;
  float size_variance = 0.2f;
  std::string source;  // free text: where the weights came from
  // The priors, one map per head in head order ("ssd": pytorch-ssd's rule, "auto": fitted
  // to training boxes). Empty maps: pytorch-ssd's rule for the net at the input size
  // (what a JSON without "priors", or no JSON, means).
  std::string priors = "ssd";
  std::vector<FeatureMapSpec> prior_maps;

  int num_classes() const { return static_cast<int>(class_names.size()); }
};

// The nets a checkpoint can hold (pytorch-ssd's names, and ours with a stride-8 head:
// "-s8"), for flags and errors; the text form is "mb1-ssd, ... or mb2-ssd-lite-s8".
const std::vector<std::string>& known_net_names();
std::string known_net_names_text();
bool net_has_stride8_head(const std::string& net);
int head_count(const std::string& net);  // 6, or 7 with the stride-8 head
// The net with a stride-8 head that shares `net`'s other layers ("mb1-ssd" -> "mb1-ssd-s8");
// empty when there is none (a -s8 net itself, vgg16-ssd).
std::string stride8_twin_of(const std::string& net);
// Whether a checkpoint of `start` holds every weight of `net` but the heads: the net itself
// or its stride-8 twin.
bool is_net_or_its_twin(const std::string& start, const std::string& net);
bool net_has_width_mult(const std::string& net);  // mb2-ssd-lite's --mb2-width-mult
// The net's pytorch-ssd config values for pixels: vgg16-ssd's per-channel mean (123, 117,
// 104) and std 1, the MobileNets' 127 and 128.
void use_net_normalisation(ModelInfo& info);
// The (width, height) of the net's head feature maps, in head order, for an input size;
// an Error naming the net when the input is too small for it.
std::vector<std::pair<int, int>> net_feature_maps(const std::string& net, int width, int height);

// "W" or "WxH", each within 32..4096; an Error naming `flag` otherwise.
std::pair<int, int> parse_resolution(const std::string& text, const std::string& flag = "--resolution");

// The model's prior maps: its own, else pytorch-ssd's rule for its net at its input size.
std::vector<FeatureMapSpec> prior_maps_of(const ModelInfo& info);
// The model's priors laid over the feature maps of a width x height input (0: its own
// size): pixel sizes and strides kept, as when exporting at another size.
PriorBoxes priors_of(const ModelInfo& info, int width = 0, int height = 0);
// The model run at another input size: its prior maps made explicit first, so they keep
// their pixel sizes and strides on the new feature maps (eval/export --resolution).
ModelInfo at_input_size(ModelInfo info, int width, int height);

// What a checkpoint's JSON records of the run that wrote it ("training"): the epoch it
// ends, the loss that names it (val_loss, or train_loss when nothing was validated).
struct TrainingState {
  int epoch = 0;
  bool validated = true;
  double loss = 0;
  uint64_t seed = 0;
  double val_map = -1;  // the validation mAP of this epoch; < 0: not measured
};

std::string model_info_path(const std::string& checkpoint_path);
std::string model_info_to_json(const ModelInfo& info);
ModelInfo model_info_from_json(const std::string& text, const std::string& what);
void save_model_info(const std::string& checkpoint_path, const ModelInfo& info);
// Reads X.json beside X.pth; returns false if there is none (a pytorch-ssd checkpoint).
bool load_model_info(const std::string& checkpoint_path, ModelInfo& info);
// X.json with the training state under "training" (what `train` writes per checkpoint).
void save_model_info(const std::string& checkpoint_path, const ModelInfo& info, const TrainingState& state);
// The training state in X.json; an Error naming the file when it has none.
TrainingState load_training_state(const std::string& checkpoint_path);

// Class names come from data files, so they are untrusted: BACKGROUND first and nowhere
// else (any case), each other name non-empty, at most 256 bytes, without control
// characters (a newline desynchronised labels.txt from the model), and unique. Error
// naming `where` and the offending name otherwise.
void check_class_names(const std::vector<std::string>& names, const std::string& where);

// A class name as part of a file name (eval's det_test_<class>.txt): letters, digits,
// space and ._()- kept, anything else (a '/' among them) '_', never a leading '.'.
std::string file_name_of(const std::string& class_name);

// labels.txt as pytorch-ssd writes it: one class name a line, BACKGROUND first.
std::vector<std::string> read_labels(const std::string& path);
void write_labels(const std::string& path, const std::vector<std::string>& class_names);

}  // namespace edgessd
