#pragma once
// The project's one random source. Standard distributions (std::uniform_int_distribution,
// std::shuffle) are implementation-defined and differ between standard libraries, so
// everything seeded here (augmentation, data order, synthetic data, balancing) draws from
// this splitmix64 generator and these few helpers: the same seed gives the same result on
// every platform.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace edgessd {

class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t next();
  double uniform(double low, double high);  // [low, high)
  bool coin() { return next() >> 63; }
  int below(int n) { return static_cast<int>(uniform(0, n)); }  // 0 .. n-1
  int between(int low, int high) { return high > low ? low + below(high - low + 1) : low; }  // both included

 private:
  uint64_t state_;
};

// Mixes several numbers (seed, epoch, sample index) into one seed.
uint64_t mix_seed(uint64_t a, uint64_t b, uint64_t c = 0);

// Fisher-Yates, from the back.
template <typename T>
void shuffle(std::vector<T>& items, Random& random) {
  for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[random.next() % i]);
}

}  // namespace edgessd
