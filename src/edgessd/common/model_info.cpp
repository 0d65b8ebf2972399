#include "edgessd/common/model_info.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"

namespace edgessd {

const std::vector<std::string>& known_net_names() {
  static const std::vector<std::string> names = {"mb1-ssd", "mb1-ssd-relu6"};
  return names;
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

std::string model_info_to_json(const ModelInfo& info) {
  nlohmann::ordered_json j;
  j["net"] = info.net;
  j["num_classes"] = info.num_classes();
  j["class_names"] = info.class_names;
  j["input_size"] = {info.input_width, info.input_height};
  j["image_mean"] = info.image_mean;
  j["image_std"] = info.image_std;
  j["center_variance"] = info.center_variance;
  j["size_variance"] = info.size_variance;
  if (!info.source.empty()) j["source"] = info.source;
  return j.dump(2) + "\n";
}

ModelInfo model_info_from_json(const std::string& text, const std::string& what) {
  ModelInfo info;
  try {
    const auto j = nlohmann::json::parse(text);
    info.net = j.at("net").get<std::string>();
    info.class_names = j.at("class_names").get<std::vector<std::string>>();
    if (j.contains("input_size")) {
      auto size = j["input_size"].get<std::vector<int>>();
      if (size.size() != 2 || size[0] < 32 || size[1] < 32 || size[0] > 4096 || size[1] > 4096)
        throw Error("input_size must be [width, height], each within 32..4096");
      info.input_width = size[0];
      info.input_height = size[1];
    }
    info.image_mean = j.value("image_mean", info.image_mean);
    info.image_std = j.value("image_std", info.image_std);
    info.center_variance = j.value("center_variance", info.center_variance);
    info.size_variance = j.value("size_variance", info.size_variance);
    info.source = j.value("source", std::string());
    if (j.contains("num_classes") && j["num_classes"].get<int>() != info.num_classes())
      throw Error("num_classes disagrees with class_names");
  } catch (const Error& e) {
    throw Error(what + ": " + e.what());
  } catch (const std::exception& e) {
    throw Error(what + ": bad model JSON (" + e.what() + ")");
  }
  if (info.class_names.size() < 2) throw Error(what + ": needs BACKGROUND and at least one class");
  check_class_names(info.class_names, what);
  if (!(info.image_std > 0) || !std::isfinite(info.image_std) || !std::isfinite(info.image_mean))
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
