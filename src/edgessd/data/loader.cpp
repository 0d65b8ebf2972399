#include "edgessd/data/loader.h"

#include <algorithm>
#include <numeric>

#include "edgessd/common/error.h"
#include "edgessd/common/image.h"

namespace edgessd {

DataLoader::DataLoader(const DetectionDataset& dataset, const PriorMatcher& matcher, LoaderOptions options)
    : dataset_(dataset), matcher_(matcher), options_(options), augmentation_(options.input, true, options.jitter) {
  if (options_.batch_size < 1) throw Error("--batch-size must be at least 1");
  if (dataset_.images.empty()) throw Error(dataset_.description + ": no images");
  for (int w = 0; w < options_.workers; ++w) workers_.emplace_back([this] { worker_loop(); });
}

DataLoader::~DataLoader() { stop_workers(); }

void DataLoader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (auto& w : workers_) w.join();
  workers_.clear();
}

std::vector<size_t> epoch_order(size_t images, bool shuffle, uint64_t seed, int epoch, int rank, int world_size,
                                bool pad) {
  if (world_size < 1 || rank < 0 || rank >= world_size) throw Error("rank " + std::to_string(rank) + " of " + std::to_string(world_size));
  std::vector<size_t> all(images);
  std::iota(all.begin(), all.end(), 0);
  if (shuffle) {
    Random random(mix_seed(seed, static_cast<uint64_t>(epoch), 0x5eed));
    edgessd::shuffle(all, random);
  }
  const size_t W = static_cast<size_t>(world_size);
  if (pad && images > 0)
    for (size_t i = 0; all.size() % W != 0; ++i) all.push_back(all[i % images]);
  std::vector<size_t> mine;
  for (size_t i = static_cast<size_t>(rank); i < all.size(); i += W) mine.push_back(all[i]);
  return mine;
}

size_t DataLoader::shard_size() const {
  const size_t n = dataset_.images.size(), W = static_cast<size_t>(options_.world_size);
  const size_t r = static_cast<size_t>(options_.rank);
  return options_.pad_shards ? (n + W - 1) / W : (n > r ? (n - r + W - 1) / W : 0);
}

size_t DataLoader::batches_per_epoch() const {
  return (shard_size() + options_.batch_size - 1) / options_.batch_size;
}

void DataLoader::start_epoch(int epoch) {
  std::lock_guard<std::mutex> lock(mutex_);
  epoch_ = epoch;
  order_ = epoch_order(dataset_.images.size(), options_.shuffle, options_.seed, epoch, options_.rank,
                       options_.world_size, options_.pad_shards);
  next_to_build_ = 0;
  next_to_hand_out_ = 0;
  ready_.clear();
  error_ = nullptr;
  ++generation_;
  work_cv_.notify_all();
}

void DataLoader::build(size_t batch_index, Batch& batch) const {
  const size_t first = batch_index * options_.batch_size;
  const size_t count = std::min<size_t>(options_.batch_size, order_.size() - first);
  const size_t pixels = 3 * static_cast<size_t>(options_.input.width) * options_.input.height;
  const size_t priors = matcher_.num_priors();
  batch.size = static_cast<int>(count);
  batch.images.resize(count * pixels);
  batch.labels.resize(count * priors);
  batch.locations.resize(count * priors * 4);
  AugmentedSample sample;
  for (size_t k = 0; k < count; ++k) {
    const size_t index = order_[first + k];
    const AnnotatedImage& item = dataset_.images[index];
    const cv::Mat rgb = read_rgb_image(item.image_path);
    if (options_.augment) {
      Random random(mix_seed(options_.seed, static_cast<uint64_t>(epoch_), index));
      augmentation_.apply(rgb, item.boxes, item.labels, random, sample);
    } else {
      test_transform(rgb, item.boxes, item.labels, options_.input, sample);
    }
    std::copy(sample.image.begin(), sample.image.end(), batch.images.begin() + k * pixels);
    PriorTargets targets = matcher_.match(sample.boxes, sample.labels);
    std::copy(targets.labels.begin(), targets.labels.end(), batch.labels.begin() + k * priors);
    const float* loc = reinterpret_cast<const float*>(targets.locations.data());
    std::copy(loc, loc + priors * 4, batch.locations.begin() + k * priors * 4);
  }
}

void DataLoader::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    work_cv_.wait(lock, [&] {
      return stopping_ || (next_to_build_ < batches_per_epoch() && !order_.empty() &&
                           next_to_build_ < next_to_hand_out_ + static_cast<size_t>(options_.prefetch));
    });
    if (stopping_) return;
    const size_t index = next_to_build_++;
    const size_t generation = generation_;
    lock.unlock();
    Batch batch;
    std::exception_ptr error;
    try {
      build(index, batch);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (generation != generation_) continue;  // a new epoch started meanwhile
    if (error && !error_) error_ = error;
    ready_.emplace(index, std::move(batch));
    ready_cv_.notify_all();
  }
}

bool DataLoader::next(Batch& batch) {
  if (next_to_hand_out_ >= batches_per_epoch()) return false;
  if (workers_.empty()) {
    build(next_to_hand_out_++, batch);
    return true;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  ready_cv_.wait(lock, [&] { return error_ || ready_.count(next_to_hand_out_); });
  if (error_) std::rethrow_exception(error_);
  batch = std::move(ready_[next_to_hand_out_]);
  ready_.erase(next_to_hand_out_);
  ++next_to_hand_out_;
  work_cv_.notify_all();
  return true;
}

}  // namespace edgessd
