// Without libFuzzer: replays the files named on the command line through the fuzz target,
// then, with --mutate N, N deterministic byte mutations of each (flips, truncations,
// overwrites with boundary values), so the suite exercises the reader's error paths.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  long mutations = 0;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--mutate") == 0 && i + 1 < argc) mutations = std::atol(argv[++i]);
    else files.push_back(argv[i]);
  }
  std::mt19937_64 rng(12345);
  long runs = 0;
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) { std::fprintf(stderr, "cannot open %s\n", file.c_str()); return 2; }
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string seed = buffer.str();
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(seed.data()), seed.size());
    ++runs;
    static const uint8_t kInteresting[] = {0x00, 0x01, 0x7f, 0x80, 0xff, '(', ')', '.', 'R', 'Q', 'h', 'q', 'u', 't'};
    for (long m = 0; m < mutations && !seed.empty(); ++m) {
      std::string mutated = seed;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits; ++e) {
        const size_t pos = rng() % mutated.size();
        switch (rng() % 4) {
          case 0: mutated[pos] ^= static_cast<char>(1u << (rng() % 8)); break;
          case 1: mutated[pos] = static_cast<char>(kInteresting[rng() % sizeof kInteresting]); break;
          case 2: mutated.resize(pos + 1); break;
          default: mutated.insert(pos, 1, static_cast<char>(rng() % 256)); break;
        }
      }
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(mutated.data()), mutated.size());
      ++runs;
    }
  }
  std::printf("replayed %ld inputs without a crash\n", runs);
  return 0;
}
