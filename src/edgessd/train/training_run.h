#pragma once
// One training run's folder, whichever net it trains (train and train-reader): the epoch
// loop, checkpoints named <net>-Epoch-<n>-Loss-<x>.pth, best.pth + best.json chosen by a
// score (higher is better; on resume, best.json's is the one to beat), metrics.csv a row an
// epoch (header first), loss.png, and the cosine schedule. Each trainer supplies its steps.
// Only the writing rank (rank 0 of a data-parallel run) touches the folder.
#include <functional>
#include <string>

namespace edgessd {

class TrainingRun {
 public:
  // `initial_best`: the score to beat in a fresh run; `score_name` names it in the log.
  TrainingRun(std::string model_dir, std::string net_name, std::string metrics_header, double initial_best,
              std::string score_name, bool writer = true);
  // Before the first epoch: a fresh run (start_epoch 0) removes an earlier run's
  // metrics.csv and best.pth/best.json; a resumed one keeps them, and the score best.json
  // records (`score_of` reads it) is the one to beat.
  void prepare(int start_epoch, const std::function<double(const std::string& best)>& score_of);
  // Epochs [start_epoch, end_epoch): `epoch` trains (and validates, and calls checkpoint())
  // and returns its metrics.csv row; the row is appended and the loss curve drawn.
  void run(int start_epoch, int end_epoch, const std::function<std::string(int epoch)>& epoch);
  // An epoch's checkpoint: `save` writes the weights, optimizer state and JSON at the
  // path named by `loss` (the validation loss, else the training loss); kept as best.pth
  // + best.json too when `score` beats the best so far.
  void checkpoint(int epoch, double loss, double score, const std::function<void(const std::string& path)>& save);

  const std::string& last_checkpoint() const { return last_checkpoint_; }
  std::string best_path() const;
  std::string metrics_path() const;
  double best_score() const { return best_; }

 private:
  std::string model_dir_, net_name_, metrics_header_, score_name_;
  double best_;
  bool writer_;
  std::string last_checkpoint_;
};

// Half a cosine from `base` down to 0 over `length`: base at 0, base / 2 at length / 2.
double cosine_lr(double base, double position, double length);

// One row of a metrics CSV, the header first when the file is new, written atomically.
void append_csv_row(const std::string& path, const std::string& header, const std::string& row);

}  // namespace edgessd
