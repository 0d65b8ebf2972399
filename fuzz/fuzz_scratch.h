#pragma once
// A scratch folder per fuzzing process, removed at exit. Its name is kept in a plain array,
// which outlives the static objects the exit handlers may run after.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace edgessd::fuzz {

inline char g_scratch[512];

// Creates the folder on first use; `prepare(dir)` fills it once.
template <typename Prepare>
std::string scratch_dir(const char* name, Prepare prepare) {
  if (!g_scratch[0]) {
    const std::string dir =
        (std::filesystem::temp_directory_path() / (std::string(name) + "-" + std::to_string(::getpid()))).string();
    std::filesystem::create_directories(dir);
    prepare(dir);
    std::snprintf(g_scratch, sizeof g_scratch, "%s", dir.c_str());
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(g_scratch, ec);
    });
  }
  return g_scratch;
}

inline void write_bytes(const std::string& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
}

}  // namespace edgessd::fuzz
