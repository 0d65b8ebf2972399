#include "edgessd/runtime/internal/activation_arena.h"

#include <algorithm>
#include <utility>

namespace edgessd {

ArenaPlacement place_activations(const std::vector<ActivationLifetime>& lifetimes, size_t align, bool share) {
  const size_t count = lifetimes.size();
  std::vector<size_t> order(count), size(count);
  for (size_t i = 0; i < count; ++i) {
    order[i] = i;
    size[i] = (lifetimes[i].bytes + align - 1) / align * align;
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return size[a] > size[b]; });
  ArenaPlacement plan;
  plan.offsets.assign(count, 0);
  std::vector<size_t> placed;
  for (size_t i : order) {
    const ActivationLifetime& a = lifetimes[i];
    std::vector<std::pair<size_t, size_t>> taken;  // [begin, end) of live neighbours
    for (size_t j : placed) {
      const ActivationLifetime& b = lifetimes[j];
      if (!share || (a.first <= b.last && b.first <= a.last))
        taken.push_back({plan.offsets[j], plan.offsets[j] + size[j]});
    }
    std::sort(taken.begin(), taken.end());
    size_t at = 0;
    for (const auto& [begin, end] : taken) {
      if (at + size[i] <= begin) break;
      at = std::max(at, end);
    }
    plan.offsets[i] = at;
    plan.total = std::max(plan.total, at + size[i]);
    placed.push_back(i);
  }
  return plan;
}

}  // namespace edgessd
