#pragma once
// What train writes for an epoch into the run's folder (train/training_run.h names and
// places them): the checkpoint with its model JSON and optimizer state, metrics.csv's row.
#include <cstddef>
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

// The weights at `path`, the optimizer state beside them and the model JSON with the
// training state (named by the validation loss, or the training loss without validation).
void save_checkpoint(const std::string& path, const TrainOptions& options, const ModelInfo& info, Ssd& net,
                     const torch::optim::SGD& optimizer, const EpochMetrics& metrics);

// metrics.csv's header for `groups` learning-rate groups, and an epoch's row.
std::string metrics_header(size_t groups);
std::string metrics_row(const EpochMetrics& m);

}  // namespace edgessd
