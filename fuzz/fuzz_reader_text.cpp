// Fuzz target for the plate reader's untrusted text: the bytes as a reader's model JSON
// (best.json beside a train-reader checkpoint), as a detector's model JSON (a reader's JSON
// handed to a detector command), and as a data set CSV whose PlateText column feeds the
// crops, the scores and the --json printout (eval-reader), plus the first line as a
// --plate-pattern. Each must give a result or an edgessd::Error: never a crash, a hang, or
// another exception (nlohmann's type_error 316 on a non-UTF-8 PlateText was one).
#include <cstddef>
#include <cstdint>

#include <opencv2/imgcodecs.hpp>

#include "edgessd/common/error.h"
#include "edgessd/common/logging.h"
#include "edgessd/common/model_info.h"
#include "edgessd/plates/reader_info.h"
#include "edgessd/data/dataset.h"
#include "edgessd/data/plate_samples.h"
#include "edgessd/plates/plate_crops.h"
#include "edgessd/plates/plate_pattern.h"
#include "edgessd/eval/reader_eval.h"
#include "fuzz_scratch.h"

namespace {

// Scores the set's plates with a "reader" that reads back each plate's own normalised text
// (every exact-match path and the JSON of every text run).
void score_plates(const edgessd::DetectionDataset& set) {
  using namespace edgessd;
  const PlateSamples samples = plate_samples(set, ReaderInfo().charset, reader_columns(ReaderInfo().input_width));
  (void)samples;
  const ReadFunction read = [&set](const cv::Mat&, const std::vector<CornerBox>& boxes) {
    std::vector<PlateReading> out(boxes.size());
    for (size_t i = 0; i < boxes.size(); ++i)
      for (const auto& image : set.images)
        for (size_t b = 0; b < image.boxes.size() && b < image.texts.size(); ++b)
          if (image.boxes[b].x1 * 16 == boxes[i].x1 && image.boxes[b].y1 * 16 == boxes[i].y1)
            out[i].text = normalise_plate_text(image.texts[b]);
    return out;
  };
  const ReaderEvalResult r = evaluate_reader(set, read);
  reader_result_json(r);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgessd;
  set_logging(false);
  quiet_library_logs();
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    reader_info_from_json(text, "fuzz.json");
  } catch (const Error&) {
  }
  try {
    model_info_from_json(text, "fuzz.json");
  } catch (const Error&) {
  }
  try {
    PlatePattern(text.substr(0, text.find('\n')), ReaderInfo().charset, "--plate-pattern");
  } catch (const Error&) {
  }
  const std::string root = fuzz::scratch_dir("edgessd-fuzz-reader", [](const std::string& dir) {
    std::filesystem::create_directories(dir + "/test");
    for (const char* id : {"0001", "0002", "0003"})
      cv::imwrite(dir + "/test/" + id + ".jpg", cv::Mat(16, 16, CV_8UC3, cv::Scalar(10, 200, 90)));
  });
  fuzz::write_bytes(root + "/sub-test-annotations-bbox.csv", data, size);
  try {
    score_plates(read_open_images(root, "test"));
  } catch (const Error&) {
  }
  return 0;
}
