#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/priors.h"
#include "edgessd/export/onnx_export.h"
#include "edgessd/common/checkpoint_name.h"
#include "edgessd/model/checkpoint.h"
#include "edgessd/model/ssd.h"
#include "edgessd/runtime/engine.h"
#include "edgessd/deploy/detector_model.h"
#include "support/reference_model.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;

namespace {

ModelInfo random_fixture_info() {
  ModelInfo info;
  info.net = "mb1-ssd";
  info.class_names = {"BACKGROUND", "plate"};
  return info;
}

struct Outputs {
  std::vector<float> scores, boxes;
};

Outputs run_engine(const std::string& model_path, const std::string& labels = "", const std::string& name = "opencv") {
  DetectorModel model = load_detector_model(model_path, labels);
  EngineOptions options;
  options.name = name;
  options.threads = 1;
  auto engine = create_engine(model.graph, options);
  std::vector<float> input = read_raw<float>(fixture("input.f32"));
  std::vector<Tensor> outputs;
  engine->forward(input.data(), outputs);
  EXPECT_EQ(outputs.at(0).shape, (TensorShape{1, 3000, model.info.num_classes()}));
  EXPECT_EQ(outputs.at(1).shape, (TensorShape{1, 3000, 4}));
  return {outputs[0].data, outputs[1].data};
}

// LibTorch's test-mode outputs of a checkpoint on the fixture input.
Outputs run_libtorch(const std::string& checkpoint, NetKind kind, int classes) {
  Ssd net(kind, classes);
  load_state_dict(*net, read_state_dict(checkpoint), LoadMode::Everything, checkpoint);
  net->eval();
  torch::NoGradGuard no_grad;
  std::vector<float> input = read_raw<float>(fixture("input.f32"));
  auto [scores, boxes] = net->predict(torch::from_blob(input.data(), {1, 3, 300, 300}, torch::kFloat32));
  scores = scores.contiguous(), boxes = boxes.contiguous();
  return {{scores.data_ptr<float>(), scores.data_ptr<float>() + scores.numel()},
          {boxes.data_ptr<float>(), boxes.data_ptr<float>() + boxes.numel()}};
}

onnx::ModelProto read_proto(const std::string& path) {
  onnx::ModelProto proto;
  EXPECT_TRUE(proto.ParseFromString(read_file(path)));
  return proto;
}

}  // namespace

TEST(OnnxExport, GraphIsWhatDetectNetReads) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.pth"));
  TempDir dir;
  export_onnx(read_state_dict(fixture("mb1-ssd-2class-random.pth")), random_fixture_info(), dir.file("m.onnx"));
  onnx::ModelProto proto = read_proto(dir.file("m.onnx"));
  EXPECT_NO_THROW(onnx::checker::check_model(proto));
  ASSERT_EQ(proto.opset_import_size(), 1);
  EXPECT_EQ(proto.opset_import(0).version(), kOnnxOpset);
  ASSERT_EQ(proto.graph().input_size(), 1);  // weights are initializers, not inputs
  EXPECT_EQ(proto.graph().input(0).name(), "input_0");
  ASSERT_EQ(proto.graph().output_size(), 2);
  EXPECT_EQ(proto.graph().output(0).name(), "scores");
  EXPECT_EQ(proto.graph().output(1).name(), "boxes");
  std::set<std::string> ops;
  for (const auto& node : proto.graph().node()) ops.insert(node.op_type());
  EXPECT_FALSE(ops.count("BatchNormalization")) << "BatchNorm must be folded";
  EXPECT_FALSE(ops.count("Identity")) << "OpenCV 4.6 rejects Identity";
  EXPECT_TRUE(ops.count("Conv") && ops.count("Softmax") && ops.count("Exp"));
  std::map<std::string, std::string> meta;
  for (const auto& p : proto.metadata_props()) meta[p.key()] = p.value();
  EXPECT_EQ(meta["labels"], "BACKGROUND\nplate\n");
  EXPECT_EQ(meta["net"], "mb1-ssd");
  DetectorModel model = load_detector_model(dir.file("m.onnx"));
  EXPECT_EQ(model.info.class_names, (std::vector<std::string>{"BACKGROUND", "plate"}));
  EXPECT_EQ(model.num_priors, 3000);
  EXPECT_EQ(model.info.input_width, 300);
}

TEST(OnnxExport, Relu6IsAttributeFormClip) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  TempDir dir;
  export_reference_onnx(dir.file("m.onnx"));
  int clips = 0;
  const onnx::ModelProto proto = read_proto(dir.file("m.onnx"));
  for (const auto& node : proto.graph().node()) {
    if (node.op_type() != "Clip") continue;
    ++clips;
    EXPECT_EQ(node.input_size(), 1) << node.name();
    ASSERT_EQ(node.attribute_size(), 2) << node.name();
  }
  EXPECT_EQ(clips, 27 + 8);  // conv_bn + 13 conv_dw x 2 in the base net, 4 extras x 2
}

// Our ONNX of the fixture net in OpenCV DNN equals pytorch-ssd's test-mode outputs.
TEST(OnnxExport, OpenCvDnnMatchesPytorchSsd) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.pth"));
  TempDir dir;
  export_onnx(read_state_dict(fixture("mb1-ssd-2class-random.pth")), random_fixture_info(), dir.file("m.onnx"));
  Outputs out = run_engine(dir.file("m.onnx"));
  expect_close(out.scores, read_raw<float>(fixture("test_scores.f32")), 1e-4, 1e-3, "scores");
  expect_close(out.boxes, read_raw<float>(fixture("test_boxes.f32")), 1e-4, 1e-3, "boxes");
}

TEST(OnnxExport, OpenCvDnnMatchesLibTorchOnTrainedRelu6) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  TempDir dir;
  const ModelInfo info = reference_model_info();
  export_reference_onnx(dir.file("m.onnx"));
  Outputs ours = run_engine(dir.file("m.onnx"));
  Outputs reference = run_libtorch(fixture("ref-trained.pth"), NetKind::Mb1SsdRelu6, info.num_classes());
  expect_close(ours.scores, reference.scores, 1e-4, 1e-3, "scores");
  expect_close(ours.boxes, reference.boxes, 1e-4, 1e-3, "boxes");
}

// pytorch-ssd's own export runs as it is (its Identity nodes are removed for OpenCV).
TEST(OnnxExport, PytorchSsdExportRunsInOpenCvEngine) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.onnx"));
  TempDir dir;
  write_labels(dir.file("labels.txt"), {"BACKGROUND", "plate"});
  Outputs out = run_engine(fixture("mb1-ssd-2class-random.onnx"), dir.file("labels.txt"));
  expect_close(out.scores, read_raw<float>(fixture("test_scores.f32")), 1e-4, 1e-3, "scores");
  expect_close(out.boxes, read_raw<float>(fixture("test_boxes.f32")), 1e-4, 1e-3, "boxes");
}

// The oneDNN engine, fp32: our export and pytorch-ssd's own (BatchNormalization nodes,
// Identity, shape arithmetic) both equal pytorch-ssd's test-mode outputs.
TEST(OnnxExport, OneDnnEngineMatchesPytorchSsd) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.pth"));
  TempDir dir;
  export_onnx(read_state_dict(fixture("mb1-ssd-2class-random.pth")), random_fixture_info(), dir.file("m.onnx"));
  write_labels(dir.file("labels.txt"), {"BACKGROUND", "plate"});
  for (const std::string& path : {dir.file("m.onnx"), fixture("mb1-ssd-2class-random.onnx")}) {
    Outputs out = run_engine(path, dir.file("labels.txt"), "onednn");
    expect_close(out.scores, read_raw<float>(fixture("test_scores.f32")), 1e-4, 1e-3, path + " scores");
    expect_close(out.boxes, read_raw<float>(fixture("test_boxes.f32")), 1e-4, 1e-3, path + " boxes");
  }
}

TEST(OnnxExport, OneDnnEngineMatchesLibTorchOnTrainedRelu6) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  TempDir dir;
  const ModelInfo info = reference_model_info();
  export_reference_onnx(dir.file("m.onnx"));
  Outputs ours = run_engine(dir.file("m.onnx"), "", "onednn");
  Outputs reference = run_libtorch(fixture("ref-trained.pth"), NetKind::Mb1SsdRelu6, info.num_classes());
  expect_close(ours.scores, reference.scores, 1e-4, 1e-3, "scores");
  expect_close(ours.boxes, reference.boxes, 1e-4, 1e-3, "boxes");
}

TEST(OnnxExport, OnnxRuntimeMatchesPytorchSsd) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.pth"));
  if (!have_onnxruntime_node()) GTEST_SKIP() << "node or node_modules/onnxruntime-node absent (scripts/setup.sh installs them)";
  TempDir dir;
  export_onnx(read_state_dict(fixture("mb1-ssd-2class-random.pth")), random_fixture_info(), dir.file("m.onnx"));
  const CommandResult r = run_command("node '" + std::string(EDGESSD_SOURCE_DIR) + "/tests/runtime/ort_run.js' '" +
                                      dir.file("m.onnx") + "' '" + fixture("input.f32") + "' '" + dir.file("ort") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("scores 1x3000x2"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("boxes 1x3000x4"), std::string::npos) << r.output;
  expect_close(read_raw<float>(dir.file("ort.scores.f32")), read_raw<float>(fixture("test_scores.f32")), 1e-4, 1e-3,
               "scores");
  expect_close(read_raw<float>(dir.file("ort.boxes.f32")), read_raw<float>(fixture("test_boxes.f32")), 1e-4, 1e-3,
               "boxes");
}

TEST(OnnxExport, OtherSizesAndBatches) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.pth"));
  TempDir dir;
  OnnxExportOptions options;
  options.width = 320;
  options.height = 240;
  options.batch_size = 2;
  export_onnx(read_state_dict(fixture("mb1-ssd-2class-random.pth")), random_fixture_info(), dir.file("m.onnx"),
              options);
  DetectorModel model = load_detector_model(dir.file("m.onnx"));
  EXPECT_EQ(model.graph.batch_size, 2);
  EXPECT_EQ(model.info.input_width, 320);
  EXPECT_EQ(model.info.input_height, 240);
  const auto maps = mobilenet_v1_ssd_feature_maps(320, 240);
  int64_t priors = 0;
  for (const auto& [w, h] : maps) priors += int64_t(w) * h * 6;
  EXPECT_EQ(model.num_priors, priors);
  auto engine = create_engine(model.graph, {});
  std::vector<float> input(2 * 3 * 240 * 320, 0.1f);
  std::vector<Tensor> outputs;
  engine->forward(input.data(), outputs);
  EXPECT_EQ(outputs.at(0).shape, (TensorShape{2, priors, 2}));
  EXPECT_EQ(outputs.at(0).data.size(), size_t(2 * priors * 2));
}

TEST(OnnxExport, Errors) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.pth"));
  TempDir dir;
  const StateDict state = read_state_dict(fixture("mb1-ssd-2class-random.pth"));
  ModelInfo three = random_fixture_info();
  three.class_names.push_back("car");
  try {
    export_onnx(state, three, dir.file("m.onnx"));
    FAIL() << "class count mismatch accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("3 classes"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("m.onnx")));
  OnnxExportOptions bad;
  bad.batch_size = 0;
  EXPECT_THROW(export_onnx(state, random_fixture_info(), dir.file("m.onnx"), bad), Error);
  StateDict missing(state.begin() + 1, state.end());
  EXPECT_THROW(export_onnx(missing, random_fixture_info(), dir.file("m.onnx")), Error);
}

TEST(OnnxExport, BestCheckpointIsLowestLoss) {
  TempDir dir;
  for (const char* name : {"mb1-ssd-Epoch-0-Loss-5.25.pth", "mb1-ssd-Epoch-3-Loss-3.5.pth",
                           "mb1-ssd-Epoch-7-Loss-4.0.pth", "mb1-ssd-Epoch-9-Loss-nan.pth", "other.pth"})
    std::ofstream(dir.file(name)) << "x";
  EXPECT_EQ(best_checkpoint_in(dir.path()), dir.file("mb1-ssd-Epoch-3-Loss-3.5.pth"));
  TempDir empty;
  EXPECT_THROW(best_checkpoint_in(empty.path()), Error);
  int epoch = 0;
  EXPECT_EQ(latest_checkpoint_in(dir.path(), epoch), dir.file("mb1-ssd-Epoch-9-Loss-nan.pth"));
  EXPECT_EQ(epoch, 9);
  EXPECT_EQ(latest_checkpoint_in(empty.path(), epoch), "");
  EXPECT_EQ(epoch, -1);
}

// The one naming rule, written by train and read by export and the demo.
TEST(CheckpointName, WritesAndParsesPytorchSsdNames) {
  EXPECT_EQ(checkpoint_file_name("mb1-ssd", 12, 2.5), "mb1-ssd-Epoch-12-Loss-2.5.pth");
  EXPECT_EQ(checkpoint_file_name("mb1-ssd-relu6", 0, 3.0), "mb1-ssd-relu6-Epoch-0-Loss-3.0.pth");
  EXPECT_EQ(checkpoint_file_name("mb1-ssd", 1, 1e-05), "mb1-ssd-Epoch-1-Loss-1e-05.pth");
  const auto name = parse_checkpoint_name(checkpoint_file_name("mb1-ssd-relu6", 29, 2.0283255577087402));
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(name->net, "mb1-ssd-relu6");
  EXPECT_EQ(name->epoch, 29);
  EXPECT_EQ(name->loss, 2.0283255577087402);
  for (const char* bad : {"other.pth", "mb1-ssd-Epoch--Loss-2.5.pth", "mb1-ssd-Epoch-x-Loss-2.5.pth",
                          "mb1-ssd-Epoch-99999999999-Loss-2.5.pth", "mb1-ssd-Epoch-3-Loss-.pth",
                          "mb1-ssd-Epoch-3-Loss-2.5x.pth", "mb1-ssd-Epoch-3-Loss-2.5.pt", "-Epoch-3-Loss-2.5.pth"})
    EXPECT_FALSE(parse_checkpoint_name(bad).has_value()) << bad;
}

TEST(Priors, RectangularInputKeepsPixelSizes) {
  const PriorBoxes square(mobilenet_v1_ssd_config());
  const PriorBoxes same(mobilenet_v1_ssd_config(), 300, 300, mobilenet_v1_ssd_feature_maps(300, 300));
  ASSERT_EQ(square.size(), same.size());
  for (size_t i = 0; i < square.size(); ++i) {
    EXPECT_EQ(square.center_form()[i].cx, same.center_form()[i].cx);
    EXPECT_EQ(square.center_form()[i].h, same.center_form()[i].h);
  }
  const PriorBoxes wide(mobilenet_v1_ssd_config(), 600, 300, mobilenet_v1_ssd_feature_maps(600, 300));
  EXPECT_EQ(wide.size(), size_t((38 * 19 + 19 * 10 + 10 * 5 + 5 * 3 + 3 * 2 + 2 * 1) * 6));
  EXPECT_FLOAT_EQ(wide.center_form()[0].w, 60.0f / 600);
  EXPECT_FLOAT_EQ(wide.center_form()[0].h, 60.0f / 300);
}
