// Throughput of the downloader's annotation filter on a file the size of Open Images v6's
// train-annotations-bbox.csv (2.2 GB, 21 columns, ~14.6 M boxes), generated in the real
// format: bench/csv_filter_throughput [FILE] [BYTES]. The file is made once and reused.
// Prints MB/s on one core (best of 3 passes, file in the page cache) and the memory the
// filter added (peak RSS growth), against the targets (>= 500 MB/s, < 200 MB).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

#include "edgessd/download/open_images_csv.h"

using namespace edgessd;

namespace {

long peak_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

void generate(const std::string& path, uint64_t bytes) {
  std::mt19937_64 random(42);
  std::vector<std::string> labels;
  for (int i = 0; i < 600; ++i) {
    char mid[16];
    std::snprintf(mid, sizeof mid, "/m/0%05x", i * 7919 % 0xfffff);
    labels.push_back(mid);
  }
  labels[0] = "/m/01jfm_";  // Vehicle registration plate: about 0.1% of the boxes
  std::FILE* f = std::fopen((path + ".tmp").c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + path);
  std::string block =
      "ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,IsGroupOf,IsDepiction,IsInside,"
      "XClick1X,XClick2X,XClick3X,XClick4X,XClick1Y,XClick2Y,XClick3Y,XClick4Y\n";
  uint64_t written = 0;
  std::uniform_real_distribution<double> unit(0, 1);
  char line[512];
  while (written < bytes) {
    const uint64_t id = random();
    const size_t label = unit(random) < 0.001 ? 0 : 1 + random() % (labels.size() - 1);
    const double x1 = unit(random) * 0.8, y1 = unit(random) * 0.8;
    const int n = std::snprintf(line, sizeof line,
                                "%016llx,xclick,%s,1,%.6f,%.6f,%.6f,%.6f,%d,%d,%d,0,0,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f\n",
                                static_cast<unsigned long long>(id), labels[label].c_str(), x1, x1 + 0.1, y1, y1 + 0.1,
                                int(random() % 2), int(random() % 2), int(random() % 20 == 0), x1, x1 + 0.1, x1 + 0.05,
                                x1 + 0.02, y1, y1 + 0.03, y1 + 0.1, y1 + 0.06);
    block.append(line, n);
    if (block.size() > (4u << 20)) {
      std::fwrite(block.data(), 1, block.size(), f);
      written += block.size();
      block.clear();
    }
  }
  std::fwrite(block.data(), 1, block.size(), f);
  std::fclose(f);
  std::filesystem::rename(path + ".tmp", path);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : (std::filesystem::temp_directory_path() / "edgessd-oi-train-bench.csv").string();
  const uint64_t bytes = argc > 2 ? std::stoull(argv[2]) : 2200000000ull;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) || std::filesystem::file_size(path, ec) < bytes) {
    std::printf("generating %s (%.2f GB) ...\n", path.c_str(), bytes / 1e9);
    std::fflush(stdout);
    generate(path, bytes);
  }
  const std::vector<ClassDescription> classes = {{"/m/01jfm_", "Vehicle registration plate"}};
  const long rss_before = peak_rss_kb();
  double best = 1e30;
  FilteredAnnotations result;
  for (int pass = 0; pass < 3; ++pass) {
    const auto start = std::chrono::steady_clock::now();
    result = filter_annotations(path, classes);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::min(best, seconds);
    std::printf("pass %d: %.3f s, %.0f MB/s\n", pass + 1, seconds, result.bytes_read / 1e6 / seconds);
  }
  const double mb_per_s = result.bytes_read / 1e6 / best;
  const double added_mb = (peak_rss_kb() - rss_before) / 1024.0;
  std::printf("file %.2f GB, %.2f M rows, %zu selected; best %.3f s = %.0f MB/s on one core\n", result.bytes_read / 1e9,
              result.rows_read / 1e6, result.rows.size(), best, mb_per_s);
  std::printf("peak RSS %.1f MB (the filter added %.1f MB)\n", peak_rss_kb() / 1024.0, added_mb);
  std::printf("target >= 500 MB/s: ratio %.2f; target < 200 MB: %s\n", mb_per_s / 500.0, added_mb < 200 ? "met" : "NOT met");
  return 0;
}
