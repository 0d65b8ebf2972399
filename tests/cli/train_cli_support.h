#pragma once
// What the train command's end-to-end tests share: the real binary, a slice of plates-us
// and a face-api base converted once per suite.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>

#include "edgessd/common/csv.h"
#include "edgessd/common/files.h"
#include "edgessd/common/model_info.h"
#include "edgessd/model/checkpoint.h"
#include "support/test_support.h"

namespace edgessd::testing::train_cli {

inline CommandResult edgessd_cli(const std::string& args) { return run_command(std::string(EDGESSD_CLI) + " " + args); }

// A copy of plates-us with the first `n` images of each split (images symlinked).
inline void make_slice(const std::string& dir, const std::map<std::string, size_t>& counts) {
  for (const auto& [split, n] : counts) {
    std::filesystem::create_directories(dir + "/" + split);
    const std::string csv_path = plates_dir() + "/sub-" + split + "-annotations-bbox.csv";
    CsvTable table(read_file(csv_path), csv_path);
    std::string text;
    {
      std::ifstream in(csv_path);
      std::getline(in, text);
      text += "\n";
    }
    std::ifstream in(csv_path);
    std::string line;
    std::getline(in, line);
    for (size_t r = 0; r < n && std::getline(in, line); ++r) {
      text += line + "\n";
      const std::string id = line.substr(0, line.find(','));
      std::filesystem::create_symlink(plates_dir() + "/" + split + "/" + id + ".jpg", dir + "/" + split + "/" + id + ".jpg");
    }
    write_file_atomic(dir + "/sub-" + split + "-annotations-bbox.csv", text);
  }
}

inline std::vector<std::string> checkpoints(const std::string& dir) {
  std::vector<std::string> out;
  for (auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".pth" && e.path().filename() != "best.pth") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

inline std::string checkpoint_of_epoch(const std::string& dir, int epoch) {
  for (const auto& c : checkpoints(dir))
    if (c.find("-Epoch-" + std::to_string(epoch) + "-Loss-") != std::string::npos) return c;
  return "";
}

class TrainCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(plates_dir())) return;
    dir_ = new TempDir();
    make_slice(dir_->file("data"), {{"train", 8}, {"validation", 4}, {"test", 4}});
    CommandResult r = edgessd_cli("convert --from face-api --calibration " + plates_dir() +
                                  "/train --calibration-images 16 --output " + dir_->file("base.pth"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  static void TearDownTestSuite() { delete dir_; }
  void SetUp() override { EDGESSD_REQUIRE_FILE(plates_dir()); }
  static std::string train_args(const std::string& model_dir, int epochs, const std::string& lr = "0.001") {
    // fp32 on one thread: bit-for-bit repeatable, so a resumed run can be compared.
    return "train --data " + dir_->file("data") + " --pretrained-ssd " + dir_->file("base.pth") +
           " --epochs " + std::to_string(epochs) + " --batch-size 4 --workers 1 --threads 1 --precision fp32"
           " --lr " + lr + " --base-net-lr " + lr + " --model-dir " + model_dir;
  }
  static inline TempDir* dir_ = nullptr;
};

}  // namespace edgessd::testing::train_cli
