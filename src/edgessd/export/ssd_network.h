#pragma once
// The SSD nets as ONNX nodes, written from a state_dict: BatchNorm folded into the
// convolution before it, each head's map flattened as pytorch-ssd's permute + view.
#include <map>
#include <string>
#include <vector>

#include "edgessd/export/onnx_graph.h"
#include "edgessd/model/checkpoint.h"

namespace edgessd {

// A state_dict by key, float and contiguous; a missing key is an Error naming it and the net.
class SsdWeights {
 public:
  SsdWeights(const StateDict& state, const std::string& net);
  bool has(const std::string& key) const { return tensors_.count(key) > 0; }
  const at::Tensor& get(const std::string& key) const;
  std::vector<int64_t> dims(const std::string& key) const { return get(key).sizes().vec(); }
  std::vector<float> values(const std::string& key) const;

 private:
  std::map<std::string, at::Tensor> tensors_;
  std::string net_;
};

// input_0 (N, 3, H, W) -> "scores" (N, P, C) softmaxed and "locations" (N, P, 4), for
// any net known_net_names() lists.
void add_ssd_network(GraphBuilder& g, const SsdWeights& w, const std::string& net, int64_t batch, int64_t classes);

}  // namespace edgessd
