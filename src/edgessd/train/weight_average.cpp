#include "edgessd/train/weight_average.h"

#include <cmath>

namespace edgessd {

WeightAverage::WeightAverage(torch::nn::Module& net, double decay) : decay_(decay) {
  torch::NoGradGuard no_grad;
  for (const auto& p : net.parameters()) live_.push_back(p);
  for (const auto& b : net.buffers())
    if (b.is_floating_point()) live_.push_back(b);  // not num_batches_tracked
  for (const auto& t : live_) average_.push_back(t.detach().clone());
}

double WeightAverage::current_decay() const {
  const double ramp = 0.2 / (1 - decay_);
  return decay_ * (1 - std::exp(-static_cast<double>(updates_) / ramp));
}

void WeightAverage::update() {
  torch::NoGradGuard no_grad;
  ++updates_;
  const double d = current_decay();
  for (size_t i = 0; i < live_.size(); ++i) average_[i].mul_(d).add_(live_[i].detach(), 1 - d);
}

void WeightAverage::swap() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < live_.size(); ++i) {
    torch::Tensor held = live_[i].detach().clone();
    live_[i].detach().copy_(average_[i]);
    average_[i] = held;
  }
}

}  // namespace edgessd
