#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace edgessd {

struct FetchOptions {
  int workers = 10;          // transfers in flight
  int retries = 10;          // further tries after the first, for transient failures
  double retry_wait = 1.0;   // seconds before the first retry; doubles each time, with jitter
  double timeout = 30.0;     // seconds without a byte (connect, or mid-body) before giving up a try
  std::string progress_label = "Downloading";
  bool show_progress = true;
  // For single large files: a log line about every `byte_report_seconds` with the bytes
  // received, the rate and the expected total (0 = off).
  double byte_report_seconds = 0;
};

struct FetchJob {
  std::string url;
  std::string path;         // final place; the body goes to a temporary name beside it first
  bool resume = false;      // continue a previous partial body with an HTTP Range request
};

// Checks a complete body at `temporary_path`; returns "" if good, else why not.
using FetchVerifier = std::function<std::string(const std::string& temporary_path)>;

struct FetchReport {
  size_t downloaded = 0;
  size_t already_present = 0;
  size_t missing = 0;  // 404/410 on the server
  size_t failed = 0;   // retries used up, or a permanent HTTP error
  uint64_t bytes = 0;
  std::vector<std::string> missing_examples, failure_examples;  // the first few, with the reason
};

// Parallel HTTP(S) downloads with libcurl: one multi handle, so connections are reused
// and HTTP/2 multiplexed where offered. Jobs whose path exists are skipped (files only
// appear there complete: temporary name, verify, rename). Connection errors, timeouts,
// 408/429/5xx, short bodies and bodies that fail `verify` are retried with exponential
// backoff and jitter; 404 is counted as missing. A local write failure (disk full,
// unwritable folder) is an Error naming the file, with no partial file left.
FetchReport fetch_all(const std::vector<FetchJob>& jobs, const FetchVerifier& verify, const FetchOptions& options);

// Whether a URL names a local file (file://), which has no HTTP status.
bool is_local_url(const std::string& url);

// What one finished try means. `curl_code` is libcurl's CURLcode, `status` the HTTP
// status (0 for file:// URLs, which local mirrors of the metadata use).
enum class TransferOutcome {
  Done,                 // the body is complete: verify it
  Missing,              // 404/410, or a file:// path that does not exist
  Permanent,            // another 4xx, or a local file that cannot be read: no retry
  RestartWithoutRange,  // 416 on a resumed body: start over from byte 0
  Transient,            // connection errors, timeouts, 408/429/5xx: retry
};
TransferOutcome classify_transfer(int curl_code, long status, bool local_file, bool resumed);

// The temporary name a job's body is written to.
std::string partial_path(const std::string& path);

}  // namespace edgessd
