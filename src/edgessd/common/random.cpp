#include "edgessd/common/random.h"

namespace edgessd {

uint64_t Random::next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

double Random::uniform(double low, double high) {
  return low + (high - low) * static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0);
}

uint64_t mix_seed(uint64_t a, uint64_t b, uint64_t c) {
  Random r(a);
  r.next();
  Random s(r.next() ^ (b * 0x9e3779b97f4a7c15ull));
  s.next();
  return s.next() ^ (c * 0xd1b54a32d192ed03ull);
}

}  // namespace edgessd
