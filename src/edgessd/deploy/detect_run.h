#pragma once
#include <string>

#include "edgessd/deploy/detection_follower.h"
#include "edgessd/deploy/detector_model.h"
#include "edgessd/deploy/video_output.h"
#include "edgessd/deploy/video_source.h"
#include "edgessd/runtime/engine.h"

namespace edgessd {

struct DetectRunOptions {
  std::string model;   // .onnx
  std::string labels;  // optional: overrides the model's own
  std::string resolution;  // optional: checked against the model's input size
  std::string input;
  std::string output;  // empty: a window when there is a display (not --headless), else none
  float threshold = 0.5f;
  bool headless = false;
  bool json = false;   // one JSON object per frame on stdout instead of the text printout
  int64_t max_frames = 0;  // 0 = all
  std::string overlay = "box,labels,conf";  // detectNet's --overlay
  int alpha = 120;                          // detectNet's --alpha
  OnnxBlobNames blobs;                      // --input-blob, --output-cvg, --output-bbox
  FollowOptions follow;  // --tracking, --tracker-*, --events, --event-merge-seconds
  std::string roi;     // --roi x,y,w,h: detect in this region of the frame, at full resolution
  std::string reader;  // --reader plate-reader.onnx: read every detection (seen ones, when tracking)
  std::string plate_pattern;  // --plate-pattern: formats the reads should fit
  CaptureOptions capture;
  OutputOptions output_options;
  EngineOptions engine;
};

// detectnet: frames from the input through the detector, each detection printed
// (the article's "-- ClassID" block, or JSON) and drawn onto the output, then a timing
// report. Ctrl-C stops cleanly with the output finalised. Returns the exit code: 0 after
// the input ended or was interrupted, 1 when frames were lost (unreadable images, a
// camera or stream that went away).
int run_detect(const DetectRunOptions& options);

}  // namespace edgessd
