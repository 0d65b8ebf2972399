#pragma once
// BatchNorm2d whose training statistics can span every rank of a data-parallel group
// (PyTorch's SyncBatchNorm): the same parameters, buffers and state-dict names as
// nn::BatchNorm2d, so checkpoints do not change.
#include <torch/nn/cloneable.h>
#include <torch/nn/options/batchnorm.h>

#include <functional>
#include <memory>

namespace edgessd {

// Sums a tensor over every rank, in place.
using AllReduceSum = std::function<void(at::Tensor&)>;

// Its own module rather than a subclass: LibTorch does not export BatchNorm2d's base.
class SyncableBatchNorm2dImpl : public torch::nn::Cloneable<SyncableBatchNorm2dImpl> {
 public:
  explicit SyncableBatchNorm2dImpl(int64_t channels) : options(channels) { reset(); }
  void reset() override;
  // In training with a reducer: mean and variance over the whole group's batch, and a
  // backward that sums the gradient statistics over the group. Else nn::BatchNorm2d's.
  at::Tensor forward(const at::Tensor& x);

  torch::nn::BatchNormOptions options;  // eps 1e-5, momentum 0.1: nn.BatchNorm2d's
  at::Tensor weight, bias, running_mean, running_var, num_batches_tracked;
  std::shared_ptr<AllReduceSum> all_reduce;
};
TORCH_MODULE(SyncableBatchNorm2d);

// Every SyncableBatchNorm2d in `net` syncs through `all_reduce` (nullptr: each process alone).
void set_batch_norm_sync(torch::nn::Module& net, std::shared_ptr<AllReduceSum> all_reduce);

}  // namespace edgessd
