#pragma once
#include <ATen/core/Tensor.h>

namespace edgessd {

struct MultiboxLossValue {
  at::Tensor regression;      // smooth-L1 over positive priors / positive count
  at::Tensor classification;  // cross-entropy over positives and mined negatives / positive count
  int64_t num_positive = 0;
  // The two sums before the division: data-parallel ranks divide by the group's positives.
  at::Tensor regression_sum, classification_sum;
};

// pytorch-ssd's hard_negative_mining: per image, all positives plus the
// `neg_pos_ratio` x positives background priors with the highest background loss.
at::Tensor hard_negative_mining(const at::Tensor& background_loss, const at::Tensor& labels,
                                int64_t neg_pos_ratio);

// pytorch-ssd's MultiboxLoss. confidences (N, P, C) and locations (N, P, 4) are the net's
// raw outputs; labels (N, P) and gt_locations (N, P, 4) the matched targets.
// Unlike pytorch-ssd, a batch without any positive prior divides by 1, not 0, so one
// empty image cannot turn the loss into NaN.
class MultiboxLoss {
 public:
  explicit MultiboxLoss(int64_t neg_pos_ratio = 3) : neg_pos_ratio_(neg_pos_ratio) {}
  MultiboxLossValue operator()(const at::Tensor& confidences, const at::Tensor& locations,
                               const at::Tensor& labels, const at::Tensor& gt_locations) const;

 private:
  int64_t neg_pos_ratio_;
};

}  // namespace edgessd
