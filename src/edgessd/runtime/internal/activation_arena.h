#pragma once
// Where each activation lives in one shared buffer. The layers run one after another, so
// activations whose lifetimes do not overlap can share bytes: the early layers' megabytes
// are reused and stay in cache instead of streaming a fresh buffer per layer, and peak
// memory falls from the sum of all activations to about the largest two.
#include <cstddef>
#include <vector>

namespace edgessd {

struct ActivationLifetime {
  size_t bytes = 0;
  size_t first = 0, last = 0;  // the first and last step that reads or writes it
};

struct ArenaPlacement {
  std::vector<size_t> offsets;  // one per lifetime, multiples of `align`
  size_t total = 0;             // bytes the arena needs
};

// Largest first, each at the lowest offset that overlaps no placed activation whose steps
// overlap its own (with `share` false, no two activations overlap at all).
ArenaPlacement place_activations(const std::vector<ActivationLifetime>& lifetimes, size_t align = 64,
                                 bool share = true);

}  // namespace edgessd
