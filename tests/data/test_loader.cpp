#include "edgessd/data/loader.h"
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
