#include "edgessd/model/sync_batch_norm.h"

#include <torch/torch.h>

namespace edgessd {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

at::Tensor per_channel(const at::Tensor& v) { return v.view({1, -1, 1, 1}); }

// y = (x - mean) * invstd * weight + bias with mean and invstd taken over the group; the
// backward's two per-channel sums are summed over the group too, as SyncBatchNorm does.
struct SyncBatchNormFunction : torch::autograd::Function<SyncBatchNormFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                            const at::Tensor& bias, const at::Tensor& mean, const at::Tensor& invstd,
                            double total, const AllReduceSum* all_reduce) {
    ctx->save_for_backward({x, weight, mean, invstd});
    ctx->saved_data["total"] = total;
    ctx->saved_data["all_reduce"] = static_cast<int64_t>(reinterpret_cast<intptr_t>(all_reduce));
    return (x - per_channel(mean)) * per_channel(invstd * weight) + per_channel(bias);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &weight = saved[1], &mean = saved[2], &invstd = saved[3];
    const double total = ctx->saved_data["total"].toDouble();
    const auto* all_reduce = reinterpret_cast<const AllReduceSum*>(static_cast<intptr_t>(ctx->saved_data["all_reduce"].toInt()));
    const at::Tensor dy = grad_outputs[0].to(x.scalar_type());
    const at::Tensor xhat = (x - per_channel(mean)) * per_channel(invstd);
    const at::Tensor sum_dy = dy.sum({0, 2, 3});
    const at::Tensor sum_dy_xhat = (dy * xhat).sum({0, 2, 3});
    at::Tensor global = torch::cat({sum_dy, sum_dy_xhat});
    (*all_reduce)(global);
    const auto C = x.size(1);
    const at::Tensor mean_dy = global.slice(0, 0, C) / total, mean_dy_xhat = global.slice(0, C) / total;
    const at::Tensor dx = (dy - per_channel(mean_dy) - xhat * per_channel(mean_dy_xhat)) * per_channel(weight * invstd);
    return {dx, sum_dy_xhat, sum_dy, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

void SyncableBatchNorm2dImpl::reset() {
  const int64_t C = options.num_features();
  weight = register_parameter("weight", torch::ones({C}));
  bias = register_parameter("bias", torch::zeros({C}));
  running_mean = register_buffer("running_mean", torch::zeros({C}));
  running_var = register_buffer("running_var", torch::ones({C}));
  num_batches_tracked = register_buffer("num_batches_tracked", torch::tensor(0, torch::kLong));
}

at::Tensor SyncableBatchNorm2dImpl::forward(const at::Tensor& input) {
  const double momentum = options.momentum().value_or(0.1);
  if (!is_training() || !all_reduce || !*all_reduce) {
    if (is_training()) num_batches_tracked.add_(1);
    return torch::batch_norm(input, weight, bias, running_mean, running_var, is_training(), momentum, options.eps(),
                             at::globalContext().userEnabledCuDNN());
  }
  const bool reduced = input.scalar_type() == torch::kBFloat16 || input.scalar_type() == torch::kHalf;
  const at::Tensor x = reduced ? input.to(torch::kFloat32) : input;  // statistics in fp32 under bf16 autocast
  at::Tensor stats;
  {
    torch::NoGradGuard no_grad;
    const double count = static_cast<double>(x.numel() / x.size(1));
    stats = torch::cat({x.sum({0, 2, 3}), torch::full({1}, count, x.options())});
    (*all_reduce)(stats);
  }
  const auto C = x.size(1);
  const double total = stats[C].item<double>();
  at::Tensor mean = stats.slice(0, 0, C) / total;
  at::Tensor var;
  {
    torch::NoGradGuard no_grad;
    var = (x - per_channel(mean)).square().sum({0, 2, 3});
    (*all_reduce)(var);
    var /= total;
    running_mean.mul_(1 - momentum).add_(mean, momentum);
    running_var.mul_(1 - momentum).add_(var * (total / std::max(total - 1, 1.0)), momentum);
    num_batches_tracked.add_(1);
  }
  const at::Tensor invstd = (var + options.eps()).rsqrt();
  return SyncBatchNormFunction::apply(x, weight, bias, mean, invstd, total, all_reduce.get())
      .to(input.scalar_type());
}

void set_batch_norm_sync(torch::nn::Module& net, std::shared_ptr<AllReduceSum> all_reduce) {
  for (const auto& m : net.modules())
    if (auto* bn = dynamic_cast<SyncableBatchNorm2dImpl*>(m.get())) bn->all_reduce = all_reduce;
}

}  // namespace edgessd
