// A generated gallery of hostile inputs, run against every command (issue 15). Each probe
// must end with exit code 1 and one error line, the last, naming the file or flag; and the
// folder it ran in must be exactly as before: no file changed, no partial output, no
// output folder left behind.
#include <sys/stat.h>

#include <map>
#include <random>

#include <opencv2/imgcodecs.hpp>

#include "edgessd/common/files.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;
namespace fs = std::filesystem;

namespace {

void write(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string jpeg(int w, int h) {
  std::vector<uchar> bytes;
  cv::imencode(".jpg", cv::Mat(h, w, CV_8UC3, cv::Scalar(90, 120, 150)), bytes);
  return std::string(bytes.begin(), bytes.end());
}

const char* kHtml = "<!DOCTYPE html><html><body>404 Not Found</body></html>\n";
const char* kCsvHeader = "ImageID,XMin,XMax,YMin,YMax,IsGroupOf,ClassName\n";

// An Open Images root whose train, validation and test splits all hold `csv` (after the
// header unless `raw`) and the images named in `images`.
void open_images_root(const std::string& root, const std::string& csv, const std::map<std::string, std::string>& images,
                      bool raw = false) {
  for (const std::string split : {"train", "validation", "test"}) {
    write(root + "/sub-" + split + "-annotations-bbox.csv", raw ? csv : kCsvHeader + csv);
    fs::create_directories(root + "/" + split);
    for (const auto& [id, bytes] : images) write(root + "/" + split + "/" + id + ".jpg", bytes);
  }
}

std::string voc_xml(const std::string& box) {
  return "<annotation><size><width>64</width><height>48</height></size><object><name>Vehicle registration plate</name>"
         "<difficult>0</difficult><bndbox>" + box + "</bndbox></object></annotation>\n";
}

// A VOC root with one image `v1` for trainval and test, its annotation `xml`.
void voc_root(const std::string& root, const std::string& xml, const std::string& image) {
  for (const std::string split : {"trainval", "test"}) write(root + "/ImageSets/Main/" + split + ".txt", "v1\n");
  write(root + "/labels.txt", "Vehicle registration plate\n");
  write(root + "/Annotations/v1.xml", xml);
  if (!image.empty()) write(root + "/JPEGImages/v1.jpg", image);
}

std::string random_bytes(size_t n) {
  std::mt19937 rng(15);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

// The gallery: bad model files, labels, images, data sets. Good inputs are the shared
// fixtures, read in place.
void build_gallery(const std::string& g) {
  const bool fixtures = fs::exists(fixture("ref-trained.pth")) && fs::exists(fixture("mb1-ssd-2class-random.onnx"));
  const std::string pth = fixtures ? read_file(fixture("ref-trained.pth")) : "";
  const std::string onnx = fixtures ? read_file(fixture("mb1-ssd-2class-random.onnx")) : "";
  for (const std::string ext : {".pth", ".onnx", ".jpg", ".txt", ".csv"}) {
    write(g + "/empty" + ext, "");
    write(g + "/random" + ext, random_bytes(4096));
    write(g + "/page" + ext, kHtml);
    fs::create_directories(g + "/folder" + ext);
  }
  write(g + "/truncated.pth", pth.substr(0, pth.size() / 3));
  write(g + "/truncated.onnx", onnx.substr(0, onnx.size() / 3));
  std::string flipped = onnx.substr(0, 1 << 20);  // the graph's head: op types, shapes and names
  for (size_t i = 16; i < 4096; i += 7) flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
  write(g + "/flipped.onnx", flipped);
  // A good checkpoint (a link) beside a hostile model JSON.
  fs::create_directories(g + "/json");
  if (fixtures) fs::create_symlink(fixture("ref-trained.pth"), g + "/json/model.pth");
  write(g + "/json/model.json", "{\"net\": \"mb1-ssd-relu6\", \"class_names\": [\"BACKGROUND\", \"plate\"], "
                                "\"image_std\": 0}");
  write(g + "/labels-blank-line.txt", "BACKGROUND\n\nplate\n");
  write(g + "/labels-three.txt", "BACKGROUND\nplate\ncar\n");
  write(g + "/labels-bg-only.txt", "BACKGROUND\n");
  fs::create_directories(g + "/no-images");
  write(g + "/html-images/a.jpg", kHtml);
  write(g + "/html-images/b.jpg", "");

  const std::map<std::string, std::string> one{{"i1", jpeg(64, 48)}};
  open_images_root(g + "/oi-header-only", "", one);
  open_images_root(g + "/oi-no-columns", "a,b,c\n1,2,3\n", one, true);
  open_images_root(g + "/oi-nan", "i1,nan,0.5,0.2,0.6,0,plate\n", one);
  open_images_root(g + "/oi-swapped", "i1,0.8,0.2,0.2,0.6,0,plate\n", one);
  open_images_root(g + "/oi-traversal", "../../../../etc/passwd,0.1,0.5,0.2,0.6,0,plate\n", one);
  open_images_root(g + "/oi-html-images", "i1,0.1,0.5,0.2,0.6,0,plate\n", {{"i1", kHtml}});
  open_images_root(g + "/oi-missing-images", "i1,0.1,0.5,0.2,0.6,0,plate\n", {});
  open_images_root(g + "/oi-open-quote", "i1,0.1,0.5,0.2,0.6,0,\"plate\n", one);
  open_images_root(g + "/oi-binary", random_bytes(2048), one, true);
  // Hostile metadata for the downloader, from file:// URLs.
  write(g + "/meta-random/class-descriptions-boxable.csv", random_bytes(4096));
  write(g + "/meta-html/class-descriptions-boxable.csv", kHtml);
  write(g + "/meta-empty/class-descriptions-boxable.csv", "");
  voc_root(g + "/voc-laughs",
           "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">"
           "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;\">]><annotation><object>"
           "<name>&d;</name></object></annotation>\n",
           jpeg(64, 48));
  voc_root(g + "/voc-unclosed", "<annotation><object><name>plate</name>", jpeg(64, 48));
  voc_root(g + "/voc-bad-number", voc_xml("<xmin>ten</xmin><ymin>1</ymin><xmax>20</xmax><ymax>20</ymax>"), jpeg(64, 48));
  voc_root(g + "/voc-no-image", voc_xml("<xmin>1</xmin><ymin>1</ymin><xmax>20</xmax><ymax>20</ymax>"), "");
  fs::create_directories(g + "/voc-empty");
  // A reader's folder: its JSON is what export-reader and train-reader --resume read first.
  write(g + "/reader/best.pth", random_bytes(512));
  write(g + "/reader/best.json", "{\"kind\": \"plate-reader\", \"charset\": \"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ\", "
                                 "\"input_size\": [96, 32]}\n");
  // A detector's folder: checkpoint, model JSON, labels.
  fs::create_directories(g + "/det");
  if (fixtures) fs::create_symlink(fixture("ref-trained.pth"), g + "/det/model.pth");
  write(g + "/det/model.json", "{\"net\": \"mb1-ssd-relu6\", \"class_names\": [\"BACKGROUND\", \"plate\"]}\n");
  write(g + "/det/labels.txt", "BACKGROUND\nplate\n");
  if (fixtures) fs::create_symlink(fixture("mb1-ssd-2class-random.onnx"), g + "/det/model.onnx");
  write(g + "/video.avi", random_bytes(256));
  // A stride-8 model's JSON beside (the weights of) another net: --net must not contradict it.
  fs::create_directories(g + "/s8");
  if (fixtures) fs::create_symlink(fixture("ref-trained.pth"), g + "/s8/model.pth");
  write(g + "/s8/model.json", "{\"net\": \"mb1-ssd-relu6-s8\", \"class_names\": [\"BACKGROUND\", \"plate\"]}\n");
  // Plates: a Latin-1 PlateText, a 200-character one, a duplicate PlateText column.
  const std::string text_header = "ImageID,XMin,XMax,YMin,YMax,IsGroupOf,ClassName,PlateText\n";
  open_images_root(g + "/oi-latin1", text_header + "i1,0.1,0.5,0.2,0.6,0,plate,K\xd6LN12\n", one, true);
  open_images_root(g + "/oi-long-text", text_header + "i1,0.1,0.5,0.2,0.6,0,plate," + std::string(200, 'A') + "\n",
                   one, true);
  open_images_root(g + "/oi-two-texts",
                   "ImageID,XMin,XMax,YMin,YMax,IsGroupOf,ClassName,PlateText,PlateText\ni1,0.1,0.5,0.2,0.6,0,plate,A,B\n",
                   one, true);
  // Background photos: a 1x1 one, none, special files only.
  write(g + "/photos-tiny/a.jpg", jpeg(1, 1));
  fs::create_directories(g + "/photos-empty");
  fs::create_directories(g + "/photos-special");
  ::mkfifo((g + "/photos-special/fifo.jpg").c_str(), 0600);
}

// name -> (kind, inode; size, mtime and the bytes of small files) of everything under
// `root`, links not followed: a rename or a rewrite changes the entry.
std::map<std::string, std::string> snapshot(const std::string& root) {
  std::map<std::string, std::string> tree;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    struct stat st{};
    ::lstat(it->path().c_str(), &st);
    std::string entry = std::to_string(st.st_mode) + ":" + std::to_string(st.st_ino);
    // A folder's own times change when an entry comes and goes; its entries are listed anyway.
    if (!S_ISDIR(st.st_mode))
      entry += ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
               std::to_string(st.st_mtim.tv_nsec);
    if (S_ISREG(st.st_mode) && st.st_size < (1 << 16)) entry += ":" + read_file(it->path().string());
    tree[fs::relative(it->path(), root).string()] = entry;
  }
  return tree;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string::npos) end = s.size();
    lines.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// One probe: arguments (with {g} for the gallery, {out} for a requested output inside the
// run folder) and the text the error line must contain.
struct Probe {
  std::string args;
  std::string names;
  std::string env = "";  // variables set for the command, e.g. "RANK=1"
};

std::string expand(std::string s, const std::string& g, const std::string& out) {
  for (const auto& [key, value] : {std::pair<std::string, std::string>{"{g}", g}, {"{out}", out},
                                   {"{pth}", fixture("ref-trained.pth")},
                                   {"{onnx}", fixture("mb1-ssd-2class-random.onnx")},
                                   {"{labels}", fixture("ref-trained-labels.txt")}}) {
    for (size_t at; (at = s.find(key)) != std::string::npos;) s.replace(at, key.size(), value);
  }
  return s;
}

// A probe needs the shared fixtures or data sets when it names one (or a gallery file made
// from one); only such probes are skipped where ../shared lacks them.
bool probe_runnable(const std::string& args) {
  const bool fixtures = fs::exists(fixture("ref-trained.pth")) && fs::exists(fixture("mb1-ssd-2class-random.onnx"));
  for (const char* needs : {"{pth}", "{onnx}", "{labels}", "truncated.", "flipped.", "json/model", "det/model", "s8/model"})
    if (args.find(needs) != std::string::npos && !fixtures) return false;
  return args.find(plates_dir()) == std::string::npos || fs::exists(plates_dir());
}

void run_probes(const std::string& program, const std::vector<Probe>& probes) {
  TempDir dir;
  const std::string g = dir.file("gallery"), run = dir.file("run");
  build_gallery(g);
  fs::create_directories(run + "/out");  // so that a wrongly accepted input shows as a written output
  std::map<std::string, std::string> before = snapshot(dir.path());
  const std::string prefix = fs::path(program).filename().string() == "edgessd-detect" ? "edgessd-detect: error: "
                                                                                       : "edgessd: error: ";
  size_t skipped = 0;
  for (const Probe& probe : probes) skipped += !probe_runnable(probe.args);
  std::printf("%zu probes with %s (%zu skipped: they need ../shared's fixtures or data sets)\n", probes.size(),
              fs::path(program).filename().c_str(), skipped);
  for (const Probe& probe : probes) {
    if (!probe_runnable(probe.args)) continue;
    const std::string args = expand(probe.args, g, run + "/out");
    const CommandResult r = run_command("cd " + run + " && " + probe.env + " " + program + " " + args + " </dev/null");
    SCOPED_TRACE(args + "\n" + r.output);
    EXPECT_EQ(r.exit_code, 1);
    const std::vector<std::string> lines = lines_of(r.output);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.back().rfind(prefix, 0), 0u) << "the last line is the error";
    EXPECT_NE(lines.back().find(expand(probe.names, g, run + "/out")), std::string::npos) << "names " << probe.names;
    int error_lines = 0;
    for (const std::string& line : lines) error_lines += line.find("error") != std::string::npos;
    EXPECT_EQ(error_lines, 1) << "one error line";
    const std::map<std::string, std::string> after = snapshot(dir.path());
    if (after != before) {
      std::string changed;
      for (const auto& [name, entry] : after)
        if (!before.count(name) || before.at(name) != entry) changed += " " + name;
      for (const auto& [name, entry] : before)
        if (!after.count(name)) changed += " -" + name;
      ADD_FAILURE() << "files changed:" << changed;
      before = after;
    }
  }
}

// Every bad model file, for a flag that reads a checkpoint (.pth) or an ONNX model.
std::vector<Probe> bad_files(const std::string& command, const std::string& flag, const std::string& ext,
                             const std::string& rest) {
  std::vector<Probe> probes;
  // A one-line text page is a legitimate label file (one class named by the line).
  std::vector<std::string> names = {"empty", "random", "folder", "missing"};
  if (ext != ".txt") names.push_back("page");
  if (ext == ".pth" || ext == ".onnx") names.push_back("truncated");
  if (ext == ".onnx") names.push_back("flipped");
  for (const std::string& name : names)
    probes.push_back({command + " " + flag + " {g}/" + name + ext + " " + rest, "{g}/" + name + ext});
  probes.push_back({command + " " + flag + " /dev/zero " + rest, "/dev/zero"});
  return probes;
}

std::vector<Probe> operator+(std::vector<Probe> a, const std::vector<Probe>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const std::vector<std::string> kOpenImagesBad = {"oi-header-only", "oi-no-columns", "oi-nan", "oi-swapped",
                                                 "oi-traversal", "oi-html-images", "oi-missing-images",
                                                 "oi-open-quote", "oi-binary", "folder.txt", "empty.csv", "missing"};
const std::vector<std::string> kVocBad = {"voc-laughs", "voc-unclosed", "voc-bad-number", "voc-no-image", "voc-empty"};

std::vector<Probe> bad_datasets(const std::string& command, const std::string& flag, const std::string& rest) {
  std::vector<Probe> probes;
  for (const std::string& name : kOpenImagesBad)
    probes.push_back({command + " " + flag + " {g}/" + name + " " + rest, "{g}/" + name});
  for (const std::string& name : kVocBad)
    probes.push_back({command + " --dataset-type voc " + flag + " {g}/" + name + " " + rest, "{g}/" + name});
  return probes;
}

std::string cli() { return EDGESSD_CLI; }

}  // namespace

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
  const std::string data = "--dataset " + plates_dir();
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
    probes = probes + bad_files("train --data " + plates_dir(), flag, ".pth", rest);
  probes = probes + std::vector<Probe>{
                        {"train --data " + plates_dir() + " --epochs 1 --model-dir {g}/page.txt/m", "{g}/page.txt"},
                        {"train --data " + plates_dir() + " --pretrained-ssd {g}/json/model.pth " + rest,
                         "{g}/json/model.json"},
                        {"train --data " + plates_dir() + " --milestones 10,x " + rest, "--milestones"},
                        {"train --data " + plates_dir() + " --debug-steps -1 " + rest, "--debug-steps"},
                        {"train --data " + plates_dir() + " --base-net-lr nan " + rest, "--base-net-lr"},
                        {"train --data " + plates_dir() + " --extra-layers-lr -1 " + rest, "--extra-layers-lr"},
                        {"train --data " + plates_dir() + " --nproc-per-node 0 " + rest, "--nproc-per-node"},
                        {"train --data " + plates_dir() + " --nproc-per-node 1 --nnodes 2 --node-rank 2 --master-addr 127.0.0.1 " + rest,
                         "--node-rank"},
                        {"train --data " + plates_dir() + " --nproc-per-node 1 --master-port 70000 " + rest,
                         "--master-port"},
                        {"train --data " + plates_dir() + " --dist-timeout 0 " + rest, "--dist-timeout"},
                        {"train --data " + plates_dir() + " --master-port 29555 " + rest, "--master-port"},
                        {"train --data " + plates_dir() + " --dist-backend mpi " + rest, "--dist-backend"}};
  run_probes(cli(), probes);
}

// Both detect programs: bad models, labels, images and flags.
std::vector<Probe> detect_probes(const std::string& command) {
  const std::string model = "--model {onnx} --labels {labels}";
  const std::string image = plates_dir() + "/test/car12.jpg";
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
                        bad_files("quantize", "--model", ".onnx", "--calibration " + plates_dir() + "/test --output {out}/q.onnx") +
                        std::vector<Probe>{
                            {"bench --model {onnx} --runs 0", "--runs"},
                            {"bench --model {onnx} --engine libtorch", "{onnx}"},
                            {"quantize --model {onnx} --labels {labels} --calibration {g}/html-images --output "
                             "{out}/q.onnx",
                             "{g}/html-images"},
                            {"quantize --model {onnx} --calibration {g}/no-images --output {out}/q.onnx", "{g}/no-images"},
                            {"quantize --model {onnx} --calibration " + plates_dir() + "/test --images 0 --output {out}/q.onnx",
                             "--images"},
                            {"quantize --model {onnx} --calibration " + plates_dir() + "/test --output {g}/page.txt/q.onnx",
                             "{g}/page.txt"}});
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

// The one output rule (common/output_guard.h): no output may be one of the command's own
// inputs (whatever the path), lie inside an input data set, or share a path with another
// output; models are written only under their own extension.
TEST(HostileGallery, NoOutputDestroysAnInput) {
  const std::string det = "--model {g}/det/model.onnx --headless --tracking";
  const std::string image = plates_dir() + "/test/car12.jpg";
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
      {"quantize --model {g}/det/model.onnx --calibration " + plates_dir() + "/test --output {g}/det/model.onnx",
       "--model {g}/det/model.onnx"},
      {"detect " + det + " --events {g}/det/model.onnx {g}/video.avi", "--model {g}/det/model.onnx"},
      {"detect " + det + " --events {g}/video.avi {g}/video.avi", "input {g}/video.avi"},
      {"detect " + det + " --events {g}/det/labels.txt {g}/video.avi", "{g}/det/labels.txt"},
      {"detect " + det + " --reader {g}/reader/best.pth --events {g}/reader/best.pth {g}/video.avi",
       "--reader {g}/reader/best.pth"},
      {"detect " + det + " --events {out}/a.avi " + image + " {out}/a.avi", "--events {out}/a.avi is also output"},
      {"train --data {g}/oi-nan --model-dir {g}/oi-nan/m", "lies inside --data {g}/oi-nan"},
      {"train-reader --data {g}/oi-nan --model-dir {g}/oi-nan", "--data {g}/oi-nan"},
      {"synth --out {g}/oi-nan --count 3", "--out {g}/oi-nan: holds files and is not a synthetic data set"},
  };
  run_probes(cli(), probes);
  run_probes(EDGESSD_DETECT, {{det + " --events {g}/video.avi {g}/video.avi", "input {g}/video.avi"},
                              {det + " --events {out}/a.avi " + image + " {out}/a.avi", "is also output"}});
}

// The commands added with the plate reader, and priors: bad data sets, files and flags.
TEST(HostileGallery, PriorsAndTheReaderCommands) {
  const std::string plates = plates_dir();
  std::vector<Probe> probes =
      bad_files("train-reader --data " + plates + " --model-dir {out}/m", "--resume", ".pth", "") +
      bad_files("export-reader", "--input", ".pth", "--output {out}/r.onnx") +
      bad_files("eval-reader --dataset " + plates, "--model", ".pth", "") +
      bad_files("eval-reader --dataset " + plates, "--model", ".onnx", "") +
      std::vector<Probe>{
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
          {"export-reader --model-dir {g}/no-images", "{g}/no-images"},
          {"export-reader --input {g}/reader/best.pth --output {out}/r.txt", "ends in .onnx"}};
  run_probes(cli(), probes);
}

// Flags that were accepted silently, or refused with another tool's words.
TEST(HostileGallery, FlagValuesAndCommandNames) {
  const std::string plates = plates_dir();
  const std::string rest = "--epochs 1 --batch-size 1 --workers 0 --model-dir {out}/m";
  run_probes(cli(), {{"nosuchcmd", "unknown command 'nosuchcmd'"},
                     {"train --data " + plates + " --batch-size 0 --model-dir {out}/m", "--batch-size: '0': expected"},
                     {"train --data " + plates + " --seed -1 " + rest, "--seed"},
                     {"train --data " + plates + " --data " + plates + " " + rest, "given twice"},
                     {"train --data " + plates + " --nproc-per-node 1000 " + rest, "--nproc-per-node 1000"},
                     {"train --data " + plates + " --nproc-per-node 1 --nnodes 2 --node-rank 1 " + rest, "--master-addr"},
                     {"train --data " + plates + " --dist-join-timeout 0 " + rest, "--dist-join-timeout"},
                     {"train --data " + plates + " --pretrained-ssd {g}/reader/best.pth " + rest, "{g}/reader/best"},
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
                     {"quantize --model {onnx} --calibration {g}/oi-nan --output {out}/q.onnx",
                      "--calibration {g}/oi-nan: a data set, not a folder of images"},
                     {"eval-reader --dataset " + plates + " --model {g}/reader/best.pth --plate-pattern "
                      "\xc3\x84\xc3\x84\xc3\x84" "999",
                      "--plate-pattern"},
                     {"eval-reader --dataset " + plates + " --model {g}/reader/best.pth --plate-pattern " +
                          std::string(30, '9'),
                      "each format must have 1..16 positions"},
                     {"detect --model {onnx} --headless --reader {g}/reader/best.pth --plate-pattern AAA99999999999999999 " +
                          plates + "/test/car12.jpg",
                      "--plate-pattern"},
                     {"detect --model {onnx} --headless --tracker-overlap 0.5 " + plates + "/test/car12.jpg",
                      "--tracker-overlap: needs --tracking"},
                     {"detect --model {onnx} --headless --tracking --events '' " + plates + "/test/car12.jpg",
                      "--events: empty path"},
                     {"detect --model {onnx} --headless --roi 0,0,99999999999,5 " + plates + "/test/car12.jpg", "--roi"}});
}
