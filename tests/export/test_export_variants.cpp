// Every net, and the ones beyond pytorch-ssd's: the stride-8 head, other input sizes,
// fitted priors.
// LibTorch's test-mode outputs equal the exported ONNX in every engine, and the priors
// the model JSON records come back from the ONNX.
#include <onnx/onnx_pb.h>
#include <torch/torch.h>

#include <fstream>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/export/onnx_export.h"
#include "edgessd/model/checkpoint.h"
#include "edgessd/model/ssd.h"
#include "edgessd/model/sync_batch_norm.h"
#include "edgessd/runtime/engine.h"
#include "edgessd/deploy/detector_model.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;

namespace {

// A net with random weights and BatchNorm statistics (so folding them is exercised).
Ssd random_net(const ModelInfo& info) {
  torch::manual_seed(11);
  Ssd net(info);
  net->init_weights();
  torch::NoGradGuard no_grad;
  for (auto& module : net->modules(false))
    if (auto* bn = module->as<SyncableBatchNorm2d>()) {
      bn->running_mean.uniform_(-0.2, 0.2);
      bn->running_var.uniform_(0.5, 2.0);
      bn->weight.uniform_(0.5, 1.5);
      bn->bias.uniform_(-0.1, 0.1);
    }
  net->eval();
  return net;
}

ModelInfo plate_model(const std::string& net) {
  ModelInfo info;
  info.net = net;
  use_net_normalisation(info);
  info.class_names = {"BACKGROUND", "plate"};
  return info;
}

struct Case {
  std::string name;
  ModelInfo info;
};

std::vector<Case> cases() {
  ModelInfo s8;
  s8.net = "mb1-ssd-relu6-s8";
  s8.class_names = {"BACKGROUND", "plate", "car"};
  s8.priors = "auto";
  s8.prior_maps = prior_maps_of(s8);
  s8.prior_maps[0].boxes = {{12, 10}, {16, 13}, {20, 15}, {24, 18}, {30, 20}, {45, 16}};
  ModelInfo large = plate_model("mb1-ssd");
  large.input_width = large.input_height = 512;
  ModelInfo wide = s8;
  wide.net = "mb1-ssd-s8";
  wide.input_width = 384, wide.input_height = 288;
  wide.prior_maps = {};
  ModelInfo mb2_half = plate_model("mb2-ssd-lite");
  mb2_half.width_mult = 0.5;
  mb2_half.input_width = 320, mb2_half.input_height = 256;
  ModelInfo mb1_lite_s8 = plate_model("mb1-ssd-lite-s8");
  mb1_lite_s8.input_width = mb1_lite_s8.input_height = 384;
  ModelInfo mb2_s8_half = plate_model("mb2-ssd-lite-s8");
  mb2_s8_half.width_mult = 0.75;
  mb2_s8_half.input_width = 320, mb2_s8_half.input_height = 256;
  ModelInfo vgg_wide = plate_model("vgg16-ssd");
  vgg_wide.input_width = 384, vgg_wide.input_height = 320;
  return {{"stride8_auto_300", s8},
          {"mb1_ssd_512", large},
          {"stride8_384x288", wide},
          {"mb1_ssd_lite", plate_model("mb1-ssd-lite")},
          {"mb2_ssd_lite", plate_model("mb2-ssd-lite")},
          {"mb2_ssd_lite_half_320x256", mb2_half},
          {"mb1_ssd_lite_s8_384", mb1_lite_s8},
          {"mb2_ssd_lite_s8_0.75_320x256", mb2_s8_half},
          {"vgg16_ssd", plate_model("vgg16-ssd")},
          {"vgg16_ssd_384x320", vgg_wide}};
}

}  // namespace

TEST(ExportVariants, EnginesEqualLibTorch) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    Ssd net = random_net(c.info);
    export_onnx(state_dict_of(*net), c.info, dir.file("m.onnx"));
    const int w = c.info.input_width, h = c.info.input_height;
    torch::manual_seed(3);
    const torch::Tensor x = torch::rand({1, 3, h, w}) * 2 - 1;
    torch::NoGradGuard no_grad;
    auto [scores, boxes] = net->predict(x);
    scores = scores.contiguous(), boxes = boxes.contiguous();
    const int64_t priors = scores.size(1);

    DetectorModel model = load_detector_model(dir.file("m.onnx"));
    EXPECT_EQ(model.num_priors, priors);
    EXPECT_EQ(model.info.net, c.info.net);
    EXPECT_EQ(model.info.width_mult, c.info.width_mult);
    EXPECT_EQ(model.info.priors, c.info.priors);
    EXPECT_EQ(model.info.image_mean, c.info.image_mean);
    EXPECT_EQ(priors_of(model.info).size(), static_cast<size_t>(priors));  // the metadata's priors
    ASSERT_EQ(model.info.prior_maps.size(), prior_maps_of(c.info).size());
    EXPECT_EQ(model.info.prior_maps[0].boxes, prior_maps_of(c.info)[0].boxes);
    for (const std::string engine : {"onednn", "opencv"}) {
      EngineOptions options;
      options.name = engine;
      options.threads = 1;
      auto run = create_engine(model.graph, options);
      std::vector<Tensor> out;
      run->forward(x.data_ptr<float>(), out);
      ASSERT_EQ(out.at(1).shape[1], priors) << engine;
      const std::vector<float>& s = out[0].data;
      const std::vector<float>& b = out[1].data;
      expect_close(s.data(), scores.data_ptr<float>(), s.size(), 1e-4, 1e-3, engine + " scores");
      expect_close(b.data(), boxes.data_ptr<float>(), b.size(), 1e-4, 1e-3, engine + " boxes");
    }
    if (!have_onnxruntime_node()) continue;
    write_file_atomic(dir.file("input.f32"), std::string(reinterpret_cast<const char*>(x.data_ptr<float>()), x.numel() * 4));
    const CommandResult r = run_command("node '" + std::string(EDGESSD_SOURCE_DIR) + "/tests/runtime/ort_run.js' '" +
                                        dir.file("m.onnx") + "' '" + dir.file("input.f32") + "' '" + dir.file("ort") +
                                        "' " + std::to_string(h) + " " + std::to_string(w));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto ort_scores = read_raw<float>(dir.file("ort.scores.f32"));
    const auto ort_boxes = read_raw<float>(dir.file("ort.boxes.f32"));
    ASSERT_EQ(ort_scores.size(), static_cast<size_t>(scores.numel()));
    expect_close(ort_scores.data(), scores.data_ptr<float>(), ort_scores.size(), 1e-4, 1e-3, "ort scores");
    expect_close(ort_boxes.data(), boxes.data_ptr<float>(), ort_boxes.size(), 1e-4, 1e-3, "ort boxes");
  }
}

// A checkpoint trained at 300 exported at 512 keeps its priors' pixel sizes; the ONNX's
// metadata then records the maps it was exported with, explicitly.
TEST(ExportVariants, OtherSizeKeepsPixelPriorsAndRecordsThem) {
  TempDir dir;
  const ModelInfo info = plate_model("mb1-ssd");
  Ssd net = random_net(info);
  OnnxExportOptions options;
  options.width = options.height = 512;
  export_onnx(state_dict_of(*net), info, dir.file("m.onnx"), options);
  const DetectorModel model = load_detector_model(dir.file("m.onnx"));
  ASSERT_EQ(model.info.prior_maps.size(), 6u);
  EXPECT_EQ(model.info.prior_maps[0].shrinkage, 16);   // pytorch-ssd's stride, kept
  EXPECT_EQ(model.info.prior_maps[0].min_box_size, 60);  // and its 60 px
  EXPECT_EQ(model.num_priors, static_cast<int64_t>(priors_of(model.info).size()));
}

// Metadata whose priors disagree with the graph (a stride-8 graph described as mb1-ssd's
// six maps) is refused, naming the file.
TEST(ExportVariants, MetadataPriorsDisagreeingWithTheGraphAreAnError) {
  TempDir dir;
  const ModelInfo info = plate_model("mb1-ssd-s8");
  Ssd net = random_net(info);
  export_onnx(state_dict_of(*net), info, dir.file("m.onnx"));
  onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromString(read_file(dir.file("m.onnx"))));
  ModelInfo lie = info;
  lie.net = "mb1-ssd";
  lie.prior_maps = prior_maps_of(lie);
  for (auto& prop : *proto.mutable_metadata_props())
    if (prop.key() == "edgessd") prop.set_value(model_info_to_json(lie));
  std::string bytes;
  ASSERT_TRUE(proto.SerializeToString(&bytes));
  write_file_atomic(dir.file("bad.onnx"), bytes);
  try {
    load_detector_model(dir.file("bad.onnx"));
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.onnx: the metadata's priors give 3000"), std::string::npos) << e.what();
  }
}
