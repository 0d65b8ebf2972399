#pragma once
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

}  // namespace edgessd
