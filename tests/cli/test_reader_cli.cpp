// End-to-end: synth -> train-reader (and --resume) -> export-reader -> eval-reader on
// both model kinds -> detect --reader, on real files; and the reader commands' errors.
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <sstream>

#include "edgessd/common/files.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;

namespace {

CommandResult cli(const std::string& args) { return run_command(std::string(EDGESSD_CLI) + " " + args); }

size_t line_count(const std::string& path) {
  std::ifstream in(path);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

// A small synthetic set and a reader trained on it (and 64 plates drawn afresh each epoch)
// for two epochs, made once.
const TempDir& trained() {
  static TempDir dir;
  static const bool made = [] {
    CommandResult r = cli("synth --out " + dir.file("synth") + " --count 40 --seed 3");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    r = cli("train-reader --data " + dir.file("synth") + " --model-dir " + dir.file("m") +
            " --synth-plates 64 --num-epochs 2 --batch-size 16 --threads 2");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return true;
  }();
  (void)made;
  return dir;
}

}  // namespace

TEST(ReaderCli, TrainWritesTrainsConventionsAndResumes) {
  const TempDir& dir = trained();
  for (const char* f : {"best.pth", "best.json", "metrics.csv", "loss.png"})
    EXPECT_TRUE(std::filesystem::exists(dir.file(std::string("m/") + f))) << f;
  EXPECT_EQ(line_count(dir.file("m/metrics.csv")), 3u) << read_file(dir.file("m/metrics.csv"));
  std::string epoch1;
  for (const auto& e : std::filesystem::directory_iterator(dir.file("m")))
    if (e.path().filename().string().rfind("plate-reader-Epoch-1-", 0) == 0 && e.path().extension() == ".pth" &&
        e.path().string().find(".optim.") == std::string::npos)
      epoch1 = e.path().string();
  ASSERT_FALSE(epoch1.empty());
  const nlohmann::json info = nlohmann::json::parse(read_file(dir.file("m/best.json")));
  EXPECT_EQ(info["kind"], "plate-reader");
  EXPECT_EQ(info["charset"], "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ");
  // --resume continues at epoch 2 into the same metrics.csv.
  const CommandResult r = cli("train-reader --data " + dir.file("synth") + " --model-dir " + dir.file("m") +
                              " --synth-plates 64 --num-epochs 3 --batch-size 16 --threads 2 --resume '" + epoch1 + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Epoch: 2,"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("Epoch: 1,"), std::string::npos) << r.output;
  EXPECT_EQ(line_count(dir.file("m/metrics.csv")), 4u);
}

// --ema validates and saves the average: the same run's training losses (the live
// weights train as without it), other weights saved.
TEST(ReaderCli, EmaSavesTheAverageAndLeavesTrainingAlone) {
  const TempDir& dir = trained();
  TempDir out;
  std::map<std::string, std::string> metrics, weights;
  for (const std::string ema : {"0", "0.9"}) {
    const std::string m = out.file("ema" + ema);
    const CommandResult r = cli("train-reader --data " + dir.file("synth") + " --model-dir " + m +
                                " --synth-plates 64 --num-epochs 2 --batch-size 16 --threads 1 --ema " + ema);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::istringstream csv(read_file(m + "/metrics.csv"));
    for (std::string line; std::getline(csv, line);) {  // epoch,train_loss
      const size_t second = line.find(',', line.find(',') + 1);
      metrics[ema] += line.substr(0, second) + ";";
    }
    weights[ema] = read_file(m + "/best.pth");
  }
  EXPECT_EQ(metrics["0"], metrics["0.9"]);
  EXPECT_NE(weights["0"], weights["0.9"]);
}

TEST(ReaderCli, ExportedReaderScoresAsTheCheckpointAndReadsInDetect) {
  const TempDir& dir = trained();
  CommandResult r = cli("export-reader --model-dir " + dir.file("m"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string onnx = dir.file("m/plate-reader.onnx");
  ASSERT_TRUE(std::filesystem::exists(onnx));
  // The same plates read the same: the exact and character scores and every plate's text
  // (a reader that read garbage would still score the same plate count). Two epochs leave
  // CTC on its all-blank plateau, so the reads are compared again under a strict
  // --plate-pattern, whose constrained decoding turns the columns' probabilities into texts.
  for (const std::string pattern : {std::string(), std::string(" --plate-pattern '!?????|??????|???????|????????'")}) {
    std::map<std::string, nlohmann::json> scored;
    for (const std::string model : {dir.file("m/best.pth"), onnx}) {
      r = cli("eval-reader --dataset " + dir.file("synth") + " --split test --json --model " + model + pattern);
      ASSERT_EQ(r.exit_code, 0) << r.output;
      scored[model] = nlohmann::json::parse(r.output.substr(r.output.find('{')));
    }
    const nlohmann::json& pth = scored[dir.file("m/best.pth")];
    const nlohmann::json& exported = scored[onnx];
    ASSERT_GT(pth["ground_truth_boxes"]["plates"].get<int>(), 0);
    EXPECT_EQ(exported["ground_truth_boxes"]["plates"], pth["ground_truth_boxes"]["plates"]) << pattern;
    EXPECT_EQ(exported["ground_truth_boxes"]["exact"], pth["ground_truth_boxes"]["exact"]) << pattern;
    EXPECT_NEAR(exported["ground_truth_boxes"]["character_accuracy"].get<double>(),
                pth["ground_truth_boxes"]["character_accuracy"].get<double>(), 1e-9) << pattern;
    ASSERT_EQ(exported["plates"].size(), pth["plates"].size());
    size_t read = 0;
    for (size_t i = 0; i < pth["plates"].size(); ++i) {
      EXPECT_EQ(exported["plates"][i]["read"], pth["plates"][i]["read"]) << "plate " << i << pattern;
      read += !pth["plates"][i]["read"].get<std::string>().empty();
    }
    if (!pattern.empty()) EXPECT_EQ(read, pth["plates"].size()) << "every plate read as some text";
  }
  // detect --reader: every detection carries the text read (the deploy program too).
  EDGESSD_REQUIRE_FILE(fixture("ref-trained.pth"));
  EDGESSD_REQUIRE_FILE(plates_dir());
  r = cli("export --input " + fixture("ref-trained.pth") + " --net mb1-ssd-relu6 --labels " +
          fixture("ref-trained-labels.txt") + " --output " + dir.file("det.onnx"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const std::string program : {std::string(EDGESSD_CLI) + " detect", std::string(EDGESSD_DETECT)}) {
    r = run_command(program + " --model " + dir.file("det.onnx") + " --reader " + onnx +
                    " --threshold 0.2 --headless --json --max-frames 8 " + plates_dir() + "/test");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    size_t detections = 0;
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);)
      if (!line.empty() && line[0] == '{') {
        const nlohmann::json frame = nlohmann::json::parse(line);
        for (const auto& d : frame["detections"]) {
          ++detections;
          EXPECT_TRUE(d.contains("text") && d.contains("text_confidence")) << line;
        }
      }
    EXPECT_GT(detections, 0u) << r.output;
  }
  r = cli("detect --model " + dir.file("det.onnx") + " --reader " + onnx + " --threshold 0.2 --headless --max-frames 1 " +
          dir.file("synth") + "/test");
  EXPECT_NE(r.output.find("[edgessd] Read Plates   CPU"), std::string::npos) << r.output;
}

// A reader trained for a few minutes on clean synthetic plates (TrueType faces on the real
// layouts, frontal and sharp) reads the held-out ones of its set, and its ONNX export scores
// the same exact plates and characters as the checkpoint: a reader that reads, not one
// whose two epochs of CTC read nothing alike in both runtimes. 200 validation plates, as
// with 30 many epochs tie and best.pth is an early one; 200 test plates, for a 90% bound to
// mean something. An epoch's real crops are a share of it, not the split's size.
TEST(ReaderCli, ReadsHeldOutCleanSyntheticPlatesAndExportsTheSameScores) {
  TempDir dir;
  CommandResult r = cli("synth --plates --clean --out " + dir.file("p") + " --count 2000 --seed 11");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The boxes here are drawn, not detected: the default jitter (a detector's framing) would
  // cut their edge characters off for nothing (README, "Reading plates of several countries").
  // Three seeds read alike with and without the weights' average (README); with it this
  // seed sits further above the bound. One thread: ctest -j runs a second test beside it.
  r = cli("train-reader --data " + dir.file("p") + " --model-dir " + dir.file("m") +
          " --synth-plates 1500 --synth-clean --box-jitter 0.08 --num-epochs 30 --ema 0.99 --threads 1 --seed 1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = cli("export-reader --model-dir " + dir.file("m"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::map<std::string, nlohmann::json> scored;
  for (const std::string model : {dir.file("m/best.pth"), dir.file("m/plate-reader.onnx")}) {
    r = cli("eval-reader --dataset " + dir.file("p") + " --split test --json --model " + model);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    scored[model] = nlohmann::json::parse(r.output.substr(r.output.find('{')))["ground_truth_boxes"];
  }
  const nlohmann::json& pth = scored[dir.file("m/best.pth")];
  const nlohmann::json& onnx = scored[dir.file("m/plate-reader.onnx")];
  EXPECT_EQ(pth["plates"].get<int>(), 200);
  // Issue 30's bound; what three training seeds read of these is in README ("Reading
  // plates of several countries").
  EXPECT_GE(pth["exact_accuracy"].get<double>(), 0.9) << pth.dump();
  EXPECT_GE(pth["character_accuracy"].get<double>(), 0.97) << pth.dump();
  EXPECT_EQ(onnx["exact"], pth["exact"]);
  EXPECT_NEAR(onnx["character_accuracy"].get<double>(), pth["character_accuracy"].get<double>(), 1e-9);
}

TEST(ReaderCli, ErrorsAreOneLineAndWriteNothing) {
  const TempDir& dir = trained();
  TempDir out;
  std::filesystem::create_directories(out.file("empty"));  // a data set with no CSV
  const std::string onnx = dir.file("m/plate-reader.onnx");
  cli("export-reader --model-dir " + dir.file("m"));
  struct Case {
    std::string args, says;
  } cases[] = {
      {"train-reader --model-dir " + out.file("m"), "--data"},
      {"train-reader --data " + out.file("empty") + " --model-dir " + out.file("m"), "sub-train-annotations-bbox.csv"},
      {"train-reader --data " + dir.file("synth") + " --model-dir " + out.file("m") + " --charset AA", "twice"},
      {"train-reader --data " + dir.file("synth") + " --model-dir " + out.file("m") + " --lr -1", "--lr"},
      {"train-reader --data " + dir.file("synth") + " --model-dir " + out.file("m") + " --synth-plates -5", "--synth-plates"},
      {"export-reader --input " + dir.file("synth/synth.json"), "synth.json"},
      {"eval-reader --dataset " + dir.file("synth") + " --model " + dir.file("synth/synth.json"), "synth.json"},
      {"detect --model " + onnx + " --headless " + dir.file("synth") + "/test", "is a plate reader"},
      {"detect --model " + onnx + " --reader " + onnx + " --plate-pattern AAA --headless x.jpg", "is a plate reader"},
      {"eval-reader --dataset " + dir.file("synth") + " --model " + onnx + " --plate-pattern 'A#'", "--plate-pattern A#"},
      {"train-reader --data " + dir.file("synth") + " --model-dir " + out.file("m") + " --real-share 0.99", "--real-share"},
      {"train-reader --data " + dir.file("synth") + " --model-dir " + out.file("m") + " --ema 1", "--ema"},
      {"train-reader --data " + dir.file("synth") + " --model-dir " + out.file("m") + " --column-loss -1", "--column-loss"},
      {"synth --clean --out " + out.file("s"), "--clean"},
      {"synth --two-row --out " + out.file("s"), "--two-row"},
      {"train-reader --data " + dir.file("synth") + " --model-dir " + out.file("m") + " --two-row-aspect 5", "--two-row-aspect"},
      {"train-reader --data " + dir.file("synth") + " --model-dir " + out.file("m") + " --input-width 90", "--input-width 90"},
      {"train-reader --data " + dir.file("synth") + " --model-dir " + out.file("m") + " --geometry crop", "--geometry crop"},
      {"train-reader --data " + dir.file("synth") + " --model-dir " + out.file("m") + " --box-jitter 0.5", "--box-jitter"},
      {"eval-reader --dataset " + dir.file("synth") + " --model " + onnx + " --plate-pattern @" + out.file("none.txt"),
       out.file("none.txt")},
      {"detect --model " + onnx + " --reader " + onnx + " --plate-pattern @" + out.file("empty") + " --headless x.jpg",
       out.file("empty")},
      {"quantize --model " + onnx + " --calibration " + out.file("empty") + " --output " + out.file("q.onnx"),
       "sub-train-annotations-bbox.csv"},
  };
  for (const Case& c : cases) {
    const CommandResult r = cli(c.args);
    EXPECT_NE(r.exit_code, 0) << c.args;
    EXPECT_NE(r.output.find(c.says), std::string::npos) << c.args << "\n" << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << c.args << "\n" << r.output;
  }
  EXPECT_FALSE(std::filesystem::exists(out.file("m"))) << "a failed train-reader made its folder";
  EXPECT_FALSE(std::filesystem::exists(out.file("s"))) << "synth --clean alone made its folder";
  // A checkpoint whose JSON is hostile: export-reader names the JSON and writes nothing.
  std::filesystem::copy_file(dir.file("m/best.pth"), out.file("r.pth"));
  const std::string bad_json[][2] = {
      {R"({"kind": "plate-reader", "charset": "AA", "input_size": [96, 32]})", "twice"},
      {R"({"net": "mb1-ssd", "class_names": ["BACKGROUND", "plate"]})", "not a plate reader's JSON"},
      {R"({"kind": "plate-reader", "charset": "AB", "input_size": [9600, 32]})", "input_size"},
      {R"({"kind": "plate-reader", "charset": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", "input_size": [96, 32],
           "crop_margin": 7})", "crop_margin"},
      {R"({"kind": "plate-reader", "charset": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", "input_size": [96, 32],
           "two_row_below_aspect": -1})", "two_row_below_aspect"},
  };
  for (const auto& [json, says] : bad_json) {
    write_file_atomic(out.file("r.json"), json);
    const CommandResult r = cli("export-reader --input " + out.file("r.pth") + " --output " + out.file("r.onnx"));
    EXPECT_NE(r.exit_code, 0) << json;
    EXPECT_NE(r.output.find(out.file("r.json")), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(says), std::string::npos) << r.output;
    EXPECT_FALSE(std::filesystem::exists(out.file("r.onnx")));
  }
}
