#include "edgessd/common/output_guard.h"

#include <sys/stat.h>

#include <filesystem>

#include "edgessd/common/error.h"
#include "edgessd/common/model_info.h"

namespace edgessd {

namespace {

namespace fs = std::filesystem;

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa{}, sb{};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

// The path with links and ".." resolved as far as it exists (the rest appended as given).
fs::path resolved(const std::string& path) {
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  return ec ? fs::absolute(path).lexically_normal() : p;
}

bool inside(const std::string& path, const std::string& folder) {
  const std::string p = resolved(path).string(), f = resolved(folder).string();
  const std::string prefix = !f.empty() && f.back() == '/' ? f : f + "/";
  return p.size() > prefix.size() && p.compare(0, prefix.size(), prefix) == 0;
}

std::string named(const NamedPath& p) { return p.flag.empty() ? p.path : p.flag + " " + p.path; }

}  // namespace

void check_outputs_apart(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs) {
  for (const NamedPath& out : outputs) {
    if (out.path.empty()) continue;
    for (const NamedPath& in : inputs) {
      std::error_code ec;
      if (in.path.empty() || !fs::exists(in.path, ec)) continue;
      const bool is = same_file(out.path, in.path) || resolved(out.path) == resolved(in.path);
      if (is || (fs::is_directory(in.path, ec) && inside(out.path, in.path)))
        throw Error(named(out) + (is ? " is " : " lies inside ") + named(in) +
                    ", an input of this command: write the output elsewhere");
    }
  }
  check_outputs_distinct(outputs);
}

void check_outputs_distinct(const std::vector<NamedPath>& outputs) {
  for (size_t i = 0; i < outputs.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (!outputs[i].path.empty() && !outputs[j].path.empty() &&
          (resolved(outputs[j].path) == resolved(outputs[i].path) || same_file(outputs[j].path, outputs[i].path)))
        throw Error(named(outputs[i]) + " is also " + named(outputs[j]) + ": give each output its own path");
}

void check_no_repeats(const std::vector<std::string>& paths, const std::string& flag) {
  for (size_t i = 0; i < paths.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (resolved(paths[i]) == resolved(paths[j]) || same_file(paths[i], paths[j]))
        throw Error(flag + " " + paths[i] + ": given twice (also as " + paths[j] + ")");
}

void check_output_extension(const std::string& path, const std::string& flag, const std::string& extension,
                            const std::string& kind) {
  if (path.size() <= extension.size() || path.compare(path.size() - extension.size(), extension.size(), extension) != 0)
    throw Error(flag + " " + path + ": " + kind + " file's name ends in " + extension);
}

std::vector<NamedPath> checkpoint_inputs(const std::string& checkpoint, const std::string& flag) {
  if (checkpoint.empty()) return {};
  return {{checkpoint, flag}, {model_info_path(checkpoint), flag.empty() ? "its model JSON" : flag + "'s model JSON"}};
}

}  // namespace edgessd
