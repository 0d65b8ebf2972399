#include "edgessd/train/optimizer_state.h"

#include <map>

#include <torch/torch.h>

#include <filesystem>

#include "edgessd/common/error.h"
#include "edgessd/common/logging.h"
#include "edgessd/train/run_files.h"
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

void save_adam_state(const torch::optim::Adam& adam, const std::string& path) {
  StateDict state;
  const auto& params = adam.param_groups().at(0).params();
  for (size_t i = 0; i < params.size(); ++i) {
    auto it = adam.state().find(state_key(params[i]));
    if (it == adam.state().end()) continue;
    const auto& s = static_cast<const torch::optim::AdamParamState&>(*it->second);
    const std::string k = std::to_string(i) + ".";
    state.emplace_back(k + "exp_avg", s.exp_avg().contiguous());
    state.emplace_back(k + "exp_avg_sq", s.exp_avg_sq().contiguous());
    state.emplace_back(k + "step", torch::tensor({static_cast<int64_t>(s.step())}, torch::kLong));
  }
  write_state_dict(path, state);
}

void load_adam_state(torch::optim::Adam& adam, const std::string& path) {
  std::map<std::string, at::Tensor> saved;
  for (auto& [key, t] : read_state_dict(path)) saved[key] = t;
  const auto& params = adam.param_groups().at(0).params();
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string k = std::to_string(i) + ".";
    if (!saved.count(k + "exp_avg")) continue;
    const at::Tensor &m = saved[k + "exp_avg"], &v = saved[k + "exp_avg_sq"], &step = saved[k + "step"];
    if (m.sizes() != params[i].sizes() || !v.defined() || v.sizes() != params[i].sizes() || !step.defined() ||
        step.numel() != 1 || m.scalar_type() != torch::kFloat || v.scalar_type() != torch::kFloat ||
        step.scalar_type() != torch::kLong)
      throw Error(path + ": '" + k + "*' does not fit the reader's parameter " + std::to_string(i));
    auto s = std::make_unique<torch::optim::AdamParamState>();
    s->exp_avg(m.clone());
    s->exp_avg_sq(v.clone());
    s->step(step.item<int64_t>());
    adam.state()[state_key(params[i])] = std::move(s);
  }
}

Sgd make_sgd(const TrainOptions& options, Ssd& net) {
  auto params_of = [](std::initializer_list<torch::nn::Module*> modules) {
    std::vector<torch::Tensor> out;
    for (auto* m : modules)
      for (auto& p : m->parameters()) out.push_back(p);
    return out;
  };
  auto freeze = [](torch::nn::Module& m) {
    for (auto& p : m.parameters()) p.set_requires_grad(false);
  };
  Sgd sgd;
  std::vector<torch::optim::OptimizerParamGroup> groups;
  auto add_group = [&](std::vector<torch::Tensor> params, double lr) {
    auto group_options = std::make_unique<torch::optim::SGDOptions>(lr);
    group_options->momentum(options.momentum).weight_decay(options.weight_decay);
    groups.emplace_back(std::move(params), std::move(group_options));
    sgd.base_lrs.push_back(lr);
  };
  auto heads = params_of({net->regression_headers.ptr().get(), net->classification_headers.ptr().get()});
  // As pytorch-ssd: the source add-ons (vgg16-ssd's BatchNorm) train with the extras.
  auto extras = params_of({net->source_layer_add_ons.ptr().get(), net->extras.ptr().get()});
  if (options.freeze_base_net) {
    log_info("Freeze base net.");
    freeze(*net->base_net);
    add_group(extras, options.extra_layers_lr.value_or(options.lr));
  } else if (options.freeze_net) {
    log_info("Freeze all the layers except prediction heads.");
    freeze(*net->base_net);
    freeze(*net->extras);
    freeze(*net->source_layer_add_ons);
  } else {
    add_group(params_of({net->base_net.ptr().get()}), options.base_net_lr.value_or(options.lr));
    add_group(extras, options.extra_layers_lr.value_or(options.lr));
  }
  add_group(heads, options.lr);
  sgd.optimizer = std::make_unique<torch::optim::SGD>(
      groups, torch::optim::SGDOptions(options.lr).momentum(options.momentum).weight_decay(options.weight_decay));
  if (!options.resume.empty()) {
    const std::string path = optimizer_path(options.resume);
    if (std::filesystem::exists(path)) {
      load_sgd_state(*sgd.optimizer, path);
      log_info("Restored optimizer state (momentum) from " + path);
    } else {
      log_warning(path + " not found: momentum starts from zero");
    }
  }
  return sgd;
}

void set_lr(torch::optim::SGD& optimizer, size_t group, double lr) {
  static_cast<torch::optim::SGDOptions&>(optimizer.param_groups()[group].options()).lr(lr);
}

}  // namespace edgessd
