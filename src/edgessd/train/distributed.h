#pragma once
// Data-parallel training on PyTorch's distributed runtime (c10d): this process as one rank
// of a group started the way torchrun starts its workers. No c10d header here.
#include <ATen/core/Tensor.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace edgessd {

// torchrun's worker environment, or PyTorch's env:// start: RANK and WORLD_SIZE (both or
// neither), MASTER_ADDR (default 127.0.0.1), MASTER_PORT (29500), LOCAL_RANK and
// LOCAL_WORLD_SIZE (both, or neither for one rank per machine). Where none of those is
// set, srun's SLURM_PROCID, SLURM_STEP_NUM_TASKS, SLURM_LOCALID. Without a world size
// (or with 1) the run is one process.
struct RankEnvironment {
  int rank = 0, world_size = 1;
  int local_rank = 0, local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  bool distributed() const { return world_size > 1; }
};
// From the process environment; a malformed or out-of-range variable is an Error naming it.
RankEnvironment rank_environment();

// localhost or 127.x.x.x: an address the other machines of a run cannot reach.
bool is_loopback_address(const std::string& host);

// "auto" is NCCL for CUDA ranks and Gloo otherwise; an Error when this LibTorch lacks it.
std::string resolve_dist_backend(const std::string& requested, bool cuda);

// One rank's membership of the group. Rank 0 serves the rendezvous store at
// MASTER_ADDR:MASTER_PORT and waits `join_timeout` for every rank, saying every few seconds
// which it still waits for. Every failure is an Error saying what went wrong: the port in
// use, the master unreachable, a different WORLD_SIZE or a duplicate RANK elsewhere, and,
// during training, which rank was lost (its heartbeat in the store stopped) when a
// collective fails or exceeds `timeout`.
class ProcessGroup {
 public:
  ProcessGroup(const RankEnvironment& env, const std::string& backend, std::chrono::seconds timeout,
               std::chrono::seconds join_timeout);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const;
  int size() const;
  void all_reduce_sum(at::Tensor& t);  // in place, every rank's sum
  void broadcast(at::Tensor& t, int root = 0);
  void barrier();

  // The same sum without waiting; wait() it before reading `t`.
  class Pending;
  std::shared_ptr<Pending> all_reduce_sum_async(at::Tensor& t);
  void wait(Pending& pending);

 private:
  [[noreturn]] void fail(const std::string& what, const std::exception& e);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Every rank holds rank 0's `values` (`names` says what each is; `what` what they
// describe): otherwise an Error on every rank naming the ranks that differ and, on those,
// the first value that does, rather than a run whose ranks train on different shards.
void check_ranks_agree(ProcessGroup& group, const std::vector<int64_t>& values, const std::vector<std::string>& names,
                       const std::string& what);

}  // namespace edgessd
