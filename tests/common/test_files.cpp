// The output rule (common/output_guard.h) on hand-made files: the same file under another
// name (a symlink, "..", a hard link), a file inside an input folder, two outputs on one
// path; and a new run folder removed again when its run fails before any checkpoint.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/output_guard.h"
#include "support/test_support.h"

using namespace edgessd;
using edgessd::testing::TempDir;
namespace fs = std::filesystem;

namespace {

std::string error_of(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs) {
  try {
    check_outputs_apart(outputs, inputs);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(OutputGuard, AnOutputIsNeverAnInputWhateverItsName) {
  TempDir dir;
  fs::create_directories(dir.file("data/train"));
  write_file_atomic(dir.file("model.pth"), "weights");
  write_file_atomic(dir.file("model.json"), "{}");
  write_file_atomic(dir.file("data/sub-train-annotations-bbox.csv"), "ImageID\n");
  fs::create_symlink(dir.file("model.pth"), dir.file("link.pth"));
  ASSERT_EQ(::link(dir.file("model.pth").c_str(), dir.file("hard.pth").c_str()), 0);
  const std::vector<NamedPath> inputs = checkpoint_inputs(dir.file("model.pth"), "--input");
  EXPECT_EQ(inputs.size(), 2u);
  for (const std::string& same : {dir.file("model.pth"), dir.file("link.pth"), dir.file("hard.pth"),
                                  dir.file("data/../model.pth")})
    EXPECT_NE(error_of({{same, "--output"}}, inputs).find("is --input " + dir.file("model.pth")), std::string::npos)
        << same;
  EXPECT_NE(error_of({{dir.file("model.json"), "--output"}}, inputs).find("is --input's model JSON"), std::string::npos);
  EXPECT_EQ(error_of({{dir.file("other.onnx"), "--output"}}, inputs), "");
  const std::vector<NamedPath> data = {{dir.file("data"), "--data"}};
  EXPECT_NE(error_of({{dir.file("data/sub-train-annotations-bbox.csv"), "--output"}}, data).find("lies inside --data"),
            std::string::npos);
  EXPECT_NE(error_of({{dir.file("data/train/new.onnx"), "--output"}}, data).find("lies inside"), std::string::npos)
      << "a new file inside a data set too";
  EXPECT_EQ(error_of({{dir.file("data-2/x.onnx"), "--output"}}, data), "") << "a sibling whose name starts alike";
  EXPECT_EQ(error_of({{dir.file("x.onnx"), "--output"}}, {{dir.file("missing.pth"), "--input"}, {"", "--labels"}}), "");
  EXPECT_NE(error_of({{dir.file("a.avi"), "output"}, {dir.file("./a.avi"), "--events"}}, {})
                .find("--events " + dir.file("./a.avi") + " is also output"),
            std::string::npos);
  EXPECT_THROW(check_output_extension(dir.file("data/sub-train-annotations-bbox.csv"), "--output", ".onnx", "an ONNX"),
               Error);
  EXPECT_NO_THROW(check_output_extension("x.onnx", "--output", ".onnx", "an ONNX"));
  EXPECT_THROW(check_no_repeats({dir.file("data"), dir.file("data/")}, "--data"), Error);
}

TEST(NewFolderGuard, AFailedStartLeavesNoFolderAndAnythingElseStays) {
  TempDir dir;
  try {
    const NewFolderGuard guard(dir.file("m"));
    make_folder(dir.file("m"));
    write_file_atomic(dir.file("m/labels.txt"), "BACKGROUND\nplate\n");
    throw std::runtime_error("loss became NaN");
  } catch (const std::runtime_error&) {
  }
  EXPECT_FALSE(fs::exists(dir.file("m"))) << "made by the failed run, holding no checkpoint";
  try {
    const NewFolderGuard guard(dir.file("k"));
    make_folder(dir.file("k"));
    write_file_atomic(dir.file("k/x-Epoch-0.pth"), "w");
    throw std::runtime_error("lost a rank");
  } catch (const std::runtime_error&) {
  }
  EXPECT_TRUE(fs::exists(dir.file("k/x-Epoch-0.pth"))) << "a checkpoint is kept";
  fs::create_directories(dir.file("old"));
  try {
    const NewFolderGuard guard(dir.file("old"));
    throw std::runtime_error("x");
  } catch (const std::runtime_error&) {
  }
  EXPECT_TRUE(fs::exists(dir.file("old"))) << "a folder that existed before is never touched";
  {
    const NewFolderGuard guard(dir.file("ok"));
    make_folder(dir.file("ok"));
  }
  EXPECT_TRUE(fs::exists(dir.file("ok"))) << "a run that succeeds keeps its folder";
}
