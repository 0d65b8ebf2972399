#include "edgessd/common/parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "edgessd/common/error.h"

namespace edgessd {

int hardware_threads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

int max_threads() { return 4 * hardware_threads(); }

int resolve_threads(int requested, const std::string& flag) {
  if (requested < 0 || requested > max_threads())
    throw Error(flag + " " + std::to_string(requested) + ": must be within 0 (every core) and " +
                std::to_string(max_threads()) + " (4 per core here)");
  return requested == 0 ? hardware_threads() : requested;
}

const char* threads_rule() { return "0 = every core, at most 4 per core"; }

void parallel_for(size_t count, int threads, const std::function<void(size_t)>& body) {
  std::atomic<size_t> next{0};
  std::mutex mutex;
  std::exception_ptr first_error;
  auto work = [&] {
    for (size_t i; (i = next++) < count;) {
      try {
        body(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!first_error) first_error = std::current_exception();
        next = count;
      }
    }
  };
  const size_t helpers = std::min<size_t>(count, static_cast<size_t>(std::max(1, threads))) - (count > 0 ? 1 : 0);
  std::vector<std::thread> pool;
  for (size_t t = 0; t < helpers; ++t) pool.emplace_back(work);
  work();  // this thread is one of them
  for (auto& t : pool) t.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace edgessd
