// The gradient all-reduce of data-parallel training, alone: two ranks (threads of this
// process) on loopback Gloo average the gradients of an SSD's parameters through
// GradientReducer (its buckets, none overlapped with a backward here), STEPS times.
// Prints ms per step and the bandwidth it implies; the training log's "all-reduce wait"
// is the part of this that backward did not hide.
//
//   build/bench/allreduce_time [NET] [STEPS]      (default mb1-ssd-s8, 30)
#include <chrono>
#include <cstdio>
#include <thread>

#include <torch/torch.h>

#include "edgessd/common/model_info.h"
#include "edgessd/model/ssd.h"
#include "edgessd/train/distributed.h"
#include "edgessd/train/gradient_reducer.h"
#include <unistd.h>

int main(int argc, char** argv) {
  using namespace edgessd;
  ModelInfo info;
  info.net = argc > 1 ? argv[1] : "mb1-ssd-s8";
  info.class_names = {"BACKGROUND", "plate"};
  const int steps = argc > 2 ? std::atoi(argv[2]) : 30;
  torch::set_num_threads(1);
  const int port = 20000 + getpid() % 20000;  // two benches at once would collide only by chance
  std::vector<double> ms(2, 0);
  int64_t parameters = 0;
  std::vector<std::thread> ranks;
  for (int rank = 0; rank < 2; ++rank)
    ranks.emplace_back([&, rank] {
      Ssd net(info);
      std::vector<torch::Tensor> params = net->parameters();
      for (auto& p : params) p.mutable_grad() = torch::randn_like(p);
      if (rank == 0) for (auto& p : params) parameters += p.numel();
      RankEnvironment env;
      env.rank = rank;
      env.world_size = 2;
      env.master_port = port;
      ProcessGroup group(env, "gloo", std::chrono::seconds(60), std::chrono::seconds(60));
      GradientReducer reducer(group, params);
      reducer.finish();  // warm-up: connections, buffers
      group.barrier();
      const auto start = std::chrono::steady_clock::now();
      for (int s = 0; s < steps; ++s) reducer.finish();
      ms[rank] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / steps;
      group.barrier();
    });
  for (auto& r : ranks) r.join();
  const double mb = parameters * 4 / 1e6;
  std::printf("%s: %.2f M parameters (%.1f MB fp32), 2 ranks, loopback Gloo, buckets of %zu MB\n", info.net.c_str(),
              parameters / 1e6, mb, GradientReducer::kBucketBytes >> 20);
  std::printf("all-reduce per step: %.1f ms (rank 0), %.1f ms (rank 1); %.2f GB/s of gradient per rank\n", ms[0],
              ms[1], mb / ms[0]);
  return 0;
}
