// Hostile input (issue 15's probes that crashed or destroyed files): each command ends with
// exit code 1, a last line naming the file or flag, and no file changed but its output.
#include <sys/stat.h>

#include <onnx/onnx_pb.h>

#include <opencv2/imgcodecs.hpp>

#include <fstream>

#include "edgessd/common/files.h"
#include "edgessd/common/model_info.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;

namespace {

CommandResult edgessd_cli(const std::string& args) { return run_command(std::string(EDGESSD_CLI) + " " + args); }
CommandResult edgessd_detect(const std::string& args) { return run_command(std::string(EDGESSD_DETECT) + " " + args); }

std::string last_line(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s.substr(s.rfind('\n') == std::string::npos ? 0 : s.rfind('\n') + 1);
}

#define EXPECT_FAILS_WITH(result, text)                                              \
  do {                                                                               \
    const CommandResult& r_ = (result);                                              \
    EXPECT_EQ(r_.exit_code, 1) << r_.output;                                         \
    EXPECT_NE(last_line(r_.output).find(text), std::string::npos) << r_.output;     \
    EXPECT_EQ(r_.output.find("internal error"), std::string::npos) << r_.output;    \
  } while (0)

// An Open Images layout with `rows` (ImageID, ClassName, image size) in its train and test
// splits. The images are PNG bytes under .jpg names (OpenCV reads by content, and a tiny
// PNG, unlike a tiny JPEG, has no 1/8-scale decode: what used to abort eval and train).
void write_dataset(const std::string& root, const std::vector<std::tuple<std::string, std::string, cv::Size>>& rows) {
  for (const std::string split : {"train", "test"}) {
    std::filesystem::create_directories(root + "/" + split);
    std::string csv = "ImageID,XMin,XMax,YMin,YMax,IsGroupOf,ClassName\n";
    for (const auto& [id, name, size] : rows) {
      std::vector<uchar> png;
      cv::imencode(".png", cv::Mat(size, CV_8UC3, cv::Scalar(90, 120, 150)), png);
      write_file_atomic(root + "/" + split + "/" + id + ".jpg", std::string(png.begin(), png.end()));
      csv += id + ",0.2,0.6,0.3,0.7,0,\"" + name + "\"\n";
    }
    write_file_atomic(root + "/sub-" + split + "-annotations-bbox.csv", csv);
  }
}

std::string eval_args(const std::string& dataset, const std::string& eval_dir) {
  return "eval --trained-model " + fixture("ref-trained.pth") + " --net mb1-ssd-relu6 --label-file " +
         fixture("ref-trained-labels.txt") + " --dataset " + dataset + " --eval-dir " + eval_dir;
}

}  // namespace

// Images under 8 px on a side aborted eval and train (an uncaught cv::Exception, exit 134):
// they are dropped with a warning naming them, like undecodable ones.
TEST(HostileInput, TinyImagesAreDroppedNotFatal) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  TempDir dir;
  write_dataset(dir.file("data"), {{"aa01", "Vehicle registration plate", {64, 48}},
                                   {"aa02", "Vehicle registration plate", {4, 4}},
                                   {"aa03", "Vehicle registration plate", {100, 1}},
                                   {"aa04", "Vehicle registration plate", {1, 1}}});
  CommandResult r = edgessd_cli(eval_args(dir.file("data"), dir.file("eval")));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("3 images under 8 px on a side"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Average Precision Across All Classes:"), std::string::npos) << r.output;
  r = edgessd_cli("train --data " + dir.file("data") + " --epochs 1 --batch-size 1 --workers 1 --model-dir " +
                  dir.file("m"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("3 images under 8 px on a side"), std::string::npos) << r.output;
}

// --threads 100000 crashed detect, bench and eval --model; train --threads 5000 hung.
TEST(HostileInput, ThreadCountsAreCapped) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.onnx"));
  TempDir dir;
  const std::string model = fixture("mb1-ssd-2class-random.onnx") + " --labels " + fixture("ref-trained-labels.txt");
  cv::imwrite(dir.file("a.jpg"), cv::Mat(64, 64, CV_8UC3, cv::Scalar(1, 2, 3)));
  EXPECT_FAILS_WITH(edgessd_detect("--model " + model + " --threads 100000 --headless " + dir.file("a.jpg")),
                    "--threads 100000: must be within 0 (every core) and");
  EXPECT_FAILS_WITH(edgessd_cli("bench --model " + fixture("mb1-ssd-2class-random.onnx") + " --threads 100000"),
                    "--threads 100000");
  EXPECT_FAILS_WITH(edgessd_cli("train --data " + dir.file("d") + " --threads 5000 --model-dir " + dir.file("m")),
                    "--threads 5000");
  EXPECT_FALSE(std::filesystem::exists(dir.file("m")));
  EXPECT_NE(edgessd_detect("--help").output.find("at most 4 per core"), std::string::npos);
}

// An output that is not a regular file is never replaced (convert --output /dev/null used
// to replace the device node with a 26 MB file and write /dev/null.json beside it).
TEST(HostileInput, OutputsNeverReplaceDevicesFoldersOrPipes) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  TempDir dir;
  ASSERT_EQ(::mkfifo(dir.file("pipe").c_str(), 0600), 0);
  std::filesystem::create_directory(dir.file("folder"));
  for (const std::string& target : {dir.file("pipe"), dir.file("folder")}) {
    EXPECT_FAILS_WITH(edgessd_cli("convert --input " + fixture("ref-trained.pth") + " --net mb1-ssd-relu6 --labels " +
                                  fixture("ref-trained-labels.txt") + " --output " + target),
                      "is not a regular file; refusing to replace it");
    EXPECT_FAILS_WITH(edgessd_cli("export --input " + fixture("ref-trained.pth") + " --net mb1-ssd-relu6 --labels " +
                                  fixture("ref-trained-labels.txt") + " --output " + target),
                      "is not a regular file; refusing to replace it");
  }
  struct stat st{};
  ASSERT_EQ(::stat(dir.file("pipe").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_TRUE(std::filesystem::is_directory(dir.file("folder")));
  EXPECT_TRUE(std::filesystem::is_empty(dir.file("folder")));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 2) << "nothing written beside them";
  // Inputs that are not regular files: a folder, an endless device.
  EXPECT_FAILS_WITH(edgessd_cli("convert --input " + dir.file("folder") + " --output " + dir.file("x.pth")),
                    "is a folder, not a file");
  EXPECT_FAILS_WITH(edgessd_cli("convert --input /dev/zero --output " + dir.file("x.pth")), "/dev/zero: not a regular file");
}

// detect never writes its annotated frames over its inputs.
TEST(HostileInput, DetectRefusesToOverwriteItsInputs) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.onnx"));
  TempDir dir;
  const std::string model = "--model " + fixture("mb1-ssd-2class-random.onnx") + " --labels " +
                            fixture("ref-trained-labels.txt") + " --headless ";
  std::filesystem::create_directory(dir.file("imgs"));
  cv::imwrite(dir.file("imgs/a.jpg"), cv::Mat(64, 64, CV_8UC3, cv::Scalar(1, 2, 3)));
  const std::string before = read_file(dir.file("imgs/a.jpg"));
  for (const auto& [in, out] : std::vector<std::pair<std::string, std::string>>{
           {dir.file("imgs"), dir.file("imgs")},
           {dir.file("imgs/a.jpg"), dir.file("imgs/a.jpg")},
           {dir.file("imgs/a.jpg"), dir.file("imgs")},
           {dir.file("imgs/*.jpg"), dir.file("imgs/")}})
    EXPECT_FAILS_WITH(edgessd_detect(model + "'" + in + "' " + out), "its images would be overwritten");
  EXPECT_EQ(read_file(dir.file("imgs/a.jpg")), before);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.file("imgs")), {}), 1);
}

// Class names from data files are untrusted: validated at load, and file names made of
// them stay inside the output folder.
TEST(HostileInput, ClassNamesAreCheckedAndFileNamesSanitised) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  TempDir dir;
  for (const auto& [name, message] : std::vector<std::pair<std::string, std::string>>{
           {"BACKGROUND", "BACKGROUND is reserved for class 0"},
           {"", "has an empty name"},
           {"two\nlines", "holds a control character"}}) {
    const std::string root = dir.file("bad" + std::to_string(name.size()));
    write_dataset(root, {{"bb01", name, {64, 48}}, {"bb02", "car", {64, 48}}});
    EXPECT_FAILS_WITH(edgessd_cli("train --data " + root + " --model-dir " + dir.file("m")), message);
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("m")));
  // A name with path separators evaluates, and its det_test file stays in --eval-dir.
  write_labels(dir.file("labels.txt"), {"BACKGROUND", "/../../../x"});
  write_dataset(dir.file("odd"), {{"cc01", "/../../../x", {64, 48}}});
  CommandResult r = edgessd_cli("eval --trained-model " + fixture("ref-trained.pth") + " --net mb1-ssd-relu6 --label-file " +
                                dir.file("labels.txt") + " --dataset " + dir.file("odd") + " --eval-dir " +
                                dir.file("eval/deep"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir.file("eval/deep/det_test__.._.._.._x.txt"))) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.txt")));
}

// NaN and out-of-range numbers are refused before any work; parse errors exit 1 too.
TEST(HostileInput, NumbersAreRangeCheckedAndParseErrorsExitOne) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.onnx"));
  TempDir dir;
  write_dataset(dir.file("data"), {{"dd01", "car", {64, 48}}});
  const std::string train = "train --data " + dir.file("data") + " --model-dir " + dir.file("m") + " ";
  for (const auto& [flags, message] : std::vector<std::pair<std::string, std::string>>{
           {"--lr nan", "--lr nan: must be a finite number of at least 0.0"},
           {"--lr -1", "--lr -1.0: must be a finite number"},
           {"--lr inf", "--lr inf: must be a finite number"},
           {"--momentum nan", "--momentum nan"},
           {"--weight-decay -1", "--weight-decay -1.0"},
           {"--gamma nan", "--gamma nan"},
           {"--t-max 0", "--t-max 0.0"},
           {"--clip-grad-norm nan", "--clip-grad-norm nan"},
           {"--warmup-epochs nan", "--warmup-epochs nan"},
           {"--ema 1", "--ema 1.0: must be within 0.0..0.9999"},
           {"--ema nan", "--ema nan"}})
    EXPECT_FAILS_WITH(edgessd_cli(train + flags), message);
  EXPECT_FALSE(std::filesystem::exists(dir.file("m")));
  EXPECT_FAILS_WITH(edgessd_cli(train + "--batch-size 0"), "--batch-size");
  EXPECT_FAILS_WITH(edgessd_cli(train + "--no-such-flag"), "no-such-flag");
  EXPECT_FAILS_WITH(edgessd_cli(eval_args(dir.file("data"), dir.file("eval")) + " --iou-threshold nan"),
                    "--iou-threshold");
  EXPECT_FALSE(std::filesystem::exists(dir.file("eval")));
  cv::imwrite(dir.file("a.jpg"), cv::Mat(64, 64, CV_8UC3, cv::Scalar(1, 2, 3)));
  EXPECT_FAILS_WITH(edgessd_detect("--model " + fixture("mb1-ssd-2class-random.onnx") + " --labels " +
                                   fixture("ref-trained-labels.txt") + " --threshold nan --headless " + dir.file("a.jpg")),
                    "--threshold");
}

// Errors that misled (issue 15): each now names the real cause, before any work.
TEST(HostileInput, ErrorsNameTheRealCause) {
  EDGESSD_REQUIRE_FILE(fixture("mb1-ssd-2class-random.onnx"));
  TempDir dir;
  write_file_atomic(dir.file("file"), std::string("x"));
  // convert --from face-api --input X said "demo: not a folder" (the calibration default).
  EXPECT_FAILS_WITH(edgessd_cli("convert --from face-api --input " + dir.file("nowhere") + " --output " + dir.file("o.pth")),
                    "--input " + dir.file("nowhere") + ": not a folder");
  // download --data FILE said "cannot create the folder (Success)".
  EXPECT_FAILS_WITH(edgessd_cli("download --class-names Car --data " + dir.file("file/sub")),
                    "--data " + dir.file("file/sub") + ": cannot create the folder (" + dir.file("file") + " is not a folder)");
  // A train split with no image said "a detector needs at least 2 classes".
  write_dataset(dir.file("empty"), {});
  EXPECT_FAILS_WITH(edgessd_cli("train --data " + dir.file("empty") + " --model-dir " + dir.file("m")),
                    "the 'train' split has no usable image with a box; nothing to train on");
  EXPECT_FALSE(std::filesystem::exists(dir.file("m")));
  // A 100000x100000 input shape ended in std::bad_alloc.
  onnx::ModelProto model;
  {
    std::ifstream in(fixture("mb1-ssd-2class-random.onnx"), std::ios::binary);
    ASSERT_TRUE(model.ParseFromIstream(&in));
  }
  auto* shape = model.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
  shape->mutable_dim(2)->set_dim_value(100000);
  shape->mutable_dim(3)->set_dim_value(100000);
  {
    std::ofstream out(dir.file("huge.onnx"), std::ios::binary);
    ASSERT_TRUE(model.SerializeToOstream(&out));
  }
  cv::imwrite(dir.file("a.jpg"), cv::Mat(64, 64, CV_8UC3, cv::Scalar(1, 2, 3)));
  for (const std::string& engine : {"onednn", "opencv"})
    EXPECT_FAILS_WITH(edgessd_detect("--model " + dir.file("huge.onnx") + " --labels " + fixture("ref-trained-labels.txt") +
                                     " --engine " + engine + " --headless " + dir.file("a.jpg")),
                      "is 1x3x100000x100000; the runtime takes at most 4096x4096");
}
