#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace edgessd {

struct DownloadOptions {
  std::vector<std::string> class_names;
  std::string data_dir = "data";
  int64_t max_images = -1;
  int64_t max_annotations_per_class = -1;
  bool stats_only = false;
  bool include_depiction = false;
  bool remove_overlapped = false;
  int workers = 10;
  int retries = 10;
  double retry_wait = 1.0;
  double timeout = 30.0;
  uint64_t seed = 0;
  // Empty: the official Open Images v6 locations. Otherwise BASE/class-descriptions-boxable.csv
  // and BASE/<split>-annotations-bbox.csv.
  std::string metadata_url;
  // {split} and {id} are replaced.
  std::string image_url = "https://open-images-dataset.s3.amazonaws.com/{split}/{id}.jpg";
};

// open_images_downloader.py: metadata (fetched once, reused), class matching, selection,
// statistics, sub-<split>-annotations-bbox.csv, then the images into <split>/<id>.jpg.
// Returns the exit code: 0, or 1 when any image failed (404s are counted, not failures).
int run_download(const DownloadOptions& options);

// The metadata file's address for a split ("" = class descriptions).
std::string metadata_url_for(const std::string& base, const std::string& split);

}  // namespace edgessd
