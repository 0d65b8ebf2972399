#include <onnx/onnx_pb.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/export/onnx_export.h"
#include "edgessd/model/checkpoint.h"
#include "edgessd/data/dataset.h"
#include "edgessd/eval/evaluate.h"
#include "edgessd/deploy/detector.h"
#include "edgessd/runtime/engine.h"
#include "edgessd/deploy/detector_model.h"
#include "edgessd/deploy/quantize.h"
#include "edgessd/deploy/overlay.h"
#include "edgessd/deploy/video_output.h"
#include "edgessd/deploy/video_source.h"
#include "support/reference_model.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;

namespace {

// Our export of the fixture net, made once per test binary.
const std::string& exported_fixture() {
  static TempDir dir;
  static const std::string path = [] {
    ModelInfo info;
    info.net = "mb1-ssd";
    info.class_names = {"BACKGROUND", "plate"};
    const std::string p = dir.file("fixture.onnx");
    export_onnx(read_state_dict(fixture("mb1-ssd-2class-random.pth")), info, p);
    return p;
  }();
  return path;
}

void rewrite(const std::string& from, const std::string& to, const std::function<void(onnx::ModelProto&)>& edit) {
  onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromString(read_file(from)));
  edit(proto);
  std::string bytes;
  proto.SerializeToString(&bytes);
  write_file_atomic(to, bytes);
}

}  // namespace

TEST(OnnxGraph, UnknownOperatorNamesTheNode) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.pth"));
  TempDir dir;
  rewrite(exported_fixture(), dir.file("bad.onnx"), [](onnx::ModelProto& m) {
    m.mutable_graph()->mutable_node(5)->set_op_type("FancyConv");
    m.mutable_graph()->mutable_node(5)->set_name("the_bad_node");
  });
  const std::string e = error_of([&] { load_detector_model(dir.file("bad.onnx")); });
  EXPECT_NE(e.find("the_bad_node"), std::string::npos) << e;
  EXPECT_NE(e.find("FancyConv"), std::string::npos) << e;
}

TEST(DetectorModel, WrongInputShapeAndLabels) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.pth"));
  TempDir dir;
  rewrite(exported_fixture(), dir.file("gray.onnx"), [](onnx::ModelProto& m) {
    m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(1)->set_dim_value(1);
  });
  std::string e = error_of([&] { load_detector_model(dir.file("gray.onnx")); });
  EXPECT_NE(e.find("3 channels"), std::string::npos) << e;
  EXPECT_NE(e.find("input_0"), std::string::npos) << e;

  write_labels(dir.file("three.txt"), {"BACKGROUND", "plate", "car"});
  e = error_of([&] { load_detector_model(exported_fixture(), dir.file("three.txt")); });
  EXPECT_NE(e.find("3 classes"), std::string::npos) << e;
  EXPECT_NE(e.find("outputs 2"), std::string::npos) << e;

  write_file_atomic(dir.file("junk.onnx"), std::string("not a model at all"));
  e = error_of([&] { load_detector_model(dir.file("junk.onnx")); });
  EXPECT_NE(e.find("junk.onnx"), std::string::npos) << e;

  // pytorch-ssd's export carries no labels: without --labels or labels.txt it is an error.
  e = error_of([&] { load_detector_model(fixture("mb1-ssd-2class-random.onnx")); });
  EXPECT_NE(e.find("--labels"), std::string::npos) << e;
}

TEST(Detector, FindsPlatesWithTheTrainedModel) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  EDGESSD_REQUIRE_FILE(plates_dir());
  TempDir dir;
  export_reference_onnx(dir.file("ref.onnx"));
  PostprocessOptions post;
  post.probability_threshold = 0.3f;
  Detector detector(load_detector_model(dir.file("ref.onnx")), {}, post);
  EXPECT_EQ(detector.engine_name(), "onednn");
  const std::vector<std::string> images = list_images(plates_dir() + "/test");
  ASSERT_FALSE(images.empty());
  size_t with_detections = 0;
  for (const auto& path : images) {
    cv::Mat bgr = cv::imread(path);
    auto detections = detector.detect_bgr(bgr);
    for (const auto& d : detections) {
      EXPECT_EQ(d.label, 1);
      EXPECT_GE(d.probability, 0.3f);
      EXPECT_LT(d.box.x1, d.box.x2);
    }
    with_detections += !detections.empty();
    EXPECT_GT(detector.last_timings().network_ms, 0.0);
  }
  EXPECT_GT(with_detections, images.size() / 4);
}

TEST(VideoIo, VideoFileRoundTripAndFinalisedOutput) {
  TempDir dir;
  const std::string input = dir.file("in.avi");
  {
    cv::VideoWriter writer(input, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10, cv::Size(160, 120));
    ASSERT_TRUE(writer.isOpened());
    for (int i = 0; i < 12; ++i) {
      cv::Mat frame(120, 160, CV_8UC3, cv::Scalar(i * 20, 100, 50));
      cv::rectangle(frame, cv::Rect(20 + i, 30, 60, 20), cv::Scalar(255, 255, 255), cv::FILLED);
      writer.write(frame);
    }
  }
  auto source = VideoSource::open(input);
  EXPECT_FALSE(source->is_live());
  EXPECT_TRUE(source->is_sequence());
  EXPECT_NEAR(source->fps(), 10.0, 0.5);
  {
    auto output = VideoOutput::open(dir.file("out.mp4"), true, source->fps());
    Frame frame;
    int n = 0;
    while (source->read(frame)) {
      EXPECT_EQ(frame.index, n++);
      output->write(frame.bgr, frame.name);
      // Nothing at the final name until the video is finalised.
      EXPECT_FALSE(std::filesystem::exists(dir.file("out.mp4")));
    }
    EXPECT_EQ(n, 12);
    EXPECT_TRUE(source->end_reason().empty());
    output->close();
  }
  EXPECT_EQ(count_video_frames(dir.file("out.mp4"), cv::Size(160, 120)), 12);
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    EXPECT_EQ(entry.path().filename().string().find(".partial"), std::string::npos) << entry.path();
}

TEST(VideoIo, ImageListsFoldersAndErrors) {
  TempDir dir;
  std::filesystem::create_directory(dir.file("imgs"));
  for (int i = 0; i < 3; ++i) cv::imwrite(dir.file("imgs/" + std::to_string(i) + ".jpg"), cv::Mat(40, 50, CV_8UC3, cv::Scalar(i)));
  write_file_atomic(dir.file("imgs/broken.jpg"), std::string("not a jpeg"));
  auto source = VideoSource::open(dir.file("imgs"));
  EXPECT_TRUE(source->is_image_list());
  auto output = VideoOutput::open(dir.file("out"), true, 0);
  Frame frame;
  std::vector<std::string> names;
  while (source->read(frame)) names.push_back(frame.name), output->write(frame.bgr, frame.name);
  EXPECT_EQ(names, (std::vector<std::string>{"0.jpg", "1.jpg", "2.jpg"}));
  EXPECT_EQ(source->unreadable(), 1u);
  EXPECT_TRUE(std::filesystem::exists(dir.file("out/2.jpg")));

  auto glob = VideoSource::open(dir.file("imgs/[01].jpg"));
  int n = 0;
  while (glob->read(frame)) ++n;
  EXPECT_EQ(n, 2);

  EXPECT_NE(error_of([&] { VideoSource::open(dir.file("nothing-here.mp4")); }).find("nothing-here.mp4"), std::string::npos);
  EXPECT_NE(error_of([&] { VideoSource::open("/dev/video99"); }).find("/dev/video99"), std::string::npos);
  // Several frames into one image name would overwrite it.
  EXPECT_NE(error_of([&] { VideoOutput::open(dir.file("one.jpg"), true, 0); }).find("%i"), std::string::npos);
  auto numbered = VideoOutput::open(dir.file("f%i.png"), true, 0);
  numbered->write(cv::Mat(10, 10, CV_8UC3), "a");
  numbered->write(cv::Mat(10, 10, CV_8UC3), "b");
  EXPECT_TRUE(std::filesystem::exists(dir.file("f1.png")));
}

TEST(Overlay, DrawsInsideTheBox) {
  cv::Mat image(100, 200, CV_8UC3, cv::Scalar(0, 0, 0));
  Detection d{{50, 40, 150, 90}, 1, 0.9f};
  draw_detections(image, {d}, {"BACKGROUND", "plate"}, parse_overlay("lines", 120));
  EXPECT_NE(image.at<cv::Vec3b>(90, 100), cv::Vec3b(0, 0, 0));  // bottom edge
  EXPECT_EQ(image.at<cv::Vec3b>(70, 100), cv::Vec3b(0, 0, 0));  // inside stays clear
  EXPECT_EQ(image.at<cv::Vec3b>(5, 5), cv::Vec3b(0, 0, 0));     // outside too
}

// detectNet's default overlay (box,labels,conf): the box tinted at --alpha, no outline.
TEST(Overlay, FlagsAndAlphaAsDetectNet) {
  cv::Mat image(100, 200, CV_8UC3, cv::Scalar(0, 0, 0));
  draw_detections(image, {Detection{{50, 40, 150, 90}, 1, 0.9f}}, {"BACKGROUND", "plate"}, parse_overlay("box", 51));
  EXPECT_EQ(image.at<cv::Vec3b>(70, 100), cv::Vec3b(0, 26, 51));  // class 1 orange at 51/255
  EXPECT_EQ(image.at<cv::Vec3b>(5, 5), cv::Vec3b(0, 0, 0));
  const OverlayOptions defaults = parse_overlay("box,labels,conf", 120);
  EXPECT_TRUE(defaults.box && defaults.labels && defaults.conf && !defaults.lines);
  const OverlayOptions none = parse_overlay("none", 0);
  EXPECT_FALSE(none.box || none.labels || none.conf || none.lines);
  EXPECT_NE(error_of([] { parse_overlay("box,glow", 120); }).find("glow"), std::string::npos);
  EXPECT_NE(error_of([] { parse_overlay("box", 256); }).find("--alpha"), std::string::npos);
}

// A label never leaves the frame: above its box where there is room, else inside at the
// top, shifted left at the right edge (the demo's "Vehicle registration plate 87%").
TEST(Overlay, LabelsStayInsideTheFrame) {
  const cv::Size frame(300, 100), text(180, 20);
  EXPECT_EQ(place_label(text, {50, 40, 100, 30}, frame), cv::Rect(50, 20, 180, 20));   // above
  EXPECT_EQ(place_label(text, {50, 5, 100, 30}, frame), cv::Rect(50, 5, 180, 20));     // top edge: inside
  EXPECT_EQ(place_label(text, {250, 40, 50, 30}, frame), cv::Rect(120, 20, 180, 20));  // right edge
  EXPECT_EQ(place_label(text, {0, 95, 300, 5}, frame), cv::Rect(0, 75, 180, 20));      // bottom edge
  EXPECT_EQ(place_label({400, 20}, {10, 50, 10, 10}, frame).x, 0);                     // wider than the frame
  cv::Mat image(100, 300, CV_8UC3, cv::Scalar(0, 0, 0));
  draw_detections(image, {Detection{{250, 40, 299, 70}, 1, 0.87f}}, {"BACKGROUND", "Vehicle registration plate"});
  int coloured_left_of_box = 0;
  for (int x = 0; x < 250; ++x) coloured_left_of_box += image.at<cv::Vec3b>(30, x) != cv::Vec3b(0, 0, 0);
  EXPECT_GT(coloured_left_of_box, 50);  // the label moved left to fit
}

// int8 (calibrated on plates-us training images) keeps the trained model's mAP within 0.01.
TEST(Int8, CalibratedModelKeepsMeanAveragePrecision) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  EDGESSD_REQUIRE_FILE(plates_dir());
  TempDir dir;
  const ModelInfo info = reference_model_info();
  export_reference_onnx(dir.file("fp32.onnx"));
  std::vector<std::string> images = list_images(plates_dir() + "/train");
  images.resize(std::min<size_t>(images.size(), 24));
  EXPECT_GT(quantize_onnx_model(dir.file("fp32.onnx"), "", images, dir.file("int8.onnx")), 30u);
  DatasetOptions options;
  options.class_names = info.class_names;
  const DetectionDataset test = read_open_images(plates_dir(), "test", options);
  auto map_of = [&](const std::string& path, const std::string& expected_engine) {
    Detector detector(load_detector_model(path), {"onednn", 2});
    EXPECT_EQ(detector.engine_name(), expected_engine);
    return evaluate(test, [&](const cv::Mat& rgb) { return detector.detect_rgb(rgb); }, {}).mean_average_precision;
  };
  const double fp32 = map_of(dir.file("fp32.onnx"), "onednn");
  const double int8 = map_of(dir.file("int8.onnx"), "onednn-int8");
  EXPECT_NEAR(fp32, 0.22753, 0.002);
  EXPECT_GE(int8, fp32 - 0.01) << "fp32 " << fp32 << ", int8 " << int8;
  // Other runtimes see the unchanged fp32 graph.
  Detector opencv(load_detector_model(dir.file("int8.onnx")), {"opencv", 2});
  EXPECT_NEAR(evaluate(test, [&](const cv::Mat& rgb) { return opencv.detect_rgb(rgb); }, {}).mean_average_precision, fp32,
              0.002);
}

TEST(Engines, AutoPicksOneDnn) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.pth"));
  Detector detector(load_detector_model(exported_fixture()), {});
  EXPECT_EQ(detector.engine_name(), "onednn");
}

// mb1-ssd at 300x300, 2 classes, written out layer by layer as pytorch-ssd builds it:
// 1.215 G multiply-adds (the figure usually quoted for MobileNet-SSD is ~1.2 G).
TEST(Engines, MultiplyAddsAreTheConvolutionsOwn) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.pth"));
  double expected = 0;
  auto conv = [&](int h, int in, int out, int k, int stride, int groups) {
    const int o = (h + 2 * (k / 2) - k) / stride + 1;
    expected += static_cast<double>(o) * o * out * (in / groups) * k * k;
    return o;
  };
  int h = conv(300, 3, 32, 3, 2, 1);
  const int blocks[13][3] = {{32, 64, 1},   {64, 128, 2},  {128, 128, 1}, {128, 256, 2}, {256, 256, 1},
                             {256, 512, 2}, {512, 512, 1}, {512, 512, 1}, {512, 512, 1}, {512, 512, 1},
                             {512, 512, 1}, {512, 1024, 2}, {1024, 1024, 1}};
  for (const auto& b : blocks) h = conv(conv(h, b[0], b[0], 3, b[2], b[0]), b[0], b[1], 1, 1, 1);
  std::vector<int> maps = {19, h};
  const int extras[4][3] = {{1024, 256, 512}, {512, 128, 256}, {256, 128, 256}, {256, 128, 256}};
  for (const auto& e : extras) maps.push_back(h = conv(conv(h, e[0], e[1], 1, 1, 1), e[1], e[2], 3, 2, 1));
  const int head_in[6] = {512, 1024, 512, 256, 256, 256};
  for (int i = 0; i < 6; ++i)  // 6 boxes a cell: 2 class scores and 4 offsets each, 3x3 even on the 1x1 map
    for (int outputs : {6 * 2, 6 * 4}) conv(maps[i], head_in[i], outputs, 3, 1, 1);
  EXPECT_EQ(maps, (std::vector<int>{19, 10, 5, 3, 2, 1}));
  EXPECT_DOUBLE_EQ(multiply_adds(load_detector_model(exported_fixture()).graph), expected);
  EXPECT_NEAR(expected / 1e9, 1.2155, 1e-4);
}

// A graph unlike MobileNet-v1 SSD (a residual Add, linear and stride-2 depthwise layers,
// two head scales), made by PyTorch at test time: the oneDNN engine, with its activation
// arena and its own depthwise kernel, gives PyTorch's outputs at 1 and 2 threads.
TEST(Engines, OneDnnRunsOtherGraphsAsPytorchDoes) {
  TempDir dir;
  const CommandResult made = run_command(debian_python() + " '" + std::string(EDGESSD_SOURCE_DIR) +
                                         "/tests/runtime/branchy_ssd.py' '" + dir.path() + "'");
  if (made.exit_code != 0) GTEST_SKIP() << "making the graph needs Debian's python3-torch: " << made.output;
  const DetectorModel model = load_detector_model(dir.file("branchy.onnx"));
  const std::vector<float> input = read_raw<float>(dir.file("input.f32"));
  const std::vector<float> expected_scores = read_raw<float>(dir.file("scores.f32"));
  const std::vector<float> expected_boxes = read_raw<float>(dir.file("boxes.f32"));
  auto worst = [](const std::vector<float>& ours, const std::vector<float>& expected) {
    EXPECT_EQ(ours.size(), expected.size());
    double w = 0;
    for (size_t i = 0; i < std::min(ours.size(), expected.size()); ++i) w = std::max<double>(w, std::abs(ours[i] - expected[i]));
    return w;
  };
  for (int threads : {1, 2}) {
    auto engine = create_onednn_engine(model.graph, threads);
    std::vector<Tensor> out;
    engine->forward(input.data(), out);
    EXPECT_EQ(out.at(1).shape, (TensorShape{1, 3840, 4}));
    const std::vector<float>& scores = out[0].data;
    const std::vector<float>& boxes = out[1].data;
    EXPECT_LE(worst(scores, expected_scores), 1e-4) << threads << " thread(s)";
    EXPECT_LE(worst(boxes, expected_boxes), 1e-4) << threads << " thread(s)";
  }
}

namespace {

onnx::NodeProto* first_node(onnx::ModelProto& m, const std::string& op) {
  for (auto& n : *m.mutable_graph()->mutable_node())
    if (n.op_type() == op) return &n;
  return nullptr;
}

// Runs `model` on one fixed input through an engine.
std::pair<std::vector<float>, std::vector<float>> outputs_of(const std::string& model, const std::string& engine) {
  const DetectorModel m = load_detector_model(model);
  std::vector<float> input(3 * 300 * 300);
  for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<float>((i * 7919) % 255) / 127.5f - 1.0f;
  auto e = engine == "opencv" ? create_opencv_engine(m.graph, 2) : create_onednn_engine(m.graph, 2);
  std::vector<Tensor> out;
  e->forward(input.data(), out);
  return {out.at(0).data, out.at(1).data};
}

double worst_difference(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double w = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    w = std::max(w, std::abs(a[i] - b[i]) / (1e-4 + 1e-3 * std::abs(b[i])));
  return w;  // <= 1 means within 1e-4 + 1e-3 rel
}

}  // namespace

// Malformed attributes and tensors are errors naming the node or tensor before any engine
// sees them (strides 0 divided by zero in oneDNN, group 0 in OpenCV DNN; a short
// raw_data was read past its end).
TEST(OnnxGraph, MalformedAttributesAndTensorsAreErrors) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.pth"));
  TempDir dir;
  const std::vector<std::pair<std::string, std::function<void(onnx::ModelProto&)>>> cases = {
      {"strides must be within 1..1024", [](onnx::ModelProto& m) {
         for (auto& a : *first_node(m, "Conv")->mutable_attribute())
           if (a.name() == "strides") a.set_ints(0, 0);
       }},
      {"group must be within 1..65536", [](onnx::ModelProto& m) {
         auto* a = first_node(m, "Conv")->add_attribute();
         a->set_name("group"), a->set_type(onnx::AttributeProto::INT), a->set_i(0);
       }},
      {"holds 3 values but its dimensions need", [](onnx::ModelProto& m) {
         auto* t = m.mutable_graph()->mutable_initializer(0);
         t->clear_float_data();
         t->set_raw_data(std::string(12, '\0'));
       }},
      {"external tensor data", [](onnx::ModelProto& m) {
         m.mutable_graph()->mutable_initializer(0)->set_data_location(onnx::TensorProto::EXTERNAL);
       }},
  };
  for (const auto& [message, edit] : cases) {
    rewrite(exported_fixture(), dir.file("bad.onnx"), edit);
    const std::string e = error_of([&] { load_detector_model(dir.file("bad.onnx")); });
    EXPECT_NE(e.find(message), std::string::npos) << e;
    EXPECT_NE(e.find("bad.onnx"), std::string::npos) << e;
  }
}

// MaxPool (VGG-style SSD graphs) passes the up-front op check, so the oneDNN engine runs
// it: a 3x3 pool inserted into the trained net gives OpenCV DNN's outputs.
TEST(Engines, OneDnnMaxPoolEqualsOpenCv) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  TempDir dir;
  export_reference_onnx(dir.file("ref.onnx"));
  rewrite(dir.file("ref.onnx"), dir.file("pool.onnx"), [](onnx::ModelProto& m) {
    auto* nodes = m.mutable_graph()->mutable_node();
    int at = 0;
    while (nodes->Get(at).op_type() != "Clip") ++at;
    const std::string out = nodes->Get(at).output(0);
    nodes->Mutable(at)->set_output(0, out + "_before_pool");
    onnx::NodeProto pool;
    pool.set_op_type("MaxPool"), pool.set_name("pool"), pool.add_input(out + "_before_pool"), pool.add_output(out);
    for (const auto& [name, values] : std::vector<std::pair<std::string, std::vector<int64_t>>>{
             {"kernel_shape", {3, 3}}, {"strides", {1, 1}}, {"pads", {1, 1, 1, 1}}}) {
      auto* a = pool.add_attribute();
      a->set_name(name), a->set_type(onnx::AttributeProto::INTS);
      for (int64_t v : values) a->add_ints(v);
    }
    *nodes->Add() = pool;
    for (int i = nodes->size() - 1; i > at + 1; --i) nodes->SwapElements(i, i - 1);
  });
  const auto [pool_scores, pool_boxes] = outputs_of(dir.file("pool.onnx"), "onednn");
  const auto [cv_scores, cv_boxes] = outputs_of(dir.file("pool.onnx"), "opencv");
  EXPECT_LE(worst_difference(pool_scores, cv_scores), 1.0);
  EXPECT_LE(worst_difference(pool_boxes, cv_boxes), 1.0);
  const auto [plain_scores, plain_boxes] = outputs_of(dir.file("ref.onnx"), "onednn");
  EXPECT_GT(worst_difference(pool_scores, plain_scores), 1.0) << "the pool changed nothing";
}

// int8 reads a ReLU6's bounds whether the Clip carries them as attributes (opset 10, our
// export) or as constant inputs (opset 11+, newer torch.onnx): both quantized models agree.
TEST(Int8, ClipBoundsFromInputsAsFromAttributes) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  EDGESSD_REQUIRE_FILE(plates_dir());
  TempDir dir;
  export_reference_onnx(dir.file("attr.onnx"));
  rewrite(dir.file("attr.onnx"), dir.file("inputs.onnx"), [](onnx::ModelProto& m) {
    m.mutable_opset_import(0)->set_version(11);
    int k = 0;
    for (auto& node : *m.mutable_graph()->mutable_node()) {
      if (node.op_type() != "Clip") continue;
      for (const auto& a : node.attribute()) {
        auto* t = m.mutable_graph()->add_initializer();
        t->set_name("clip_" + a.name() + std::to_string(k));
        t->set_data_type(onnx::TensorProto::FLOAT);
        t->add_float_data(a.f());
      }
      node.add_input("clip_min" + std::to_string(k)), node.add_input("clip_max" + std::to_string(k));
      node.clear_attribute();
      ++k;
    }
    ASSERT_GT(k, 10);
  });
  std::vector<std::string> images = list_images(plates_dir() + "/train");
  images.resize(4);
  quantize_onnx_model(dir.file("attr.onnx"), "", images, dir.file("attr-int8.onnx"));
  quantize_onnx_model(dir.file("inputs.onnx"), "", images, dir.file("inputs-int8.onnx"));
  const auto [attr_scores, attr_boxes] = outputs_of(dir.file("attr-int8.onnx"), "onednn");
  const auto [input_scores, input_boxes] = outputs_of(dir.file("inputs-int8.onnx"), "onednn");
  EXPECT_LE(worst_difference(input_scores, attr_scores), 1.0);
  EXPECT_LE(worst_difference(input_boxes, attr_boxes), 1.0);
}

// The ONNX fuzz target (both engines) over its corpus and mutations of it, as the suite
// runs it: the seed, and what libFuzzer found (a Transpose whose perm is no permutation;
// a Conv reading an initializer that is not there, which crashed OpenCV DNN's importer; a
// Concat of shapes that do not concatenate, which the oneDNN engine copied past its end).
TEST(OnnxGraph, FuzzTargetSurvivesMutatedSeeds) {
  const std::string corpus = std::string(EDGESSD_SOURCE_DIR) + "/fuzz/corpus-onnx/";
  CommandResult r = run_command(std::string(EDGESSD_FUZZ_ONNX_REPLAY) + " --mutate 150 " + corpus +
                                "seed-branchy-32.onnx " + corpus + "crash-transpose-perm.onnx " + corpus +
                                "crash-missing-initializer.onnx " + corpus + "crash-concat-shapes.onnx");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("replayed 604 inputs without a crash"), std::string::npos) << r.output;
}
