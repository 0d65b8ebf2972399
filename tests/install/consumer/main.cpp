// Loads an exported SSD ONNX model with an installed edgessd and prints the detections of
// one image: class, confidence, box in pixels.   usage: consumer MODEL.onnx IMAGE
#include <opencv2/imgcodecs.hpp>

#include <cstdio>

#include "edgessd/common/error.h"
#include "edgessd/deploy/detector.h"

int main(int argc, char** argv) {
  if (argc != 3) return std::fprintf(stderr, "usage: consumer MODEL.onnx IMAGE\n"), 2;
  try {
    edgessd::Detector detector(edgessd::load_detector_model(argv[1]), {});
    const cv::Mat image = cv::imread(argv[2]);
    if (image.empty()) throw edgessd::Error(std::string(argv[2]) + ": not an image");
    for (const edgessd::Detection& d : detector.detect_bgr(image))
      std::printf("%s %.3f %.1f %.1f %.1f %.1f\n", detector.info().class_names.at(d.label).c_str(), d.probability,
                  d.box.x1, d.box.y1, d.box.x2, d.box.y2);
    std::printf("engine %s\n", detector.engine_name().c_str());
  } catch (const std::exception& e) {
    return std::fprintf(stderr, "consumer: %s\n", e.what()), 1;
  }
  return 0;
}
