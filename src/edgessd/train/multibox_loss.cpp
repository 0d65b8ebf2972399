#include "edgessd/train/multibox_loss.h"

#include <torch/torch.h>

#include <limits>

namespace edgessd {

at::Tensor hard_negative_mining(const at::Tensor& background_loss, const at::Tensor& labels,
                                int64_t neg_pos_ratio) {
  auto pos_mask = labels > 0;
  auto num_pos = pos_mask.to(torch::kLong).sum(1, /*keepdim=*/true);
  auto num_neg = num_pos * neg_pos_ratio;
  auto loss = background_loss.masked_fill(pos_mask, -std::numeric_limits<float>::infinity());
  auto indexes = std::get<1>(loss.sort(1, /*descending=*/true));
  auto orders = std::get<1>(indexes.sort(1));
  return pos_mask | (orders < num_neg);
}

MultiboxLossValue MultiboxLoss::operator()(const at::Tensor& confidences, const at::Tensor& locations,
                                           const at::Tensor& labels, const at::Tensor& gt_locations) const {
  const int64_t num_classes = confidences.size(2);
  at::Tensor mask;
  {
    torch::NoGradGuard no_grad;
    auto background_loss = -torch::log_softmax(confidences, 2).select(2, 0);
    mask = hard_negative_mining(background_loss, labels, neg_pos_ratio_);
  }
  auto selected = confidences.index({mask}).reshape({-1, num_classes});
  auto classification = torch::nn::functional::cross_entropy(
      selected, labels.index({mask}),
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
  auto pos_mask = labels > 0;
  auto predicted = locations.index({pos_mask}).reshape({-1, 4});
  auto target = gt_locations.index({pos_mask}).reshape({-1, 4});
  auto regression = torch::nn::functional::smooth_l1_loss(
      predicted, target, torch::nn::functional::SmoothL1LossFuncOptions().reduction(torch::kSum));
  MultiboxLossValue value;
  value.num_positive = target.size(0);
  value.regression_sum = regression;
  value.classification_sum = classification;
  const double divisor = std::max<int64_t>(value.num_positive, 1);
  value.regression = regression / divisor;
  value.classification = classification / divisor;
  return value;
}

}  // namespace edgessd
