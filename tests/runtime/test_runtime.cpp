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
#include "edgessd/runtime/detector.h"
#include "edgessd/runtime/engine.h"
#include "edgessd/runtime/onnx_model.h"
#include "edgessd/runtime/overlay.h"
#include "edgessd/runtime/video_output.h"
#include "edgessd/runtime/video_source.h"
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

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
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

TEST(OnnxModel, UnknownOperatorNamesTheNode) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.pth"));
  TempDir dir;
  rewrite(exported_fixture(), dir.file("bad.onnx"), [](onnx::ModelProto& m) {
    m.mutable_graph()->mutable_node(5)->set_op_type("FancyConv");
    m.mutable_graph()->mutable_node(5)->set_name("the_bad_node");
  });
  const std::string e = error_of([&] { load_onnx_model(dir.file("bad.onnx")); });
  EXPECT_NE(e.find("the_bad_node"), std::string::npos) << e;
  EXPECT_NE(e.find("FancyConv"), std::string::npos) << e;
}

TEST(OnnxModel, WrongInputShapeAndLabels) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.pth"));
  TempDir dir;
  rewrite(exported_fixture(), dir.file("gray.onnx"), [](onnx::ModelProto& m) {
    m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(1)->set_dim_value(1);
  });
  std::string e = error_of([&] { load_onnx_model(dir.file("gray.onnx")); });
  EXPECT_NE(e.find("3 channels"), std::string::npos) << e;
  EXPECT_NE(e.find("input_0"), std::string::npos) << e;

  write_labels(dir.file("three.txt"), {"BACKGROUND", "plate", "car"});
  e = error_of([&] { load_onnx_model(exported_fixture(), dir.file("three.txt")); });
  EXPECT_NE(e.find("3 classes"), std::string::npos) << e;
  EXPECT_NE(e.find("outputs 2"), std::string::npos) << e;

  write_file_atomic(dir.file("junk.onnx"), std::string("not a model at all"));
  e = error_of([&] { load_onnx_model(dir.file("junk.onnx")); });
  EXPECT_NE(e.find("junk.onnx"), std::string::npos) << e;

  // pytorch-ssd's export carries no labels: without --labels or labels.txt it is an error.
  e = error_of([&] { load_onnx_model(fixture("mb1-ssd-2class-random.onnx")); });
  EXPECT_NE(e.find("--labels"), std::string::npos) << e;
}

TEST(Detector, FindsPlatesWithTheTrainedModel) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  EDGESSD_REQUIRE_FILE(plates_dir());
  TempDir dir;
  export_reference_onnx(dir.file("ref.onnx"));
  PostprocessOptions post;
  post.probability_threshold = 0.3f;
  Detector detector(load_onnx_model(dir.file("ref.onnx")), {}, post);
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
  draw_detections(image, {d}, {"BACKGROUND", "plate"});
  EXPECT_NE(image.at<cv::Vec3b>(90, 100), cv::Vec3b(0, 0, 0));  // bottom edge
  EXPECT_EQ(image.at<cv::Vec3b>(70, 100), cv::Vec3b(0, 0, 0));  // inside stays clear
  EXPECT_EQ(image.at<cv::Vec3b>(5, 5), cv::Vec3b(0, 0, 0));     // outside too
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
  EXPECT_GT(quantize_onnx_model(dir.file("fp32.onnx"), images, dir.file("int8.onnx")), 30u);
  DatasetOptions options;
  options.class_names = info.class_names;
  const DetectionDataset test = read_open_images(plates_dir(), "test", options);
  auto map_of = [&](const std::string& path, const std::string& expected_engine) {
    Detector detector(load_onnx_model(path), {"onednn", 2});
    EXPECT_EQ(detector.engine_name(), expected_engine);
    return evaluate(test, [&](const cv::Mat& rgb) { return detector.detect_rgb(rgb); }, {}).mean_average_precision;
  };
  const double fp32 = map_of(dir.file("fp32.onnx"), "onednn");
  const double int8 = map_of(dir.file("int8.onnx"), "onednn-int8");
  EXPECT_NEAR(fp32, 0.22753, 0.002);
  EXPECT_GE(int8, fp32 - 0.01) << "fp32 " << fp32 << ", int8 " << int8;
  // Other runtimes see the unchanged fp32 graph.
  Detector opencv(load_onnx_model(dir.file("int8.onnx")), {"opencv", 2});
  EXPECT_NEAR(evaluate(test, [&](const cv::Mat& rgb) { return opencv.detect_rgb(rgb); }, {}).mean_average_precision, fp32,
              0.002);
}

TEST(Engines, AutoPicksOneDnn) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.pth"));
  Detector detector(load_onnx_model(exported_fixture()), {});
  EXPECT_EQ(detector.engine_name(), "onednn");
}

// A graph unlike MobileNet-v1 SSD (a residual Add, linear and stride-2 depthwise layers,
// two head scales), made by PyTorch at test time: the oneDNN engine, with its activation
// arena and its own depthwise kernel, gives PyTorch's outputs at 1 and 2 threads.
TEST(Engines, OneDnnRunsOtherGraphsAsPytorchDoes) {
  TempDir dir;
  const CommandResult made = run_command(debian_python() + " '" + std::string(EDGESSD_SOURCE_DIR) +
                                         "/tests/runtime/branchy_ssd.py' '" + dir.path() + "'");
  if (made.exit_code != 0) GTEST_SKIP() << "making the graph needs Debian's python3-torch: " << made.output;
  const OnnxModel model = load_onnx_model(dir.file("branchy.onnx"));
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
    auto engine = create_onednn_engine(model, threads);
    std::vector<float> scores, boxes;
    int64_t priors = 0;
    engine->forward(input.data(), scores, boxes, priors);
    EXPECT_EQ(priors, 3840);
    EXPECT_LE(worst(scores, expected_scores), 1e-4) << threads << " thread(s)";
    EXPECT_LE(worst(boxes, expected_boxes), 1e-4) << threads << " thread(s)";
  }
}
