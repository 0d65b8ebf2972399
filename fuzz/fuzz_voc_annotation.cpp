// Fuzz target for Pascal VOC annotations, untrusted XML: any byte string as
// Annotations/v1.xml of a trainval split (one 16x16 image), read with the 20 VOC classes,
// must give a data set or an edgessd::Error, never a crash, a hang (entity expansion
// included) or an out-of-bounds access.
#include <cstddef>
#include <cstdint>

#include <opencv2/imgcodecs.hpp>

#include "edgessd/common/error.h"
#include "edgessd/common/logging.h"
#include "edgessd/data/dataset.h"
#include "fuzz_scratch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgessd;
  set_logging(false);
  quiet_library_logs();
  const std::string root = fuzz::scratch_dir("edgessd-fuzz-voc", [](const std::string& dir) {
    for (const char* sub : {"/Annotations", "/JPEGImages", "/ImageSets/Main"}) std::filesystem::create_directories(dir + sub);
    std::ofstream(dir + "/ImageSets/Main/trainval.txt") << "v1\n";
    cv::imwrite(dir + "/JPEGImages/v1.jpg", cv::Mat(16, 16, CV_8UC3, cv::Scalar(10, 200, 90)));
  });
  fuzz::write_bytes(root + "/Annotations/v1.xml", data, size);
  for (const bool keep_difficult : {true, false}) {
    try {
      DatasetOptions options;
      options.keep_difficult = keep_difficult;
      read_voc(root, "trainval", options);
    } catch (const Error&) {
    }
  }
  return 0;
}
