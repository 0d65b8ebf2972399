#pragma once
// `edgessd train-reader`: the plate reader trained with CTC on the plate crops of one or
// more data sets whose CSV has PlateText (real ones, `edgessd synth` ones), with train's
// conventions: checkpoints named <name>-Epoch-E-Loss-L.pth with their JSON and optimizer
// state, best.pth (+ best.json) by validation exact-plate accuracy (ties: characters),
// metrics.csv, loss.png, --resume, a progress line, every file written atomically.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "edgessd/plates/reader_info.h"

namespace edgessd {

struct ReaderTrainOptions {
  std::vector<std::string> data;  // Open Images layout roots; validation: the first with a validation split
  std::string model_dir = "models/plate-reader";
  std::string charset;           // "" = 0-9 A-Z and any other character of the training texts
  bool balance_data = false;     // every --data as many crops an epoch as the largest
  // Measured on plates-us (README's measured table): a small real set overfits; fresh
  // synthetic plates every epoch keep the reader from memorising, and CTC leaves its
  // all-blank plateau only after many steps of them, so small batches and 45 epochs.
  int synth_plates = 4000;  // synthetic plates drawn afresh every epoch, besides --data's
  // The share of each epoch's crops that are --data's real plates, cycled and augmented
  // anew each time (with 130 real plates beside 4000 synthetic ones they were 3%); 0 =
  // each real plate once an epoch.
  double real_share = 0.4;
  bool synth_clean = false;  // the synthetic plates frontal and sharp (synthetic_plate_region's clean)
  // Weight of the synthetic plates' per-column cross-entropy beside CTC: their characters'
  // places are known, and telling them shortens CTC's all-blank start (README, "Reading plates").
  double column_loss = 1;
  // Boxes narrower than this are read as two rows (ReaderInfo::two_row_aspect); 0 = never.
  double two_row_aspect = 1.6;
  // How far each side of a box moves in training, of its size (uniform): the default covers
  // a detector's framing error to its tail, which end to end reads more plates than 0.08
  // (README, "Reading plates of several countries").
  double box_jitter = kDefaultBoxJitter;
  // Validation and checkpoints use an exponential moving average of the weights with this
  // decay (WeightAverage, train's --ema); 0 = the live weights.
  double ema = 0;
  int input_width = ReaderInfo{}.input_width;
  std::string geometry = ReaderInfo{}.geometry;
  int epochs = 45;
  int batch_size = 32;
  double lr = 2e-3;  // Adam, cosine to 0 over the epochs
  double weight_decay = 1e-4;
  uint64_t seed = 1;
  int threads = 0;
  std::string resume;  // a checkpoint of this model dir's kind
};

struct ReaderTrainResult {
  std::string best_checkpoint;  // best.pth
  double best_val_exact = -1;
  int epochs_run = 0;
};

// The checkpoints' name prefix ("plate-reader-Epoch-3-Loss-0.41.pth").
constexpr const char* kReaderNetName = "plate-reader";

ReaderTrainResult train_reader(const ReaderTrainOptions& options);

// How many crops of each --data set (of `sizes` plates) an epoch holds: each plate once,
// or with balance_data every set as many as the largest; with a real_share beside
// synthetic plates, those counts scaled so that the real crops are that share.
std::vector<size_t> real_crops_per_epoch(const std::vector<size_t>& sizes, const ReaderTrainOptions& o);

}  // namespace edgessd
