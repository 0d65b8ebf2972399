#include "edgessd/model/faceapi_import.h"
#include "edgessd/model/sync_batch_norm.h"

#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/image.h"
#include "edgessd/common/logging.h"
#include "edgessd/model/checkpoint.h"
#include "edgessd/common/model_info.h"

namespace edgessd {

namespace nn = torch::nn;

std::vector<TfjsWeight> read_tfjs_weights(const std::string& manifest_path) {
  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(read_file(manifest_path));
  } catch (const nlohmann::json::exception& e) {
    throw Error(manifest_path + ": not a TF.js weights manifest (" + e.what() + ")");
  }
  if (!manifest.is_array()) throw Error(manifest_path + ": not a TF.js weights manifest (expected a list of groups)");
  const std::string dir = std::filesystem::path(manifest_path).parent_path().string();
  std::vector<TfjsWeight> weights;
  try {
    for (const auto& group : manifest) {
      std::string buffer;
      for (const auto& shard : group.at("paths")) buffer += read_file(join_path(dir, shard.get<std::string>()));
      size_t pos = 0;
      for (const auto& w : group.at("weights")) {
        TfjsWeight weight;
        weight.name = w.at("name").get<std::string>();
        weight.shape = w.at("shape").get<std::vector<int64_t>>();
        size_t numel = 1;
        for (int64_t d : weight.shape) {
          if (d < 0 || d > (1 << 24)) throw Error("weight " + weight.name + " has a bad shape");
          numel *= static_cast<size_t>(d);
        }
        const std::string dtype = w.at("dtype").get<std::string>();
        std::string stored = dtype;
        double scale = 1, min = 0;
        if (w.contains("quantization")) {
          const auto& q = w["quantization"];
          stored = q.at("dtype").get<std::string>();
          scale = q.value("scale", 1.0);
          min = q.value("min", 0.0);
        }
        const size_t elem = stored == "uint8" ? 1 : stored == "uint16" ? 2 : 4;
        if (stored != "uint8" && stored != "uint16" && stored != "float32" && stored != "int32")
          throw Error("weight " + weight.name + " is stored as unsupported " + stored);
        if (numel > (buffer.size() - pos) / elem)
          throw Error("weight " + weight.name + " runs past the end of the weight files");
        const auto* p = reinterpret_cast<const uint8_t*>(buffer.data() + pos);
        weight.values.resize(numel);
        for (size_t k = 0; k < numel; ++k) {
          if (stored == "uint8") {
            weight.values[k] = static_cast<float>(p[k] * scale + min);
          } else if (stored == "uint16") {
            weight.values[k] = static_cast<float>((p[2 * k] | (p[2 * k + 1] << 8)) * scale + min);
          } else if (stored == "float32") {
            std::memcpy(&weight.values[k], p + 4 * k, 4);
          } else {
            int32_t v;
            std::memcpy(&v, p + 4 * k, 4);
            weight.values[k] = static_cast<float>(v);
          }
        }
        pos += numel * elem;
        weights.push_back(std::move(weight));
      }
    }
  } catch (const Error& e) {
    throw Error(manifest_path + ": " + e.what());
  } catch (const nlohmann::json::exception& e) {
    throw Error(manifest_path + ": bad TF.js weights manifest (" + e.what() + ")");
  }
  return weights;
}

at::Tensor load_calibration_batch(const std::vector<std::string>& paths) {
  const int size = 300;
  auto batch = torch::empty({static_cast<int64_t>(paths.size()), 3, size, size});
  for (size_t i = 0; i < paths.size(); ++i)
    to_network_input(read_rgb_image(paths[i]), size, size, {127.0f, 127.0f, 127.0f}, 128.0f, batch[i].data_ptr<float>());
  return batch;
}

namespace {

// The per-channel affine map y = a*x + b that TF applies after a convolution.
struct Affine {
  at::Tensor a, b;
};

class FaceApiWeights {
 public:
  FaceApiWeights(std::vector<TfjsWeight> weights, std::string what) : what_(std::move(what)) {
    for (auto& w : weights) by_name_[w.name] = std::move(w);
  }
  at::Tensor get(const std::string& name, const std::vector<int64_t>& shape) {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) throw Error(what_ + ": weight " + name + " is missing");
    if (it->second.shape != shape) throw Error(what_ + ": weight " + name + " has an unexpected shape");
    ++used_;
    return torch::from_blob(it->second.values.data(), shape, torch::kFloat32).clone();
  }
  // TF conv kernels are HWIO, PyTorch's OIHW.
  at::Tensor conv(const std::string& name, int64_t k, int64_t in, int64_t out) {
    return get(name, {k, k, in, out}).permute({3, 2, 0, 1}).contiguous();
  }
  // TF depthwise kernels are HWC1, PyTorch's C1HW.
  at::Tensor depthwise(const std::string& name, int64_t channels) {
    return get(name, {3, 3, channels, 1}).permute({2, 3, 0, 1}).contiguous();
  }
  int used() const { return used_; }

 private:
  std::map<std::string, TfjsWeight> by_name_;
  std::string what_;
  int used_ = 0;
};

// Sets `bn` so that eval mode computes `affine` on its input, with running statistics
// measured on `input` (the calibration batch's pre-BN activations).
void recalibrate(SyncableBatchNorm2dImpl& bn, const Affine& affine, const at::Tensor& input) {
  auto [var, mean] = torch::var_mean(input, {0, 2, 3}, /*unbiased=*/false);
  const double eps = bn.options.eps();
  bn.running_mean.copy_(mean);
  bn.running_var.copy_(var);
  bn.weight.copy_(affine.a * torch::sqrt(var + eps));
  bn.bias.copy_(affine.b + affine.a * mean);
}

using BlockAffines = std::vector<std::vector<std::pair<nn::Conv2dImpl*, Affine>>>;

nn::SequentialImpl* base_block(Ssd& net, int l) { return net->base_net[l]->as<nn::Sequential>(); }
nn::Conv2dImpl* conv_at(Ssd& net, int l, int i) { return (*base_block(net, l))[i]->as<nn::Conv2d>(); }
SyncableBatchNorm2dImpl* bn_at(Ssd& net, int l, int i) { return (*base_block(net, l))[i]->as<SyncableBatchNorm2d>(); }

// The base net's convolutions from MobilenetV1/*, and for each block the (conv, affine)
// pairs of its folded BatchNorms in order. With `folded_only`, the depthwise layers' BN
// (kept unfolded in the TF.js file) is set from its own statistics.
BlockAffines load_base_net(FaceApiWeights& w, Ssd& net, bool folded_only) {
  const float tf_eps = 0.001f;  // TF's BatchNorm epsilon in MobilenetV1
  BlockAffines blocks(kBaseNetLayers);
  auto pointwise = [&](const std::string& prefix, int64_t k, int64_t in, int64_t out, nn::Conv2dImpl* conv) {
    conv->weight.copy_(w.conv(prefix + "/weights", k, in, out));
    return Affine{torch::ones({out}), w.get(prefix + "/convolution_bn_offset", {out})};
  };
  blocks[0].push_back({conv_at(net, 0, 0), pointwise("MobilenetV1/Conv2d_0_pointwise", 3, 3, 32, conv_at(net, 0, 0))});
  const int64_t channels[14] = {32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024};
  for (int l = 1; l < kBaseNetLayers; ++l) {
    const int64_t in = channels[l - 1], out = channels[l];
    const std::string dw = "MobilenetV1/Conv2d_" + std::to_string(l) + "_depthwise";
    conv_at(net, l, 0)->weight.copy_(w.depthwise(dw + "/depthwise_weights", in));
    auto gamma = w.get(dw + "/BatchNorm/gamma", {in});
    auto beta = w.get(dw + "/BatchNorm/beta", {in});
    auto mean = w.get(dw + "/BatchNorm/moving_mean", {in});
    auto var = w.get(dw + "/BatchNorm/moving_variance", {in});
    auto a = gamma / torch::sqrt(var + tf_eps);
    blocks[l].push_back({conv_at(net, l, 0), Affine{a, beta - a * mean}});
    if (folded_only) {
      auto* bn = bn_at(net, l, 1);
      bn->weight.copy_(gamma);
      bn->bias.copy_(beta);
      bn->running_mean.copy_(mean);
      // TF normalises with eps 1e-3, PyTorch with 1e-5: the same function in eval mode.
      bn->running_var.copy_(torch::clamp_min(var + tf_eps - bn->options.eps(), 0));
    }
    blocks[l].push_back({conv_at(net, l, 3), pointwise("MobilenetV1/Conv2d_" + std::to_string(l) + "_pointwise",
                                                       1, in, out, conv_at(net, l, 3))});
  }
  return blocks;
}

// Prediction/Conv2d_0..5_pointwise into extras 0-2: conv + bias (the folded BN offset).
void load_extras(FaceApiWeights& w, Ssd& net) {
  const int64_t extra_shapes[3][3] = {{1024, 256, 512}, {512, 128, 256}, {256, 128, 256}};
  for (int e = 0; e < 3; ++e) {
    auto extra = net->extras[e]->as<nn::Sequential>();
    for (int half = 0; half < 2; ++half) {
      const std::string prefix = "Prediction/Conv2d_" + std::to_string(2 * e + half) + "_pointwise";
      const int64_t in = extra_shapes[e][half], out = extra_shapes[e][half + 1], k = half == 0 ? 1 : 3;
      auto* conv = (*extra)[half * 2]->as<nn::Conv2d>();
      conv->weight.copy_(w.conv(prefix + "/weights", k, in, out));
      conv->bias.copy_(w.get(prefix + "/convolution_bn_offset", {out}));
    }
  }
}

// Every base-net BN set to compute its folded affine in eval mode: with statistics
// re-estimated on the calibration images, or (without re-estimation) unit variance.
// Returns how many were re-estimated.
int set_batch_norms(Ssd& net, BlockAffines& blocks, const FaceApiImportOptions& options) {
  net->eval();
  if (!options.reestimate_bn) {
    for (int l = 0; l < kBaseNetLayers; ++l)
      for (size_t i = 0; i < blocks[l].size(); ++i) {
        auto* bn = bn_at(net, l, static_cast<int>(3 * i + 1));
        bn->weight.copy_(blocks[l][i].second.a * std::sqrt(1.0 + bn->options.eps()));
        bn->bias.copy_(blocks[l][i].second.b);
      }
    return 0;
  }
  int recalibrated = 0;
  at::Tensor x = load_calibration_batch(options.calibration_images);
  for (int l = 0; l < kBaseNetLayers; ++l) {
    for (size_t i = 0; i < blocks[l].size(); ++i) {
      auto& [conv, affine] = blocks[l][i];
      at::Tensor z = conv->forward(x);
      auto* bn = bn_at(net, l, static_cast<int>(3 * i + 1));
      const bool depthwise = l > 0 && i == 0;
      if (!(depthwise && options.folded_only)) {
        recalibrate(*bn, affine, z);
        ++recalibrated;
      }
      x = torch::clamp(bn->forward(z), 0, 6);
    }
  }
  return recalibrated;
}

}  // namespace

std::string face_api_manifest_path(const std::string& model_dir) {
  if (!std::filesystem::is_directory(model_dir))
    throw Error("--input " + model_dir + ": not a folder (face-api's model folder holds "
                "ssd_mobilenetv1_model-weights_manifest.json)");
  const std::string manifest = join_path(model_dir, "ssd_mobilenetv1_model-weights_manifest.json");
  if (!std::filesystem::exists(manifest)) throw Error(manifest + ": not found (is --input the face-api model folder?)");
  return manifest;
}

FaceApiImportReport import_face_api_checkpoint(const FaceApiImportOptions& options, const std::string& output) {
  FaceApiImportReport report;
  Ssd net = import_face_api(options, &report);
  ModelInfo info;
  info.net = net_kind_name(net->kind());
  info.class_names = {"BACKGROUND", "object"};
  info.source = std::string("face-api ssd_mobilenetv1 (base net and extras 0-2 imported, ") +
                (options.folded_only ? "folded" : "all") + " BN re-estimated on " +
                std::to_string(report.calibration_images) + " images; extras 3 and heads freshly initialised)";
  write_state_dict(output, state_dict_of(*net));
  save_model_info(output, info);
  return report;
}

Ssd import_face_api(const FaceApiImportOptions& options, FaceApiImportReport* report) {
  const std::string manifest = face_api_manifest_path(options.model_dir);
  if (options.calibration_images.empty() && options.reestimate_bn)
    throw Error("face-api import needs calibration images to re-estimate its folded BatchNorm statistics");
  FaceApiWeights w(read_tfjs_weights(manifest), manifest);

  // Layers without face-api weights (extras.3, the heads) keep PyTorch's default init,
  // as a net built by create_mobilenetv1_ssd() has them before it loads weights.
  torch::manual_seed(options.seed);
  Ssd net(NetKind::Mb1SsdRelu6, options.num_classes);

  torch::NoGradGuard no_grad;
  BlockAffines blocks = load_base_net(w, net, options.folded_only);
  load_extras(w, net);
  const int recalibrated = set_batch_norms(net, blocks, options);
  if (report) {
    report->imported_tensors = w.used();
    report->calibration_images = static_cast<int>(options.calibration_images.size());
    report->recalibrated_bn_layers = recalibrated;
  }
  return net;
}

}  // namespace edgessd
