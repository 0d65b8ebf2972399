// End-to-end: the real edgessd binary on real files.
#include <nlohmann/json.hpp>

#include "edgessd/common/files.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;

namespace {
CommandResult edgessd_cli(const std::string& args) { return run_command(std::string(EDGESSD_CLI) + " " + args); }

// The last line the CLI printed (its error line on failure).
std::string last_line(const std::string& output) {
  std::string s = output;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s.substr(s.rfind('\n') == std::string::npos ? 0 : s.rfind('\n') + 1);
}
}  // namespace

TEST(Cli, HelpListsSubcommandsAndFlags) {
  CommandResult r = edgessd_cli("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("convert"), std::string::npos) << r.output;
  r = edgessd_cli("convert --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* flag : {"--from", "--input", "--output", "--net", "--labels", "--calibration"})
    EXPECT_NE(r.output.find(flag), std::string::npos) << flag;
}

TEST(Cli, BadFlagsFail) {
  EXPECT_NE(edgessd_cli("").exit_code, 0);
  EXPECT_NE(edgessd_cli("convert --input x.pth").exit_code, 0);  // --output missing
  EXPECT_NE(edgessd_cli("convert --from tflite --input x --output y").exit_code, 0);
}

TEST(Cli, ConvertPytorchSsdCheckpoint) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  TempDir dir;
  CommandResult r = edgessd_cli("convert --input " + fixture("ref-trained.pth") + " --net mb1-ssd-relu6 --labels " +
                                fixture("ref-trained-labels.txt") + " --output " + dir.file("ref.pth"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto info = nlohmann::json::parse(read_file(dir.file("ref.json")));
  EXPECT_EQ(info["net"], "mb1-ssd-relu6");
  EXPECT_EQ(info["class_names"], nlohmann::json({"BACKGROUND", "Vehicle registration plate"}));
  CommandResult py = run_command(debian_python() + " " + EDGESSD_SOURCE_DIR + "/tests/model/pth_tool.py compare " +
                                 fixture("ref-trained.pth") + " " + dir.file("ref.pth"));
  EXPECT_EQ(py.exit_code, 0) << py.output;
  // A second conversion takes net and classes from the JSON beside the input.
  r = edgessd_cli("convert --input " + dir.file("ref.pth") + " --output " + dir.file("again.pth"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(nlohmann::json::parse(read_file(dir.file("again.json")))["class_names"], info["class_names"]);
}

TEST(Cli, ConvertErrorsAreOneClearLine) {
  TempDir dir;
  CommandResult r = edgessd_cli("convert --input " + dir.file("nope.pth") + " --output " + dir.file("out.pth"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(last_line(r.output).find("edgessd: error: " + dir.file("nope.pth") + ": cannot open"), std::string::npos)
      << r.output;
  write_file_atomic(dir.file("garbage.pth"), std::string("PK\x03\x04 definitely not a zip"));
  r = edgessd_cli("convert --input " + dir.file("garbage.pth") + " --output " + dir.file("out.pth"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(last_line(r.output).find(dir.file("garbage.pth") + ": "), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("out.pth")));
  if (std::filesystem::exists(fixture("mb1-ssd-2class-random.pth"))) {
    write_file_atomic(dir.file("labels.txt"), std::string("BACKGROUND\na\nb\n"));
    r = edgessd_cli("convert --input " + fixture("mb1-ssd-2class-random.pth") + " --labels " + dir.file("labels.txt") +
                    " --output " + dir.file("out.pth"));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(last_line(r.output).find("labels.txt: names 3 classes (BACKGROUND included) but "), std::string::npos) << r.output;
    EXPECT_FALSE(std::filesystem::exists(dir.file("out.pth")));
  }
}

TEST(Cli, ConvertFaceApiWithDefaults) {
  EDGESSD_REQUIRE_FILE(face_api_dir() + "/model");
  TempDir dir;
  CommandResult r = edgessd_cli("convert --from face-api --output " + dir.file("base.pth"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("re-estimated 27 BatchNorm layers"), std::string::npos) << r.output;
  auto info = nlohmann::json::parse(read_file(dir.file("base.json")));
  EXPECT_EQ(info["net"], "mb1-ssd-relu6");
  // what we wrote loads back through the pth path
  r = edgessd_cli("convert --input " + dir.file("base.pth") + " --output " + dir.file("copy.pth"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

// The priors check on plates-us: the figures (few plates reachable at 300x300 with
// pytorch-ssd's priors, more at 600x600), a warning naming the remedies, train's defaults
// reaching nearly every plate, and one-line errors.
TEST(Cli, PriorsReportsBestPossibleRecallPerSplit) {
  EDGESSD_REQUIRE_FILE(plates_dir());
  const std::string pytorch_ssd = " --net mb1-ssd --priors ssd";
  CommandResult r = edgessd_cli("priors --data " + plates_dir() + pytorch_ssd + " --resolution 300");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("plates-us train: 130 boxes; best possible recall 0.031"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("a larger input (--resolution, now 300x300), priors fitted to the data (--priors auto) "
                          "or a stride-8 head (--net mb1-ssd-s8)"),
            std::string::npos)
      << r.output;
  r = edgessd_cli("priors --data " + plates_dir() + pytorch_ssd + " --resolution 600");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("train: 130 boxes; best possible recall 0.362"), std::string::npos) << r.output;
  // The stride-8 head with fitted priors reaches nearly every plate; no warning then.
  r = edgessd_cli("priors --data " + plates_dir() + " --net mb1-ssd-relu6-s8 --priors auto --resolution 300");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("11664 priors for a 300x300 input (mb1-ssd-relu6-s8, auto priors)"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("train: 130 boxes; best possible recall 0.938"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("WARNING"), std::string::npos) << r.output;
  // No flags: what `train --data` alone would train, priors fitted to the boxes as the
  // augmentation presents them (0.985); fitted to the boxes as stored, 0.992 (issue 14's).
  r = edgessd_cli("priors --data " + plates_dir());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("18444 priors for a 384x384 input (mb1-ssd-s8, auto priors)"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("train: 130 boxes; best possible recall 0.985"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("WARNING"), std::string::npos) << r.output;
  r = edgessd_cli("priors --data " + plates_dir() + " --priors auto-stored");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("train: 130 boxes; best possible recall 0.992"), std::string::npos) << r.output;
  TempDir dir;
  r = edgessd_cli("priors --data " + dir.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(last_line(r.output).find("no train, validation or test split"), std::string::npos) << r.output;
  r = edgessd_cli("priors --data " + plates_dir() + " --resolution 3x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(last_line(r.output).find("--resolution 3x"), std::string::npos) << r.output;
}

// Issue 29: a trained model's own priors measured on any set and split, a test-only one
// included (--priors auto has no train split to fit to there): a pytorch-ssd checkpoint
// (its net told by its keys, 300x300, pytorch-ssd's priors) and its export alike.
TEST(Cli, PriorsOfATrainedModelOnATestOnlySet) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  const std::string eu = shared_dir() + "/datasets/plates-eu";
  EDGESSD_REQUIRE_FILE(eu);
  CommandResult r = edgessd_cli("priors --data " + eu);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(last_line(r.output).find("no train split with boxes under --data to fit them to (a trained model's "
                                     "priors: --model)"),
            std::string::npos)
      << r.output;
  r = edgessd_cli("priors --data " + eu + " --model " + fixture("ref-trained.pth"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("3000 priors for a 300x300 input (mb1-ssd, ssd priors, " + fixture("ref-trained.pth") + "'s)"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("plates-eu test: 108 boxes; best possible recall 0.296"), std::string::npos) << r.output;
  TempDir dir;
  r = edgessd_cli("export --input " + fixture("ref-trained.pth") + " --net mb1-ssd-relu6 --labels " +
                  fixture("ref-trained-labels.txt") + " --output " + dir.file("ref.onnx"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = edgessd_cli("priors --data " + eu + " --model " + dir.file("ref.onnx") + " --resolution 600");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("priors for a 600x600 input (mb1-ssd-relu6, ssd priors"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("plates-eu test: 108 boxes; best possible recall"), std::string::npos) << r.output;
  r = edgessd_cli("priors --data " + eu + " --model " + dir.file("ref.onnx") + " --priors auto");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(last_line(r.output).find("--priors: not with --model, whose own priors are measured"), std::string::npos)
      << r.output;
}

TEST(Cli, EvalJsonCarriesApBySize) {
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  EDGESSD_REQUIRE_FILE(plates_dir());
  TempDir dir;
  // stdout alone: the JSON (the log goes to stderr).
  CommandResult r = run_command("{ " + std::string(EDGESSD_CLI) + " eval --json --trained-model " +
                                fixture("ref-trained.pth") + " --net mb1-ssd-relu6 --label-file " +
                                fixture("ref-trained-labels.txt") + " --dataset " + plates_dir() + " --eval-dir " +
                                dir.file("e") + " 2>/dev/null; }");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  EXPECT_NEAR(j["mAP"].get<double>(), 0.2275, 0.005);
  EXPECT_EQ(j["by_size"]["medium"]["objects"][0].get<int>() + j["by_size"]["large"]["objects"][0].get<int>() +
                j["by_size"]["small"]["objects"][0].get<int>(),
            30);
  EXPECT_TRUE(j["by_size"]["small"]["mAP"].is_null());  // plates-us test plates are 32-96 px or larger
}
