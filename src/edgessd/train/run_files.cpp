#include "edgessd/train/run_files.h"

#include <torch/torch.h>

#include <filesystem>
#include <sstream>

#include "edgessd/common/checkpoint_name.h"
#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/logging.h"
#include "edgessd/model/checkpoint.h"
#include "edgessd/train/loss_plot.h"
#include "edgessd/train/optimizer_state.h"

namespace edgessd {

std::string optimizer_path(const std::string& checkpoint) {
  std::filesystem::path p(checkpoint);
  p.replace_extension(".optim.pt");
  return p.string();
}

std::string save_checkpoint(const TrainOptions& options, const ModelInfo& info, Ssd& net,
                            const torch::optim::SGD& optimizer, const EpochMetrics& metrics, bool best) {
  const double loss = metrics.validated ? metrics.val_loss : metrics.train_loss;
  const std::string path = join_path(options.model_dir, checkpoint_file_name(info.net, metrics.epoch, loss));
  StateDict state = state_dict_of(*net);
  for (auto& [key, t] : state) t = t.to(torch::kCPU).contiguous();
  write_state_dict(path, state);
  save_sgd_state(optimizer, optimizer_path(path));
  const TrainingState training{metrics.epoch, metrics.validated, loss, options.seed, metrics.val_map};
  save_model_info(path, info, training);
  log_info("Saved model " + path);
  if (best) {
    const std::string best_path = join_path(options.model_dir, kBestCheckpoint);
    write_state_dict(best_path, state);
    save_model_info(best_path, info, training);
  }
  return path;
}

double best_map_so_far(const TrainOptions& options, int start_epoch) {
  const std::string best = join_path(options.model_dir, kBestCheckpoint);
  if (start_epoch == 0 || !std::filesystem::exists(model_info_path(best))) return -1;
  return load_training_state(best).val_map;
}


void append_metrics(const std::string& path, const EpochMetrics& m, size_t groups) {
  std::string text;
  if (!std::filesystem::exists(path)) {
    text = "epoch,train_loss,train_regression_loss,train_classification_loss,val_loss,val_regression_loss,"
           "val_classification_loss";
    for (size_t g = 0; g < groups; ++g) text += ",lr_group" + std::to_string(g);
    text += ",images_per_second,seconds,val_mAP\n";
  } else {
    text = read_file(path);
  }
  std::ostringstream row;
  row.precision(6);
  row << m.epoch << "," << m.train_loss << "," << m.train_regression << "," << m.train_classification << ",";
  if (m.validated) row << m.val_loss << "," << m.val_regression << "," << m.val_classification;
  else row << ",,";
  for (double lr : m.learning_rates) row << "," << lr;
  row << "," << m.images_per_second << "," << m.seconds << ",";
  if (m.val_map >= 0) row << m.val_map;
  row << "\n";
  write_file_atomic(path, text + row.str());
}


void draw_loss_curve_or_warn(const std::string& metrics_csv, const std::string& png_path) {
  try {
    draw_loss_curve(metrics_csv, png_path);
  } catch (const Error& e) {
    log_warning(std::string("loss curve not drawn: ") + e.what());
  }
}

}  // namespace edgessd
