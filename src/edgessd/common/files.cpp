#include "edgessd/common/files.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "edgessd/common/error.h"

namespace edgessd {

void check_readable_file(const std::string& path) {
  // Only regular files: a folder read as empty, and /dev/zero grew without bound.
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) throw Error(path + ": cannot open (" + std::strerror(ENOENT) + ")");
  if (!std::filesystem::is_regular_file(status))
    throw Error(path + (std::filesystem::is_directory(status) ? ": is a folder, not a file" : ": not a regular file"));
}

std::string read_file(const std::string& path, uintmax_t max_bytes) {
  check_readable_file(path);
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > max_bytes)
    throw Error(path + ": " + std::to_string(size) + " bytes, larger than the " + std::to_string(max_bytes) +
                " this reads");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw Error(path + ": read error");
  return buffer.str();
}

void check_replaceable(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!ec && std::filesystem::exists(status) && !std::filesystem::is_regular_file(status))
    throw Error(path + ": exists and is not a regular file; refusing to replace it");
}

namespace {

// How an error names a path: after its flag when it came from one. An empty path is an
// Error naming the flag (or `kind`).
std::string flagged(const std::string& path, const std::string& what, const char* kind) {
  if (path.empty()) throw Error((what.empty() ? std::string(kind) : what) + ": empty path");
  return what.empty() ? path : what + " " + path;
}

}  // namespace

void check_folder_makeable(const std::string& path, const std::string& what) {
  const std::string name = flagged(path, what, "folder");
  // create_directories reports success when a file already has the name.
  std::filesystem::path probe = path;
  while (!probe.empty() && !std::filesystem::exists(probe)) probe = probe.parent_path();
  if (!probe.empty() && !std::filesystem::is_directory(probe))
    throw Error(name + ": cannot create the folder (" + probe.string() + " is not a folder)");
}

NewFolderGuard::NewFolderGuard(std::string path)
    : path_(std::move(path)), fresh_(!path_.empty() && !std::filesystem::exists(path_)),
      exceptions_(std::uncaught_exceptions()) {}

NewFolderGuard::~NewFolderGuard() {
  if (!fresh_ || std::uncaught_exceptions() <= exceptions_) return;
  std::error_code ec;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path_, ec))
    if (entry.path().extension() == ".pth") return;
  std::filesystem::remove_all(path_, ec);
}

void make_folder(const std::string& path, const std::string& what) {
  check_folder_makeable(path, what);
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (!std::filesystem::is_directory(path))
    throw Error(flagged(path, what, "folder") + ": cannot create the folder (" +
                (ec ? ec.message() : std::string("unknown reason")) + ")");
}

void check_output_file(const std::string& path, const std::string& what) {
  const std::string name = flagged(path, what, "output");
  check_replaceable(path);
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent))
    throw Error(name + ": its folder " + parent.string() + " does not exist");
}

void write_file_atomic(const std::string& path,
                       const std::function<void(std::FILE*)>& write) {
  // A rename would replace a device node or a folder's entry; nothing is written beside it.
  check_replaceable(path);
  std::string temp = path + ".tmp-" + std::to_string(::getpid());
  std::FILE* file = std::fopen(temp.c_str(), "wb");
  if (!file) throw Error(path + ": cannot write (" + std::strerror(errno) + ")");
  try {
    write(file);
    if (std::fflush(file) != 0 || ::fsync(::fileno(file)) != 0 || std::ferror(file))
      throw Error(path + ": write failed (" + std::strerror(errno) + ")");
  } catch (...) {
    std::fclose(file);
    std::remove(temp.c_str());
    throw;
  }
  if (std::fclose(file) != 0) {
    std::remove(temp.c_str());
    throw Error(path + ": write failed (" + std::strerror(errno) + ")");
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(temp.c_str());
    throw Error(path + ": cannot rename temporary file into place (" + std::strerror(err) + ")");
  }
}

void write_file_atomic(const std::string& path, const std::string& contents) {
  write_file_atomic(path, [&](std::FILE* file) {
    if (!contents.empty() && std::fwrite(contents.data(), 1, contents.size(), file) != contents.size())
      throw Error(path + ": write failed (" + std::strerror(errno) + ")");
  });
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

bool has_image_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" || ext == ".tif" || ext == ".tiff" ||
         ext == ".webp";
}

std::string face_api_dir() {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(EDGESSD_FACE_API_DIR, ec)) return EDGESSD_FACE_API_DIR;
  const fs::path program = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = program.parent_path().parent_path() / "share" / "edgessd" / "face-api";
    if (fs::is_directory(installed, ec)) return installed.string();
  }
  return EDGESSD_FACE_API_DIR;
}

std::vector<std::string> list_images(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(dir + ": not a folder");
  std::vector<std::string> images;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && has_image_extension(entry.path().string())) images.push_back(entry.path().string());
  }
  if (ec) throw Error(dir + ": cannot list (" + ec.message() + ")");
  std::sort(images.begin(), images.end());
  return images;
}

}  // namespace edgessd
