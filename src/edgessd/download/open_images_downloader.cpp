#include "edgessd/download/open_images_downloader.h"

#include <opencv2/imgcodecs.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "edgessd/common/csv.h"
#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/logging.h"
#include "edgessd/download/http_fetcher.h"
#include "edgessd/download/open_images_csv.h"
#include "edgessd/download/selection.h"

namespace edgessd {

namespace fs = std::filesystem;

namespace {

const char* const kSplits[] = {"train", "validation", "test"};

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

std::string read_head(const std::string& path, size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  std::string head(bytes, '\0');
  in.read(head.data(), static_cast<std::streamsize>(bytes));
  head.resize(static_cast<size_t>(in.gcount()));
  return head;
}

bool ends_with_newline(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in || in.tellg() <= 0) return false;
  in.seekg(-1, std::ios::end);
  return in.get() == '\n';
}

// A CSV is complete when its header is right and its last line ended.
std::string verify_annotations_csv(const std::string& path) {
  const std::string head = read_head(path, 4096);
  const std::string_view text = strip_bom(head);
  const std::string first(text.substr(0, text.find('\n')));
  if (first.rfind("ImageID,", 0) != 0 || first.find("LabelName") == std::string::npos ||
      first.find("XMin") == std::string::npos)
    return "not an Open Images annotation CSV (header '" + first.substr(0, 60) + "')";
  if (!ends_with_newline(path)) return "truncated (no line end at the end)";
  return "";
}

std::string verify_class_csv(const std::string& path) {
  const std::string head = read_head(path, 4096);
  const std::string first = head.substr(0, head.find('\n'));
  if (first.find(',') == std::string::npos || first.find('<') != std::string::npos)
    return "not a class description CSV (first line '" + first.substr(0, 60) + "')";
  if (!ends_with_newline(path)) return "truncated (no line end at the end)";
  return "";
}

// A JPEG is complete when it starts with SOI, has EOI near its end and decodes.
std::string verify_jpeg(const std::string& path) {
  const std::string data = read_file(path);
  if (data.size() < 4 || static_cast<unsigned char>(data[0]) != 0xFF || static_cast<unsigned char>(data[1]) != 0xD8)
    return "not a JPEG";
  const size_t tail = data.size() > 4096 ? data.size() - 4096 : 0;
  if (data.find("\xFF\xD9", tail) == std::string::npos) return "truncated JPEG (no end marker)";
  const cv::Mat image = cv::imdecode(cv::Mat(1, static_cast<int>(data.size()), CV_8U, const_cast<char*>(data.data())),
                                     cv::IMREAD_REDUCED_GRAYSCALE_8);
  if (image.empty()) return "JPEG does not decode";
  return "";
}

void fetch_one_metadata(const std::string& url, const std::string& path, const FetchVerifier& verify,
                        const DownloadOptions& options) {
  log_info("Download " + url);
  FetchOptions fetch;
  fetch.workers = 1;
  fetch.retries = options.retries;
  fetch.retry_wait = options.retry_wait;
  fetch.timeout = options.timeout;
  fetch.show_progress = false;
  fetch.byte_report_seconds = 5;  // the v6 train file is 2.2 GB
  const FetchReport report = fetch_all({{url, path, /*resume=*/true}}, verify, fetch);
  if (report.downloaded == 1) return;
  if (report.missing)
    throw Error(url + (is_local_url(url) ? ": no such file" : ": not found on the server (404)"));
  throw Error(report.failure_examples.empty() ? url + ": download failed" : report.failure_examples[0]);
}

void fetch_metadata(const std::string& url, const std::string& path, const FetchVerifier& verify,
                    const DownloadOptions& options) {
  std::error_code ec;
  if (fs::exists(path, ec)) return;
  // The data folder appears with its first file; a failed first file leaves no folder.
  const fs::path folder = fs::path(path).parent_path();
  const bool made = !folder.empty() && !fs::exists(folder, ec);
  make_folder(folder.string(), "--data");
  try {
    fetch_one_metadata(url, path, verify, options);
  } catch (...) {
    if (made) fs::remove(folder, ec);  // only when empty: a resumable partial body stays
    throw;
  }
}

void warn_dropped(uint64_t count, const std::string& what, const std::vector<std::string>& examples) {
  if (count == 0) return;
  std::string text = std::to_string(count) + " " + what + " skipped";
  for (size_t i = 0; i < examples.size(); ++i) text += (i ? "; " : ": ") + examples[i];
  if (count > examples.size()) text += "; ...";
  log_warning(text);
}

}  // namespace

std::string metadata_url_for(const std::string& base, const std::string& split) {
  if (base.empty()) {
    if (split.empty()) return "https://storage.googleapis.com/openimages/v5/class-descriptions-boxable.csv";
    if (split == "train") return "https://storage.googleapis.com/openimages/v6/oidv6-train-annotations-bbox.csv";
    return "https://storage.googleapis.com/openimages/v5/" + split + "-annotations-bbox.csv";
  }
  std::string b = base;
  while (!b.empty() && b.back() == '/') b.pop_back();
  return b + "/" + (split.empty() ? std::string("class-descriptions-boxable.csv") : split + "-annotations-bbox.csv");
}

int run_download(const DownloadOptions& options) {
  if (options.class_names.empty()) throw Error("--class-names: give at least one class");
  if (options.workers < 1 || options.workers > 256) throw Error("--num-workers must be within 1..256");
  if (options.retries < 0) throw Error("--retry must be >= 0");
  if (options.image_url.find("{id}") == std::string::npos) throw Error("--image-url must contain {id}");
  if (!(options.timeout > 0 && options.timeout <= 3600)) throw Error("--timeout must be within 0 and 3600 seconds");
  if (!(options.retry_wait >= 0 && options.retry_wait <= 3600))
    throw Error("--retry-wait must be within 0 and 3600 seconds");
  check_folder_makeable(options.data_dir, "--data");  // made when the first file arrives

  const std::string class_file = join_path(options.data_dir, "class-descriptions-boxable.csv");
  fetch_metadata(metadata_url_for(options.metadata_url, ""), class_file, verify_class_csv, options);
  const std::vector<ClassDescription> classes =
      match_class_names(read_class_descriptions(class_file), options.class_names);
  log_info("Requested " + std::to_string(options.class_names.size()) + " classes, found " +
           std::to_string(classes.size()) + " classes");

  std::vector<SplitSelection> splits;
  for (const char* split : kSplits) {
    const std::string path = join_path(options.data_dir, std::string(split) + "-annotations-bbox.csv");
    fetch_metadata(metadata_url_for(options.metadata_url, split), path, verify_annotations_csv, options);
    log_info("Read annotation file " + path);
    FilteredAnnotations filtered = filter_annotations(path, classes);
    warn_dropped(filtered.malformed, "malformed rows", filtered.malformed_examples);
    warn_dropped(filtered.bad_ids, "rows with an ImageID that is not an Open Images ID", filtered.bad_id_examples);
    SplitSelection selection;
    selection.split = split;
    selection.header = std::move(filtered.header);
    selection.rows = std::move(filtered.rows);
    splits.push_back(std::move(selection));
  }

  SelectionOptions select;
  select.include_depiction = options.include_depiction;
  select.remove_overlapped = options.remove_overlapped;
  select.max_images = options.max_images;
  select.max_annotations_per_class = options.max_annotations_per_class;
  select.seed = options.seed;
  std::string log;
  select_annotations(splits, classes, select, log);
  std::fputs(log.c_str(), stdout);
  std::fputs(format_statistics(splits, classes).c_str(), stdout);
  std::fflush(stdout);
  if (options.stats_only) return 0;

  std::vector<FetchJob> jobs;
  for (const auto& split : splits) {
    const std::string sub = join_path(options.data_dir, "sub-" + split.split + "-annotations-bbox.csv");
    log_info("Saving '" + split.split + "' data to " + sub);
    write_sub_annotations(sub, split, classes);
    const std::string dir = join_path(options.data_dir, split.split);
    make_folder(dir);
    for (const auto& id : split.image_ids) {
      const std::string url = replace_all(replace_all(options.image_url, "{split}", split.split), "{id}", id);
      jobs.push_back({url, join_path(dir, id + ".jpg"), false});
    }
  }
  log_info("Starting to download " + std::to_string(jobs.size()) + " images");
  FetchOptions fetch;
  fetch.workers = options.workers;
  fetch.retries = options.retries;
  fetch.retry_wait = options.retry_wait;
  fetch.timeout = options.timeout;
  fetch.progress_label = "images";
  const FetchReport report = fetch_all(jobs, verify_jpeg, fetch);
  for (const auto& m : report.missing_examples) log_warning("missing on the server: " + m);
  for (const auto& f : report.failure_examples) log_warning("failed: " + f);
  char summary[256];
  std::snprintf(summary, sizeof summary,
                "Images: %zu downloaded (%.1f MB), %zu already present, %zu missing on server, %zu failed",
                report.downloaded, report.bytes / 1e6, report.already_present, report.missing, report.failed);
  std::printf("%s\n", summary);
  std::fflush(stdout);
  if (report.failed > 0) {
    log_warning(std::to_string(report.failed) + " images failed; rerun the same command to fetch what is missing");
    return 1;
  }
  log_info("Task Done.");
  return 0;
}

}  // namespace edgessd
