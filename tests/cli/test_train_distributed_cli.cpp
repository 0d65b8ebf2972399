// End to end, data-parallel: the real edgessd binary as ranks started by its launcher, by
// hand (env://) and killed mid-run, against one process; set-up faults as one-line errors.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "train_cli_support.h"

using namespace edgessd;
using namespace edgessd::testing;
using namespace edgessd::testing::train_cli;

namespace {

// Every file name of a model dir, the loss in checkpoint names masked (it differs in the
// last digits between a one-rank and a two-rank run).
std::vector<std::string> file_names_without_loss(const std::string& dir) {
  std::vector<std::string> out;
  for (auto& e : std::filesystem::directory_iterator(dir))
    out.push_back(std::regex_replace(e.path().filename().string(), std::regex("Loss-[0-9.e+-]+\\."), "Loss-X."));
  std::sort(out.begin(), out.end());
  return out;
}

std::string distributed_args(const std::string& data, const std::string& base, const std::string& lr = "0.01") {
  return "train --data " + data + " --pretrained-ssd " + base + " --resolution 300 --lr " + lr + " --base-net-lr " + lr +
         " --workers 1 --threads 1 --precision fp32 --debug-steps 1";
}

}  // namespace

// DistributedDataParallel's promise: 2 ranks x batch 2 with synchronised BatchNorm take the
// steps of 1 rank x batch 4 (the same images per step: the sampler interleaves one order).
// No gradient clipping: clipping at the default norm bounds a step, so a gradient off by the
// world size would still take a step of nearly the same size. At a rate the unclipped run
// stays stable at (at 0.01 its loss climbs 38 -> 279 in 4 steps, and the two runs' float
// rounding, equal losses to 5 digits, grows to 2% of a weight).
// Tolerance 1e-3 of each tensor's largest value (+1e-5): float32 sums in another order
// (per rank, then all-reduced) differ by ~1e-7 a step and 4 SGD steps grew that to 3e-5
// here; a real fault (a gradient not averaged, a wrong shard, BN not synced) is 1e-2 or more.
TEST_F(TrainCli, TwoRanksFollowOneRankOfTheWholeBatch) {
  TempDir t;
  const std::string args =
      distributed_args(dir_->file("data"), dir_->file("base.pth"), "0.001") + " --epochs 2 --sync-bn --clip-grad-norm 0";
  const CommandResult one = edgessd_cli(args + " --batch-size 4 --model-dir " + t.file("one"));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const CommandResult two = edgessd_cli(args + " --batch-size 2 --nproc-per-node 2 --master-port " +
                                        std::to_string(free_tcp_port()) + " --model-dir " + t.file("two"));
  ASSERT_EQ(two.exit_code, 0) << two.output;
  EXPECT_NE(two.output.find("[launcher] rank 1: pid"), std::string::npos) << two.output;
  EXPECT_NE(two.output.find("[rank 0] "), std::string::npos);
  EXPECT_NE(two.output.find("All 2 ranks joined: global batch 4 (2 per rank), BatchNorm synchronised"),
            std::string::npos) << two.output;
  EXPECT_EQ(file_names_without_loss(t.file("one")), file_names_without_loss(t.file("two")))
      << "rank 0 alone writes, the same files as one process";
  const StateDict a = read_state_dict(checkpoint_of_epoch(t.file("one"), 1));
  const StateDict b = read_state_dict(checkpoint_of_epoch(t.file("two"), 1));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const auto& [name, tensor] = a[i];
    ASSERT_EQ(name, b[i].first);
    if (!tensor.is_floating_point()) continue;
    const double worst = (tensor - b[i].second).abs().max().item<double>();
    EXPECT_LE(worst, 1e-3 * tensor.abs().max().item<double>() + 1e-5) << name;
  }
}

// A rank killed mid-epoch: the other stops within the timeout naming it, the last
// finished epoch's checkpoint is intact, and one rank resumes from it to the end. The
// launcher, likewise, stops as a whole and names the rank.
TEST_F(TrainCli, LostRankStopsTheOthersAndOneRankResumes) {
  TempDir t;
  const std::string args = distributed_args(dir_->file("data"), dir_->file("base.pth")) +
                           " --epochs 4 --batch-size 2 --dist-timeout 20 --model-dir " + t.file("m");
  const std::string cli = EDGESSD_CLI;
  const CommandResult r = run_command(
      "cd " + t.path() + " && export WORLD_SIZE=2 MASTER_PORT=" + std::to_string(free_tcp_port()) + "; RANK=0 " +
      cli + " " + args + " >r0.log 2>&1 & p0=$!; RANK=1 " + cli + " " + args + " >r1.log 2>&1 & p1=$!; "
      "for i in $(seq 1200); do [ -f m/metrics.csv ] && break; sleep 0.1; done; kill -9 $p1; s=$(date +%s%N); "
      "wait $p0; rc=$?; echo \"rank 0 exit $rc after $(( ($(date +%s%N) - s) / 1000000 )) ms\"; tail -1 r0.log");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("rank 0 exit (\\d+) after (\\d+) ms"))) << r.output;
  EXPECT_NE(m[1], "0");
  EXPECT_LT(std::stoi(m[2]), 20000) << r.output;
  // The step's first collective: the buffers' broadcast (no --sync-bn) or an all-reduce.
  EXPECT_TRUE(std::regex_search(r.output, std::regex("edgessd: error: rank 0: lost rank 1 during (an all-reduce|a broadcast)")))
      << r.output;
  const std::string last = checkpoint_of_epoch(t.file("m"), 0);
  ASSERT_FALSE(last.empty());
  EXPECT_TRUE(checkpoint_of_epoch(t.file("m"), 1).empty());
  EXPECT_NO_THROW(read_state_dict(last));
  const CommandResult resumed = edgessd_cli(distributed_args(dir_->file("data"), dir_->file("base.pth")) +
                                            " --epochs 2 --batch-size 4 --resume " + last + " --model-dir " + t.file("m"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_FALSE(checkpoint_of_epoch(t.file("m"), 1).empty());

  const CommandResult launched = run_command(
      "cd " + t.path() + "; " + cli + " " + distributed_args(dir_->file("data"), dir_->file("base.pth")) +
      " --epochs 4 --batch-size 2 --model-dir l --nproc-per-node 2 --master-port " + std::to_string(free_tcp_port()) +
      " >l.log 2>&1 & lp=$!; for i in $(seq 1200); do [ -f l/metrics.csv ] && break; sleep 0.1; done; "
      "kill -9 $(sed -n 's/^\\[launcher\\] rank 1: pid //p' l.log); wait $lp; echo \"launcher exit $?\"; tail -1 l.log");
  EXPECT_NE(launched.output.find("launcher exit 1"), std::string::npos) << launched.output;
  EXPECT_TRUE(std::regex_search(launched.output, std::regex(
      "edgessd: error: rank 1 \\(pid \\d+\\) was killed by signal 9 \\(Killed\\); the other ranks were stopped")))
      << launched.output;
}

// Set-up faults are one line naming the flag or variable, before any file is written.
TEST_F(TrainCli, DistributedSetUpErrorsAreOneLineAndWriteNothing) {
  TempDir t;
  const std::string args = distributed_args(dir_->file("data"), dir_->file("base.pth")) +
                           " --epochs 1 --batch-size 2 --dist-timeout 5 --dist-join-timeout 5 --model-dir " + t.file("m");
  const int busy_port = free_tcp_port();
  const int busy = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(busy_port));
  ASSERT_EQ(bind(busy, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  listen(busy, 1);
  const std::string cli = EDGESSD_CLI;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {cli + " " + args + " --nproc-per-node 2 --master-port " + std::to_string(busy_port),
       "edgessd: error: --master-port " + std::to_string(busy_port) + ": already in use on 127.0.0.1"},
      {"WORLD_SIZE=2 RANK=0 MASTER_PORT=" + std::to_string(busy_port) + " " + cli + " " + args,
       "the port is already in use (--master-port / MASTER_PORT)"},
      {"WORLD_SIZE=2 RANK=1 MASTER_PORT=" + std::to_string(free_tcp_port()) + " " + cli + " " + args,
       "rank 1 cannot reach the master at 127.0.0.1:"},
      {"WORLD_SIZE=2 RANK=2 " + cli + " " + args, "edgessd: error: RANK='2': expected a whole number from 0 to 1"},
      {cli + " " + args + " --nproc-per-node 1 --nnodes 2 --node-rank 2 --master-addr 127.0.0.1",
       "edgessd: error: --node-rank 2: must be below --nnodes 2"},
      {cli + " " + args + " --nproc-per-node 1 --nnodes 2 --node-rank 1",
       "edgessd: error: --nnodes 2: give --master-addr, node 0's address that the other machines reach"},
      {cli + " " + args + " --nproc-per-node 1000",
       "edgessd: error: --nproc-per-node 1000: more ranks than this machine's "},
      {"RANK=1 " + cli + " " + args, "edgessd: error: RANK is set without WORLD_SIZE"},
      {"WORLD_SIZE=2 RANK=0 " + cli + " " + args + " --dist-backend nccl", "--dist-backend nccl:"},
  };
  for (const auto& [command, expected] : cases) {
    const CommandResult r = run_command(command);
    EXPECT_EQ(r.exit_code, 1) << command << "\n" << r.output;
    EXPECT_NE(r.output.find(expected), std::string::npos) << command << "\n" << r.output;
    const std::string last = r.output.substr(r.output.rfind('\n', r.output.size() - 2) + 1);
    EXPECT_EQ(last.rfind("edgessd: error: ", 0), 0u) << "one error line, last: " << r.output;
    EXPECT_FALSE(std::filesystem::exists(t.file("m"))) << command;
  }
  // Two processes that disagree on WORLD_SIZE: both say so, also when rank 1 comes late
  // (rank 0, which serves the store, once exited first and rank 1 died of a broken pipe).
  const std::string port = std::to_string(free_tcp_port());
  const CommandResult mismatch = run_command("(WORLD_SIZE=2 RANK=0 MASTER_PORT=" + port + " " + cli + " " + args +
                                             " & sleep 1; WORLD_SIZE=3 RANK=1 MASTER_PORT=" + port + " " + cli + " " +
                                             args + "; wait)");
  EXPECT_NE(mismatch.output.find("rank 1 has WORLD_SIZE 3 but rank 0 has 2"), std::string::npos) << mismatch.output;
  EXPECT_NE(mismatch.output.find("rank 0 has WORLD_SIZE 2 but rank 1 has 3"), std::string::npos) << mismatch.output;
  EXPECT_EQ(mismatch.output.find("internal error"), std::string::npos) << mismatch.output;
  EXPECT_FALSE(std::filesystem::exists(t.file("m")));
  // Two machines whose copies of the data set differ (one image fewer on rank 1's): both
  // ranks stop before the first step, naming the rank and what differs.
  make_slice(t.file("fewer"), {{"train", 7}, {"validation", 4}, {"test", 4}});
  const std::string other_args = distributed_args(t.file("fewer"), dir_->file("base.pth")) +
                                 " --epochs 1 --batch-size 2 --dist-timeout 5 --dist-join-timeout 5 --model-dir " +
                                 t.file("m");
  const std::string data_port = std::to_string(free_tcp_port());
  const CommandResult data = run_command("(WORLD_SIZE=2 RANK=0 MASTER_PORT=" + data_port + " " + cli + " " + args +
                                         " & WORLD_SIZE=2 RANK=1 MASTER_PORT=" + data_port + " " + cli + " " +
                                         other_args + "; wait)");
  EXPECT_NE(data.output.find("error: rank 1 holds other training data or priors than rank 0; here training images 7, "
                             "rank 0's 8"),
            std::string::npos) << data.output;
  EXPECT_NE(data.output.find("error: rank 1 holds other training data or priors than rank 0: every machine"),
            std::string::npos) << data.output;
  EXPECT_FALSE(std::filesystem::exists(t.file("m")));
  close(busy);
}

// PyTorch's env:// start, by hand: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT and nothing
// else train as the launcher's ranks do (rank 0 writes one set of files). A rank that stops
// before joining (here LOCAL_RANK without LOCAL_WORLD_SIZE) makes rank 0 say whom it waits
// for and stop within --dist-join-timeout naming it, long before --dist-timeout.
TEST_F(TrainCli, EnvStartTrainsAndAMissingRankIsNamedWithinTheJoinTimeout) {
  TempDir t;
  const std::string cli = EDGESSD_CLI;
  const std::string args = distributed_args(dir_->file("data"), dir_->file("base.pth")) + " --epochs 1";
  const CommandResult one = edgessd_cli(args + " --batch-size 4 --model-dir " + t.file("one"));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const std::string two_args = args + " --batch-size 2 --model-dir two";
  const CommandResult two = run_command(
      "cd " + t.path() + " && export WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" +
      std::to_string(free_tcp_port()) + "; RANK=0 " + cli + " " + two_args + " >r0.log 2>&1 & p0=$!; RANK=1 " + cli +
      " " + two_args + " >r1.log 2>&1; r1=$?; wait $p0; echo \"exits $? $r1\"; cat r0.log r1.log");
  EXPECT_NE(two.output.find("exits 0 0"), std::string::npos) << two.output;
  EXPECT_NE(two.output.find("All 2 ranks joined: global batch 4 (2 per rank)"), std::string::npos) << two.output;
  EXPECT_EQ(file_names_without_loss(t.file("one")), file_names_without_loss(t.file("two")));

  const CommandResult missing = run_command(
      "cd " + t.path() + " && export WORLD_SIZE=2 MASTER_PORT=" + std::to_string(free_tcp_port()) +
      "; s=$(date +%s%N); RANK=0 " + cli + " " + args + " --dist-join-timeout 7 --model-dir m >r0.log 2>&1 & p0=$!; "
      "RANK=1 LOCAL_RANK=1 " + cli + " " + args + " --model-dir m >r1.log 2>&1; r1=$?; wait $p0; "
      "echo \"exits $? $r1 after $(( ($(date +%s%N) - s) / 1000000 )) ms\"; cat r0.log r1.log");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(missing.output, m, std::regex("exits (\\d+) (\\d+) after (\\d+) ms")))
      << missing.output;
  EXPECT_EQ(m[1], "1");
  EXPECT_EQ(m[2], "1");
  EXPECT_LT(std::stoi(m[3]), 60000) << missing.output;
  EXPECT_NE(missing.output.find("edgessd: error: LOCAL_RANK='1' is set without LOCAL_WORLD_SIZE"), std::string::npos)
      << missing.output;
  EXPECT_NE(missing.output.find("rank 0: 1 of 2 ranks joined, waiting for rank 1 (5 s of --dist-join-timeout 7)"),
            std::string::npos) << missing.output;
  EXPECT_NE(missing.output.find("edgessd: error: rank 0: rank 1 did not join within 7 s (WORLD_SIZE 2, "
                                "--dist-join-timeout)"),
            std::string::npos) << missing.output;
  EXPECT_FALSE(std::filesystem::exists(t.file("m")));
}
