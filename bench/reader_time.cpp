// The plate reader's cost per plate on this CPU: PlateReader::read_rgb (crop, resize,
// normalise, network, greedy decode) on one crop of a synthetic frame, for each engine
// and thread count; min and median ms over RUNS after 5 warm-up reads. An int8 model
// (edgessd quantize) runs as "onednn-int8". ONNX Runtime's figure comes from
// bench/ort_bench.js (bench/plate_reader.sh runs both).
//
//   build/bench/reader_time READER.onnx [RUNS]        (default 200)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "edgessd/common/error.h"
#include "edgessd/deploy/plate_reader.h"

int main(int argc, char** argv) {
  using namespace edgessd;
  if (argc < 2) {
    std::fprintf(stderr, "usage: reader_time READER.onnx [RUNS]\n");
    return 2;
  }
  const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 200;
  cv::Mat frame(720, 1280, CV_8UC3);
  cv::randu(frame, 0, 255);
  const CornerBox plate{600, 400, 720, 440};  // a 120x40 plate in a 1280x720 frame
  try {
    for (const char* engine : {"onednn", "opencv"})
      for (int threads : {1, 2}) {
        PlateReader reader(argv[1], {engine, threads});
        for (int i = 0; i < 5; ++i) reader.read_rgb(frame, plate);
        std::vector<double> ms;
        for (int i = 0; i < runs; ++i) {
          reader.read_rgb(frame, plate);
          ms.push_back(reader.last_ms());
        }
        std::sort(ms.begin(), ms.end());
        std::printf("engine=%s threads=%d min_ms=%.3f median_ms=%.3f\n", reader.engine_name().c_str(), threads, ms[0],
                    ms[ms.size() / 2]);
      }
  } catch (const Error& e) {
    std::fprintf(stderr, "reader_time: %s\n", e.what());
    return 1;
  }
  return 0;
}
