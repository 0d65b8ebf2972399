#pragma once
// The hostile-input gallery (issue 15, round two in issue 34): a folder of bad inputs,
// made fresh per test, and the probe runner every gallery test uses.
#include <sys/stat.h>

#include <map>
#include <random>

#include <opencv2/imgcodecs.hpp>

#include "edgessd/common/files.h"
#include "support/test_support.h"

namespace edgessd::testing::gallery {

namespace fs = std::filesystem;
using edgessd::testing::CommandResult;

inline void write(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

inline std::string jpeg(int w, int h) {
  std::vector<uchar> bytes;
  cv::imencode(".jpg", cv::Mat(h, w, CV_8UC3, cv::Scalar(90, 120, 150)), bytes);
  return std::string(bytes.begin(), bytes.end());
}

inline const char* const kHtml = "<!DOCTYPE html><html><body>404 Not Found</body></html>\n";
inline const char* const kCsvHeader = "ImageID,XMin,XMax,YMin,YMax,IsGroupOf,ClassName\n";

// An Open Images root whose train, validation and test splits all hold `csv` (after the
// header unless `raw`) and the images named in `images`.
inline void open_images_root(const std::string& root, const std::string& csv, const std::map<std::string, std::string>& images,
                      bool raw = false) {
  for (const std::string split : {"train", "validation", "test"}) {
    write(root + "/sub-" + split + "-annotations-bbox.csv", raw ? csv : kCsvHeader + csv);
    fs::create_directories(root + "/" + split);
    for (const auto& [id, bytes] : images) write(root + "/" + split + "/" + id + ".jpg", bytes);
  }
}

inline std::string voc_xml(const std::string& box) {
  return "<annotation><size><width>64</width><height>48</height></size><object><name>Vehicle registration plate</name>"
         "<difficult>0</difficult><bndbox>" + box + "</bndbox></object></annotation>\n";
}

// A VOC root with one image `v1` for trainval and test, its annotation `xml`.
inline void voc_root(const std::string& root, const std::string& xml, const std::string& image) {
  for (const std::string split : {"trainval", "test"}) write(root + "/ImageSets/Main/" + split + ".txt", "v1\n");
  write(root + "/labels.txt", "Vehicle registration plate\n");
  write(root + "/Annotations/v1.xml", xml);
  if (!image.empty()) write(root + "/JPEGImages/v1.jpg", image);
}

inline std::string random_bytes(size_t n) {
  std::mt19937 rng(15);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

// The gallery: bad model files, labels, images, data sets. Good inputs are the shared
// fixtures, read in place.
inline void build_gallery(const std::string& g) {
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
  // A detector's weights beside a reader's JSON; a FIFO named like a checkpoint; an
  // earlier run's event crop.
  fs::create_directories(g + "/reader-json");
  if (fixtures) fs::create_symlink(fixture("ref-trained.pth"), g + "/reader-json/model.pth");
  write(g + "/reader-json/model.json", "{\"kind\": \"plate-reader\", \"charset\": \"0123456789\", "
                                        "\"input_size\": [96, 32]}\n");
  ::mkfifo((g + "/fifo.pth").c_str(), 0600);
  write(g + "/crops/events-track-1.jpg", jpeg(40, 20));
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
  // A good small data set with plates' texts, for the probes whose point is another input
  // (../shared's plates-us stands in where it is there).
  open_images_root(g + "/good-data", text_header + "i1,0.1,0.5,0.2,0.6,0,Vehicle registration plate,AB123\n",
                   {{"i1", jpeg(64, 48)}}, true);
  // Background photos: a 1x1 one, none, special files only.
  write(g + "/photos-tiny/a.jpg", jpeg(1, 1));
  fs::create_directories(g + "/photos-empty");
  fs::create_directories(g + "/photos-special");
  ::mkfifo((g + "/photos-special/fifo.jpg").c_str(), 0600);
}

// name -> (kind, inode; size, mtime and the bytes of small files) of everything under
// `root`, links not followed: a rename or a rewrite changes the entry.
inline std::map<std::string, std::string> snapshot(const std::string& root) {
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

inline std::vector<std::string> lines_of(const std::string& s) {
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

// {data} is a good data set: ../shared's plates-us, else the gallery's own small one;
// {image} one of its photos.
inline std::string expand(std::string s, const std::string& g, const std::string& out) {
  const bool shared = fs::exists(plates_dir());
  const std::string data = shared ? plates_dir() : g + "/good-data";
  const std::string image = shared ? plates_dir() + "/test/car12.jpg" : g + "/good-data/test/i1.jpg";
  for (const auto& [key, value] : {std::pair<std::string, std::string>{"{data}", data}, {"{image}", image}, {"{g}", g}, {"{out}", out},
                                   {"{pth}", fixture("ref-trained.pth")},
                                   {"{onnx}", fixture("mb1-ssd-2class-random.onnx")},
                                   {"{labels}", fixture("ref-trained-labels.txt")}}) {
    for (size_t at; (at = s.find(key)) != std::string::npos;) s.replace(at, key.size(), value);
  }
  return s;
}

// A probe needs the shared fixtures when it names one (or a gallery file made from one);
// only such probes are skipped where ../shared lacks them (a data set it has: {data}).
inline bool probe_runnable(const std::string& args) {
  const bool fixtures = fs::exists(fixture("ref-trained.pth")) && fs::exists(fixture("mb1-ssd-2class-random.onnx"));
  for (const char* needs : {"{pth}", "{onnx}", "{labels}", "truncated.", "flipped.", "json/model", "det/model", "s8/model",
                            "reader-json/model"})
    if (args.find(needs) != std::string::npos && !fixtures) return false;
  return true;
}

inline void run_probes(const std::string& program, const std::vector<Probe>& probes) {
  TempDir dir;
  const std::string g = dir.file("gallery"), run = dir.file("run");
  build_gallery(g);
  fs::create_directories(run + "/out");  // so that a wrongly accepted input shows as a written output
  std::map<std::string, std::string> before = snapshot(dir.path());
  const std::string prefix = fs::path(program).filename().string() + ": error: ";
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
inline std::vector<Probe> bad_files(const std::string& command, const std::string& flag, const std::string& ext,
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

inline std::vector<Probe> operator+(std::vector<Probe> a, const std::vector<Probe>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

inline const std::vector<std::string> kOpenImagesBad = {"oi-header-only", "oi-no-columns", "oi-nan", "oi-swapped",
                                                 "oi-traversal", "oi-html-images", "oi-missing-images",
                                                 "oi-open-quote", "oi-binary", "folder.txt", "empty.csv", "missing"};
inline const std::vector<std::string> kVocBad = {"voc-laughs", "voc-unclosed", "voc-bad-number", "voc-no-image", "voc-empty"};

inline std::vector<Probe> bad_datasets(const std::string& command, const std::string& flag, const std::string& rest) {
  std::vector<Probe> probes;
  for (const std::string& name : kOpenImagesBad)
    probes.push_back({command + " " + flag + " {g}/" + name + " " + rest, "{g}/" + name});
  for (const std::string& name : kVocBad)
    probes.push_back({command + " --dataset-type voc " + flag + " {g}/" + name + " " + rest, "{g}/" + name});
  return probes;
}

inline std::string cli() { return EDGESSD_CLI; }

}  // namespace edgessd::testing::gallery
