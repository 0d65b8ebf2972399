// The Open Images downloader: CSV streaming, selection, and end-to-end runs of the real
// CLI against a local fault-injecting HTTP server (tests/download/fault_server.py).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/download/http_fetcher.h"
#include "edgessd/download/open_images_csv.h"
#include "edgessd/download/selection.h"
#include "support/test_support.h"

using namespace edgessd;
using namespace edgessd::testing;
namespace fs = std::filesystem;

namespace {

const char* kTrainHeader =
    "ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,IsGroupOf,IsDepiction,IsInside,"
    "XClick1X,XClick2X,XClick3X,XClick4X,XClick1Y,XClick2Y,XClick3Y,XClick4Y";
const char* kEvalHeader =
    "ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,IsGroupOf,IsDepiction,IsInside";
const char* kPlate = "/m/01jfm_";
const char* kCar = "/m/0k4j";
const char* kPerson = "/m/01g317";

std::string hex_id(int n) {
  char id[17];
  std::snprintf(id, sizeof id, "%016x", 0xa0b1c2d3u + n);
  return id;
}

std::string train_row(const std::string& id, const std::string& label, const std::string& box = "0.1,0.4,0.2,0.5",
                      int group = 0, int depiction = 0) {
  return id + ",xclick," + label + ",1," + box + ",0,0," + std::to_string(group) + "," + std::to_string(depiction) +
         ",0,-1,-1,-1,-1,-1,-1,-1,-1";
}
std::string eval_row(const std::string& id, const std::string& label, const std::string& box = "0.1,0.4,0.2,0.5") {
  return id + ",xclick," + label + ",1," + box + ",0,0,0,0,0";
}

// A small Open Images mirror: metadata under meta/, images under images/<split>/.
struct Mirror {
  TempDir dir;
  std::map<std::string, std::vector<std::string>> ids;  // split -> plate image ids

  Mirror() {
    fs::create_directories(dir.file("meta"));
    std::ofstream(dir.file("meta/class-descriptions-boxable.csv"))
        << kPerson << ",Person\r\n" << kCar << ",Car\r\n" << kPlate << ",Vehicle registration plate\r\n"
        << "/m/0abc,\"Tree, house\"\r\n";
    std::string train = std::string(kTrainHeader) + "\n";
    for (int i = 0; i < 8; ++i) {
      train += train_row(hex_id(i), kPlate) + "\n";
      train += train_row(hex_id(i), kPerson) + "\n";
      ids["train"].push_back(hex_id(i));
    }
    train += train_row(hex_id(50), kPlate, "0.1,0.4,0.2,0.5", 0, 1) + "\n";  // a depiction
    train += train_row(hex_id(51), kCar) + "\n";
    train += train_row("../../etc/passwd", kPlate) + "\n";                  // a traversal ID
    train += hex_id(52) + ",xclick," + kPlate + ",1,0.1,0.4\n";               // malformed: short row
    train += "\"" + hex_id(53) + "\",xclick,\"" + kPlate + "\",1,0.2,0.3,0.2,0.3,0,0,0,0,0,-1,-1,-1,-1,-1,-1,-1,-1\n";
    ids["train"].push_back(hex_id(53));  // quoted fields are fine
    std::ofstream(dir.file("meta/train-annotations-bbox.csv")) << train;
    for (const char* split : {"validation", "test"}) {
      std::string text = std::string(kEvalHeader) + "\r\n";
      const int base = split == std::string("validation") ? 100 : 200;
      for (int i = 0; i < 3; ++i) {
        text += eval_row(hex_id(base + i), kPlate) + "\r\n";
        ids[split].push_back(hex_id(base + i));
      }
      text += eval_row(hex_id(base + 9), kCar) + "\r\n";
      std::ofstream(dir.file(std::string("meta/") + split + "-annotations-bbox.csv")) << text;
    }
    for (const auto& [split, list] : ids) {
      fs::create_directories(dir.file("images/" + split));
      for (const auto& id : list) {
        cv::Mat image(48, 64, CV_8UC3, cv::Scalar(40, 80, 120));
        cv::putText(image, id.substr(12), {2, 30}, cv::FONT_HERSHEY_SIMPLEX, 0.5, {255, 255, 255});
        cv::imwrite(dir.file("images/" + split + "/" + id + ".jpg"), image);
      }
    }
  }
  std::string url_path(const std::string& split, const std::string& id) const {
    return "/images/" + split + "/" + id + ".jpg";
  }
};

class Server {
 public:
  Server(const std::string& root, const std::string& faults_json, const std::string& log) {
    std::ofstream(log + ".faults") << faults_json;
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      const std::string script = std::string(EDGESSD_SOURCE_DIR) + "/tests/download/fault_server.py";
      const std::string faults = log + ".faults";
      execl(debian_python().c_str(), "python3", script.c_str(), root.c_str(), faults.c_str(), log.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    char buffer[32] = {};
    size_t n = 0;
    while (n < sizeof buffer - 1 && read(out[0], buffer + n, 1) == 1 && buffer[n] != '\n') ++n;
    close(out[0]);
    port_ = std::atoi(buffer);
  }
  ~Server() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  int port() const { return port_; }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

std::string download_command(const Server& server, const std::string& data, const std::string& extra = "") {
  return std::string(EDGESSD_CLI) + " download --class-names 'vehicle registration PLATE' --data " + data +
         " --metadata-url " + server.base() + "/meta --image-url '" + server.base() +
         "/images/{split}/{id}.jpg' --retry 3 --retry-wait 0.05 --timeout 1 --num-workers 4 " + extra;
}

size_t count_lines_with(const std::string& path, const std::string& needle) {
  std::ifstream in(path);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) n += line.find(needle) != std::string::npos;
  return n;
}

// Every .jpg under `dir` decodes, and no temporary file is left anywhere.
void expect_clean(const std::string& dir) {
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    EXPECT_EQ(name.find(".partial"), std::string::npos) << entry.path();
    if (entry.path().extension() == ".jpg") EXPECT_FALSE(cv::imread(entry.path().string()).empty()) << entry.path();
  }
}

bool python_available() { return fs::exists(debian_python()); }

}  // namespace

TEST(OpenImagesCsv, StreamsSelectedRowsAndCountsBadOnes) {
  Mirror mirror;
  std::vector<ClassDescription> classes =
      match_class_names(read_class_descriptions(mirror.dir.file("meta/class-descriptions-boxable.csv")),
                        {" Vehicle Registration Plate", "tree, HOUSE"});
  ASSERT_EQ(classes.size(), 2u);
  EXPECT_EQ(classes[0].label, kPlate);
  EXPECT_EQ(classes[1].name, "Tree, house");
  FilteredAnnotations f = filter_annotations(mirror.dir.file("meta/train-annotations-bbox.csv"), classes);
  EXPECT_EQ(f.header.size(), 21u);
  EXPECT_EQ(f.rows.size(), 10u);  // 8 plates + the depiction + the quoted row
  EXPECT_EQ(f.malformed, 1u);
  ASSERT_EQ(f.malformed_examples.size(), 1u);
  EXPECT_NE(f.malformed_examples[0].find("train-annotations-bbox.csv:21"), std::string::npos) << f.malformed_examples[0];
  EXPECT_EQ(f.bad_ids, 1u);
  EXPECT_EQ(f.rows.back().image_id, hex_id(53));
  EXPECT_FLOAT_EQ(f.rows.back().x_max, 0.3f);
  EXPECT_TRUE(f.rows[8].is_depiction);
  EXPECT_EQ(f.rows_read, 21u);
  FilteredAnnotations v = filter_annotations(mirror.dir.file("meta/validation-annotations-bbox.csv"), classes);
  EXPECT_EQ(v.header.size(), 13u);
  EXPECT_EQ(v.rows.size(), 3u);
  EXPECT_EQ(v.rows[0].fields.back(), "0");  // CR stripped
}

TEST(OpenImagesCsv, Errors) {
  TempDir dir;
  const std::vector<ClassDescription> known = {{kPlate, "Vehicle registration plate"}, {kCar, "Car"}};
  try {
    match_class_names(known, {"Vehicle plate"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'Vehicle registration plate'"), std::string::npos) << e.what();
  }
  std::ofstream(dir.file("c.csv")) << "/m/1,One\n/m/2,Two,extra\n";
  try {
    read_class_descriptions(dir.file("c.csv"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("c.csv:2"), std::string::npos) << e.what();
  }
  std::ofstream(dir.file("a.csv")) << "ImageID,Source,XMin\n";
  try {
    filter_annotations(dir.file("a.csv"), known);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'LabelName'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(filter_annotations(dir.file("none.csv"), known), Error);
  // A byte-order mark before the header is not part of the first column's name.
  std::ofstream(dir.file("bom.csv")) << "\xEF\xBB\xBF" << kEvalHeader << "\n" << eval_row(hex_id(1), kCar) << "\n";
  EXPECT_EQ(filter_annotations(dir.file("bom.csv"), known).rows.size(), 1u);
  EXPECT_TRUE(is_open_images_id("000a1b2c3d4e5f60"));
  EXPECT_FALSE(is_open_images_id("../x"));
  EXPECT_FALSE(is_open_images_id("a/b"));
  EXPECT_FALSE(is_open_images_id(""));
}

TEST(Selection, DepictionOverlapAndLimits) {
  const std::vector<ClassDescription> classes = {{kPlate, "Plate"}, {kCar, "Car"}};
  auto row = [](const std::string& id, size_t c, float x1, float x2, bool group = false, bool depiction = false) {
    AnnotationRow r;
    r.image_id = id;
    r.class_index = c;
    r.x_min = x1, r.x_max = x2, r.y_min = 0.1f, r.y_max = 0.5f;
    r.is_group = group;
    r.is_depiction = depiction;
    r.fields = {id};
    return r;
  };
  std::vector<SplitSelection> splits(2);
  splits[0].split = "train";
  splits[1].split = "test";
  splits[0].rows = {row("a", 0, 0.1f, 0.2f), row("a", 0, 0.0f, 0.5f, true), row("a", 1, 0.1f, 0.2f),
                    row("b", 0, 0.1f, 0.2f, false, true)};
  for (int i = 0; i < 20; ++i) splits[0].rows.push_back(row("t" + std::to_string(i), 0, 0.1f, 0.2f));
  for (int i = 0; i < 10; ++i) splits[1].rows.push_back(row("s" + std::to_string(i), 1, 0.1f, 0.2f));
  SelectionOptions options;
  options.remove_overlapped = true;
  options.max_images = 16;
  options.seed = 3;
  std::string log;
  auto copy = splits;
  select_annotations(copy, classes, options, log);
  EXPECT_NE(log.find("Available train images:  21"), std::string::npos) << log;  // b was a depiction
  EXPECT_NE(log.find("Available train boxes:   22"), std::string::npos) << log;  // a's single plate inside the group
  EXPECT_NE(log.find("Total available images: 31"), std::string::npos) << log;
  EXPECT_EQ(copy[0].image_ids.size(), size_t(16 * 21 / 31));
  EXPECT_EQ(copy[1].image_ids.size(), size_t(16 * 10 / 31));
  EXPECT_NE(log.find("Limiting train dataset to:  10 images"), std::string::npos) << log;
  // Same seed, same choice.
  auto again = splits;
  std::string log2;
  select_annotations(again, classes, options, log2);
  EXPECT_EQ(again[0].image_ids, copy[0].image_ids);
  const std::string stats = format_statistics(copy, classes);
  EXPECT_NE(stats.find(" 'train' set statistics"), std::string::npos) << stats;
  EXPECT_NE(stats.find("  Image count:  10"), std::string::npos) << stats;
  EXPECT_NE(stats.find(" Overall statistics"), std::string::npos) << stats;

  auto per_class = splits;
  SelectionOptions limit;
  limit.max_annotations_per_class = 5;
  std::string log3;
  select_annotations(per_class, classes, limit, log3);
  size_t cars = 0;
  for (const auto& s : per_class)
    for (const auto& r : s.rows) cars += r.class_index == 1;
  EXPECT_LE(cars, 5u);
  EXPECT_GE(cars, 4u);
}

TEST(DownloadCli, FullRunLayoutCountsAndStatistics) {
  if (!python_available()) GTEST_SKIP() << "no " << debian_python() << " for the test HTTP server";
  Mirror mirror;
  TempDir data;
  Server server(mirror.dir.path(), "{}", data.file("requests.log"));
  ASSERT_GT(server.port(), 0);
  CommandResult r = run_command(download_command(server, data.file("oi")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Available train images:  9"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Available validation boxes:   3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Total available images: 15"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Vehicle registration plate:  9/9 = 1.00"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1 malformed rows skipped"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1 rows with an ImageID that is not an Open Images ID skipped"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("15 downloaded"), std::string::npos) << r.output;
  for (const auto& [split, ids] : mirror.ids)
    for (const auto& id : ids) EXPECT_TRUE(fs::exists(data.file("oi/" + split + "/" + id + ".jpg"))) << split << id;
  const std::string sub = read_file(data.file("oi/sub-train-annotations-bbox.csv"));
  EXPECT_EQ(sub.substr(0, sub.find('\n')), std::string(kTrainHeader) + ",id,ClassName");
  EXPECT_EQ(count_lines_with(data.file("oi/sub-train-annotations-bbox.csv"), ",Vehicle registration plate"), 9u);
  EXPECT_EQ(count_lines_with(data.file("oi/sub-test-annotations-bbox.csv"), "/m/01jfm_,Vehicle registration plate"), 3u);
  EXPECT_FALSE(fs::exists(data.file("oi/train/" + hex_id(50) + ".jpg")));  // depiction dropped
  expect_clean(data.file("oi"));
  EXPECT_EQ(count_lines_with(data.file("requests.log"), "passwd"), 0u);

  // A rerun fetches nothing: metadata and images are reused.
  const size_t before = count_lines_with(data.file("requests.log"), "/");
  r = run_command(download_command(server, data.file("oi")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("15 already present"), std::string::npos) << r.output;
  EXPECT_EQ(count_lines_with(data.file("requests.log"), "/"), before);

  // The dataset reader takes what we wrote.
  r = run_command(download_command(server, data.file("stats"), "--stats-only"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(fs::exists(data.file("stats/train")));
}

TEST(DownloadCli, FaultsAreRetriedCountedAndNothingCorruptIsLeft) {
  if (!python_available()) GTEST_SKIP() << "no " << debian_python() << " for the test HTTP server";
  Mirror mirror;
  TempDir data;
  const auto& train = mirror.ids["train"];
  std::string faults = "{";
  faults += "\"" + mirror.url_path("train", train[0]) + "\": [\"404\"],";
  faults += "\"" + mirror.url_path("train", train[1]) + "\": [\"500\", \"503\", \"ok\"],";
  faults += "\"" + mirror.url_path("train", train[2]) + "\": [\"reset\", \"ok\"],";
  faults += "\"" + mirror.url_path("train", train[3]) + "\": [\"html\"],";
  faults += "\"" + mirror.url_path("train", train[4]) + "\": [\"slow\"],";
  faults += "\"" + mirror.url_path("train", train[5]) + "\": [\"short\", \"ok\"],";
  faults += "\"/meta/test-annotations-bbox.csv\": [\"short\", \"503\", \"ok\"]";
  faults += "}";
  {
    Server server(mirror.dir.path(), faults, data.file("requests.log"));
    CommandResult r = run_command(download_command(server, data.file("oi"), "--retry 2"));
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("12 downloaded"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("1 missing on server, 2 failed"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("not a JPEG"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(data.file("oi/train/" + train[0] + ".jpg")));
    EXPECT_FALSE(fs::exists(data.file("oi/train/" + train[3] + ".jpg")));
    EXPECT_FALSE(fs::exists(data.file("oi/train/" + train[4] + ".jpg")));
    EXPECT_TRUE(fs::exists(data.file("oi/train/" + train[1] + ".jpg")));
    EXPECT_TRUE(fs::exists(data.file("oi/train/" + train[2] + ".jpg")));
    EXPECT_EQ(count_lines_with(data.file("requests.log"), mirror.url_path("train", train[1])), 3u);
    EXPECT_EQ(count_lines_with(data.file("requests.log"), mirror.url_path("train", train[3])), 3u);  // 1 + 2 retries
    EXPECT_EQ(count_lines_with(data.file("requests.log"), mirror.url_path("train", train[0])), 1u);  // 404: no retry
    EXPECT_EQ(read_file(data.file("oi/test-annotations-bbox.csv")), read_file(mirror.dir.file("meta/test-annotations-bbox.csv")));
    expect_clean(data.file("oi"));
  }
  // Faults gone: a rerun fetches only what is missing and succeeds.
  fs::remove(data.file("requests.log"));
  Server server(mirror.dir.path(), "{}", data.file("requests2.log"));
  CommandResult r = run_command(download_command(server, data.file("oi")));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("3 downloaded"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("12 already present"), std::string::npos) << r.output;
  EXPECT_EQ(count_lines_with(data.file("requests2.log"), "/images/"), 3u);
  EXPECT_EQ(count_lines_with(data.file("requests2.log"), "/meta/"), 0u);
  expect_clean(data.file("oi"));
}

TEST(DownloadCli, KilledRunResumes) {
  if (!python_available()) GTEST_SKIP() << "no " << debian_python() << " for the test HTTP server";
  Mirror mirror;
  TempDir data;
  std::string faults = "{";
  const auto& train = mirror.ids["train"];
  for (size_t i = 3; i < train.size(); ++i)
    faults += std::string(i > 3 ? "," : "") + "\"" + mirror.url_path("train", train[i]) + "\": [\"slow\", \"ok\"]";
  faults += "}";
  {
    Server server(mirror.dir.path(), faults, data.file("requests.log"));
    const std::string command = download_command(server, data.file("oi"), "--num-workers 2 --timeout 30");
    const pid_t pid = fork();
    if (pid == 0) {
      execl("/bin/sh", "sh", "-c", ("exec " + command + " >/dev/null 2>&1").c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    // Kill it while transfers hang mid-response, once the first images are in place.
    for (int i = 0; i < 200 && !fs::exists(data.file("oi/train/" + train[1] + ".jpg")); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    EXPECT_TRUE(fs::exists(data.file("oi/train/" + train[0] + ".jpg")));
    EXPECT_FALSE(fs::exists(data.file("oi/train/" + train[3] + ".jpg")));
    for (const auto& entry : fs::recursive_directory_iterator(data.file("oi")))
      if (entry.path().extension() == ".jpg") EXPECT_FALSE(cv::imread(entry.path().string()).empty()) << entry.path();
  }
  Server server(mirror.dir.path(), "{}", data.file("requests2.log"));
  CommandResult r = run_command(download_command(server, data.file("oi")));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find(" 0 already present"), std::string::npos) << r.output;  // the killed run's images stay
  EXPECT_EQ(count_lines_with(data.file("requests2.log"), mirror.url_path("train", train[0])), 0u);
  for (const auto& [split, ids] : mirror.ids)
    for (const auto& id : ids) EXPECT_TRUE(fs::exists(data.file("oi/" + split + "/" + id + ".jpg")));
  expect_clean(data.file("oi"));
}

TEST(DownloadCli, ClearErrors) {
  if (!python_available()) GTEST_SKIP() << "no " << debian_python() << " for the test HTTP server";
  Mirror mirror;
  TempDir data;
  Server server(mirror.dir.path(), "{}", data.file("requests.log"));
  CommandResult r = run_command(std::string(EDGESSD_CLI) + " download --class-names 'Licence plate' --data " +
                                data.file("oi") + " --metadata-url " + server.base() + "/meta");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("no Open Images class 'Licence plate'; nearest: 'Vehicle registration plate'"),
            std::string::npos) << r.output;
  std::ofstream(data.file("a-file")) << "x";
  r = run_command(download_command(server, data.file("a-file/oi")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("a-file/oi: cannot create the folder"), std::string::npos) << r.output;
  TempDir empty;
  Server nothing(empty.path(), "{}", data.file("requests-empty.log"));
  r = run_command(download_command(nothing, data.file("oi2")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("not found on the server"), std::string::npos) << r.output;
  expect_clean(data.path());
}

// A finished try's meaning, as the fetcher acts on it (file:// has no HTTP status).
TEST(HttpFetcher, ClassifiesTransferOutcomes) {
  using O = TransferOutcome;
  const int ok = 0, couldnt_connect = 7, operation_timedout = 28, file_couldnt_read = 37;
  EXPECT_EQ(classify_transfer(ok, 200, false, false), O::Done);
  EXPECT_EQ(classify_transfer(ok, 206, false, true), O::Done);
  EXPECT_EQ(classify_transfer(ok, 404, false, false), O::Missing);
  EXPECT_EQ(classify_transfer(ok, 410, false, false), O::Missing);
  EXPECT_EQ(classify_transfer(ok, 416, false, true), O::RestartWithoutRange);
  EXPECT_EQ(classify_transfer(ok, 416, false, false), O::Permanent);
  EXPECT_EQ(classify_transfer(ok, 403, false, false), O::Permanent);
  for (long status : {408L, 429L, 500L, 502L, 503L}) EXPECT_EQ(classify_transfer(ok, status, false, false), O::Transient);
  EXPECT_EQ(classify_transfer(couldnt_connect, 0, false, false), O::Transient);
  EXPECT_EQ(classify_transfer(operation_timedout, 0, false, true), O::Transient);
  EXPECT_EQ(classify_transfer(ok, 0, true, false), O::Done);
  EXPECT_EQ(classify_transfer(file_couldnt_read, 0, true, false), O::Missing);
  EXPECT_EQ(classify_transfer(couldnt_connect, 0, true, false), O::Permanent);
}
