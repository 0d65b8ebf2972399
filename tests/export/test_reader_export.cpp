// The plate reader's ONNX: LibTorch's column probabilities equal the export's in the
// oneDNN engine (fp32), OpenCV DNN and ONNX Runtime; each loader refuses the other kind.
#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/plates/plate_crops.h"
#include "edgessd/export/onnx_export.h"
#include "edgessd/export/reader_export.h"
#include "edgessd/model/checkpoint.h"
#include "edgessd/model/plate_reader_net.h"
#include "edgessd/runtime/engine.h"
#include "edgessd/data/plate_samples.h"
#include "edgessd/deploy/detector_model.h"
#include "edgessd/deploy/plate_reader.h"
#include "edgessd/deploy/quantize.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;

namespace {

// Random weights and BatchNorm statistics, so that folding them is exercised.
PlateReaderNet random_reader(const ReaderInfo& info) {
  torch::manual_seed(5);
  PlateReaderNet net(info.num_classes());
  torch::NoGradGuard no_grad;
  for (auto& bn : net->norms) {
    bn->running_mean.uniform_(-0.2, 0.2);
    bn->running_var.uniform_(0.5, 2.0);
    bn->weight.uniform_(0.5, 1.5);
    bn->bias.uniform_(-0.1, 0.1);
  }
  net->eval();
  return net;
}

}  // namespace

TEST(ReaderExport, LibTorchEqualsEveryEngine) {
  TempDir dir;
  ReaderInfo info;
  info.charset = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ";
  PlateReaderNet net = random_reader(info);
  export_reader_onnx(state_dict_of(*net), info, dir.file("reader.onnx"));
  const ReaderModel model = load_reader_model(dir.file("reader.onnx"));
  EXPECT_EQ(model.info.charset, info.charset);
  EXPECT_EQ(model.graph.outputs, (std::vector<std::string>{"chars"}));
  const int columns = reader_columns(info.input_width);
  EXPECT_EQ(model.graph.output_shapes[0][1], columns) << "columns";
  const torch::Tensor x = torch::randn({1, 3, 32, info.input_width});
  const torch::Tensor expected = torch::softmax(net->forward(x), 1).transpose(1, 2).contiguous();
  ASSERT_EQ(expected.sizes(), (std::vector<int64_t>{1, columns, info.num_classes()}));
  for (const std::string engine : {"onednn", "opencv"}) {
    auto e = create_engine(model.graph, {engine, 1});
    std::vector<Tensor> out;
    e->forward(x.data_ptr<float>(), out);
    ASSERT_EQ(out.size(), 1u) << engine;
    EXPECT_EQ(out[0].name, "chars") << engine;
    EXPECT_EQ(out[0].shape, (TensorShape{1, columns, info.num_classes()})) << engine;
    const std::vector<float>& probs = out[0].data;
    ASSERT_EQ(probs.size(), static_cast<size_t>(expected.numel())) << engine;
    expect_close(probs.data(), expected.data_ptr<float>(), probs.size(), 1e-4, 1e-3, engine);
  }
  if (!have_onnxruntime_node()) GTEST_SKIP() << "node or onnxruntime-node absent (scripts/setup.sh installs them)";
  write_file_atomic(dir.file("input.f32"), std::string(reinterpret_cast<const char*>(x.data_ptr<float>()), x.numel() * 4));
  const CommandResult r = run_command("node '" + std::string(EDGESSD_SOURCE_DIR) + "/tests/runtime/ort_run.js' '" +
                                      dir.file("reader.onnx") + "' '" + dir.file("input.f32") + "' '" + dir.file("ort") +
                                      "' 32 " + std::to_string(info.input_width));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto ort = read_raw<float>(dir.file("ort.chars.f32"));
  ASSERT_EQ(ort.size(), static_cast<size_t>(expected.numel()));
  expect_close(ort.data(), expected.data_ptr<float>(), ort.size(), 1e-4, 1e-3, "onnxruntime");
}

TEST(ReaderExport, EachLoaderRefusesTheOtherKindNamingTheFile) {
  TempDir dir;
  ReaderInfo info;
  export_reader_onnx(state_dict_of(*random_reader(info)), info, dir.file("reader.onnx"));
  try {
    load_detector_model(dir.file("reader.onnx"));
    FAIL() << "a reader loaded as a detector";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is a plate reader"), std::string::npos) << e.what();
  }
  const std::string detector = fixture("mb1-ssd-2class-random.onnx");
  if (std::filesystem::exists(detector)) {
    try {
      load_reader_model(detector);
      FAIL() << "a detector loaded as a reader";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(detector + ": not a plate reader"), std::string::npos) << e.what();
    }
  }
  // A checkpoint whose classifier does not fit the JSON's character set.
  ReaderInfo fewer = info;
  fewer.charset = "0123456789";
  EXPECT_THROW(export_reader_onnx(state_dict_of(*random_reader(info)), fewer, dir.file("bad.onnx")), Error);
  EXPECT_FALSE(std::filesystem::exists(dir.file("bad.onnx")));
}

// `edgessd quantize` on a reader: calibrated on plate crops, the int8 engine's column
// probabilities stay near fp32's (random weights: a loose bound; the benchmark measures
// the trained reader's accuracy in int8).
TEST(ReaderExport, Int8CalibrationOnPlateCrops) {
  TempDir dir;
  ReaderInfo info;
  PlateReaderNet net = random_reader(info);
  export_reader_onnx(state_dict_of(*net), info, dir.file("reader.onnx"));
  cv::Mat image(240, 320, CV_8UC3);
  cv::randu(image, 0, 255);
  cv::imwrite(dir.file("a.png"), image);
  std::vector<PlateSample> plates;
  for (int i = 0; i < 4; ++i) plates.push_back({dir.file("a.png"), {0.1f * i, 0.2f, 0.1f * i + 0.5f, 0.4f}, "AB12"});
  EXPECT_EQ(quantize_reader_onnx(dir.file("reader.onnx"), plates, dir.file("int8.onnx")), 8u) << "the 8 ReLU outputs";
  const ReaderModel fp32 = load_reader_model(dir.file("reader.onnx")), int8 = load_reader_model(dir.file("int8.onnx"));
  EXPECT_EQ(int8.graph.int8.scales.size(), 8u);
  auto e32 = create_engine(fp32.graph, {"onednn", 1});
  auto e8 = create_engine(int8.graph, {"onednn", 1});
  EXPECT_EQ(e8->name(), "onednn-int8");
  std::vector<float> input(3 * 32 * static_cast<size_t>(info.input_width));
  reader_input(crop_plate(image, {40, 60, 200, 110}, info), info, input.data());
  std::vector<Tensor> o32, o8;
  e32->forward(input.data(), o32);
  e8->forward(input.data(), o8);
  const std::vector<float>& p32 = o32.at(0).data;
  const std::vector<float>& p8 = o8.at(0).data;
  ASSERT_EQ(p8.size(), p32.size());
  expect_close(p8, p32, 0.1, 0.0, "int8 against fp32 probabilities");
}
