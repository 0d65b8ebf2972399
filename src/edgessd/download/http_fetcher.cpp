#include "edgessd/download/http_fetcher.h"

#include <curl/curl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <memory>
#include <random>
#include <thread>

#include "edgessd/common/error.h"
#include "edgessd/common/version.h"
#include "edgessd/common/logging.h"
#include "edgessd/common/progress.h"

namespace edgessd {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kExamples = 5;

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~CurlGlobal() { curl_global_cleanup(); }
};

struct Pending {
  size_t job;
  int attempt;  // tries made so far
  Clock::time_point not_before;
};

struct Transfer {
  size_t job = 0;
  std::string label;
  double report_every = 0;
  Clock::time_point started, last_report;
  int attempt = 0;
  CURL* easy = nullptr;
  FILE* file = nullptr;
  std::string temporary;
  curl_off_t resumed_from = 0;
  bool checked_status = false;
  int write_errno = 0;
  uint64_t bytes = 0;
};

size_t write_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (!t->checked_status) {
    t->checked_status = true;
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    if (t->resumed_from > 0 && status == 200) {
      // The server ignored the Range request and sends everything: start the file over.
      if (std::fflush(t->file) != 0 || ::ftruncate(fileno(t->file), 0) != 0 || std::fseek(t->file, 0, SEEK_SET) != 0) {
        t->write_errno = errno;
        return 0;
      }
      t->resumed_from = 0;
    }
  }
  if (std::fwrite(data, 1, n, t->file) != n) {
    t->write_errno = errno ? errno : EIO;
    return 0;
  }
  t->bytes += n;
  return n;
}

// libcurl's progress callback: a periodic line for big single files.
int report_bytes(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  const auto clock = Clock::now();
  if (std::chrono::duration<double>(clock - t->last_report).count() < t->report_every) return 0;
  t->last_report = clock;
  const double seconds = std::chrono::duration<double>(clock - t->started).count();
  char whole[48] = "";
  if (total > 0) std::snprintf(whole, sizeof whole, " of %.1f", (total + t->resumed_from) / 1e6);
  char line[256];
  std::snprintf(line, sizeof line, "%s: %.1f%s MB (%.1f MB/s)", t->label.c_str(), (now + t->resumed_from) / 1e6, whole,
                now / 1e6 / std::max(seconds, 1e-3));
  log_info(line);
  return 0;
}

std::string describe(const Transfer& t, CURLcode code, long status) {
  if (code != CURLE_OK) return curl_easy_strerror(code);
  return "HTTP " + std::to_string(status);
}

}  // namespace

bool is_local_url(const std::string& url) { return url.rfind("file://", 0) == 0; }

TransferOutcome classify_transfer(int curl_code, long status, bool local_file, bool resumed) {
  if (local_file) {
    if (curl_code == CURLE_OK) return TransferOutcome::Done;
    return curl_code == CURLE_FILE_COULDNT_READ_FILE ? TransferOutcome::Missing : TransferOutcome::Permanent;
  }
  if (curl_code != CURLE_OK) return TransferOutcome::Transient;
  if (status == 200 || status == 206) return TransferOutcome::Done;
  if (status == 404 || status == 410) return TransferOutcome::Missing;
  if (status == 416 && resumed) return TransferOutcome::RestartWithoutRange;
  if (status >= 400 && status < 500 && status != 408 && status != 429) return TransferOutcome::Permanent;
  return TransferOutcome::Transient;
}

std::string partial_path(const std::string& path) {
  const fs::path p(path);
  return (p.parent_path() / ("." + p.filename().string() + ".partial")).string();
}

namespace {

// One fetch_all call: the queue of jobs waiting (with their backoff), the transfers in
// flight on one multi handle, and the report. Leaving it by an exception removes every
// partial file of a transfer in flight.
class Fetcher {
 public:
  Fetcher(const std::vector<FetchJob>& jobs, const FetchVerifier& verify, const FetchOptions& options)
      : jobs_(jobs), verify_(verify), options_(options), jitter_(std::random_device{}()) {}
  ~Fetcher() { cleanup_all(); }
  FetchReport run();

 private:
  void open_multi();
  void start_transfer(const Pending& p);
  void fill_free_slots();
  void read_finished();
  void finish(std::unique_ptr<Transfer> t, CURLcode code, long status);
  void count_failure(const std::string& example);
  void retry_or_fail(const Transfer& t, const std::string& why, bool keep_partial);
  void show_progress();
  void cleanup_all();

  const std::vector<FetchJob>& jobs_;
  const FetchVerifier& verify_;
  const FetchOptions& options_;
  FetchReport report_;
  std::deque<Pending> queue_;
  std::vector<std::unique_ptr<Transfer>> active_;
  std::unique_ptr<CURLM, decltype(&curl_multi_cleanup)> multi_{nullptr, curl_multi_cleanup};
  std::unique_ptr<Progress> progress_;
  std::mt19937_64 jitter_;
  size_t finished_ = 0;
  uint64_t done_bytes_ = 0;
  Clock::time_point start_ = Clock::now();
};

void Fetcher::open_multi() {
  multi_.reset(curl_multi_init());
  if (!multi_) throw Error("libcurl: cannot create a transfer handle");
  curl_multi_setopt(multi_.get(), CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  curl_multi_setopt(multi_.get(), CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(std::max(1, options_.workers)));
}

void Fetcher::cleanup_all() {
  for (auto& t : active_) {
    curl_multi_remove_handle(multi_.get(), t->easy);
    curl_easy_cleanup(t->easy);
    if (t->file) std::fclose(t->file);
    std::error_code ec;
    fs::remove(t->temporary, ec);
  }
  active_.clear();
}

// An easy handle for the job, writing to its partial file (appending to what a resumable
// job already has).
void Fetcher::start_transfer(const Pending& p) {
  const FetchJob& job = jobs_[p.job];
  auto t = std::make_unique<Transfer>();
  t->job = p.job;
  t->attempt = p.attempt + 1;
  t->temporary = partial_path(job.path);
  std::error_code ec;
  const auto existing = job.resume && fs::exists(t->temporary, ec) ? fs::file_size(t->temporary, ec) : 0;
  t->resumed_from = ec ? 0 : static_cast<curl_off_t>(existing);
  t->file = std::fopen(t->temporary.c_str(), t->resumed_from > 0 ? "ab" : "wb");
  if (!t->file) throw Error(job.path + ": cannot write (" + std::strerror(errno) + ")");
  t->easy = curl_easy_init();
  CURL* e = t->easy;
  curl_easy_setopt(e, CURLOPT_URL, job.url.c_str());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "edgessd-download/" EDGESSD_VERSION);
  const long timeout = std::max(1L, static_cast<long>(std::lround(options_.timeout)));
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, timeout);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, timeout);
  if (t->resumed_from > 0) curl_easy_setopt(e, CURLOPT_RESUME_FROM_LARGE, t->resumed_from);
  if (options_.byte_report_seconds > 0) {
    t->label = fs::path(job.path).filename().string();
    t->report_every = options_.byte_report_seconds;
    t->started = t->last_report = Clock::now();
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, report_bytes);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, t.get());
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  }
  curl_multi_add_handle(multi_.get(), e);
  active_.push_back(std::move(t));
}

// Fills free slots with jobs whose backoff has passed.
void Fetcher::fill_free_slots() {
  const auto now = Clock::now();
  for (size_t scanned = 0, n = queue_.size(); scanned < n && active_.size() < static_cast<size_t>(options_.workers);
       ++scanned) {
    Pending p = queue_.front();
    queue_.pop_front();
    if (p.not_before <= now) start_transfer(p);
    else queue_.push_back(p);
  }
}

void Fetcher::count_failure(const std::string& example) {
  ++report_.failed;
  ++finished_;
  if (report_.failure_examples.size() < kExamples) report_.failure_examples.push_back(example);
}

void Fetcher::retry_or_fail(const Transfer& t, const std::string& why, bool keep_partial) {
  std::error_code ec;
  if (!keep_partial || t.attempt > options_.retries) fs::remove(t.temporary, ec);
  if (t.attempt > options_.retries)
    return count_failure(jobs_[t.job].url + ": " + why + " (after " + std::to_string(t.attempt) + " tries)");
  std::uniform_real_distribution<double> spread(0.5, 1.5);
  const double wait = std::min(60.0, options_.retry_wait * std::pow(2.0, t.attempt - 1)) * spread(jitter_);
  queue_.push_back({t.job, t.attempt, Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                          std::chrono::duration<double>(wait))});
}

// A finished try: its file closed, then kept, counted, retried or dropped by its outcome.
void Fetcher::finish(std::unique_ptr<Transfer> t, CURLcode code, long status) {
  const bool closed = std::fclose(t->file) == 0;
  t->file = nullptr;
  const FetchJob& job = jobs_[t->job];
  std::error_code ec;
  if (t->write_errno != 0 || !closed) {
    const int e = t->write_errno ? t->write_errno : errno;
    fs::remove(t->temporary, ec);
    throw Error(job.path + ": cannot write (" + std::strerror(e) + ")");
  }
  done_bytes_ += t->bytes;
  switch (classify_transfer(code, status, is_local_url(job.url), t->resumed_from > 0)) {
    case TransferOutcome::Done: {
      const std::string bad = verify_ ? verify_(t->temporary) : "";
      if (!bad.empty()) return retry_or_fail(*t, bad, false);
      fs::rename(t->temporary, job.path, ec);
      if (ec) {
        fs::remove(t->temporary, ec);
        throw Error(job.path + ": cannot move the finished download into place");
      }
      ++report_.downloaded;
      ++finished_;
      return;
    }
    case TransferOutcome::Missing:
      fs::remove(t->temporary, ec);
      ++report_.missing;
      ++finished_;
      if (report_.missing_examples.size() < kExamples) report_.missing_examples.push_back(job.url);
      return;
    case TransferOutcome::RestartWithoutRange:
      return retry_or_fail(*t, "range not satisfiable", false);  // start over without the partial body
    case TransferOutcome::Permanent:
      fs::remove(t->temporary, ec);
      return count_failure(job.url + ": " + describe(*t, code, status));
    case TransferOutcome::Transient:  // keep what a resumable job already has
      return retry_or_fail(*t, describe(*t, code, status), job.resume && code != CURLE_OK);
  }
}

void Fetcher::read_finished() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    auto it = std::find_if(active_.begin(), active_.end(), [&](const auto& t) { return t->easy == msg->easy_handle; });
    if (it == active_.end()) continue;
    std::unique_ptr<Transfer> t = std::move(*it);
    active_.erase(it);
    const CURLcode code = msg->data.result;
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(multi_.get(), t->easy);
    curl_easy_cleanup(t->easy);
    t->easy = nullptr;
    finish(std::move(t), code, status);
    show_progress();
  }
}

void Fetcher::show_progress() {
  if (!options_.show_progress) return;
  const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
  char status_text[64];
  std::snprintf(status_text, sizeof status_text, "%.2f MB/s", done_bytes_ / 1e6 / std::max(seconds, 1e-3));
  progress_->update(finished_, status_text, finished_);
}

FetchReport Fetcher::run() {
  for (size_t i = 0; i < jobs_.size(); ++i) {
    std::error_code ec;
    if (fs::exists(jobs_[i].path, ec)) {
      fs::remove(partial_path(jobs_[i].path), ec);  // a stale one from a killed run
      ++report_.already_present;
      continue;
    }
    queue_.push_back({i, 0, Clock::now()});
  }
  if (queue_.empty()) return report_;
  open_multi();
  progress_ = std::make_unique<Progress>(options_.progress_label, queue_.size(), std::max<size_t>(1, queue_.size() / 20));
  while (!queue_.empty() || !active_.empty()) {
    fill_free_slots();
    int running = 0;
    curl_multi_perform(multi_.get(), &running);
    read_finished();
    if (!active_.empty()) curl_multi_poll(multi_.get(), nullptr, 0, 100, nullptr);
    else if (!queue_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (options_.show_progress) progress_->finish();
  report_.bytes = done_bytes_;
  return report_;
}

}  // namespace

FetchReport fetch_all(const std::vector<FetchJob>& jobs, const FetchVerifier& verify, const FetchOptions& options) {
  static CurlGlobal global;
  return Fetcher(jobs, verify, options).run();
}

}  // namespace edgessd
