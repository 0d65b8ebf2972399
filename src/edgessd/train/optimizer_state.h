#pragma once
#include <string>

#include <torch/optim/sgd.h>

namespace edgessd {

// SGD's state (each parameter's momentum buffer) as a .pth state_dict, keys
// "<group>.<index>.momentum_buffer", written and read by our own checkpoint code, so a
// resumed run never hands a file to torch::load (which trusts its input). A file that does
// not fit the optimizer's groups and shapes is an Error naming it.
void save_sgd_state(const torch::optim::SGD& optimizer, const std::string& path);
void load_sgd_state(torch::optim::SGD& optimizer, const std::string& path);

}  // namespace edgessd
