#include "edgessd/model/model_open.h"

#include <algorithm>

#include "edgessd/common/error.h"

namespace edgessd {

int num_classes_of(const StateDict& state, const std::string& path) {
  auto head = std::find_if(state.begin(), state.end(),
                           [](const auto& kv) { return kv.first == "classification_headers.0.weight"; });
  if (head == state.end() || head->second.dim() != 4 || head->second.size(0) % 6 != 0 || head->second.size(0) < 12)
    throw Error(path + ": not an SSD state_dict (no classification_headers.0.weight of 6 x classes rows)");
  return static_cast<int>(head->second.size(0) / 6);
}

ModelInfo resolve_model_info(const std::string& checkpoint, const StateDict& state, const ModelFlags& flags,
                             MissingNames missing) {
  const int head_classes = num_classes_of(state, checkpoint);
  ModelInfo info;
  const bool has_info = load_model_info(checkpoint, info);
  // The JSON's priors are laid over its net's feature maps; a stride-8 head has one more.
  if (has_info && !flags.net.empty() &&
      has_stride8_head(parse_net_kind(flags.net)) != has_stride8_head(parse_net_kind(info.net)))
    throw Error("--net " + flags.net + ": " + checkpoint + " is a " + info.net +
                " (its model JSON); leave --net out or give " + info.net);
  if (!flags.net.empty()) info.net = flags.net;
  parse_net_kind(info.net);  // an unknown name is an Error here, before any work
  std::string names_from = model_info_path(checkpoint);
  if (!flags.labels.empty()) {
    info.class_names = read_labels(flags.labels);
    names_from = flags.labels_flag + " " + flags.labels;
  } else if (!has_info) {
    if (missing == MissingNames::Error)
      throw Error(checkpoint + ": no model JSON beside it; give " + flags.labels_flag + " (and --net)");
    info.class_names = {"BACKGROUND"};
    for (int c = 1; c < head_classes; ++c) info.class_names.push_back("class" + std::to_string(c));
  }
  if (info.num_classes() != head_classes)
    throw Error(names_from + ": names " + std::to_string(info.num_classes()) + " classes (BACKGROUND included) but " +
                checkpoint + " has " + std::to_string(head_classes));
  if (!flags.resolution.empty()) {
    const auto [width, height] = parse_resolution(flags.resolution);
    info = at_input_size(info, width, height);
  }
  return info;
}

OpenedCheckpoint open_checkpoint(const std::string& checkpoint, const ModelFlags& flags, MissingNames missing) {
  OpenedCheckpoint opened;
  opened.state = read_state_dict(checkpoint);
  opened.info = resolve_model_info(checkpoint, opened.state, flags, missing);
  opened.net = Ssd(opened.info);
  load_state_dict(*opened.net, opened.state, LoadMode::Everything, checkpoint);
  opened.net->eval();
  return opened;
}

}  // namespace edgessd
