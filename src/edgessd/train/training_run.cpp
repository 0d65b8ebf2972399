#include "edgessd/train/training_run.h"

#include <cmath>
#include <filesystem>

#include "edgessd/common/checkpoint_name.h"
#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/logging.h"
#include "edgessd/common/model_info.h"
#include "edgessd/train/loss_plot.h"

namespace edgessd {

TrainingRun::TrainingRun(std::string model_dir, std::string net_name, std::string metrics_header,
                         double initial_best, std::string score_name, bool writer)
    : model_dir_(std::move(model_dir)), net_name_(std::move(net_name)), metrics_header_(std::move(metrics_header)),
      score_name_(std::move(score_name)), best_(initial_best), writer_(writer) {}

std::string TrainingRun::best_path() const { return join_path(model_dir_, kBestCheckpoint); }
std::string TrainingRun::metrics_path() const { return join_path(model_dir_, "metrics.csv"); }

void TrainingRun::prepare(int start_epoch, const std::function<double(const std::string& best)>& score_of) {
  std::error_code ec;
  const bool has_best = std::filesystem::exists(model_info_path(best_path()), ec);
  if (start_epoch != 0) {
    if (has_best) best_ = score_of(best_path());
    return;
  }
  if (!writer_) return;
  std::filesystem::remove(metrics_path(), ec);
  std::filesystem::remove(best_path(), ec);
  std::filesystem::remove(model_info_path(best_path()), ec);
}

void TrainingRun::checkpoint(int epoch, double loss, double score,
                             const std::function<void(const std::string& path)>& save) {
  const bool best = score > best_;
  if (best) best_ = score;
  if (writer_) {
    const std::string path = join_path(model_dir_, checkpoint_file_name(net_name_, epoch, loss));
    save(path);
    log_info("Saved model " + path);
    last_checkpoint_ = path;
    if (best) {  // the same files under the name evaluation and export look for first
      std::filesystem::copy_file(path, best_path(), std::filesystem::copy_options::overwrite_existing);
      std::filesystem::copy_file(model_info_path(path), model_info_path(best_path()),
                                 std::filesystem::copy_options::overwrite_existing);
    }
  }
  if (best) log_info("Best " + score_name_ + " so far (" + std::to_string(best_) + "): kept as " + best_path());
}

void TrainingRun::run(int start_epoch, int end_epoch, const std::function<std::string(int epoch)>& epoch_steps) {
  for (int epoch = start_epoch; epoch < end_epoch; ++epoch) {
    const std::string row = epoch_steps(epoch);
    if (!writer_) continue;
    append_csv_row(metrics_path(), metrics_header_, row);
    try {
      draw_loss_curve(metrics_path(), join_path(model_dir_, "loss.png"));
    } catch (const Error& e) {
      log_warning(std::string("loss curve not drawn: ") + e.what());
    }
  }
}

double cosine_lr(double base, double position, double length) {
  return 0.5 * base * (1 + std::cos(M_PI * position / length));
}

void append_csv_row(const std::string& path, const std::string& header, const std::string& row) {
  std::error_code ec;
  const std::string text = std::filesystem::exists(path, ec) ? read_file(path) : header + "\n";
  write_file_atomic(path, text + row + "\n");
}

}  // namespace edgessd
