#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "edgessd/common/boxes.h"
#include "edgessd/data/augmentation.h"
#include "edgessd/data/dataset.h"

namespace edgessd {

// One training batch, laid out for the net: images (B, 3, H, W), per-prior labels (B, P)
// and encoded locations (B, P, 4).
struct Batch {
  int size = 0;
  std::vector<float> images;
  std::vector<int64_t> labels;
  std::vector<float> locations;
};

struct LoaderOptions {
  int batch_size = 4;
  int workers = 2;     // 0: build batches on the caller's thread
  bool shuffle = true;
  bool augment = true; // TrainAugmentation, else TestTransform
  uint64_t seed = 0;
  int prefetch = 4;    // batches built ahead of the trainer
  NetworkInputSpec input;
  ShapeJitter jitter;  // with augment
  // Data-parallel training: this rank's shard of each epoch (see epoch_order).
  int rank = 0, world_size = 1;
  bool pad_shards = true;  // every rank the same image count (training); false: validation
};

// The images of one epoch for one rank, as PyTorch's DistributedSampler deals them: the
// whole set shuffled by (seed, epoch) alike on every rank, padded with its own first images
// to a multiple of world_size when `pad`, then every world_size-th from position `rank`.
// One rank gets the whole shuffled set, so a run's order does not depend on being sharded.
std::vector<size_t> epoch_order(size_t images, bool shuffle, uint64_t seed, int epoch, int rank, int world_size,
                                bool pad);

// Decodes, augments and matches images on worker threads, ahead of the consumer, and
// hands batches out in a fixed order. The result depends only on (seed, epoch, image),
// never on thread timing, so runs are reproducible with any worker count.
class DataLoader {
 public:
  DataLoader(const DetectionDataset& dataset, const PriorMatcher& matcher, LoaderOptions options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  size_t batches_per_epoch() const;
  size_t shard_size() const;  // this rank's images per epoch
  size_t images() const { return dataset_.images.size(); }
  // Starts producing the batches of `epoch` (its shuffle and augmentation seeds).
  void start_epoch(int epoch);
  // The next batch of the epoch; false once the epoch is done. Rethrows a worker's error.
  bool next(Batch& batch);

 private:
  void build(size_t batch_index, Batch& batch) const;
  void worker_loop();
  void stop_workers();

  const DetectionDataset& dataset_;
  const PriorMatcher& matcher_;
  LoaderOptions options_;
  TrainAugmentation augmentation_;

  std::vector<size_t> order_;
  int epoch_ = 0;
  size_t next_to_build_ = 0;
  size_t next_to_hand_out_ = 0;
  size_t generation_ = 0;
  std::map<size_t, Batch> ready_;
  std::exception_ptr error_;
  bool stopping_ = false;
  std::mutex mutex_;
  std::condition_variable work_cv_, ready_cv_;
  std::vector<std::thread> workers_;
};

}  // namespace edgessd
