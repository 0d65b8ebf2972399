#pragma once
// An exponential moving average of a net's weights (train --ema; Ultralytics' ModelEMA):
// after every optimiser step, avg = d * avg + (1 - d) * w over the floating-point
// parameters and buffers (BatchNorm statistics too), with d ramped up from 0 as
// decay * (1 - exp(-updates / ramp)) so that the first, poor weights fade out quickly.
// Validation and checkpoints then use the average: it moves less from epoch to epoch
// than weights still under a large learning rate.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace edgessd {

class WeightAverage {
 public:
  // `net`'s tensors are followed (not copied) from now on; ramp: 0.2 / (1 - decay) steps,
  // Ultralytics' ratio (0.9999 and 2000).
  WeightAverage(torch::nn::Module& net, double decay);
  void update();  // after each optimiser step
  // Exchanges the averaged and the live weights (call again to exchange them back).
  void swap();
  double current_decay() const;

 private:
  std::vector<torch::Tensor> live_, average_;
  double decay_;
  int64_t updates_ = 0;
};

// The average in the net for this guard's lifetime (nothing when `average` is null).
class AveragedWeights {
 public:
  explicit AveragedWeights(WeightAverage* average) : average_(average) { if (average_) average_->swap(); }
  ~AveragedWeights() { if (average_) average_->swap(); }
  AveragedWeights(const AveragedWeights&) = delete;
  AveragedWeights& operator=(const AveragedWeights&) = delete;

 private:
  WeightAverage* average_;
};

}  // namespace edgessd
