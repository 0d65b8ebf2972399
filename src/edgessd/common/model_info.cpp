#include "edgessd/common/model_info.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"

namespace edgessd {

const std::vector<std::string>& known_net_names() {
  static const std::vector<std::string> names = {"mb1-ssd",         "mb1-ssd-relu6", "mb1-ssd-s8",
                                                 "mb1-ssd-relu6-s8", "mb1-ssd-lite",  "mb2-ssd-lite",
                                                 "vgg16-ssd",        "mb1-ssd-lite-s8", "mb2-ssd-lite-s8"};
  return names;
}

bool net_has_stride8_head(const std::string& net) {
  return net.size() > 3 && net.compare(net.size() - 3, 3, "-s8") == 0;
}

int head_count(const std::string& net) { return net_has_stride8_head(net) ? 7 : 6; }

std::string stride8_twin_of(const std::string& net) {
  const auto& names = known_net_names();
  return std::find(names.begin(), names.end(), net + "-s8") != names.end() ? net + "-s8" : "";
}

bool is_net_or_its_twin(const std::string& start, const std::string& net) {
  return start == net || stride8_twin_of(start) == net;
}

bool net_has_width_mult(const std::string& net) { return net.rfind("mb2-ssd-lite", 0) == 0; }

namespace {
// What a net's pixels, feature maps and default priors follow: pytorch-ssd's configs
// (mobilenetv1_ssd_config for every MobileNet net, vgg_ssd_config for vgg16-ssd).
enum class Backbone { MobileNet, Vgg16 };
Backbone backbone_of(const std::string& net) { return net == "vgg16-ssd" ? Backbone::Vgg16 : Backbone::MobileNet; }
}  // namespace

void use_net_normalisation(ModelInfo& info) {
  if (backbone_of(info.net) == Backbone::Vgg16) {
    info.image_mean = {123.0f, 117.0f, 104.0f};
    info.image_std = 1.0f;
  } else {
    info.image_mean = {127.0f, 127.0f, 127.0f};
    info.image_std = 128.0f;
  }
}

std::vector<std::pair<int, int>> net_feature_maps(const std::string& net, int width, int height) {
  if (backbone_of(net) == Backbone::MobileNet)
    return mobilenet_v1_ssd_feature_maps(width, height, net_has_stride8_head(net));
  auto maps = vgg_ssd_feature_maps(width, height);
  if (maps.empty())
    throw Error("vgg16-ssd needs an input of at least 268x268 (its last two extras take 2 cells each); " +
                std::to_string(width) + "x" + std::to_string(height) + " is too small");
  return maps;
}

std::pair<int, int> parse_resolution(const std::string& text, const std::string& flag) {
  int w = 0, h = 0;
  char x = 0, rest = 0;
  const int n = std::sscanf(text.c_str(), "%d%c%d%c", &w, &x, &h, &rest);
  if (n == 1) h = w;
  const bool ok = (n == 1 || (n == 3 && (x == 'x' || x == 'X'))) && w >= 32 && h >= 32 && w <= 4096 && h <= 4096;
  if (!ok) throw Error(flag + " " + text + ": expected W or WxH, each within 32..4096");
  return {w, h};
}

std::vector<FeatureMapSpec> prior_maps_of(const ModelInfo& info) {
  if (!info.prior_maps.empty()) return info.prior_maps;
  if (backbone_of(info.net) == Backbone::Vgg16)
    return config_prior_maps(vgg_ssd_config(), vgg_ssd_config().specs, info.input_width, info.input_height,
                             net_feature_maps(info.net, info.input_width, info.input_height));
  return ssd_prior_maps(info.input_width, info.input_height, net_has_stride8_head(info.net));
}

ModelInfo at_input_size(ModelInfo info, int width, int height) {
  info.prior_maps = prior_maps_of(info);
  info.input_width = width;
  info.input_height = height;
  return info;
}

PriorBoxes priors_of(const ModelInfo& info, int width, int height) {
  if (width <= 0 || height <= 0) width = info.input_width, height = info.input_height;
  return PriorBoxes(prior_maps_of(info), width, height, net_feature_maps(info.net, width, height));
}

std::string known_net_names_text() {
  std::string text;
  const auto& names = known_net_names();
  for (size_t i = 0; i < names.size(); ++i) text += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return text;
}

std::string model_info_path(const std::string& checkpoint_path) {
  std::filesystem::path p(checkpoint_path);
  if (p.extension() == ".pth" || p.extension() == ".pt") p.replace_extension(".json");
  else p += ".json";
  return p.string();
}

namespace {

nlohmann::ordered_json prior_maps_to_json(const std::vector<FeatureMapSpec>& maps) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const FeatureMapSpec& spec : maps) {
    nlohmann::ordered_json m;
    m["stride"] = {spec.shrinkage, spec.shrinkage_y > 0 ? spec.shrinkage_y : spec.shrinkage};
    if (spec.boxes.empty()) {
      m["min_size"] = spec.min_box_size;
      m["max_size"] = spec.max_box_size;
      m["aspect_ratios"] = spec.aspect_ratios;
    } else {
      for (const auto& [w, h] : spec.boxes) m["boxes"].push_back({w, h});
    }
    out.push_back(m);
  }
  return out;
}

// A JSON number that sizes something in input pixels: finite, positive, bounded.
double pixels(const nlohmann::json& v, const std::string& what) {
  const double d = v.get<double>();
  if (!(d > 0) || !std::isfinite(d) || d > 65536) throw Error("priors: " + what + " must be within (0, 65536]");
  return d;
}

FeatureMapSpec prior_map_from_json(const nlohmann::json& m, const std::string& where, const std::string& net,
                                   int per_cell) {
  FeatureMapSpec spec;
  const auto& stride = m.at("stride");
  if (!stride.is_array() || stride.size() != 2) throw Error("priors: " + where + " stride must be [x, y]");
  spec.shrinkage = pixels(stride[0], where + " stride");
  spec.shrinkage_y = pixels(stride[1], where + " stride");
  if (m.contains("boxes")) {
    for (const auto& box : m["boxes"]) {
      if (!box.is_array() || box.size() != 2) throw Error("priors: " + where + " boxes must be [w, h] pairs");
      spec.boxes.emplace_back(pixels(box[0], where + " box width"), pixels(box[1], where + " box height"));
    }
  } else {
    spec.min_box_size = pixels(m.at("min_size"), where + " min_size");
    spec.max_box_size = pixels(m.at("max_size"), where + " max_size");
    for (const auto& r : m.at("aspect_ratios")) spec.aspect_ratios.push_back(pixels(r, where + " aspect ratio"));
  }
  // The heads' shapes fix the priors a cell: pytorch-ssd's count for the net's map.
  if (spec.boxes_per_location() != per_cell)
    throw Error("priors: " + where + " has " + std::to_string(spec.boxes_per_location()) + " priors a cell (the " +
                net + " head there has " + std::to_string(per_cell) + ")");
  return spec;
}

void read_priors(const nlohmann::json& j, ModelInfo& info) {
  if (!j.contains("priors")) return;
  const auto& p = j["priors"];
  info.priors = p.at("kind").get<std::string>();
  if (info.priors != "ssd" && info.priors != "auto")
    throw Error("priors: kind '" + info.priors.substr(0, 32) + "' is neither ssd nor auto");
  const auto& maps = p.at("maps");
  if (!maps.is_array() || static_cast<int>(maps.size()) != head_count(info.net))
    throw Error("priors: " + info.net + " has " + std::to_string(head_count(info.net)) + " heads, so " +
                std::to_string(head_count(info.net)) + " prior maps");
  ModelInfo plain;  // the net's own maps: per-cell counts do not depend on the input size
  plain.net = info.net;
  const auto defaults = prior_maps_of(plain);
  for (size_t m = 0; m < maps.size(); ++m)
    info.prior_maps.push_back(
        prior_map_from_json(maps[m], "map " + std::to_string(m), info.net, defaults[m].boxes_per_location()));
}

// "image_mean": one number for every channel, or [R, G, B] (vgg16-ssd's).
void read_image_mean(const nlohmann::json& j, ModelInfo& info) {
  if (!j.contains("image_mean")) return;
  const auto& m = j["image_mean"];
  if (m.is_number()) {
    info.image_mean.fill(m.get<float>());
    return;
  }
  if (!m.is_array() || m.size() != 3 || !m[0].is_number() || !m[1].is_number() || !m[2].is_number())
    throw Error("image_mean must be a number or [R, G, B]");
  for (int c = 0; c < 3; ++c) info.image_mean[c] = m[c].get<float>();
}

}  // namespace

std::string model_info_to_json(const ModelInfo& info) {
  nlohmann::ordered_json j;
  j["net"] = info.net;
  if (net_has_width_mult(info.net)) j["width_mult"] = info.width_mult;
  j["num_classes"] = info.num_classes();
  j["class_names"] = info.class_names;
  j["input_size"] = {info.input_width, info.input_height};
  const auto& m = info.image_mean;
  if (m[0] == m[1] && m[1] == m[2]) j["image_mean"] = m[0];
  else j["image_mean"] = m;
  j["image_std"] = info.image_std;
  j["center_variance"] = info.center_variance;
  j["size_variance"] = info.size_variance;
  if (!info.source.empty()) j["source"] = info.source;
  if (!info.prior_maps.empty()) j["priors"] = {{"kind", info.priors}, {"maps", prior_maps_to_json(info.prior_maps)}};
  return j.dump(2) + "\n";
}

ModelInfo model_info_from_json(const std::string& text, const std::string& what) {
  ModelInfo info;
  try {
    const auto j = nlohmann::json::parse(text);
    if (j.is_object() && j.value("kind", std::string()) == "plate-reader")
      throw Error("a plate reader's model JSON (train-reader's); this needs a detector's (train's)");
    info.net = j.at("net").get<std::string>();
    info.width_mult = j.value("width_mult", 1.0);
    if (!(info.width_mult > 0 && info.width_mult <= 4))
      throw Error("width_mult must be within (0, 4]");
    if (info.width_mult != 1.0 && !net_has_width_mult(info.net))
      throw Error("width_mult is for mb2-ssd-lite, not " + info.net.substr(0, 32));
    info.class_names = j.at("class_names").get<std::vector<std::string>>();
    if (j.contains("input_size")) {
      auto size = j["input_size"].get<std::vector<int>>();
      if (size.size() != 2 || size[0] < 32 || size[1] < 32 || size[0] > 4096 || size[1] > 4096)
        throw Error("input_size must be [width, height], each within 32..4096");
      info.input_width = size[0];
      info.input_height = size[1];
    }
    use_net_normalisation(info);
    read_image_mean(j, info);
    info.image_std = j.value("image_std", info.image_std);
    info.center_variance = j.value("center_variance", info.center_variance);
    info.size_variance = j.value("size_variance", info.size_variance);
    info.source = j.value("source", std::string());
    if (std::find(known_net_names().begin(), known_net_names().end(), info.net) != known_net_names().end())
      read_priors(j, info);
    if (j.contains("num_classes") && j["num_classes"].get<int>() != info.num_classes())
      throw Error("num_classes disagrees with class_names");
  } catch (const Error& e) {
    throw Error(what + ": " + e.what());
  } catch (const std::exception& e) {
    throw Error(what + ": bad model JSON (" + e.what() + ")");
  }
  if (info.class_names.size() < 2) throw Error(what + ": needs BACKGROUND and at least one class");
  check_class_names(info.class_names, what);
  const auto& m = info.image_mean;
  if (!(info.image_std > 0) || !std::isfinite(info.image_std) ||
      !std::all_of(m.begin(), m.end(), [](float v) { return std::isfinite(v); }))
    throw Error(what + ": image_std must be a positive number and image_mean finite");
  for (const float v : {info.center_variance, info.size_variance})
    if (!(v > 0) || !std::isfinite(v)) throw Error(what + ": center_variance and size_variance must be positive numbers");
  return info;
}

void check_class_names(const std::vector<std::string>& names, const std::string& where) {
  auto is_background = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
    return s == "BACKGROUND";
  };
  if (names.empty() || names.front() != "BACKGROUND") throw Error(where + ": the first class must be BACKGROUND");
  std::set<std::string> seen;
  for (size_t i = 1; i < names.size(); ++i) {
    const std::string& name = names[i];
    const std::string shown = "class " + std::to_string(i) + " '" + name.substr(0, 64) + "'";
    if (name.empty()) throw Error(where + ": class " + std::to_string(i) + " has an empty name");
    if (name.size() > 256) throw Error(where + ": " + shown + "... is longer than 256 bytes");
    for (unsigned char c : name)
      if (c < 0x20 || c == 0x7f) throw Error(where + ": class " + std::to_string(i) + " holds a control character");
    if (is_background(name)) throw Error(where + ": " + shown + ": BACKGROUND is reserved for class 0");
    if (!seen.insert(name).second) throw Error(where + ": " + shown + " appears twice");
  }
}

std::string file_name_of(const std::string& class_name) {
  std::string out = class_name;
  for (char& c : out)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '.' || c == '_' || c == '(' || c == ')' ||
          c == '-'))
      c = '_';
  if (!out.empty() && out.front() == '.') out.front() = '_';
  return out;
}

void save_model_info(const std::string& checkpoint_path, const ModelInfo& info) {
  write_file_atomic(model_info_path(checkpoint_path), model_info_to_json(info));
}

void save_model_info(const std::string& checkpoint_path, const ModelInfo& info, const TrainingState& state) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(model_info_to_json(info));
  j["training"] = {{"epoch", state.epoch}, {state.validated ? "val_loss" : "train_loss", state.loss}, {"seed", state.seed}};
  if (state.val_map >= 0) j["training"]["val_mAP"] = state.val_map;
  write_file_atomic(model_info_path(checkpoint_path), j.dump(2) + "\n");
}

TrainingState load_training_state(const std::string& checkpoint_path) {
  const std::string path = model_info_path(checkpoint_path);
  if (!std::filesystem::exists(path))
    throw Error(checkpoint_path + ": no model JSON beside it, so the epoch to resume is unknown");
  try {
    const auto j = nlohmann::json::parse(read_file(path, uintmax_t{1} << 20));
    if (!j.contains("training")) throw Error(path + ": no training state to resume");
    const auto& t = j["training"];
    TrainingState state;
    state.epoch = t.at("epoch").get<int>();
    state.validated = t.contains("val_loss");
    state.loss = t.value(state.validated ? "val_loss" : "train_loss", 0.0);
    state.seed = t.value("seed", uint64_t{0});
    state.val_map = t.value("val_mAP", -1.0);
    if (state.epoch < 0) throw Error(path + ": training epoch " + std::to_string(state.epoch) + " is negative");
    return state;
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": bad training state (" + e.what() + ")");
  }
}

bool load_model_info(const std::string& checkpoint_path, ModelInfo& info) {
  const std::string path = model_info_path(checkpoint_path);
  if (!std::filesystem::exists(path)) return false;
  info = model_info_from_json(read_file(path), path);
  return true;
}

std::vector<std::string> read_labels(const std::string& path) {
  // Read whole and bounded: /dev/zero or a folder is an error, not an endless line.
  const std::string text = read_file(path, uintmax_t{1} << 20);
  std::vector<std::string> names;
  std::istringstream in(text);
  std::string line;
  int blank_line = 0;
  for (int number = 1; std::getline(in, line); ++number) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (line.empty()) {
      if (!blank_line) blank_line = number;
      continue;
    }
    // A blank line between names would shift every class after it by one.
    if (blank_line)
      throw Error(path + ": line " + std::to_string(blank_line) + ": empty class name between class names");
    names.push_back(line);
  }
  if (names.empty()) throw Error(path + ": no class names");
  // pytorch-ssd's labels.txt starts with BACKGROUND; jetson-inference's may not.
  if (names.front() != "BACKGROUND") names.insert(names.begin(), "BACKGROUND");
  check_class_names(names, path);
  return names;
}

void write_labels(const std::string& path, const std::vector<std::string>& class_names) {
  std::string text;
  for (const auto& name : class_names) text += name + "\n";
  write_file_atomic(path, text);
}

}  // namespace edgessd
