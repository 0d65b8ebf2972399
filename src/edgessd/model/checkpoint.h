#pragma once
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

namespace edgessd {

// A state_dict in key order, as Python's OrderedDict holds it.
using StateDict = std::vector<std::pair<std::string, at::Tensor>>;

// Reads a .pth written by torch.save(state_dict): the zip format (PyTorch >= 1.6) or the
// legacy format of older releases (pytorch-ssd's published checkpoints). Tensors come back
// contiguous, on the CPU, in the file's dtypes. Any malformed input is an Error naming
// the file; nothing in the file is executed.
StateDict read_state_dict(const std::string& path);
StateDict read_state_dict_from_memory(const void* data, size_t size, const std::string& what);

// Writes the zip format torch.save writes, atomically (temporary file, then rename).
void write_state_dict(const std::string& path, const StateDict& state);
std::string state_dict_to_bytes(const StateDict& state);

// A module's parameters and buffers in Python's state_dict order (each module's own
// parameters, then its buffers, then its children, depth first).
StateDict state_dict_of(const torch::nn::Module& module);

// The three ways pytorch-ssd starts from a file.
enum class LoadMode {
  Everything,    // --resume and plain loading: every key must match
  AllButHeads,   // --pretrained-ssd: classification/regression headers keep their init
  BaseNetOnly,   // --base-net: only base_net.*, from an SSD or a bare MobileNet file
};

// Copies `state` into `module`. Every key the mode covers must be present with the right
// shape; otherwise one Error lists the missing, unexpected and mis-shaped keys.
void load_state_dict(torch::nn::Module& module, const StateDict& state, LoadMode mode,
                     const std::string& what);

}  // namespace edgessd
