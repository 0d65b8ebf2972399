#include "edgessd/train/run_files.h"

#include <torch/torch.h>

#include <filesystem>
#include <sstream>

#include "edgessd/model/checkpoint.h"
#include "edgessd/train/optimizer_state.h"

namespace edgessd {

std::string optimizer_path(const std::string& checkpoint) {
  std::filesystem::path p(checkpoint);
  p.replace_extension(".optim.pt");
  return p.string();
}

void save_checkpoint(const std::string& path, const TrainOptions& options, const ModelInfo& info, Ssd& net,
                     const torch::optim::SGD& optimizer, const EpochMetrics& metrics) {
  const double loss = metrics.validated ? metrics.val_loss : metrics.train_loss;
  StateDict state = state_dict_of(*net);
  for (auto& [key, t] : state) t = t.to(torch::kCPU).contiguous();
  write_state_dict(path, state);
  save_sgd_state(optimizer, optimizer_path(path));
  save_model_info(path, info, TrainingState{metrics.epoch, metrics.validated, loss, options.seed, metrics.val_map});
}

std::string metrics_header(size_t groups) {
  std::string text = "epoch,train_loss,train_regression_loss,train_classification_loss,val_loss,val_regression_loss,"
                     "val_classification_loss";
  for (size_t g = 0; g < groups; ++g) text += ",lr_group" + std::to_string(g);
  return text + ",images_per_second,seconds,val_mAP";
}

std::string metrics_row(const EpochMetrics& m) {
  std::ostringstream row;
  row.precision(6);
  row << m.epoch << "," << m.train_loss << "," << m.train_regression << "," << m.train_classification << ",";
  if (m.validated) row << m.val_loss << "," << m.val_regression << "," << m.val_classification;
  else row << ",,";
  for (double lr : m.learning_rates) row << "," << lr;
  row << "," << m.images_per_second << "," << m.seconds << ",";
  if (m.val_map >= 0) row << m.val_map;
  return row.str();
}

}  // namespace edgessd
