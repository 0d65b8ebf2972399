#include "edgessd/plates/reader_info.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cmath>
#include <filesystem>
#include <set>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/model_info.h"

namespace edgessd {

const std::vector<ReaderLayer>& reader_layers() {
  // 32x128 -> 16x64 -> 8x32 -> 4x32 -> 1x32; the (1,5) layer reads 5 columns of context.
  // ~67 M multiply-adds a plate at 128 wide: small enough to train on a CPU in minutes.
  static const std::vector<ReaderLayer> layers = {
      {32, 3, 3, 2, 2, 1, 1},   {32, 3, 3, 1, 1, 1, 1},  {64, 3, 3, 2, 2, 1, 1},  {64, 3, 3, 1, 1, 1, 1},
      {128, 3, 3, 2, 1, 1, 1},  {128, 3, 3, 1, 1, 1, 1}, {256, 4, 1, 1, 1, 0, 0}, {256, 1, 5, 1, 1, 0, 2},
      {0, 1, 1, 1, 1, 0, 0},
  };
  return layers;
}

int reader_columns(int input_width) { return (input_width + 3) / 4; }

bool valid_reader_width(int width) { return width >= 64 && width <= 256 && width % 4 == 0; }

void check_reader_geometry(const std::string& geometry, const std::string& what) {
  if (geometry != "stretch" && geometry != "letterbox")
    throw Error(what + " " + geometry.substr(0, 32) + ": expected stretch or letterbox");
}

std::string normalise_plate_text(const std::string& text) {
  std::string out;
  for (unsigned char c : text)
    if (c != ' ' && c != '-') out += static_cast<char>(std::toupper(c));
  return out;
}

void check_charset(const std::string& charset, const std::string& what) {
  if (charset.empty() || charset.size() > 200) throw Error(what + ": the character set must have 1..200 characters");
  std::set<char> seen;
  for (unsigned char c : charset) {
    if (c < 0x21 || c > 0x7e) throw Error(what + ": the character set may hold only printable ASCII, not spaces");
    if (!seen.insert(static_cast<char>(c)).second)
      throw Error(what + ": the character set has '" + std::string(1, static_cast<char>(c)) + "' twice");
  }
}

std::string reader_info_to_json(const ReaderInfo& info) {
  nlohmann::ordered_json j;
  j["kind"] = "plate-reader";
  j["charset"] = info.charset;
  j["input_size"] = {info.input_width, info.input_height};
  j["image_mean"] = info.image_mean;
  j["image_std"] = info.image_std;
  j["crop_margin"] = info.crop_margin;
  j["two_row_below_aspect"] = info.two_row_aspect;
  j["geometry"] = info.geometry;
  if (!info.source.empty()) j["source"] = info.source;
  return j.dump(2) + "\n";
}

ReaderInfo reader_info_from_json(const std::string& text, const std::string& what) {
  ReaderInfo info;
  try {
    const auto j = nlohmann::json::parse(text);
    if (j.value("kind", std::string()) != "plate-reader")
      throw Error("not a plate reader's JSON (no \"kind\": \"plate-reader\"); is it a detector?");
    info.charset = j.at("charset").get<std::string>();
    const auto size = j.at("input_size").get<std::vector<int>>();
    if (size.size() != 2 || size[1] != 32 || !valid_reader_width(size[0]))
      throw Error("input_size must be [W, 32] with W a multiple of 4 within 64..256");
    info.input_width = size[0];
    info.input_height = size[1];
    info.image_mean = j.value("image_mean", info.image_mean);
    info.image_std = j.value("image_std", info.image_std);
    info.crop_margin = j.value("crop_margin", info.crop_margin);
    info.two_row_aspect = j.value("two_row_below_aspect", 0.0f);  // absent: a reader that never saw two rows
    info.geometry = j.value("geometry", std::string("stretch"));  // absent: readers before it stretched
    check_reader_geometry(info.geometry, "geometry");
    info.source = j.value("source", std::string());
  } catch (const Error& e) {
    throw Error(what + ": " + e.what());
  } catch (const std::exception& e) {
    throw Error(what + ": bad plate reader JSON (" + e.what() + ")");
  }
  check_charset(info.charset, what);
  if (!(info.image_std > 0) || !std::isfinite(info.image_std) || !std::isfinite(info.image_mean))
    throw Error(what + ": image_std must be a positive number and image_mean finite");
  if (!(info.crop_margin >= 0 && info.crop_margin <= 1)) throw Error(what + ": crop_margin must be within 0..1");
  if (!(info.two_row_aspect >= 0 && info.two_row_aspect <= 3))
    throw Error(what + ": two_row_below_aspect must be within 0..3");
  return info;
}

bool load_reader_info(const std::string& checkpoint_path, ReaderInfo& info) {
  const std::string path = model_info_path(checkpoint_path);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return false;
  info = reader_info_from_json(read_file(path, uintmax_t{1} << 20), path);
  return true;
}

void save_reader_info(const std::string& checkpoint_path, const ReaderInfo& info, int epoch, double val_loss,
                      double val_exact, double val_character) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(reader_info_to_json(info));
  if (epoch >= 0) {
    j["training"] = {{"epoch", epoch}, {"val_loss", val_loss}};
    if (val_exact >= 0) j["training"]["val_exact"] = val_exact;
    if (val_character >= 0) j["training"]["val_character"] = val_character;
  }
  write_file_atomic(model_info_path(checkpoint_path), j.dump(2) + "\n");
}

ReaderTrainingState load_reader_training_state(const std::string& checkpoint_path) {
  const std::string path = model_info_path(checkpoint_path);
  try {
    const auto j = nlohmann::json::parse(read_file(path, uintmax_t{1} << 20));
    if (!j.contains("training")) throw Error(path + ": no training state (epoch) recorded");
    ReaderTrainingState s;
    s.epoch = j["training"].at("epoch").get<int>();
    s.val_loss = j["training"].value("val_loss", -1.0);
    s.val_exact = j["training"].value("val_exact", -1.0);
    s.val_character = j["training"].value("val_character", -1.0);
    if (s.epoch < 0 || s.epoch > 100000) throw Error(path + ": training epoch out of range");
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": bad training state (" + e.what() + ")");
  }
}

}  // namespace edgessd
