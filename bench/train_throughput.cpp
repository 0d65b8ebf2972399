// End-to-end training throughput (loading + augmentation + forward/backward/step), batch 4,
// on plates-us train, for each precision this CPU supports. Prints images/s and the ratio
// to pytorch-ssd's train_ssd.py on the same data and machine (5.3 images/s at its best,
// OMP_NUM_THREADS=2; the target is 2x that, 10.6 images/s).
//
//   build/bench/train_throughput [DATA_DIR] [BASE.pth] [EPOCHS]
#include <cstdio>
#include <filesystem>
#include <string>

#include <torch/torch.h>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/model/checkpoint.h"
#include "edgessd/model/faceapi_import.h"
#include "edgessd/train/trainer.h"

int main(int argc, char** argv) {
  using namespace edgessd;
  const std::string data = argc > 1 ? argv[1] : std::string(EDGESSD_SOURCE_DIR) + "/../shared/datasets/plates-us";
  const int epochs = argc > 3 ? std::atoi(argv[3]) : 3;
  const std::string work = (std::filesystem::temp_directory_path() / "edgessd-bench-train").string();
  std::filesystem::create_directories(work);
  try {
    std::string base = argc > 2 ? argv[2] : "";
    if (base.empty()) {
      base = join_path(work, "face-api-base.pth");
      FaceApiImportOptions import;
      import.model_dir = join_path(face_api_dir(), "model");
      import.calibration_images = list_images(join_path(face_api_dir(), "demo"));
      write_state_dict(base, state_dict_of(*import_face_api(import)));
    }
    const double pytorch_ssd = 5.3, target = 10.6;
    std::printf("%-10s %8s %12s %14s %10s\n", "precision", "threads", "images/s", "vs pytorch-ssd", "vs target");
    for (const char* precision : {"fp32", "auto"}) {
      TrainOptions o;
      o.data = {data};
      o.pretrained_ssd = base;
      o.net = "mb1-ssd-relu6";
      o.epochs = epochs;
      o.validation_epochs = 1000;  // only the last epoch validates
      o.batch_size = 4;
      o.workers = 2;
      o.precision = precision;
      o.model_dir = join_path(work, precision);
      TrainResult result = train(o);
      // The first epoch warms up oneDNN's kernels; report the best of the rest.
      double best = 0;
      for (size_t e = 1; e < result.epochs.size(); ++e) best = std::max(best, result.epochs[e].images_per_second);
      if (result.epochs.size() == 1) best = result.epochs[0].images_per_second;
      std::printf("%-10s %8d %12.2f %13.2fx %9.2fx\n", precision, torch::get_num_threads(), best, best / pytorch_ssd,
                  best / target);
      std::fflush(stdout);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "bench: %s\n", e.what());
    return 1;
  }
  std::filesystem::remove_all(work);
  return 0;
}
