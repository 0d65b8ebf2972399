#pragma once
// Writing ONNX graphs by hand (the SSD and the plate reader exports): a GraphProto
// builder that names values as it goes.
#include <onnx/onnx_pb.h>

#include <cmath>
#include <string>
#include <vector>

namespace edgessd {

// Appends nodes and constants to one GraphProto, naming values as it goes.
class GraphBuilder {
 public:
  explicit GraphBuilder(onnx::GraphProto* graph) : graph_(graph) {}

  std::string constant(const std::string& name, const std::vector<int64_t>& dims, const std::vector<float>& values) {
    onnx::TensorProto* t = graph_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    t->set_raw_data(values.data(), values.size() * sizeof(float));
    return name;
  }

  std::string constant_int64(const std::string& name, const std::vector<int64_t>& values) {
    onnx::TensorProto* t = graph_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(values.size()));
    t->set_raw_data(values.data(), values.size() * sizeof(int64_t));
    return name;
  }

  onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& inputs, const std::string& output,
                        const std::string& name) {
    onnx::NodeProto* n = graph_->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& in : inputs) n->add_input(in);
    n->add_output(output);
    return n;
  }

  static void ints(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& values) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t v : values) a->add_ints(v);
  }
  static void int_attr(onnx::NodeProto* n, const std::string& name, int64_t value) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(value);
  }
  static void float_attr(onnx::NodeProto* n, const std::string& name, float value) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(value);
  }

 private:
  onnx::GraphProto* graph_;
};

inline void set_float_shape(onnx::ValueInfoProto* value, const std::string& name, const std::vector<int64_t>& dims) {
  value->set_name(name);
  auto* tensor = value->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) tensor->mutable_shape()->add_dim()->set_dim_value(d);
}

// BatchNorm folded into the convolution before it: W' = W*s and b' = beta - mean*s with
// s = gamma / sqrt(var + eps) per output channel. `weight` is changed in place; returns b'.
inline std::vector<float> fold_batch_norm(std::vector<float>& weight, const std::vector<float>& gamma,
                                          const std::vector<float>& beta, const std::vector<float>& mean,
                                          const std::vector<float>& var, double eps) {
  const size_t out = gamma.size(), per_channel = out ? weight.size() / out : 0;
  std::vector<float> bias(out);
  for (size_t c = 0; c < out; ++c) {
    const double s = gamma[c] / std::sqrt(static_cast<double>(var[c]) + eps);
    for (size_t k = 0; k < per_channel; ++k) weight[c * per_channel + k] = static_cast<float>(weight[c * per_channel + k] * s);
    bias[c] = static_cast<float>(beta[c] - mean[c] * s);
  }
  return bias;
}

// IR version, producer, doc string and kOnnxOpset: what every export starts with.
void write_model_header(onnx::ModelProto& model, const std::string& doc_string);
void add_metadata(onnx::ModelProto& model, const std::string& key, const std::string& value);

// onnx::checker and shape inference, then the model written atomically; an Error naming
// the file when a check fails.
void write_checked_onnx(onnx::ModelProto& model, const std::string& output_path);

}  // namespace edgessd
