#pragma once
// DistributedDataParallel's gradient averaging: parameters in buckets of about
// kBucketBytes (in reverse order, the order backward produces them), each bucket's
// all-reduce started from a gradient hook as soon as its last gradient is in, so the
// communication overlaps the rest of backward.
#include <ATen/core/Tensor.h>

#include <memory>
#include <vector>

#include "edgessd/train/distributed.h"

namespace edgessd {

class GradientReducer {
 public:
  static constexpr size_t kBucketBytes = 4 << 20;
  // `parameters`: those the optimizer updates (requires_grad), the same list on every rank;
  // a bucket closes once it holds `bucket_bytes` of float32 gradients.
  GradientReducer(ProcessGroup& group, const std::vector<at::Tensor>& parameters, size_t bucket_bytes = kBucketBytes);
  size_t bucket_count() const { return buckets_.size(); }
  // After backward: waits for every bucket and writes the group's mean gradient into each
  // parameter's .grad. A bucket whose hooks did not all fire is reduced here (zeros for the
  // missing gradients), the same on every rank, so no rank waits for a sum never started.
  // Returns the seconds spent here: the communication backward did not hide.
  double finish();

 private:
  struct Bucket {
    at::Tensor flat;
    std::vector<size_t> members;   // parameter indices
    std::vector<int64_t> offsets;  // into flat
    std::vector<bool> filled;
    size_t ready = 0;
    std::shared_ptr<ProcessGroup::Pending> pending;
  };
  void on_gradient(size_t param, const at::Tensor& grad);

  ProcessGroup& group_;
  std::vector<at::Tensor> parameters_;
  std::vector<Bucket> buckets_;
  std::vector<std::pair<size_t, size_t>> where_;  // parameter -> (bucket, member)
};

}  // namespace edgessd
