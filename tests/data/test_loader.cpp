#include "edgessd/data/loader.h"
#include "edgessd/common/error.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;

namespace {
std::vector<Batch> one_epoch(const DetectionDataset& d, const PriorMatcher& m, int workers, int epoch) {
  LoaderOptions o;
  o.batch_size = 3;
  o.workers = workers;
  o.seed = 9;
  DataLoader loader(d, m, o);
  loader.start_epoch(epoch);
  std::vector<Batch> out;
  Batch b;
  while (loader.next(b)) out.push_back(b);
  return out;
}
}  // namespace

TEST(DataLoader, BatchesAreCompleteAndIndependentOfWorkerCount) {
  EDGESSD_REQUIRE_FILE(plates_dir());
  DetectionDataset d = read_open_images(plates_dir(), "validation");  // 20 images
  PriorBoxes priors(mobilenet_v1_ssd_config());
  PriorMatcher matcher(priors, 0.1f, 0.2f, 0.5f);
  auto serial = one_epoch(d, matcher, 0, 1);
  auto threaded = one_epoch(d, matcher, 3, 1);
  ASSERT_EQ(serial.size(), 7u);  // 20 images in batches of 3: the last one holds 2
  EXPECT_EQ(serial.back().size, 2);
  ASSERT_EQ(threaded.size(), serial.size());
  for (size_t i = 0; i < serial.size(); ++i) {
    EXPECT_EQ(serial[i].images, threaded[i].images) << "batch " << i;
    EXPECT_EQ(serial[i].labels, threaded[i].labels) << "batch " << i;
    int positives = 0;
    for (int64_t l : serial[i].labels) positives += l > 0;
    EXPECT_GE(positives, serial[i].size) << "every image has a plate, so at least one positive prior each";
  }
  auto other_epoch = one_epoch(d, matcher, 2, 2);
  EXPECT_NE(other_epoch[0].images, serial[0].images);  // reshuffled and re-augmented
}

TEST(DataLoader, UnreadableImageSurfacesAsError) {
  DetectionDataset d;
  d.class_names = {"BACKGROUND", "x"};
  d.description = "broken";
  d.images.push_back({"gone", "/nonexistent/gone.jpg", {{0.1f, 0.1f, 0.5f, 0.5f}}, {1}, {0}});
  PriorBoxes priors(mobilenet_v1_ssd_config());
  PriorMatcher matcher(priors, 0.1f, 0.2f, 0.5f);
  LoaderOptions o;
  o.workers = 2;
  DataLoader loader(d, matcher, o);
  loader.start_epoch(0);
  Batch b;
  EXPECT_THROW(loader.next(b), std::exception);
}

// DistributedSampler's contract: per epoch, the ranks' shards are disjoint, together they
// are the whole set (plus padding from its own start), and each rank gets the same count.
TEST(EpochOrder, ShardsAreDisjointCoverTheSetAndHaveEqualCounts) {
  for (size_t n : {1u, 7u, 8u, 130u})
    for (int world : {1, 2, 3, 4}) {
      std::vector<size_t> seen(n, 0);
      size_t total = 0;
      for (int rank = 0; rank < world; ++rank) {
        const auto shard = epoch_order(n, true, 5, 3, rank, world, true);
        EXPECT_EQ(shard.size(), (n + world - 1) / world) << n << " images, rank " << rank << " of " << world;
        for (size_t i : shard) ++seen.at(i);
        total += shard.size();
      }
      EXPECT_EQ(total - n, (world - n % world) % world) << "padding only up to a multiple of the world size";
      for (size_t i = 0; i < n; ++i) EXPECT_GE(seen[i], 1u) << "image " << i << " in no shard";
      const auto padded = total - n;
      EXPECT_LE(std::count(seen.begin(), seen.end(), 2u), static_cast<long>(padded));
    }
  // Without padding (validation) the shards partition the set exactly.
  std::vector<size_t> all;
  for (int rank = 0; rank < 3; ++rank) {
    auto shard = epoch_order(10, false, 0, 0, rank, 3, false);
    all.insert(all.end(), shard.begin(), shard.end());
  }
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], i);
  EXPECT_EQ(all.size(), 10u);
}

// One rank's order is the whole shuffled set, and ranks interleave it: rank r of W takes
// positions r, r + W, ..., so W ranks of batch B see the one-rank batch of W x B each step.
TEST(EpochOrder, RanksInterleaveTheOneRankOrderAndEpochsReshuffle) {
  const auto whole = epoch_order(12, true, 9, 1, 0, 1, true);
  const auto r0 = epoch_order(12, true, 9, 1, 0, 2, true), r1 = epoch_order(12, true, 9, 1, 1, 2, true);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(r0[i], whole[2 * i]);
    EXPECT_EQ(r1[i], whole[2 * i + 1]);
  }
  EXPECT_NE(whole, epoch_order(12, true, 9, 2, 0, 1, true));
  EXPECT_NE(whole, epoch_order(12, true, 10, 1, 0, 1, true));
  EXPECT_THROW(epoch_order(12, true, 9, 1, 2, 2, true), Error);
}
