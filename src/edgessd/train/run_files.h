#pragma once
// What a training run writes into its model dir (rank 0 alone in a data-parallel run):
// checkpoints with their model JSON and optimizer state, best.pth, metrics.csv, loss.png.
#include <string>

#include "edgessd/common/model_info.h"
#include "edgessd/model/ssd.h"
#include "edgessd/train/trainer.h"

namespace torch::optim {
class SGD;
}

namespace edgessd {

// The optimizer state beside a checkpoint: X.pth -> X.optim.pt.
std::string optimizer_path(const std::string& checkpoint);

// One epoch's checkpoint: weights, optimizer state and model JSON with the training state.
// Named by the validation loss, or by the training loss when there is nothing to validate on.
// With `best`, also written as best.pth + best.json. Returns the checkpoint's path.
std::string save_checkpoint(const TrainOptions& options, const ModelInfo& info, Ssd& net,
                            const torch::optim::SGD& optimizer, const EpochMetrics& metrics, bool best);

// The best validation mAP of the run so far: best.json's when resuming, else none (-1).
double best_map_so_far(const TrainOptions& options, int start_epoch);

// One row of metrics.csv (the header first when the file is new), written atomically.
void append_metrics(const std::string& path, const EpochMetrics& m, size_t groups);

void draw_loss_curve_or_warn(const std::string& metrics_csv, const std::string& png_path);

}  // namespace edgessd
