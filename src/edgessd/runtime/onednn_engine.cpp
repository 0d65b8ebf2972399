// The oneDNN engine's graph walk and run-time plan; see onednn_engine.h for the design.
#include "edgessd/runtime/internal/onednn_engine.h"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>

#include "edgessd/common/error.h"
#include "edgessd/common/parallel.h"
#include "edgessd/runtime/internal/activation_arena.h"

namespace edgessd {

using dnnl::memory;

Value constant_value(const onnx::TensorProto& t, const std::string& what) {
  TensorData data = tensor_data(t, what);
  Value v;
  v.shape.assign(t.dims().begin(), t.dims().end());
  v.is_const = data.is_float;
  v.is_int = !data.is_float;
  v.floats = std::move(data.floats);
  v.ints = std::move(data.ints);
  return v;
}

OneDnnEngine::OneDnnEngine(const OnnxGraph& model, int threads, const Int8Calibration* int8, bool share_activations)
    : model_(model), engine_(dnnl::engine::kind::cpu, 0), stream_(engine_), int8_(int8 != nullptr),
      share_activations_(share_activations) {
  threads_ = resolve_threads(threads);
  omp_set_num_threads(threads_);
  if (int8) calibration_ = *int8;
  try {
    build();
  } catch (const dnnl::error& e) {
    throw Error(model_.path + ": oneDNN cannot run it: " + e.what());
  } catch (const std::out_of_range& e) {
    // An index the checks did not foresee (found by fuzzing): a malformed graph.
    throw Error(model_.path + ": malformed graph (an index out of range: " + e.what() + ")");
  } catch (const std::bad_alloc&) {
    throw Error(model_.path + ": the graph's tensors do not fit in memory");
  }
}

void OneDnnEngine::forward(const float* input, std::vector<Tensor>& outputs) {
  omp_set_num_threads(threads_);
  std::memcpy(input_->data(), input, input_->size() * sizeof(float));
  for (auto& step : steps_) step();
  stream_.wait();
  outputs.resize(outputs_.size());
  for (size_t i = 0; i < outputs_.size(); ++i) {
    outputs[i].name = model_.outputs[i];
    outputs[i].shape.assign(outputs_[i].shape.begin(), outputs_[i].shape.end());
    outputs[i].data.assign(outputs_[i].data->begin(), outputs_[i].data->end());
  }
}

void OneDnnEngine::build() {
  onnx::ModelProto proto;
  if (!proto.ParseFromString(*model_.bytes)) throw Error(model_.path + ": not an ONNX model (protobuf parse failed)");
  for (const auto& o : proto.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset_ = static_cast<int>(o.version());
  read_initializers(proto.graph());
  build_nodes(proto.graph());
  bind_outputs();
  place_arena();
  // The steps hold what they use; the planning state (weights as parsed, the file) goes.
  reorders_.clear();
  values_.clear();
  consumers_.clear();
  model_.bytes.reset();
}

void OneDnnEngine::read_initializers(const onnx::GraphProto& graph) {
  for (const auto& t : graph.initializer())
    values_[t.name()] = constant_value(t, model_.path + " initializer '" + t.name() + "'");
  Value input;
  input.shape = {model_.batch_size, 3, model_.input_height, model_.input_width};
  input.plain = std::make_shared<std::vector<float>>(numel(input.shape));
  input_ = input.plain;
  values_[model_.input_name] = input;
  for (const auto& node : graph.node())
    for (const auto& in : node.input()) ++consumers_[in];
  for (const auto& o : graph.output()) ++consumers_[o.name()];
}

void OneDnnEngine::build_nodes(const onnx::GraphProto& graph) {
  std::map<std::string, const onnx::NodeProto*> sole_consumer;
  for (const auto& node : graph.node())
    for (const auto& in : node.input())
      if (consumers_[in] == 1) sole_consumer[in] = &node;
  // The node that alone reads `name` as its first input, if it has type `a` or `b`.
  auto next = [&](const std::string& name, const char* a, const char* b) -> const onnx::NodeProto* {
    auto it = sole_consumer.find(name);
    if (it == sole_consumer.end() || it->second->input(0) != name) return nullptr;
    const std::string& op = it->second->op_type();
    return op == a || op == b ? it->second : nullptr;
  };
  std::set<const onnx::NodeProto*> absorbed;
  // Constants first: a fused Clip reads its bounds from Constant nodes (torch.onnx, opset
  // 11+) that the graph may list after the Conv the Clip is fused into.
  for (const auto& node : graph.node())
    if (node.op_type() == "Constant") {
      build_plain(node);
      absorbed.insert(&node);
    }
  for (const auto& node : graph.node()) {
    if (absorbed.count(&node)) continue;
    if (node.op_type() != "Conv") {
      build_plain(node);
      continue;
    }
    ConvFusion f{&node, nullptr, nullptr, node.output(0)};
    if ((f.batch_norm = next(f.output, "BatchNormalization", "BatchNormalization"))) {
      absorbed.insert(f.batch_norm);
      f.output = f.batch_norm->output(0);
    }
    if ((f.activation = next(f.output, "Relu", "Clip"))) {
      absorbed.insert(f.activation);
      f.output = f.activation->output(0);
    }
    build_conv(f);
  }
}

void OneDnnEngine::bind_outputs() {
  onnx::NodeProto none;
  for (const std::string& name : model_.outputs) {
    auto it = values_.find(name);
    if (it == values_.end()) throw Error(model_.path + ": no output '" + name + "'");
    none.set_name(name);
    outputs_.push_back({plain(it->second, none), it->second.shape});
  }
}

Value& OneDnnEngine::value(const std::string& name, const onnx::NodeProto& node) {
  auto it = values_.find(name);
  if (it == values_.end())
    throw Error(model_.path + ": node '" + node.name() + "' reads '" + name + "', which nothing produces");
  return it->second;
}

void OneDnnEngine::set_output(const onnx::NodeProto& node, int i, Value v) {
  v.producer = node.output(i);
  values_[node.output(i)] = std::move(v);
}

void OneDnnEngine::fail(const onnx::NodeProto& node, const std::string& why) const {
  throw Error(model_.path + ": node '" + node.name() + "' (" + node.op_type() + "): " + why);
}

// Run-time plain storage of a value (reordered out of a oneDNN layout when needed).
std::shared_ptr<std::vector<float>> OneDnnEngine::plain(Value& v, const onnx::NodeProto& node) {
  if (v.plain) return v.plain;
  if (v.is_const) {
    v.plain = std::make_shared<std::vector<float>>(v.floats);
    return v.plain;
  }
  if (!v.blocked) fail(node, "an input has no data");
  v.plain = std::make_shared<std::vector<float>>(numel(v.shape));
  const memory::dims dims(v.shape.begin(), v.shape.end());
  reorder_out(v, memory::desc(dims, memory::data_type::f32, memory::format_tag::abcd), v.plain->data());
  return v.plain;
}

// A step that reorders a convolution's output into `data`, laid out as `layout` says
// (int8 activations scaled back to float).
void OneDnnEngine::reorder_out(const Value& v, const memory::desc& layout, float* data) {
  auto src = v.blocked;
  auto dst = std::make_shared<memory>(layout, engine_, data);
  dnnl::primitive_attr attr;
  if (src->get_desc().data_type() != memory::data_type::f32)
    attr.set_output_scales(0, {1.0f / activation_scale(v.producer)});
  auto r = std::make_shared<dnnl::reorder>(dnnl::reorder::primitive_desc(*src, *dst, attr));
  add_step([this, r, src, dst] { r->execute(stream_, *src, *dst); }, {src});
}

float OneDnnEngine::activation_scale(const std::string& tensor) const {
  auto it = calibration_.scales.find(tensor);
  return it == calibration_.scales.end() ? 1.0f : it->second;
}

// A convolution output or a reordered input: memory placed in the shared arena at the
// end of build(), once every step that reads or writes it is known.
std::shared_ptr<memory> OneDnnEngine::activation(const memory::desc& desc) {
  auto m = std::make_shared<memory>(desc, engine_, static_cast<void*>(DNNL_MEMORY_NONE));
  activations_.push_back({m, SIZE_MAX, 0});
  return m;
}

// Appends a step and notes which activations it touches.
void OneDnnEngine::add_step(std::function<void()> step, std::initializer_list<std::shared_ptr<memory>> touched) {
  const size_t index = steps_.size();
  steps_.push_back(std::move(step));
  for (const auto& m : touched)
    for (auto& a : activations_)
      if (a.mem == m) a.first = std::min(a.first, index), a.last = std::max(a.last, index);
}

void OneDnnEngine::place_arena() {
  std::vector<ActivationLifetime> lifetimes;
  for (const auto& a : activations_) lifetimes.push_back({a.mem->get_desc().get_size(), a.first, a.last});
  const ArenaPlacement plan = place_activations(lifetimes, 64, share_activations_);
  arena_.reset(std::aligned_alloc(4096, std::max<size_t>(4096, (plan.total + 4095) / 4096 * 4096)), std::free);
  if (!arena_)
    throw Error(model_.path + ": cannot allocate " + std::to_string(plan.total >> 20) + " MB for activations");
  for (size_t i = 0; i < activations_.size(); ++i)
    activations_[i].mem->set_data_handle(static_cast<char*>(arena_.get()) + plan.offsets[i]);
  activations_.clear();
}

// A reorder of `from` into `desc` made for an earlier consumer, if any.
std::shared_ptr<memory> OneDnnEngine::reordered(const std::shared_ptr<memory>& from, const memory::desc& desc) {
  for (const auto& m : reorders_[from.get()])
    if (m->get_desc() == desc) return m;
  return nullptr;
}

std::unique_ptr<InferenceEngine> create_onednn_engine(const OnnxGraph& model, int threads) {
  const Int8Calibration* table = model.int8.scales.empty() ? nullptr : &model.int8;
  return std::make_unique<OneDnnEngine>(model, threads, table);
}

}  // namespace edgessd
