// detectNet's command line as the article and jetson-inference users type it, and RTP
// output received on loopback.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <onnx/onnx_pb.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <chrono>
#include <fstream>
#include <thread>

#include "edgessd/common/files.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;

namespace {

CommandResult edgessd_cli(const std::string& args) { return run_command(std::string(EDGESSD_CLI) + " " + args); }

std::string last_line(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s.substr(s.rfind('\n') == std::string::npos ? 0 : s.rfind('\n') + 1);
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The article's layout: models/ssd-mobilenet.onnx and models/labels.txt under `root`.
void export_models(const TempDir& root) {
  std::filesystem::create_directory(root.file("models"));
  std::filesystem::copy_file(fixture("ref-trained-labels.txt"), root.file("models/labels.txt"));
  CommandResult r = edgessd_cli("export --input " + fixture("ref-trained.pth") + " --net mb1-ssd-relu6 --labels " +
                                root.file("models/labels.txt") + " --output " + root.file("models/ssd-mobilenet.onnx"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

// A short video of plates-us test images at `size`.
void write_video(const std::string& path, int frames, cv::Size size) {
  const auto images = list_images(plates_dir() + "/test");
  cv::VideoWriter writer(path, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10, size);
  ASSERT_TRUE(writer.isOpened());
  for (int i = 0; i < frames; ++i) {
    cv::Mat frame = cv::imread(images[i % images.size()]);
    cv::resize(frame, frame, size);
    writer.write(frame);
  }
}

// The model with its outputs renamed, as other exporters name them.
void rename_outputs(const std::string& from, const std::string& to) {
  onnx::ModelProto model;
  std::ifstream in(from, std::ios::binary);
  ASSERT_TRUE(model.ParseFromIstream(&in));
  const std::map<std::string, std::string> names = {{"scores", "cvg"}, {"boxes", "bbox"}};
  for (auto& node : *model.mutable_graph()->mutable_node())
    for (auto& out : *node.mutable_output())
      if (names.count(out)) out = names.at(out);
  for (auto& out : *model.mutable_graph()->mutable_output()) out.set_name(names.at(out.name()));
  std::ofstream os(to, std::ios::binary);
  ASSERT_TRUE(model.SerializeToOstream(&os));
}

// ref-trained (mAP 0.23) never reaches detectNet's default threshold 0.5: adding 1.5 to the
// plate logit before the softmax makes its best boxes (about 0.3) score about 0.65, so the
// article's line, which sets no threshold, prints detections.
void raise_plate_scores(const std::string& path) {
  onnx::ModelProto model;
  {
    std::ifstream in(path, std::ios::binary);
    ASSERT_TRUE(model.ParseFromIstream(&in));
  }
  auto* graph = model.mutable_graph();
  auto* bias = graph->add_initializer();
  bias->set_name("plate_logit_bias"), bias->set_data_type(onnx::TensorProto::FLOAT), bias->add_dims(2);
  bias->add_float_data(0.0f), bias->add_float_data(1.5f);
  auto* nodes = graph->mutable_node();
  int at = 0;
  while (at < nodes->size() && nodes->Get(at).op_type() != "Softmax") ++at;
  ASSERT_LT(at, nodes->size());
  onnx::NodeProto add;
  add.set_op_type("Add"), add.set_name("plate_logit_shift");
  add.add_input(nodes->Get(at).input(0)), add.add_input("plate_logit_bias"), add.add_output("shifted_logits");
  nodes->Mutable(at)->set_input(0, "shifted_logits");
  *nodes->Add() = add;
  for (int i = nodes->size() - 1; i > at; --i) nodes->SwapElements(i, i - 1);
  std::ofstream os(path, std::ios::binary | std::ios::trunc);
  ASSERT_TRUE(model.SerializeToOstream(&os));
}

int free_udp_port() {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

}  // namespace

// The article's detectnet-camera.py line, word for word, with a video file standing in for
// /dev/video0 (no display here, so no window), through both programs.
TEST(DetectNetFlags, ArticleCommandLineRunsVerbatim) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  EDGESSD_REQUIRE_FILE(plates_dir());
  TempDir root;
  export_models(root);
  raise_plate_scores(root.file("models/ssd-mobilenet.onnx"));
  write_video(root.file("camera.avi"), 4, cv::Size(480, 360));
  const std::string article =
      "--model=models/ssd-mobilenet.onnx --labels=models/labels.txt --input_blob=input_0 --output_cvg=scores "
      "--output_bbox=boxes --camera=" + root.file("camera.avi") + " --width=640 --height=480";
  for (const std::string program : {std::string(EDGESSD_CLI) + " detect", std::string(EDGESSD_DETECT)}) {
    CommandResult r = run_command("cd " + root.path() + " && env -u DISPLAY -u WAYLAND_DISPLAY " + program + " " + article);
    ASSERT_EQ(r.exit_code, 0) << program << "\n" << r.output;
    EXPECT_EQ(count(r.output, "Timing Report"), 4u) << r.output;
    EXPECT_NE(r.output.find("<detectNet.Detection object>\n-- ClassID: 1\n-- Confidence: "), std::string::npos)
        << r.output;
  }
}

// jetson-inference's detectnet flags in both spellings and both forms, the blob names
// selecting another model's outputs, and an overlay as detectNet draws it.
TEST(DetectNetFlags, DetectNetSpellingsBlobNamesAndOverlay) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  EDGESSD_REQUIRE_FILE(plates_dir());
  TempDir root;
  export_models(root);
  rename_outputs(root.file("models/ssd-mobilenet.onnx"), root.file("renamed.onnx"));
  write_video(root.file("in.avi"), 3, cv::Size(320, 240));
  CommandResult r = run_command(std::string(EDGESSD_DETECT) + " --network " + root.file("renamed.onnx") +
                                " --labels " + root.file("models/labels.txt") +
                                " --input-blob input_0 --output-cvg cvg --output-bbox=bbox --threshold=0.3"
                                " --overlay=box,lines,labels,conf --alpha 80 --input-width=400 --input-height 300"
                                " --input-rate 10 --input-loop 1 --input-codec h264 --output-codec mjpeg"
                                " --bitrate 2000000 --headless " + root.file("in.avi") + " " + root.file("out.avi"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(count_video_frames(root.file("out.avi"), cv::Size(400, 300)), 6);  // --input-loop 1: twice through

  r = run_command(std::string(EDGESSD_DETECT) + " --model " + root.file("renamed.onnx") + " --labels " +
                  root.file("models/labels.txt") + " --headless " + root.file("in.avi"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(last_line(r.output).find("no output named 'scores' (--output-cvg); the model's outputs are 'cvg', 'bbox'"),
            std::string::npos) << r.output;
  r = run_command(std::string(EDGESSD_DETECT) + " --model " + root.file("renamed.onnx") + " --labels " +
                  root.file("models/labels.txt") + " --input_blob=data --headless " + root.file("in.avi"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(last_line(r.output).find("no input named 'data' (--input-blob); the model's inputs are 'input_0'"),
            std::string::npos) << r.output;
  r = run_command(std::string(EDGESSD_DETECT) + " --network ssd-mobilenet-v2 " + root.file("in.avi"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(last_line(r.output).find("--network ssd-mobilenet-v2"), std::string::npos) << r.output;
  r = run_command(std::string(EDGESSD_DETECT) + " --model " + root.file("models/ssd-mobilenet.onnx") +
                  " --overlay=box,glow --headless " + root.file("in.avi"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(last_line(r.output).find("unknown flag 'glow'"), std::string::npos) << r.output;
}

// Outputs that are neither files, folders, rtp:// nor display:// are refused up front
// (they used to become local folders named "rtsp:" or "x.txt").
TEST(DetectNetFlags, UnsupportedOutputsAreRefused) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  EDGESSD_REQUIRE_FILE(plates_dir());
  TempDir root;
  export_models(root);
  const std::string image = list_images(plates_dir() + "/test").front();
  for (const auto& [output, message] : std::vector<std::pair<std::string, std::string>>{
           {"rtsp://127.0.0.1:8554/live", "not supported"}, {"webrtc://@:8554/out", "not supported"},
           {"rtp://127.0.0.1", "expected rtp://HOST:PORT"}, {"rtp://127.0.0.1:70000", "1..65535"},
           {root.file("x.txt"), "unknown output type '.txt'"}, {root.file("x.gif"), "unknown output type '.gif'"}}) {
    CommandResult r = run_command(std::string(EDGESSD_DETECT) + " --model " + root.file("models/ssd-mobilenet.onnx") +
                                  " --headless " + image + " " + output);
    EXPECT_EQ(r.exit_code, 1) << output;
    EXPECT_NE(last_line(r.output).find(message), std::string::npos) << output << "\n" << r.output;
  }
  EXPECT_FALSE(std::filesystem::exists(root.file("x.txt")));
  EXPECT_FALSE(std::filesystem::exists("rtsp:"));
}

// detect streams H.264 over RTP to 127.0.0.1; GStreamer's own receiver (gst-launch-1.0, a
// separate process) decodes the frames and counts them.
TEST(DetectNetFlags, RtpOutputIsReceivedOnLoopback) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  EDGESSD_REQUIRE_FILE(plates_dir());
  TempDir root;
  export_models(root);
  constexpr int kFrames = 12;
  write_video(root.file("in.avi"), kFrames, cv::Size(320, 240));
  std::filesystem::create_directory(root.file("received"));
  const int port = free_udp_port();
  const std::string receiver =
      "gst-launch-1.0 -e -q udpsrc address=127.0.0.1 port=" + std::to_string(port) +
      " caps=\"application/x-rtp,media=video,clock-rate=90000,payload=96,encoding-name=H264\" ! rtph264depay ! "
      "avdec_h264 ! videoconvert ! jpegenc ! multifilesink location=" + root.file("received/f%05d.jpg");
  CommandResult started =
      run_command("sh -c '" + receiver + " >" + root.file("receiver.log") + " 2>&1 & echo $! >" + root.file("pid") + "'");
  ASSERT_EQ(started.exit_code, 0) << started.output;
  const pid_t pid = std::stoi(read_file(root.file("pid")));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the receiver binds its port

  CommandResult r = run_command(std::string(EDGESSD_DETECT) + " --model " + root.file("models/ssd-mobilenet.onnx") +
                                " --headless " + root.file("in.avi") + " rtp://127.0.0.1:" + std::to_string(port));
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  kill(pid, SIGINT);  // -e: the receiver drains its pipeline, then exits
  for (int i = 0; i < 100 && kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (kill(pid, 0) == 0) kill(pid, SIGKILL);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Wrote " + std::to_string(kFrames) + " frames to rtp://127.0.0.1"), std::string::npos)
      << r.output;
  const auto received = list_images(root.file("received"));
  EXPECT_GE(received.size(), static_cast<size_t>(kFrames - 2)) << read_file(root.file("receiver.log"));
  ASSERT_FALSE(received.empty());
  EXPECT_EQ(cv::imread(received.front()).size(), cv::Size(320, 240));
}
