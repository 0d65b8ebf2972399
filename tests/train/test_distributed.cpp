// Data-parallel pieces on loopback Gloo, two ranks as two threads of this process: the
// all-reduce, SyncBatchNorm against one BatchNorm over the whole batch, and the bucketed
// gradient averaging against one process's gradient.
#include <torch/torch.h>

#include <thread>

#include "edgessd/common/error.h"
#include "edgessd/model/sync_batch_norm.h"
#include "edgessd/train/distributed.h"
#include "edgessd/train/gradient_reducer.h"
#include "support/test_support.h"

using namespace edgessd;
using edgessd::Error;

namespace {

// body(group) on two ranks at once; a rank's failure fails the test.
void on_two_ranks(const std::function<void(ProcessGroup&)>& body) {
  const int port = edgessd::testing::free_tcp_port();
  std::vector<std::thread> threads;
  std::vector<std::string> errors(2);
  for (int rank = 0; rank < 2; ++rank)
    threads.emplace_back([&, rank] {
      try {
        RankEnvironment env;
        env.rank = rank;
        env.world_size = 2;
        env.master_port = port;
        ProcessGroup group(env, "gloo", std::chrono::seconds(30), std::chrono::seconds(30));
        body(group);
        group.barrier();
      } catch (const std::exception& e) {
        errors[rank] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (int rank = 0; rank < 2; ++rank) EXPECT_EQ(errors[rank], "") << "rank " << rank;
}

// Values in float64 so the comparisons test the arithmetic, not the rounding.
torch::Tensor batch(int64_t n) {
  torch::manual_seed(3);
  return torch::randn({n, 5, 3, 4}, torch::kFloat64) * 2 + 1;
}

}  // namespace

TEST(Distributed, AllReduceSumsAndBroadcastCopiesRankZero) {
  on_two_ranks([](ProcessGroup& g) {
    auto t = torch::full({3}, g.rank() + 1.0);
    g.all_reduce_sum(t);
    EXPECT_TRUE(torch::equal(t, torch::full({3}, 3.0)));
    auto b = torch::full({2}, 10.0 * g.rank() + 7);
    g.broadcast(b, 0);
    EXPECT_TRUE(torch::equal(b, torch::full({2}, 7.0)));
  });
}

TEST(Distributed, SyncBatchNormOnOneRankIsBatchNorm2d) {
  SyncableBatchNorm2d ours(5);
  torch::nn::BatchNorm2d theirs(5);
  ours->to(torch::kFloat64), theirs->to(torch::kFloat64);
  set_batch_norm_sync(*ours, std::make_shared<AllReduceSum>([](at::Tensor&) {}));  // one rank: the sum is itself
  auto x1 = batch(6).requires_grad_(), x2 = x1.detach().clone().requires_grad_();
  auto y1 = ours->forward(x1), y2 = theirs->forward(x2);
  (y1 * y1.detach().cos()).sum().backward();
  (y2 * y2.detach().cos()).sum().backward();
  EXPECT_TRUE(torch::allclose(y1, y2, 1e-12, 1e-12));
  EXPECT_TRUE(torch::allclose(x1.grad(), x2.grad(), 1e-10, 1e-10));
  EXPECT_TRUE(torch::allclose(ours->weight.grad(), theirs->weight.grad(), 1e-10, 1e-10));
  EXPECT_TRUE(torch::allclose(ours->bias.grad(), theirs->bias.grad(), 1e-10, 1e-10));
  EXPECT_TRUE(torch::allclose(ours->running_var, theirs->running_var, 1e-12, 1e-12));
  EXPECT_TRUE(torch::allclose(ours->running_mean, theirs->running_mean, 1e-12, 1e-12));
}

// Two ranks with half the batch each, their loss gradients averaged (each scaled by the
// world size, as the trainer does), equal one BatchNorm2d over the whole batch.
TEST(Distributed, SyncBatchNormOverTwoRanksIsBatchNormOfTheWholeBatch) {
  const auto whole = batch(6).requires_grad_();
  torch::nn::BatchNorm2d reference(5);
  reference->to(torch::kFloat64);
  const auto y = reference->forward(whole);
  (y * y.detach().cos()).sum().backward();
  on_two_ranks([&](ProcessGroup& g) {
    SyncableBatchNorm2d bn(5);
    bn->to(torch::kFloat64);
    set_batch_norm_sync(*bn, std::make_shared<AllReduceSum>([&g](at::Tensor& t) { g.all_reduce_sum(t); }));
    auto x = whole.detach().slice(0, 3 * g.rank(), 3 * g.rank() + 3).clone().requires_grad_();
    auto out = bn->forward(x);
    (2.0 * out * out.detach().cos()).sum().backward();
    EXPECT_TRUE(torch::allclose(out, y.slice(0, 3 * g.rank(), 3 * g.rank() + 3), 1e-10, 1e-10));
    EXPECT_TRUE(torch::allclose(x.grad() / 2, whole.grad().slice(0, 3 * g.rank(), 3 * g.rank() + 3), 1e-9, 1e-9));
    EXPECT_TRUE(torch::allclose(bn->running_var, reference->running_var, 1e-12, 1e-12));
    auto wg = bn->weight.grad().clone();
    g.all_reduce_sum(wg);
    EXPECT_TRUE(torch::allclose(wg / 2, reference->weight.grad(), 1e-9, 1e-9));
  });
}

namespace {

// A net with a layer that the loss never reaches (its hook never fires: its bucket is
// reduced in finish(), with zeros for it).
struct TwoHeadsImpl : torch::nn::Module {
  TwoHeadsImpl()
      : trunk(register_module("trunk", torch::nn::Linear(4, 300))), head(register_module("head", torch::nn::Linear(300, 3000))),
        unused(register_module("unused", torch::nn::Linear(300, 7))), out(register_module("out", torch::nn::Linear(3000, 2))) {}
  torch::Tensor forward(const torch::Tensor& x) { return out(head(torch::relu(trunk(x)))); }
  torch::nn::Linear trunk, head, unused, out;
};
TORCH_MODULE(TwoHeads);

// The one-process gradients of the whole batch at step `step`; zeros where none flows.
std::vector<torch::Tensor> whole_batch_gradients(TwoHeads& model, const torch::Tensor& inputs, int step) {
  model->zero_grad();
  (model->forward(inputs * (step + 1)).square().sum() / 8).backward();
  std::vector<torch::Tensor> grads;
  for (auto& p : model->parameters()) grads.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
  return grads;
}

}  // namespace

// The averaged gradients equal the one-process gradient of the whole batch, two steps in a
// row (the buckets reused), with every parameter in one bucket and with buckets of 16 kB:
// four, in backward's order [out], [unused, head.bias] (its hook for `unused` never fires,
// so finish() reduces it with zeros there), [head.weight] (one parameter over the size),
// [trunk] (the last one, short of the size, closed at the end).
TEST(Distributed, GradientReducerAveragesEveryParameterEveryStep) {
  torch::manual_seed(5);
  TwoHeads model;
  const auto inputs = torch::randn({8, 4});
  const std::vector<std::vector<torch::Tensor>> expected = {whole_batch_gradients(model, inputs, 0),
                                                            whole_batch_gradients(model, inputs, 1)};
  for (const size_t bucket_bytes : {size_t{64} << 20, size_t{16} << 10}) {
    on_two_ranks([&](ProcessGroup& g) {
      TwoHeads replica;
      {
        torch::NoGradGuard no_grad;
        for (size_t i = 0; i < model->parameters().size(); ++i) replica->parameters()[i].copy_(model->parameters()[i]);
      }
      GradientReducer reducer(g, replica->parameters(), bucket_bytes);
      EXPECT_EQ(reducer.bucket_count(), bucket_bytes > (size_t{4} << 20) ? 1u : 4u);
      for (int step = 0; step < 2; ++step) {
        replica->zero_grad();
        const auto half = inputs.slice(0, 4 * g.rank(), 4 * g.rank() + 4) * (step + 1);
        (replica->forward(half).square().sum() / 8 * 2).backward();  // rank's share of the sum, x world size
        reducer.finish();
        const auto params = replica->parameters();
        for (size_t i = 0; i < params.size(); ++i)
          EXPECT_TRUE(torch::allclose(params[i].grad(), expected[step][i], 1e-4, 1e-5))
              << "parameter " << i << ", step " << step << ", buckets of " << bucket_bytes << " bytes";
      }
    });
  }
}

TEST(Distributed, BackendsAndEnvironmentErrorsNameTheirSource) {
  EXPECT_EQ(resolve_dist_backend("auto", false), "gloo");
  EXPECT_THROW(resolve_dist_backend("mpi", false), Error);
#ifndef USE_C10D_NCCL
  EXPECT_THROW(resolve_dist_backend("nccl", false), Error);
#endif
  setenv("WORLD_SIZE", "2", 1);
  setenv("RANK", "2", 1);
  try {
    rank_environment();
    ADD_FAILURE() << "RANK 2 of 2 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("RANK='2'"), std::string::npos) << e.what();
  }
  setenv("RANK", "1", 1);
  setenv("MASTER_PORT", "http", 1);
  EXPECT_THROW(rank_environment(), Error);
  unsetenv("MASTER_PORT");
  EXPECT_EQ(rank_environment().rank, 1);
  unsetenv("WORLD_SIZE");
  unsetenv("RANK");
  EXPECT_FALSE(rank_environment().distributed());
}

// PyTorch's env:// start needs RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT only; the
// local pair is both or neither; srun's variables stand in where torchrun's are absent.
TEST(Distributed, EnvStartLocalPairAndSlurmVariables) {
  const auto clear = [] {
    for (const char* n : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "SLURM_PROCID",
                          "SLURM_STEP_NUM_TASKS", "SLURM_LOCALID", "SLURM_NODEID", "SLURM_STEP_TASKS_PER_NODE"})
      unsetenv(n);
  };
  const auto error_of = [] {
    try {
      rank_environment();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  clear();
  setenv("RANK", "1", 1);
  setenv("WORLD_SIZE", "2", 1);
  setenv("MASTER_ADDR", "10.1.2.3", 1);
  RankEnvironment env = rank_environment();
  EXPECT_EQ(env.rank, 1);
  EXPECT_EQ(env.local_rank, 0) << "one rank per machine when LOCAL_RANK and LOCAL_WORLD_SIZE are absent";
  EXPECT_EQ(env.local_world_size, 1);
  EXPECT_EQ(env.master_addr, "10.1.2.3");
  setenv("LOCAL_RANK", "1", 1);
  EXPECT_EQ(error_of(), "LOCAL_RANK='1' is set without LOCAL_WORLD_SIZE (the ranks on this machine): set both, or "
                        "neither for one rank per machine");
  setenv("LOCAL_WORLD_SIZE", "2", 1);
  EXPECT_EQ(rank_environment().local_rank, 1);
  setenv("MASTER_ADDR", "localhost", 1);
  setenv("WORLD_SIZE", "4", 1);
  EXPECT_NE(error_of().find("MASTER_ADDR is localhost, which the others cannot reach"), std::string::npos) << error_of();
  setenv("WORLD_SIZE", "2", 1);
  EXPECT_EQ(rank_environment().local_world_size, 2) << "all ranks on this machine: loopback is right";
  setenv("MASTER_ADDR", "10.1.2.3", 1);
  unsetenv("LOCAL_RANK");
  EXPECT_NE(error_of().find("LOCAL_WORLD_SIZE='2' is set without LOCAL_RANK"), std::string::npos) << error_of();
  clear();
  setenv("RANK", "1", 1);
  EXPECT_NE(error_of().find("RANK is set without WORLD_SIZE"), std::string::npos) << error_of();

  clear();
  setenv("SLURM_PROCID", "4", 1);
  setenv("SLURM_STEP_NUM_TASKS", "5", 1);
  setenv("SLURM_NODEID", "2", 1);
  setenv("SLURM_LOCALID", "0", 1);
  setenv("SLURM_STEP_TASKS_PER_NODE", "2(x2),1", 1);
  // Three machines meeting on the default 127.0.0.1: refused at once, not a join timeout.
  EXPECT_NE(error_of().find("WORLD_SIZE 5 spans machines (1 rank(s) on this one) but MASTER_ADDR is 127.0.0.1"),
            std::string::npos) << error_of();
  setenv("MASTER_ADDR", "node0", 1);
  env = rank_environment();
  EXPECT_EQ(env.rank, 4);
  EXPECT_EQ(env.world_size, 5);
  EXPECT_EQ(env.local_world_size, 1) << "node 2 of 2(x2),1 holds one task";
  setenv("SLURM_NODEID", "0", 1);
  setenv("SLURM_PROCID", "1", 1);
  setenv("SLURM_LOCALID", "1", 1);
  env = rank_environment();
  EXPECT_EQ(env.local_world_size, 2);
  EXPECT_EQ(env.local_rank, 1);
  setenv("SLURM_PROCID", "5", 1);
  EXPECT_NE(error_of().find("SLURM_PROCID='5': expected a whole number from 0 to 4"), std::string::npos)
      << error_of();
  setenv("RANK", "0", 1);
  setenv("WORLD_SIZE", "1", 1);
  EXPECT_FALSE(rank_environment().distributed()) << "torchrun's variables win over srun's";
  clear();
}
