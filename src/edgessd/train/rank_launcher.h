#pragma once
// torchrun's job for `edgessd train --nproc-per-node N`: start this node's ranks as
// copies of this program, each with torchrun's worker environment, and stand for them.
// No LibTorch here.
#include <string>

namespace edgessd {

struct LaunchOptions {
  int nproc_per_node = 1;
  int nnodes = 1;
  int node_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
};

// Set in every rank the launcher starts; such a process is a rank, never a launcher.
constexpr const char* kLaunchedRankVariable = "EDGESSD_LAUNCHED_RANK";
bool launched_as_rank();

// Runs this program's own command line (/proc/self/cmdline) once per local rank with
// RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT set, each
// output line forwarded with a "[rank R] " prefix. Returns once every rank succeeded.
// When one fails (non-zero exit or a signal), the others are stopped (SIGTERM, SIGKILL
// after 10 s) and an Error names it. On node 0 a master port already in use is an Error
// before anything starts. SIGINT/SIGTERM to the launcher go to every rank.
void launch_ranks(const LaunchOptions& options);

}  // namespace edgessd
