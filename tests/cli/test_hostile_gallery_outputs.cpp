// The hostile-input gallery, round two (issue 34): no output destroys an input; priors and the
// plate reader's commands; flag values that were accepted silently or refused in other words.
#include "hostile_gallery.h"

using namespace edgessd;
using namespace edgessd::testing;
using namespace edgessd::testing::gallery;

// The one output rule (common/output_guard.h): no output may be one of the command's own
// inputs (whatever the path), lie inside an input data set, or share a path with another
// output; models are written only under their own extension.
TEST(HostileGallery, NoOutputDestroysAnInput) {
  const std::string det = "--model {g}/det/model.onnx --headless --tracking";
  const std::string image = "{image}";
  std::vector<Probe> probes = {
      {"export-reader --input {g}/reader/best.pth --output {g}/reader/best.pth", "{g}/reader/best.pth"},
      {"export-reader --input {g}/reader/best.pth --output {g}/reader/best.json", "{g}/reader/best.json"},
      {"export-reader --model-dir {g}/reader --output {g}/reader/../reader/best.pth", "is --model-dir"},
      {"export-reader --input {g}/reader/best.pth --output {g}/oi-nan/sub-test-annotations-bbox.csv", "ends in .onnx"},
      {"export --input {g}/det/model.pth --output {g}/det/model.pth", "{g}/det/model.pth"},
      {"export --input {g}/det/model.pth --output {g}/det/model.json", "{g}/det/model.json"},
      {"export --input {g}/det/model.pth --labels {g}/det/labels.txt --output {g}/det/labels.txt", "{g}/det/labels.txt"},
      {"convert --input {g}/det/model.pth --labels {g}/det/labels.txt --output {g}/det/labels.txt",
       "{g}/det/labels.txt"},
      {"convert --input {g}/det/model.pth --output {g}/det/model.pth", "{g}/det/model.pth"},
      {"convert --input {pth} --net mb1-ssd-relu6 --labels {labels} --output ''", "--output: empty path"},
      {"quantize --model {g}/det/model.onnx --calibration {g}/oi-nan --output {g}/oi-nan/sub-test-annotations-bbox.csv",
       "--calibration {g}/oi-nan"},
      {"quantize --model {g}/det/model.onnx --calibration {data}/test --output {g}/det/model.onnx",
       "--model {g}/det/model.onnx"},
      {"detect " + det + " --events {g}/det/model.onnx {g}/video.avi", "--model {g}/det/model.onnx"},
      {"detect " + det + " --events {g}/video.avi {g}/video.avi", "input {g}/video.avi"},
      {"detect " + det + " --events {g}/det/labels.txt {g}/video.avi", "{g}/det/labels.txt"},
      {"detect " + det + " --reader {g}/reader/best.pth --events {g}/reader/best.pth {g}/video.avi",
       "--reader {g}/reader/best.pth"},
      {"detect " + det + " --events {out}/a.avi " + image + " {out}/a.avi", "--events {out}/a.avi is also output"},
      {"train --data {g}/oi-nan --model-dir {g}/oi-nan/m", "lies inside --data {g}/oi-nan"},
      {"eval --trained-model {g}/det/model.pth --dataset {g}/oi-nan --eval-dir {g}/oi-nan/e", "lies inside --dataset {g}/oi-nan"},
      {"train-reader --data {g}/oi-nan --model-dir {g}/oi-nan", "--data {g}/oi-nan"},
      {"synth --out {g}/oi-nan --count 3", "--out {g}/oi-nan: holds files and is not a synthetic data set"},
  };
  run_probes(cli(), probes);
  run_probes(EDGESSD_DETECT, {{det + " --events {g}/video.avi {g}/video.avi", "input {g}/video.avi"},
                              {det + " --events {out}/a.avi " + image + " {out}/a.avi", "is also output"}});
}

// The commands added with the plate reader, and priors: bad data sets, files and flags.
TEST(HostileGallery, PriorsAndTheReaderCommands) {
  const std::string plates = "{data}";
  std::vector<Probe> probes =
      bad_files("train-reader --data " + plates + " --model-dir {out}/m", "--resume", ".pth", "") +
      bad_files("export-reader", "--input", ".pth", "--output {out}/r.onnx") +
      bad_files("eval-reader --dataset " + plates, "--model", ".pth", "") +
      bad_files("eval-reader --dataset " + plates, "--model", ".onnx", "") +
      bad_files("priors --data " + plates, "--model", ".pth", "") +
      bad_files("priors --data " + plates, "--model", ".onnx", "") +
      std::vector<Probe>{
          {"priors --data " + plates + " --model {g}/det/model.pth --net mb1-ssd", "--net: not with --model"},
          {"priors --data " + plates + " --stretch 0.5", "--stretch"},
          {"priors --data " + plates + " --zoom-in 2", "--zoom-in"},
          {"priors --data {g}/missing", "{g}/missing"},
          {"priors --data {g}/page.txt", "{g}/page.txt"},
          {"priors --data {g}/oi-nan {g}/oi-nan", "--data {g}/oi-nan: given twice"},
          {"priors --data " + plates + " --resolution 5x5", "--resolution"},
          {"priors --data " + plates + " --net no-such-net", "--net"},
          {"train-reader --data {g}/oi-latin1 --model-dir {out}/m", "{g}/oi-latin1"},
          {"train-reader --data {g}/oi-long-text --synth-plates 0 --model-dir {out}/m", "{g}/oi-long-text"},
          {"train-reader --data {g}/oi-two-texts --model-dir {out}/m", "appears twice"},
          {"train-reader --data {g}/oi-nan --data {g}/oi-nan --model-dir {out}/m", "given twice"},
          {"train-reader --data " + plates + " --resume {g}/det/model.pth --model-dir {out}/m", "{g}/det/model.json"},
          {"train-reader --data " + plates + " --seed -1 --model-dir {out}/m", "--seed"},
          {"eval-reader --dataset {g}/oi-latin1 --split test --model {g}/reader/best.pth --json", "{g}/oi-latin1"},
          {"eval-reader --dataset {g}/oi-two-texts --split test --model {g}/reader/best.pth", "appears twice"},
          {"eval-reader --dataset " + plates + " --model {g}/reader/best.pth --detector {pth}", "{pth}"},
          {"eval-reader --dataset " + plates + " --model {g}/reader/best.pth --threshold 3", "--threshold"},
          {"export-reader --input {g}/det/model.pth --output {out}/r.onnx", "{g}/det/model.json"},
          {"export-reader --input {g}/fifo.pth --output {out}/r.onnx", "{g}/fifo.pth: not a regular file"},
          {"train-reader --data " + plates + " --resume {g}/fifo.pth --model-dir {out}/m", "{g}/fifo.pth: not a regular"},
          {"export-reader --model-dir {g}/no-images", "{g}/no-images"},
          {"export-reader --input {g}/reader/best.pth --output {out}/r.txt", "ends in .onnx"}};
  run_probes(cli(), probes);
}

// Flags that were accepted silently, or refused with another tool's words.
TEST(HostileGallery, FlagValuesAndCommandNames) {
  const std::string plates = "{data}";
  const std::string rest = "--epochs 1 --batch-size 1 --workers 0 --model-dir {out}/m";
  run_probes(cli(), {{"nosuchcmd", "unknown command 'nosuchcmd'"},
                     {"train --data " + plates + " --batch-size 0 --model-dir {out}/m", "--batch-size: '0': expected"},
                     {"train --data " + plates + " --seed -1 " + rest, "--seed"},
                     {"train --data " + plates + " --data " + plates + " " + rest, "given twice"},
                     {"train --data " + plates + " --nproc-per-node 1000 " + rest, "--nproc-per-node 1000"},
                     {"train --data " + plates + " --nproc-per-node 1 --nnodes 2 --node-rank 1 " + rest, "--master-addr"},
                     {"train --data " + plates + " --dist-join-timeout 0 " + rest, "--dist-join-timeout"},
                     {"train --data " + plates + " --pretrained-ssd {g}/reader/best.pth " + rest, "{g}/reader/best"},
                     {"train --data " + plates + " --pretrained-ssd {g}/reader-json/model.pth " + rest,
                      "{g}/reader-json/model.json: a plate reader's model JSON"},
                     {"export --input {g}/s8/model.pth --net mb1-ssd-relu6 --output {out}/x.onnx",
                      "--net mb1-ssd-relu6: {g}/s8/model.pth is a mb1-ssd-relu6-s8"},
                     {"detect --model {onnx} --labels {labels} --headless --roi 0,0,5000,10 {image}",
                      "--roi 0,0,5000,10: reaches beyond the"},
                     {"detect --model {onnx} --labels {labels} --headless --tracking --events {g}/crops/events.jsonl "
                          "{image}",
                      "{g}/crops/events-track-1.jpg (an earlier run's crop) is beside it"},
                     {"eval --trained-model {g}/s8/model.pth --net mb1-ssd-relu6 --dataset " + plates,
                      "--net mb1-ssd-relu6: {g}/s8/model.pth is a mb1-ssd-relu6-s8 (its model JSON)"},
                     {"export --input {g}/det/model.pth --net mb1-ssd-relu6-s8 --output {out}/x.onnx", "--net"},
                     {"bench --model {onnx} --runs 1e9", "--runs"},
                     {"download --class-names plate --data {out}/d --max-images -5", "--max-images"},
                     {"synth --out {out}/s --count 3 --seed -1", "--seed"},
                     {"synth --out {out}/s --count 3 --photos {g}/missing", "--photos {g}/missing: no such folder"},
                     {"synth --out {out}/s --count 3 --photos {g}/page.txt", "--photos {g}/page.txt: not a folder"},
                     {"synth --out {out}/s --count 3 --photos {g}/photos-empty", "{g}/photos-empty: no images"},
                     {"synth --out {out}/s --count 3 --photos {g}/photos-special", "{g}/photos-special: no images"},
                     {"synth --out {out}/s --count 3 --photos {g}/photos-tiny", "{g}/photos-tiny: none of its images"},
                     {"demo --workdir {out}/w --seed -1", "--seed"},
                     {"train --data " + plates + " " + rest, "RANK is set without WORLD_SIZE", "RANK=1"},
                     {"train --data " + plates + " " + rest, "LOCAL_WORLD_SIZE", "RANK=1 WORLD_SIZE=2 LOCAL_RANK=1"},
                     // Ranks on two machines that would meet on their own loopback: refused, not a 30-minute wait.
                     {"train --data " + plates + " --nproc-per-node 1 --nnodes 2 --master-addr 127.0.0.1 " + rest,
                      "--master-addr 127.0.0.1: a loopback address"},
                     {"train --data " + plates + " " + rest, "MASTER_ADDR is 127.0.0.1",
                      "RANK=1 WORLD_SIZE=4 LOCAL_RANK=1 LOCAL_WORLD_SIZE=2"},
                     {"eval-reader --dataset " + plates + " --model {g}/reader/best.pth --engine warp", "--engine"},
                     {"quantize --model {onnx} --calibration {g}/oi-nan --output {out}/q.onnx",
                      "--calibration {g}/oi-nan: a data set, not a folder of images"},
                     {"eval-reader --dataset " + plates + " --model {g}/reader/best.pth --plate-pattern "
                      "\xc3\x84\xc3\x84\xc3\x84" "999",
                      "--plate-pattern"},
                     {"eval-reader --dataset " + plates + " --model {g}/reader/best.pth --plate-pattern " +
                          std::string(30, '9'),
                      "each format must have 1..16 positions"},
                     {"detect --model {onnx} --headless --reader {g}/reader/best.pth --plate-pattern AAA99999999999999999 "
                          "{image}",
                      "--plate-pattern"},
                     {"detect --model {onnx} --headless --tracker-overlap 0.5 {image}",
                      "--tracker-overlap: needs --tracking"},
                     {"detect --model {onnx} --headless --tracking --events '' {image}",
                      "--events: empty path"},
                     {"detect --model {onnx} --headless --roi 0,0,99999999999,5 {image}", "--roi"}});
}
