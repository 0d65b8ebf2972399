#include "edgessd/common/checkpoint_name.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "edgessd/common/error.h"

namespace edgessd {

namespace fs = std::filesystem;

std::string python_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, end);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

std::string checkpoint_file_name(const std::string& net, int epoch, double loss) {
  return net + "-Epoch-" + std::to_string(epoch) + "-Loss-" + python_float(loss) + ".pth";
}

std::optional<CheckpointName> parse_checkpoint_name(const std::string& file_name) {
  const std::string suffix = ".pth";
  if (file_name.size() <= suffix.size() || file_name.compare(file_name.size() - suffix.size(), suffix.size(), suffix) != 0)
    return std::nullopt;
  const size_t loss_at = file_name.rfind("-Loss-");
  const size_t epoch_at = file_name.rfind("-Epoch-", loss_at);
  if (loss_at == std::string::npos || epoch_at == std::string::npos || epoch_at == 0) return std::nullopt;
  CheckpointName name;
  name.net = file_name.substr(0, epoch_at);
  const std::string epoch = file_name.substr(epoch_at + 7, loss_at - epoch_at - 7);
  const std::string loss = file_name.substr(loss_at + 6, file_name.size() - suffix.size() - loss_at - 6);
  auto [epoch_end, epoch_ec] = std::from_chars(epoch.data(), epoch.data() + epoch.size(), name.epoch);
  if (epoch.empty() || epoch_ec != std::errc() || epoch_end != epoch.data() + epoch.size() || name.epoch < 0)
    return std::nullopt;
  char* loss_end = nullptr;
  name.loss = std::strtod(loss.c_str(), &loss_end);
  if (loss.empty() || loss_end != loss.c_str() + loss.size()) return std::nullopt;
  return name;
}

namespace {

std::vector<std::pair<std::string, CheckpointName>> checkpoints_in(const std::string& dir) {
  std::vector<std::pair<std::string, CheckpointName>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    if (auto name = parse_checkpoint_name(entry.path().filename().string()))
      found.emplace_back(entry.path().string(), *name);
  }
  return found;
}

}  // namespace

std::string best_checkpoint_in(const std::string& model_dir) {
  std::error_code ec;
  if (!fs::is_directory(model_dir, ec)) throw Error("--model-dir " + model_dir + ": not a folder");
  const fs::path kept = fs::path(model_dir) / kBestCheckpoint;
  if (fs::is_regular_file(kept, ec)) return kept.string();
  std::string best;
  double best_loss = 0;
  for (const auto& [path, name] : checkpoints_in(model_dir)) {
    if (std::isnan(name.loss)) continue;
    if (best.empty() || name.loss < best_loss || (name.loss == best_loss && path < best)) {
      best = path;
      best_loss = name.loss;
    }
  }
  if (best.empty()) throw Error("--model-dir " + model_dir + ": no checkpoint named *-Epoch-<n>-Loss-<value>.pth in it");
  return best;
}

std::string latest_checkpoint_in(const std::string& model_dir, int& epoch) {
  epoch = -1;
  std::string latest;
  std::error_code ec;
  if (!fs::is_directory(model_dir, ec)) return latest;
  for (const auto& [path, name] : checkpoints_in(model_dir))
    if (name.epoch > epoch) epoch = name.epoch, latest = path;
  return latest;
}

}  // namespace edgessd
