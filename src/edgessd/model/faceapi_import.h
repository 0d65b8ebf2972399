#pragma once
#include <string>
#include <vector>

#include "edgessd/model/ssd.h"

namespace edgessd {

// One weight of a TF.js weights manifest, dequantised to float.
struct TfjsWeight {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// Reads `<model_dir>/ssd_mobilenetv1_model-weights_manifest.json` and the .bin shards it
// names: weights concatenated in manifest order; `quantization` {dtype uint8|uint16,
// scale, min} stores q and means q*scale + min.
std::vector<TfjsWeight> read_tfjs_weights(const std::string& manifest_path);

// `<model_dir>/ssd_mobilenetv1_model-weights_manifest.json`; an Error naming `--input`
// when the folder or the manifest is missing, before any other work.
std::string face_api_manifest_path(const std::string& model_dir);

struct FaceApiImportOptions {
  std::string model_dir;                 // holds the manifest and .bin
  std::vector<std::string> calibration_images;
  int num_classes = 2;
  uint64_t seed = 1;                     // fresh init of extras.3 and the heads
  // false: BN keeps identity statistics (mean 0, var 1) around TF's affine map. Eval mode
  // is the same, but train mode is a different net; kept to measure that failure.
  bool reestimate_bn = true;
  // true: only the folded BN layers (conv 0 and the pointwise ones) are re-estimated;
  // the depthwise ones keep TF's own gamma, beta and moving statistics.
  bool folded_only = false;
};

struct FaceApiImportReport {
  int imported_tensors = 0;
  int calibration_images = 0;
  int recalibrated_bn_layers = 0;
};

// Builds an mb1-ssd-relu6 from face-api's SSD-MobileNet-v1: MobilenetV1/Conv2d_0..13
// become the base net, Prediction/Conv2d_0..5_pointwise the first three extra layers;
// extras.3 and the heads keep a fresh init (their shapes differ).
//
// TF folded BatchNorm into the pointwise convolutions and kept it unfolded in the
// depthwise ones. Each BN layer is first set to the per-channel affine map TF computes,
// then its statistics are re-estimated on the calibration images: running mean/var
// become the batch statistics of its input there, and weight/bias are chosen so that
// eval mode still computes exactly TF's function. Train-mode BN then normalises with
// statistics close to the running ones and reproduces the pretrained function, instead
// of turning identity statistics into a different network that diverges.
Ssd import_face_api(const FaceApiImportOptions& options, FaceApiImportReport* report = nullptr);

// import_face_api, then the net written to `output` (.pth) with its model JSON (classes
// BACKGROUND and object; the source says what was imported and re-estimated).
FaceApiImportReport import_face_api_checkpoint(const FaceApiImportOptions& options, const std::string& output);

// The images a calibration uses: (x - 127) / 128 at 300x300, RGB, (N, 3, 300, 300).
at::Tensor load_calibration_batch(const std::vector<std::string>& paths);

}  // namespace edgessd
