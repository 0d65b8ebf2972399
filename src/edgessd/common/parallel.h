#pragma once
// How many threads, and one way to use them.
#include <cstddef>
#include <functional>
#include <string>

namespace edgessd {

// The one rule for every --threads flag: 0 means every core; more than 4 threads a core
// is refused (it only adds contention, and huge counts crashed oneDNN/OpenMP or hung
// LibTorch's pool). Returns the thread count to use, or throws an Error naming `flag`.
int hardware_threads();  // at least 1
int max_threads();       // 4 x hardware_threads()
int resolve_threads(int requested, const std::string& flag = "--threads");

// For --help: "0 = every core, at most 4 per core".
const char* threads_rule();

// body(i) for every i in 0..count-1 on `threads` threads (already resolved, >= 1), each
// taking the next index as it finishes one. The first exception stops the handing out of
// indices and is rethrown here once every thread has stopped.
void parallel_for(size_t count, int threads, const std::function<void(size_t)>& body);

}  // namespace edgessd
