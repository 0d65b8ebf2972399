// A generated gallery of hostile inputs, run against every command (issue 15). Each probe
// must end with exit code 1 and one error line, the last, naming the file or flag; and the
// folder it ran in must be exactly as before: no file changed, no partial output, no
// output folder left behind.
#include "hostile_gallery.h"

using namespace edgessd;
using namespace edgessd::testing;
using namespace edgessd::testing::gallery;

TEST(HostileGallery, Convert) {
  const std::string pth = "convert --net mb1-ssd-relu6 --labels {labels} --output {out}/x.pth";
  run_probes(cli(), bad_files("convert", "--input", ".pth", "--output {out}/x.pth") +
                        bad_files("convert --input {pth} --net mb1-ssd-relu6", "--labels", ".txt", "--output {out}/x.pth") +
                        std::vector<Probe>{
                            {"convert --input {pth} --net mb1-ssd-relu6 --labels {g}/labels-three.txt --output {out}/x.pth",
                             "{g}/labels-three.txt"},
                            {"convert --input {pth} --net mb1-ssd-relu6 --labels {g}/labels-blank-line.txt --output "
                             "{out}/x.pth",
                             "{g}/labels-blank-line.txt"},
                            {"convert --input {pth} --net mb1-ssd-relu6 --labels {g}/labels-bg-only.txt --output "
                             "{out}/x.pth",
                             "{g}/labels-bg-only.txt"},
                            {"convert --input {g}/json/model.pth --output {out}/x.pth", "{g}/json/model.json"},
                            {"convert --input {pth} --net mb1-ssd-relu6 --labels {labels} --output {g}/empty.pth/x.pth",
                             "{g}/empty.pth"},
                            {"convert --from face-api --input {g}/folder.txt --output {out}/x.pth", "--input"},
                            {"convert --from face-api --input {g}/page.txt --output {out}/x.pth", "--input"},
                            {"convert --from face-api --calibration {g}/html-images --output {out}/x.pth",
                             "{g}/html-images"},
                            {"convert --from onnx --input {pth} --output {out}/x.pth", "--from"},
                            {pth + " --input {pth} --net no-such-net", "--net"}});
}

TEST(HostileGallery, Export) {
  run_probes(cli(), bad_files("export", "--input", ".pth", "--output {out}/x.onnx") +
                        std::vector<Probe>{
                            {"export --input {g}/json/model.pth --output {out}/x.onnx", "{g}/json/model.json"},
                            {"export --input {pth} --net mb1-ssd-relu6 --labels {g}/labels-three.txt --output {out}/x.onnx",
                             "{g}/labels-three.txt"},
                            {"export --model-dir {g}/no-images --output {out}/x.onnx", "{g}/no-images"},
                            {"export --model-dir {g}/page.txt", "{g}/page.txt"},
                            {"export --input {pth} --net mb1-ssd-relu6 --labels {labels} --output {g}/page.txt/x.onnx",
                             "{g}/page.txt"},
                            {"export --input {pth} --net mb1-ssd-relu6 --labels {labels} --output {out}/x.onnx --width 0",
                             "--width"},
                            {"export --input {pth} --net mb1-ssd-relu6 --labels {labels} --output {out}/x.onnx "
                             "--height 100000",
                             "--height"},
                            {"export --input {pth} --net mb1-ssd-relu6 --labels {labels} --output {out}/x.onnx "
                             "--batch-size -1",
                             "--batch-size"},
                            {"export --input {pth} --net mb1-ssd-relu6 --labels {labels} --output {out}/x.onnx "
                             "--resolution 5x5",
                             "--resolution 5x5"},
                            {"export --input {pth} --net mb1-ssd-relu6 --labels {labels} --output {out}/x.onnx "
                             "--resolution 320 --width 320 --height 320",
                             "--resolution or --width"},
                            {"export --input {pth} --net mb1-ssd-relu6-s8 --labels {labels} --output {out}/x.onnx",
                             "{pth}"}});
}

TEST(HostileGallery, Eval) {
  const std::string model = "--trained-model {pth} --net mb1-ssd-relu6 --label-file {labels}";
  const std::string data = "--dataset {data}";
  run_probes(cli(),
             bad_files("eval", "--trained-model", ".pth", "--net mb1-ssd-relu6 --label-file {labels} " + data +
                                                           " --eval-dir {out}/e") +
                 bad_files("eval", "--model", ".onnx", "--label-file {labels} " + data + " --eval-dir {out}/e") +
                 bad_datasets("eval " + model, "--dataset", "--eval-dir {out}/e") +
                 std::vector<Probe>{
                     {"eval " + model + " " + data + " --eval-dir {g}/page.txt/e", "{g}/page.txt"},
                     {"eval --trained-model {pth} --net mb1-ssd-relu6 --label-file {g}/labels-three.txt " + data +
                          " --eval-dir {out}/e",
                      "{g}/labels-three.txt"},
                     {"eval " + model + " " + data + " --split no-such --eval-dir {out}/e", "no-such"},
                     {"eval " + model + " " + data + " --iou-threshold 2 --eval-dir {out}/e", "--iou-threshold"},
                     {"eval " + model + " " + data + " --threads -3 --eval-dir {out}/e", "--threads"},
                     {"eval --model {onnx} --label-file {labels} " + data + " --engine warp --eval-dir {out}/e",
                      "--engine"}});
}

TEST(HostileGallery, Train) {
  const std::string rest = "--epochs 1 --batch-size 1 --workers 0 --model-dir {out}/m";
  std::vector<Probe> probes = bad_datasets("train", "--data", rest);
  for (const std::string& flag : {"--pretrained-ssd", "--resume", "--base-net"})
    probes = probes + bad_files("train --data {data}", flag, ".pth", rest);
  probes = probes + std::vector<Probe>{
                        {"train --data {data} --epochs 1 --model-dir {g}/page.txt/m", "{g}/page.txt"},
                        {"train --data {data} --pretrained-ssd {g}/json/model.pth " + rest,
                         "{g}/json/model.json"},
                        {"train --data {data} --milestones 10,x " + rest, "--milestones"},
                        {"train --data {data} --debug-steps -1 " + rest, "--debug-steps"},
                        {"train --data {data} --base-net-lr nan " + rest, "--base-net-lr"},
                        {"train --data {data} --extra-layers-lr -1 " + rest, "--extra-layers-lr"},
                        {"train --data {data} --nproc-per-node 0 " + rest, "--nproc-per-node"},
                        {"train --data {data} --nproc-per-node 1 --nnodes 2 --node-rank 2 --master-addr 127.0.0.1 " + rest,
                         "--node-rank"},
                        {"train --data {data} --nproc-per-node 1 --master-port 70000 " + rest,
                         "--master-port"},
                        {"train --data {data} --dist-timeout 0 " + rest, "--dist-timeout"},
                        {"train --data {data} --master-port 29555 " + rest, "--master-port"},
                        {"train --data {data} --dist-backend mpi " + rest, "--dist-backend"}};
  run_probes(cli(), probes);
}

// Both detect programs: bad models, labels, images and flags.
std::vector<Probe> detect_probes(const std::string& command) {
  const std::string model = "--model {onnx} --labels {labels}";
  const std::string image = "{image}";
  return bad_files(command, "--model", ".onnx", "--labels {labels} --headless " + image + " {out}/a.jpg") +
         bad_files(command, "--network", ".onnx", "--labels {labels} --headless " + image + " {out}/a.jpg") +
         bad_files(command + " --model {onnx}", "--labels", ".txt", "--headless " + image + " {out}/a.jpg") +
         std::vector<Probe>{
             {command + " --model {onnx} --labels {g}/labels-three.txt --headless " + image + " {out}/a.jpg",
              "{g}/labels-three.txt"},
             {command + " " + model + " --headless {g}/page.jpg {out}/a.jpg", "{g}/page.jpg"},
             {command + " " + model + " --headless {g}/empty.jpg {out}/a.jpg", "{g}/empty.jpg"},
             {command + " " + model + " --headless {g}/no-images {out}/d", "{g}/no-images"},
             {command + " " + model + " --headless {g}/html-images {out}/d", "{g}/html-images"},
             {command + " " + model + " --headless {g}/missing.jpg {out}/a.jpg", "{g}/missing.jpg"},
             {command + " " + model + " --headless " + image + " {g}/page.txt/a.jpg", "{g}/page.txt"},
             {command + " " + model + " --headless " + image + " {out}/a.txt", "{out}/a.txt"},
             {command + " " + model + " --headless --threshold 7 " + image + " {out}/a.jpg", "--threshold"},
             {command + " " + model + " --headless --alpha 300 " + image + " {out}/a.jpg", "--alpha"},
             {command + " " + model + " --headless --overlay sparkles " + image + " {out}/a.jpg", "--overlay"},
             {command + " " + model + " --headless --input-width -5 " + image + " {out}/a.jpg", "--input-width"},
             {command + " " + model + " --headless --input-rate nan " + image + " {out}/a.jpg", "--input-rate"},
             {command + " " + model + " --headless --input-blob nope " + image + " {out}/a.jpg", "--input-blob"},
             {command + " " + model + " --headless --max-frames -1 " + image + " {out}/a.jpg", "--max-frames"},
             {command + " " + model + " --headless --bitrate 0 " + image + " {out}/a.mp4", "--bitrate"},
             {command + " " + model + " --headless rtsp://127.0.0.1:1/x {out}/a.jpg", "rtsp://127.0.0.1:1/x"},
             {command + " " + model + " --headless --roi 1,2,x,4 " + image + " {out}/a.jpg", "--roi 1,2,x,4"},
             {command + " " + model + " --headless --roi 9000,9000,5,5 " + image + " {out}/a.jpg", "--roi"},
             {command + " " + model + " --headless --tracking --tracker-overlap nan " + image + " {out}/a.jpg",
              "--tracker-overlap"},
             {command + " " + model + " --headless --tracking --tracker-min-frames -2 " + image + " {out}/a.jpg",
              "--tracker-min-frames"},
             {command + " " + model + " --headless --events {out}/e.jsonl " + image + " {out}/a.jpg", "--tracking"},
             {command + " " + model + " --headless --tracking --events {g}/page.txt/e.jsonl " + image + " {out}/a.jpg",
              "{g}/page.txt"}};
}

TEST(HostileGallery, Detect) {
  run_probes(cli(), detect_probes("detect"));
}

TEST(HostileGallery, DetectNetProgram) {
  run_probes(EDGESSD_DETECT, detect_probes(""));
}

TEST(HostileGallery, BenchAndQuantize) {
  run_probes(cli(), bad_files("bench", "--model", ".onnx", "--runs 1") + bad_files("bench", "--model", ".pth", "--runs 1") +
                        bad_files("quantize", "--model", ".onnx", "--calibration {data}/test --output {out}/q.onnx") +
                        std::vector<Probe>{
                            {"bench --model {onnx} --runs 0", "--runs"},
                            {"bench --model {onnx} --engine libtorch", "{onnx}"},
                            {"quantize --model {onnx} --labels {labels} --calibration {g}/html-images --output "
                             "{out}/q.onnx",
                             "{g}/html-images"},
                            {"quantize --model {onnx} --calibration {g}/no-images --output {out}/q.onnx", "{g}/no-images"},
                            {"quantize --model {onnx} --calibration {data}/test --images 0 --output {out}/q.onnx",
                             "--images"},
                            {"quantize --model {onnx} --calibration {data}/test --output {g}/page.txt/q.onnx",
                             "{g}/page.txt"}});
}

TEST(HostileGallery, BenchProgram) {
  run_probes(EDGESSD_BENCH, bad_files("", "--model", ".onnx", "--runs 1") +
                                std::vector<Probe>{{" --model {onnx} --runs 0", "--runs"},
                                                   {" --model {onnx} --engine libtorch", "--engine"},
                                                   {" --model {onnx} --threads 100000", "--threads"}});
}

TEST(HostileGallery, DownloadSynthDemo) {
  // Hostile metadata from file:// URLs: the downloader must refuse it without a network.
  std::vector<Probe> probes;
  for (const std::string& name : {"meta-random", "meta-html", "meta-empty", "folder.csv", "missing"})
    probes.push_back(
        {"download --class-names plate --data {out}/d --retry 0 --metadata-url file://{g}/" + name, "{g}/" + name});
  probes = probes + std::vector<Probe>{
                        {"download --class-names plate --data {g}/page.txt/d --metadata-url file://{g}/x", "{g}/page.txt"},
                        {"download --class-names plate --data {out}/d --image-url http://x/y", "--image-url"},
                        {"download --class-names plate --data {out}/d --num-workers 0", "--num-workers"},
                        {"download --class-names plate --data {out}/d --timeout nan", "--timeout"},
                        {"download --class-names plate --data {out}/d --retry-wait -1", "--retry-wait"},
                        {"download --class-names '' --data {out}/d", "--class-names"},
                        {"synth --out {g}/page.txt/s --count 3", "{g}/page.txt"},
                        {"synth --out {out}/s --count 0", "--count"},
                        {"synth --out {out}/s --count 3 --photos {g}/html-images", "{g}/html-images"},
                        {"synth --out {out}/s --count 3 --threads 100000", "--threads"},
                        {"demo --workdir {g}/page.txt/w", "{g}/page.txt"},
                        {"demo --workdir {out}/w --epochs 0", "--epochs"},
                        {"demo --workdir {out}/w --threshold nan", "--threshold"},
                        {"demo --workdir {out}/w --batch-size 0", "--batch-size"}};
  run_probes(cli(), probes);
}
