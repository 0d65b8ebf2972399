#pragma once
#include <string>

#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>

#include <memory>
#include <vector>

#include "edgessd/model/ssd.h"
#include "edgessd/train/trainer.h"

namespace edgessd {

// SGD's state (each parameter's momentum buffer) as a .pth state_dict, keys
// "<group>.<index>.momentum_buffer", written and read by our own checkpoint code, so a
// resumed run never hands a file to torch::load (which trusts its input). A file that does
// not fit the optimizer's groups and shapes is an Error naming it.
void save_sgd_state(const torch::optim::SGD& optimizer, const std::string& path);
void load_sgd_state(torch::optim::SGD& optimizer, const std::string& path);
// Adam's (the plate reader's) the same way: "<index>.exp_avg", ".exp_avg_sq", ".step" of
// the first parameter group.
void save_adam_state(const torch::optim::Adam& adam, const std::string& path);
void load_adam_state(torch::optim::Adam& adam, const std::string& path);

// pytorch-ssd's SGD parameter groups (base net, extras, heads; frozen parts left out),
// each with its base learning rate; momentum restored from --resume's optimizer state.
struct Sgd {
  std::unique_ptr<torch::optim::SGD> optimizer;
  std::vector<double> base_lrs;
};
Sgd make_sgd(const TrainOptions& options, Ssd& net);
void set_lr(torch::optim::SGD& optimizer, size_t group, double lr);

}  // namespace edgessd
