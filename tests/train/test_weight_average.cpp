// --ema's average of the weights: the ramped decay, parameters and BatchNorm statistics
// averaged (the step counter not), and the exchange in and out of the net.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "edgessd/train/weight_average.h"

using namespace edgessd;

TEST(WeightAverage, AveragesParametersAndStatisticsWithARampedDecay) {
  torch::nn::Sequential net(torch::nn::Linear(2, 1), torch::nn::BatchNorm1d(1));
  torch::NoGradGuard no_grad;
  auto weight = net->parameters()[0];
  auto mean = net->buffers()[0];  // BatchNorm's running mean
  weight.fill_(1), mean.fill_(10);
  WeightAverage average(*net, 0.9);  // ramp 0.2 / 0.1 = 2 steps
  EXPECT_DOUBLE_EQ(average.current_decay(), 0.0);
  weight.fill_(3), mean.fill_(20);
  average.update();
  const double d1 = 0.9 * (1 - std::exp(-0.5));
  EXPECT_NEAR(average.current_decay(), d1, 1e-12);
  weight.fill_(5), mean.fill_(40);
  average.update();
  const double d2 = 0.9 * (1 - std::exp(-1.0));
  const double w = d2 * (d1 * 1 + (1 - d1) * 3) + (1 - d2) * 5, m = d2 * (d1 * 10 + (1 - d1) * 20) + (1 - d2) * 40;
  {
    const AveragedWeights in(&average);
    EXPECT_NEAR(weight[0][0].item<double>(), w, 1e-5);
    EXPECT_NEAR(mean[0].item<double>(), m, 1e-4);
  }
  EXPECT_EQ(weight[0][1].item<float>(), 5.0f) << "the live weights are back";
  EXPECT_EQ(mean[0].item<float>(), 40.0f);
  { const AveragedWeights none(nullptr); }
  EXPECT_EQ(weight[0][0].item<float>(), 5.0f);
  // Far into a run the decay is the given one.
  for (int i = 0; i < 100; ++i) average.update();
  EXPECT_NEAR(average.current_decay(), 0.9, 1e-9);
}
