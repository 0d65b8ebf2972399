#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace edgessd {

// A regular file's bytes (at most `max_bytes`); folders, devices and pipes are Errors.
constexpr uintmax_t kMaxReadBytes = uintmax_t{4} << 30;
std::string read_file(const std::string& path, uintmax_t max_bytes = kMaxReadBytes);

// Error naming `path` unless it is a regular file that exists (read_file's first check).
void check_readable_file(const std::string& path);

// Error unless `path` is absent or a regular file: outputs never replace a device node,
// a folder or a pipe (`--output /dev/null` used to replace the device with a file).
void check_replaceable(const std::string& path);

// Writes through `write` into a temporary file beside `path`, flushes it to disk and
// renames it over `path`, so a reader never sees a half-written file. On any failure the
// temporary file is removed and an Error naming `path` is thrown.
void write_file_atomic(const std::string& path,
                       const std::function<void(std::FILE*)>& write);
void write_file_atomic(const std::string& path, const std::string& contents);

// Creates `path` and its parents. An Error names `what` (a flag or "") and `path`, and
// says why: a file already in the way, or the system's reason.
void make_folder(const std::string& path, const std::string& what = "");

// Errors before any work, for outputs written at the end: `path` could become a folder
// (no file in the way), or a file (its folder exists; absent or a regular file).
void check_folder_makeable(const std::string& path, const std::string& what = "");
void check_output_file(const std::string& path, const std::string& what = "");

// A folder a run is about to create (a training run's --model-dir): when the run fails
// (an exception leaves the guard's scope) before any checkpoint (.pth) lies in it, the
// folder goes again, so a failed start leaves nothing behind. A folder that existed
// before is never touched.
class NewFolderGuard {
 public:
  explicit NewFolderGuard(std::string path);
  ~NewFolderGuard();
  NewFolderGuard(const NewFolderGuard&) = delete;
  NewFolderGuard& operator=(const NewFolderGuard&) = delete;

 private:
  std::string path_;
  bool fresh_;
  int exceptions_;
};

// `dir/name` with exactly one separator.
std::string join_path(const std::string& dir, const std::string& name);

// Whether the name ends in an image extension OpenCV reads (jpg, jpeg, png, bmp, tif,
// tiff, webp; any case).
bool has_image_extension(const std::string& path);

// The @vladmandic/face-api package (the offline base model and its demo photos): the
// build's node_modules copy, else the installed one (<prefix>/share/edgessd/face-api,
// found from the running program's own path).
std::string face_api_dir();

// Sorted list of the image files (has_image_extension) in a folder.
std::vector<std::string> list_images(const std::string& dir);

}  // namespace edgessd
