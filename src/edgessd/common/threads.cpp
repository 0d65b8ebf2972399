#include "edgessd/common/threads.h"

#include <algorithm>
#include <thread>

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

}  // namespace edgessd
