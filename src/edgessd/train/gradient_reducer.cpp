#include "edgessd/train/gradient_reducer.h"

#include <torch/torch.h>

#include <chrono>

namespace edgessd {

GradientReducer::GradientReducer(ProcessGroup& group, const std::vector<at::Tensor>& parameters, size_t bucket_bytes)
    : group_(group), parameters_(parameters), where_(parameters.size()) {
  Bucket bucket;
  int64_t elements = 0;
  auto close = [&] {
    if (bucket.members.empty()) return;
    bucket.flat = torch::zeros({elements}, parameters_[bucket.members[0]].options().dtype(torch::kFloat32));
    bucket.filled.assign(bucket.members.size(), false);
    buckets_.push_back(std::move(bucket));
    bucket = Bucket();
    elements = 0;
  };
  for (size_t i = parameters_.size(); i-- > 0;) {
    where_[i] = {buckets_.size(), bucket.members.size()};
    bucket.members.push_back(i);
    bucket.offsets.push_back(elements);
    elements += parameters_[i].numel();
    if (elements * 4 >= static_cast<int64_t>(bucket_bytes)) close();
  }
  close();
  for (size_t i = 0; i < parameters_.size(); ++i)
    parameters_[i].register_hook([this, i](const at::Tensor& grad) {
      on_gradient(i, grad);
      return grad;
    });
}

void GradientReducer::on_gradient(size_t param, const at::Tensor& grad) {
  auto [b, m] = where_[param];
  Bucket& bucket = buckets_[b];
  if (bucket.pending || bucket.filled[m]) return;  // not twice a step
  bucket.flat.narrow(0, bucket.offsets[m], grad.numel()).copy_(grad.reshape(-1));
  bucket.filled[m] = true;
  if (++bucket.ready == bucket.members.size()) bucket.pending = group_.all_reduce_sum_async(bucket.flat);
}

double GradientReducer::finish() {
  const auto start = std::chrono::steady_clock::now();
  const double scale = 1.0 / group_.size();
  for (Bucket& bucket : buckets_) {
    if (!bucket.pending) {
      for (size_t m = 0; m < bucket.members.size(); ++m)
        if (!bucket.filled[m])
          bucket.flat.narrow(0, bucket.offsets[m], parameters_[bucket.members[m]].numel()).zero_();
      bucket.pending = group_.all_reduce_sum_async(bucket.flat);
    }
    group_.wait(*bucket.pending);
    for (size_t m = 0; m < bucket.members.size(); ++m) {
      at::Tensor& p = parameters_[bucket.members[m]];
      const at::Tensor mean = bucket.flat.narrow(0, bucket.offsets[m], p.numel()).view(p.sizes()) * scale;
      if (p.grad().defined()) p.mutable_grad().copy_(mean);
      else p.mutable_grad() = mean.clone().to(p.options());
    }
    bucket.pending.reset();
    bucket.ready = 0;
    bucket.filled.assign(bucket.members.size(), false);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace edgessd
