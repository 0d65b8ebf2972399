// Fuzz target for the CSV readers, untrusted input from downloads and users: any byte
// string as an Open Images sub-*-annotations-bbox.csv (read as a data set),
// as a full annotations file through the downloader's streaming filter, and as a
// class-descriptions file must give a result or an edgessd::Error, never a crash, a hang
// or an out-of-bounds access. Three 16x16 images (ids 0001, 0002, 0003) are in the split.
#include <cstddef>
#include <cstdint>

#include <opencv2/imgcodecs.hpp>

#include "edgessd/common/csv.h"
#include "edgessd/common/error.h"
#include "edgessd/common/logging.h"
#include "edgessd/data/dataset.h"
#include "edgessd/download/open_images_csv.h"
#include "fuzz_scratch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgessd;
  set_logging(false);
  quiet_library_logs();
  const std::string root = fuzz::scratch_dir("edgessd-fuzz-csv", [](const std::string& dir) {
    std::filesystem::create_directories(dir + "/train");
    for (const char* id : {"0001", "0002", "0003"})
      cv::imwrite(dir + "/train/" + id + ".jpg", cv::Mat(16, 16, CV_8UC3, cv::Scalar(10, 200, 90)));
  });
  const std::string csv = root + "/sub-train-annotations-bbox.csv";
  fuzz::write_bytes(csv, data, size);
  try {
    DatasetOptions options;
    options.verify_images = false;  // the CSV is the target here; decoding is the loader's
    read_open_images(root, "train", options);
  } catch (const Error&) {
  }
  try {
    CsvTable table(std::string(reinterpret_cast<const char*>(data), size), "fuzz.csv");
  } catch (const Error&) {
  }
  try {
    const std::vector<ClassDescription> classes = read_class_descriptions(csv);
    filter_annotations(csv, classes);
    filter_annotations(csv, {{"/m/01jfm_", "Vehicle registration plate"}});
  } catch (const Error&) {
  }
  return 0;
}
