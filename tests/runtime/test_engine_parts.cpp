// The oneDNN engine's pure parts: activation placement and the strided index; which
// engine `auto` picks on this CPU.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "edgessd/runtime/internal/activation_arena.h"
#include "edgessd/runtime/engine.h"
#include "edgessd/runtime/internal/onnx_tensors.h"

using namespace edgessd;

namespace {

bool overlap(size_t a0, size_t a1, size_t b0, size_t b1) { return a0 < b1 && b0 < a1; }

// No two activations alive at one step share a byte; all fit in `total`.
void expect_valid(const std::vector<ActivationLifetime>& l, const ArenaPlacement& p, size_t align) {
  ASSERT_EQ(p.offsets.size(), l.size());
  for (size_t i = 0; i < l.size(); ++i) {
    EXPECT_EQ(p.offsets[i] % align, 0u);
    EXPECT_LE(p.offsets[i] + l[i].bytes, p.total);
    for (size_t j = i + 1; j < l.size(); ++j) {
      const bool live_together = l[i].first <= l[j].last && l[j].first <= l[i].last;
      if (live_together)
        EXPECT_FALSE(overlap(p.offsets[i], p.offsets[i] + l[i].bytes, p.offsets[j], p.offsets[j] + l[j].bytes))
            << i << " and " << j;
    }
  }
}

}  // namespace

TEST(ActivationArena, AChainNeedsItsLargestLivePair) {
  // A chain of layers: each output lives from its step to the next one.
  const std::vector<ActivationLifetime> chain = {{1000, 0, 1}, {4000, 1, 2}, {2000, 2, 3}, {3000, 3, 4}, {500, 4, 5}};
  const ArenaPlacement p = place_activations(chain, 64);
  expect_valid(chain, p, 64);
  EXPECT_EQ(p.total, 4032u + 2048u);  // 4000 and 2000 bytes, both alive at step 2, rounded to 64
}

TEST(ActivationArena, WithoutSharingNothingOverlaps) {
  const std::vector<ActivationLifetime> chain = {{100, 0, 1}, {100, 2, 3}, {100, 4, 5}};
  const ArenaPlacement shared = place_activations(chain, 64, true);
  const ArenaPlacement apart = place_activations(chain, 64, false);
  EXPECT_EQ(shared.total, 128u);
  EXPECT_EQ(apart.total, 3 * 128u);
  std::vector<size_t> offsets = apart.offsets;
  std::sort(offsets.begin(), offsets.end());
  EXPECT_EQ(offsets, (std::vector<size_t>{0, 128, 256}));
}

TEST(ActivationArena, RandomLifetimesNeverCollide) {
  std::vector<ActivationLifetime> l;
  uint32_t state = 12345;
  auto next = [&] { return state = state * 1664525u + 1013904223u; };
  for (int i = 0; i < 200; ++i) {
    const size_t first = next() % 100;
    l.push_back({1 + next() % 5000, first, first + next() % 10});
  }
  const ArenaPlacement p = place_activations(l, 64);
  expect_valid(l, p, 64);
  size_t sum = 0;
  for (const auto& a : l) sum += (a.bytes + 63) / 64 * 64;
  EXPECT_LT(p.total, sum);
}

TEST(StridedIndex, TransposeSliceAndBroadcast) {
  // A 2x3 input, transposed to 3x2: out[i][j] = in[j][i].
  const Shape in = {2, 3};
  const Shape st = strides_of(in);
  EXPECT_EQ(st, (Shape{3, 1}));
  EXPECT_EQ(strided_index({3, 2}, {st[1], st[0]}), (std::vector<int32_t>{0, 3, 1, 4, 2, 5}));
  // Slice [1:2, 1:3] of it: offset 1*3 + 1.
  EXPECT_EQ(strided_index({1, 2}, st, 4), (std::vector<int32_t>{4, 5}));
  // A row of 3 broadcast to 2x3: the stretched axis has stride 0.
  EXPECT_EQ(strided_index({2, 3}, {0, 1}), (std::vector<int32_t>{0, 1, 2, 0, 1, 2}));
}

TEST(OnnxTensors, ShapesBroadcastAndText) {
  EXPECT_EQ(numel({2, 3, 4}), 24);
  EXPECT_EQ(shape_text({1, 3, 300, 300}), "(1,3,300,300)");
  EXPECT_EQ(broadcast_shape({3, 1}, {4}, "n"), (Shape{3, 4}));
  EXPECT_THROW(broadcast_shape({3}, {4}, "n"), std::exception);
}

// `auto` is the oneDNN engine on both CPUs (on AArch64 its convolutions run on XNNPACK);
// an int8 model runs in int8 under it on x86-64 and in fp32 on AArch64, where oneDNN's int8
// kernels are reference code; `--engine onednn` runs int8 anywhere. The model: the fuzz
// corpus's small SSD graph, with an int8 table made by calibrating it on one input.
TEST(Engines, AutoPicksTheFastestPathForThisCpu) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("edgessd-auto-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(std::string(EDGESSD_SOURCE_DIR) + "/fuzz/corpus-onnx/seed-branchy-32.onnx", dir / "m.onnx");
  const OnnxGraph model = load_onnx_graph((dir / "m.onnx").string());
  EXPECT_EQ(available_engines(), (std::vector<std::string>{"onednn", "opencv"}));
  EXPECT_EQ(create_engine(model, {"auto", 1})->name(), "onednn");
  OnnxGraph int8 = model;
  int8.int8.scales = {{"any", 1.0f}};  // present: the engine reads scales by tensor, 1 where absent
#if defined(__aarch64__)
  EXPECT_EQ(create_engine(int8, {"auto", 1})->name(), "onednn");
#else
  EXPECT_EQ(create_engine(int8, {"auto", 1})->name(), "onednn-int8");
#endif
  EXPECT_EQ(create_engine(int8, {"onednn", 1})->name(), "onednn-int8");
  std::filesystem::remove_all(dir);
}
