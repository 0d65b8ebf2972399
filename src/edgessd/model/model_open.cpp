#include "edgessd/model/model_open.h"

#include <algorithm>
#include <regex>

#include "edgessd/common/error.h"

namespace edgessd {

namespace {

const at::Tensor* find_key(const StateDict& state, const std::string& key) {
  auto it = std::find_if(state.begin(), state.end(), [&](const auto& kv) { return kv.first == key; });
  return it == state.end() ? nullptr : &it->second;
}

// A head's last convolution: classification_headers.N.weight (a plain conv: mb1-ssd's
// heads, the lite nets' last head).
bool is_plain_classification_head(const std::string& key) {
  static const std::regex head(R"(classification_headers\.\d+\.weight)");
  return std::regex_match(key, head);
}

}  // namespace

int num_classes_of(const StateDict& state, const std::string& path) {
  auto head = std::find_if(state.begin(), state.end(),
                           [](const auto& kv) { return is_plain_classification_head(kv.first); });
  const at::Tensor* box_head =
      head == state.end() ? nullptr : find_key(state, "regression_headers" + head->first.substr(22));
  // The two heads of a map have k x classes and k x 4 rows (k priors a cell).
  const auto rows = [](const at::Tensor* t) { return t && t->dim() == 4 ? t->size(0) : int64_t{0}; };
  const int64_t classes = head == state.end() ? 0 : rows(&head->second), boxes = rows(box_head);
  if (boxes == 0 || boxes % 4 != 0 || classes % (boxes / 4) != 0 || classes / (boxes / 4) < 2)
    throw Error(path + ": not an SSD state_dict (no classification_headers.N.weight of k x classes rows beside a "
                "regression_headers.N.weight of k x 4)");
  return static_cast<int>(classes / (boxes / 4));
}

std::string net_of_keys(const StateDict& state) {
  if (find_key(state, "source_layer_add_ons.0.weight")) return "vgg16-ssd";
  const std::string s8 = find_key(state, "classification_headers.6.weight") ? "-s8" : "";  // a seventh head
  if (find_key(state, "base_net.1.conv.0.weight")) return "mb2-ssd-lite" + s8;
  if (find_key(state, "extras.0.2.0.weight")) return "mb1-ssd-lite" + s8;
  return "mb1-ssd" + s8;
}

double width_mult_of(const StateDict& state, const std::string& path) {
  // Channel counts the multiplier sets: the first conv's int(32 w), the last block's
  // int(320 w), the final conv's max(1280, int(1280 w)).
  const at::Tensor* first = find_key(state, "base_net.0.0.weight");
  const at::Tensor* last = find_key(state, "base_net.18.0.weight");
  if (!first || !last || first->dim() != 4 || last->dim() != 4)
    throw Error(path + ": not an mb2-ssd-lite state_dict (no base_net.0.0.weight, base_net.18.0.weight)");
  for (const double w : {1.0, 0.5, 0.75, 0.35, 1.25, 1.3, 1.4, 1.5, 2.0}) {
    const int64_t final_channels = w > 1.0 ? static_cast<int64_t>(1280 * w) : 1280;
    if (first->size(0) == static_cast<int64_t>(32 * w) && last->size(1) == static_cast<int64_t>(320 * w) &&
        last->size(0) == final_channels)
      return w;
  }
  throw Error(path + ": an mb2-ssd-lite of a width multiplier other than 0.35..2; give it a model JSON with "
              "\"width_mult\"");
}

ModelInfo resolve_model_info(const std::string& checkpoint, const StateDict& state, const ModelFlags& flags,
                             MissingNames missing) {
  const int head_classes = num_classes_of(state, checkpoint);
  ModelInfo info;
  const bool has_info = load_model_info(checkpoint, info);
  // The JSON's priors are laid over its net's feature maps, and its weights fit its net.
  if (has_info && !flags.net.empty() && !same_weight_layout(parse_net_kind(flags.net), parse_net_kind(info.net)))
    throw Error("--net " + flags.net + ": " + checkpoint + " is a " + info.net +
                " (its model JSON); leave --net out or give " + info.net);
  if (!flags.net.empty()) info.net = flags.net;
  else if (!has_info) info.net = net_of_keys(state);
  parse_net_kind(info.net);  // an unknown name is an Error here, before any work
  if (!has_info) use_net_normalisation(info);
  if (!has_info && net_has_width_mult(info.net)) info.width_mult = width_mult_of(state, checkpoint);
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
    try {
      net_feature_maps(info.net, width, height);
    } catch (const Error& e) {
      throw Error("--resolution " + flags.resolution + ": " + e.what());
    }
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
