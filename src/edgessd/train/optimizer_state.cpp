#include "edgessd/train/optimizer_state.h"

#include <map>

#include "edgessd/common/error.h"
#include "edgessd/model/checkpoint.h"

namespace edgessd {

namespace {

std::string state_key(const at::Tensor& parameter) { return c10::guts::to_string(parameter.unsafeGetTensorImpl()); }

std::string buffer_key(size_t group, size_t index) {
  return std::to_string(group) + "." + std::to_string(index) + ".momentum_buffer";
}

}  // namespace

void save_sgd_state(const torch::optim::SGD& optimizer, const std::string& path) {
  StateDict state;
  const auto& groups = optimizer.param_groups();
  for (size_t g = 0; g < groups.size(); ++g)
    for (size_t i = 0; i < groups[g].params().size(); ++i) {
      auto it = optimizer.state().find(state_key(groups[g].params()[i]));
      if (it == optimizer.state().end()) continue;
      const auto& sgd = static_cast<const torch::optim::SGDParamState&>(*it->second);
      if (sgd.momentum_buffer().defined())
        state.emplace_back(buffer_key(g, i), sgd.momentum_buffer().detach().to(torch::kCPU).contiguous());
    }
  write_state_dict(path, state);
}

void load_sgd_state(torch::optim::SGD& optimizer, const std::string& path) {
  std::map<std::string, at::Tensor> buffers;
  for (auto& [key, tensor] : read_state_dict(path)) buffers[key] = tensor;
  auto& groups = optimizer.param_groups();
  for (size_t g = 0; g < groups.size(); ++g)
    for (size_t i = 0; i < groups[g].params().size(); ++i) {
      const std::string key = buffer_key(g, i);
      auto it = buffers.find(key);
      if (it == buffers.end()) continue;  // a parameter that had no step yet (frozen, unused)
      const at::Tensor& parameter = groups[g].params()[i];
      if (it->second.sizes() != parameter.sizes() || it->second.scalar_type() != parameter.scalar_type())
        throw Error(path + ": '" + key + "' does not fit its parameter (a different net, classes or --freeze-*?)");
      auto sgd = std::make_unique<torch::optim::SGDParamState>();
      sgd->momentum_buffer(it->second.to(parameter.device()).clone());
      optimizer.state()[state_key(parameter)] = std::move(sgd);
      buffers.erase(it);
    }
  if (!buffers.empty())
    throw Error(path + ": '" + buffers.begin()->first + "' has no parameter in this run (a different net or --freeze-*?)");
}

}  // namespace edgessd
