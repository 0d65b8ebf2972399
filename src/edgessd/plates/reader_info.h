#pragma once
// A plate reader's description, kept beside its checkpoint (X.pth -> X.json) and in its
// ONNX metadata ("edgessd-reader"): the character set (CTC class i+1 is charset[i], 0 is
// the blank), the input size and normalisation, and how much context around a plate box
// the crop keeps. Shared by training, export, eval and the runtime.
#include <string>
#include <vector>

namespace edgessd {

struct ReaderInfo {
  std::string charset = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  // 32x128: 4:1 sits between US plates (2:1) and EU ones (4.7:1), so neither is squashed
  // by more than 2x; 32 rows keep ~16 px per character height; 32 output columns (stride
  // 4) leave room for CTC's blanks between 8-9 characters. It reads more plates than 96
  // wide, whose characters get a quarter fewer columns (README, "Reading plates of several
  // countries"). The width may be any multiple of 4 within 64..256 (the net is
  // convolutional along it); the height is 32.
  int input_width = 128;
  int input_height = 32;
  // How a single-row box's crop becomes the input: "stretch" to it whatever its shape, or
  // "letterbox": scaled to fit with its shape kept, centred, the rest grey (127).
  std::string geometry = "stretch";
  float image_mean = 127.0f;
  float image_std = 128.0f;
  float crop_margin = 0.08f;  // of the box's width and height, added on each side
  // A box narrower than this (width / height) holds two rows (square EU plates, motorcycle
  // plates): its crop's upper and lower 4/7 are read side by side (plates/plate_crops.h).
  // Single-row plates are 2:1 (US) to 4.7:1 (EU); 0 = never (readers trained before it).
  float two_row_aspect = 1.6f;
  std::string source;
  int num_classes() const { return static_cast<int>(charset.size()) + 1; }
};

// How far training moves each side of a plate box, of its size (train-reader --box-jitter's
// default; the crops of plates/plate_crops.h).
constexpr float kDefaultBoxJitter = 0.18f;

// One convolution of the reader (each followed by BatchNorm + ReLU but the last, which
// has a bias and gives the CTC scores). The LibTorch net and the ONNX export both build
// from this table, so they cannot disagree.
struct ReaderLayer {
  int out_channels;  // 0: the class count
  int kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
};
const std::vector<ReaderLayer>& reader_layers();
// Output columns for an input width (the stride-4 width).
int reader_columns(int input_width);
bool valid_reader_width(int width);  // a multiple of 4 within 64..256
// An Error naming `what` unless `geometry` is "stretch" or "letterbox".
void check_reader_geometry(const std::string& geometry, const std::string& what);

// Uppercase, spaces and dashes dropped: how PlateText is compared and trained on.
std::string normalise_plate_text(const std::string& text);
// Error naming `what` unless `charset` is 1..200 distinct printable ASCII characters.
void check_charset(const std::string& charset, const std::string& what);

std::string reader_info_to_json(const ReaderInfo& info);
ReaderInfo reader_info_from_json(const std::string& text, const std::string& what);
// X.json beside X.pth; false when there is none.
bool load_reader_info(const std::string& checkpoint_path, ReaderInfo& info);
// With the training state (epoch, validation loss, exact and character accuracy) under "training".
void save_reader_info(const std::string& checkpoint_path, const ReaderInfo& info, int epoch = -1,
                      double val_loss = -1, double val_exact = -1, double val_character = -1);

// What X.json records of the run that wrote X.pth; an Error naming the file when it has none.
struct ReaderTrainingState {
  int epoch = 0;
  double val_loss = -1, val_exact = -1, val_character = -1;
};
ReaderTrainingState load_reader_training_state(const std::string& checkpoint_path);

}  // namespace edgessd
