#include "edgessd/train/distributed.h"

#include <c10/util/Exception.h>
#include <torch/torch.h>
#include <torch/version.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef EDGESSD_HAVE_GLOO  // CMake defines it where gloo's headers are (Debian: libgloo-dev)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef USE_C10D_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <algorithm>
#include <atomic>
#include <cstring>
#include <initializer_list>
#include <cstdlib>
#include <map>
#include <chrono>
#include <thread>
#include <vector>

#include "edgessd/common/error.h"
#include "edgessd/common/logging.h"

namespace edgessd {

namespace {

// LibTorch 2 made Gloo and NCCL c10d Backends under a ProcessGroup; 1.13 (Debian's) has
// them as ProcessGroups. Both have the same collectives.
#if TORCH_VERSION_MAJOR >= 2
using Collectives = c10d::Backend;
#else
using Collectives = c10d::ProcessGroup;
#endif

int env_int(const char* name, int fallback, int min, int max) {
  const char* text = name ? std::getenv(name) : nullptr;
  if (!text || !*text) return fallback;
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text, &end, 10);
  if (*end || errno || v < min || v > max)
    throw Error(std::string(name) + "='" + text + "': expected a whole number from " + std::to_string(min) +
                " to " + std::to_string(max));
  return static_cast<int>(v);
}

// c10's messages carry a backtrace after the first line; the user needs the first line.
std::string first_line(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  std::string text = c10_error ? c10_error->what_without_backtrace() : e.what();
  return text.substr(0, text.find('\n'));
}

std::string key(const std::string& what, int rank) { return "edgessd/" + what + "/" + std::to_string(rank); }

// "rank 3" or "ranks 1, 2, 5", the first eight of a long list.
std::string rank_list(const std::vector<int>& ranks) {
  std::string text = ranks.size() == 1 ? "rank " : "ranks ";
  for (size_t i = 0; i < ranks.size() && i < 8; ++i) text += (i ? ", " : "") + std::to_string(ranks[i]);
  if (ranks.size() > 8) text += ", ... (" + std::to_string(ranks.size()) + " in all)";
  return text;
}

c10::intrusive_ptr<c10d::TCPStore> connect_store(const RankEnvironment& env, bool server,
                                                 std::chrono::milliseconds timeout) {
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(env.master_port);
  options.isServer = server;
  options.waitWorkers = false;
  options.timeout = timeout;
  return c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
}

// The first of `names` that is set, or nullptr.
const char* first_set(std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (const char* v = std::getenv(n); v && *v) return n;
  return nullptr;
}

// SLURM's "2(x3),1" (tasks on each node of the step) expanded, entry `node`; 0 if unreadable.
int slurm_tasks_on_node(const char* text, int node) {
  std::vector<int> counts;
  for (const char* p = text; p && *p;) {
    char* end = nullptr;
    const long n = std::strtol(p, &end, 10);
    long repeat = 1;
    if (end == p || n < 1) return 0;
    if (std::strncmp(end, "(x", 2) == 0) {
      repeat = std::strtol(end + 2, &end, 10);
      if (*end != ')' || repeat < 1 || repeat > (1 << 16)) return 0;
      ++end;
    }
    counts.insert(counts.end(), static_cast<size_t>(repeat), static_cast<int>(n));
    if (*end && *end != ',') return 0;
    p = *end ? end + 1 : end;
  }
  return node >= 0 && node < static_cast<int>(counts.size()) ? counts[static_cast<size_t>(node)] : 0;
}

// srun's task variables, where no torchrun variable is set (README, "Training on several
// processes or machines"): SLURM_PROCID, SLURM_STEP_NUM_TASKS, SLURM_LOCALID and this
// node's share of SLURM_STEP_TASKS_PER_NODE.
RankEnvironment slurm_environment() {
  RankEnvironment env;
  env.world_size = env_int("SLURM_STEP_NUM_TASKS", 1, 1, 1 << 20);
  env.rank = env_int("SLURM_PROCID", 0, 0, env.world_size - 1);
  const int node = env_int("SLURM_NODEID", 0, 0, 1 << 16);
  const int on_node = slurm_tasks_on_node(std::getenv("SLURM_STEP_TASKS_PER_NODE"), node);
  env.local_world_size = std::min(env.world_size, std::max(1, on_node));
  env.local_rank = env_int("SLURM_LOCALID", 0, 0, env.local_world_size - 1);
  return env;
}

// torchrun's (and PyTorch's env://) variables: RANK and WORLD_SIZE go together; LOCAL_RANK
// and LOCAL_WORLD_SIZE too, and without both each machine holds one rank.
RankEnvironment torchrun_environment() {
  RankEnvironment env;
  const char* rank = first_set({"RANK"});
  if (!rank != !first_set({"WORLD_SIZE"}))
    throw Error(std::string(rank ? "RANK" : "WORLD_SIZE") + " is set without " + (rank ? "WORLD_SIZE" : "RANK") +
                ": a rank needs both (or neither, for one process)");
  env.world_size = env_int("WORLD_SIZE", 1, 1, 1 << 20);
  env.rank = env_int("RANK", 0, 0, env.world_size - 1);
  const char* local_rank = first_set({"LOCAL_RANK"});
  if (!local_rank != !first_set({"LOCAL_WORLD_SIZE"}))
    throw Error(std::string(local_rank ? "LOCAL_RANK" : "LOCAL_WORLD_SIZE") + "='" +
                std::getenv(local_rank ? "LOCAL_RANK" : "LOCAL_WORLD_SIZE") + "' is set without " +
                (local_rank ? "LOCAL_WORLD_SIZE" : "LOCAL_RANK") +
                " (the ranks on this machine): set both, or neither for one rank per machine");
  env.local_world_size = env_int("LOCAL_WORLD_SIZE", 1, 1, env.world_size);
  env.local_rank = env_int("LOCAL_RANK", 0, 0, env.local_world_size - 1);
  return env;
}

}  // namespace

RankEnvironment rank_environment() {
  const bool slurm = !first_set({"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"}) &&
                     first_set({"SLURM_PROCID"}) && first_set({"SLURM_STEP_NUM_TASKS"});
  RankEnvironment env = slurm ? slurm_environment() : torchrun_environment();
  if (const char* addr = std::getenv("MASTER_ADDR"); addr && *addr) env.master_addr = addr;
  env.master_port = env_int("MASTER_PORT", env.master_port, 1, 65535);
  // Ranks on other machines (this one's count given, and short of the world) would wait
  // out the join timeout for a rendezvous on their own loopback.
  const bool local_count_given = slurm || first_set({"LOCAL_WORLD_SIZE"});
  if (local_count_given && env.world_size > env.local_world_size && is_loopback_address(env.master_addr))
    throw Error("WORLD_SIZE " + std::to_string(env.world_size) + " spans machines (" +
                std::to_string(env.local_world_size) + " rank(s) on this one) but MASTER_ADDR is " + env.master_addr +
                ", which the others cannot reach: set MASTER_ADDR to node 0's address");
  return env;
}

std::string resolve_dist_backend(const std::string& requested, bool cuda) {
  const std::string backend = requested == "auto" ? (cuda ? "nccl" : "gloo") : requested;
  if (backend == "gloo") return backend;
  if (backend != "nccl") throw Error("--dist-backend " + requested + ": expected auto, gloo or nccl");
#ifdef USE_C10D_NCCL
  if (!cuda) throw Error("--dist-backend nccl: NCCL needs CUDA ranks (this run is on the CPU); use gloo");
  return backend;
#else
  throw Error("--dist-backend " + requested + ": this LibTorch has no NCCL (a CPU build); use gloo");
#endif
}

struct ProcessGroup::Impl {
  RankEnvironment env;
  std::string backend;
  std::chrono::milliseconds timeout, join_timeout;
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<Collectives> group;
  std::atomic<bool> stop{false};
  std::thread heartbeat;

  ~Impl() {
    stop = true;
    if (heartbeat.joinable()) heartbeat.join();
  }
  void rendezvous();
  void check_peers();
  std::string compare_world_sizes(const std::string& me, const std::string& mine);
  void report_missing(const std::string& me, const std::vector<int>& missing,
                      std::chrono::steady_clock::time_point start,
                      std::chrono::steady_clock::time_point& next_report) const;
  void create_group();
  void beat();
  std::vector<int> lost_ranks() const;
};

class ProcessGroup::Pending {
 public:
  explicit Pending(c10::intrusive_ptr<c10d::Work> w) : work(std::move(w)) {}
  c10::intrusive_ptr<c10d::Work> work;
};

// Rank 0 serves the store; the others connect to it, each within the timeout.
void ProcessGroup::Impl::rendezvous() {
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  try {
    store = connect_store(env, env.rank == 0, join_timeout);
    store->setTimeout(timeout);  // from here on, the collectives' timeout
  } catch (const std::exception& e) {
    const std::string msg = first_line(e);
    if (env.rank == 0 && msg.find("in use") != std::string::npos)
      throw Error("rank 0 cannot serve the rendezvous at " + where +
                  ": the port is already in use (--master-port / MASTER_PORT)");
    if (env.rank == 0)
      throw Error("rank 0 cannot serve the rendezvous at " + where + " (--master-addr/--master-port): " + msg);
    throw Error("rank " + std::to_string(env.rank) + " cannot reach the master at " + where + " within " +
                std::to_string(join_timeout.count() / 1000) + " s (--master-addr/--master-port, --dist-join-timeout): " +
                msg);
  }
  check_peers();
}

// Every rank says who it is and what WORLD_SIZE it was given; a duplicate RANK, a
// different WORLD_SIZE or a rank that never comes is an Error before any training.
void ProcessGroup::Impl::check_peers() {
  const std::string me = "rank " + std::to_string(env.rank);
  if (store->add(key("rank", env.rank), 1) > 1) throw Error(me + ": another process already joined as RANK " +
                                                            std::to_string(env.rank));
  store->add("edgessd/joined", 1);
  const std::string mine = std::to_string(env.world_size);
  store->set(key("world_size", env.rank), std::vector<uint8_t>(mine.begin(), mine.end()));
  std::string mismatch;
  try {
    mismatch = compare_world_sizes(me, mine);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {  // the store's connection, e.g. rank 0 gone
    throw Error(me + ": lost the rendezvous at " + env.master_addr + ":" + std::to_string(env.master_port) +
                " while checking the other ranks (" + first_line(e) + "); rank 0's own error says why");
  }
  store->add("edgessd/checked", 1);
  if (mismatch.empty()) return;
  // Rank 0 serves the store: it stays (5 s at most) until every rank that joined has
  // finished its own check, so each names the mismatch itself rather than losing the
  // connection mid-read.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (env.rank == 0 && store->add("edgessd/checked", 0) < store->add("edgessd/joined", 0) &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  throw Error(mismatch);
}

// Every other rank's WORLD_SIZE from the store as it arrives, within the join timeout: ""
// when all match, else the error naming the first that differs. Rank 0 says every few
// seconds which ranks joined and which it still waits for.
std::string ProcessGroup::Impl::compare_world_sizes(const std::string& me, const std::string& mine) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  auto next_report = start + std::chrono::seconds(5);
  std::vector<int> missing;
  for (int r = 0; r < env.world_size; ++r)
    if (r != env.rank) missing.push_back(r);
  while (!missing.empty()) {
    std::vector<int> still;
    for (int r : missing) {
      if (!store->check({key("world_size", r)})) {
        still.push_back(r);
        continue;
      }
      const auto theirs = store->get(key("world_size", r));
      if (std::string(theirs.begin(), theirs.end()) != mine)
        return me + " has WORLD_SIZE " + mine + " but rank " + std::to_string(r) + " has " +
               std::string(theirs.begin(), theirs.end()) + ": every rank needs the same --nnodes x --nproc-per-node";
    }
    missing = std::move(still);
    if (!missing.empty()) report_missing(me, missing, start, next_report);
  }
  return "";
}

// Throws once the join timeout has passed; on rank 0, a progress line every 5 s.
void ProcessGroup::Impl::report_missing(const std::string& me, const std::vector<int>& missing,
                                        std::chrono::steady_clock::time_point start,
                                        std::chrono::steady_clock::time_point& next_report) const {
  const auto now = std::chrono::steady_clock::now();
  const std::string limit = std::to_string(join_timeout.count() / 1000);
  if (now - start >= join_timeout)
    throw Error(me + ": " + rank_list(missing) + " did not join within " + limit + " s (WORLD_SIZE " +
                std::to_string(env.world_size) + ", --dist-join-timeout)");
  if (env.rank == 0 && now >= next_report) {
    const auto waited = std::chrono::duration_cast<std::chrono::seconds>(now - start).count();
    log_info(me + ": " + std::to_string(env.world_size - static_cast<int>(missing.size())) + " of " +
             std::to_string(env.world_size) + " ranks joined, waiting for " + rank_list(missing) + " (" +
             std::to_string(waited) + " s of --dist-join-timeout " + limit + ")");
    next_report += std::chrono::seconds(5);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

void ProcessGroup::Impl::create_group() {
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("edgessd/" + backend, store);
#ifdef USE_C10D_NCCL
  if (backend == "nccl") {
    // NCCL binds a rank to the current device: without this every rank of a machine
    // would share GPU 0 (torchrun's workers call torch.cuda.set_device(LOCAL_RANK)).
    c10::cuda::set_device(static_cast<c10::DeviceIndex>(env.local_rank));
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout;
    group = c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, env.rank, env.world_size, options);
    return;
  }
#endif
#ifndef EDGESSD_HAVE_GLOO
  throw Error("this edgessd was built without Gloo (gloo's headers, Debian's libgloo-dev, were missing): rebuild");
#else
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  if (const char* iface = std::getenv("GLOO_SOCKET_IFNAME"); iface && *iface)
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(iface));
  else if (is_loopback_address(env.master_addr))
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  else
    options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  group = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, env.rank, env.world_size, options);
#endif
}

// A counter in the store, once a second, on its own connection: when a collective fails,
// the ranks whose counter stopped are the lost ones.
void ProcessGroup::Impl::beat() {
  try {
    auto own = connect_store(env, false, timeout);
    for (uint64_t n = 0; !stop; ++n) {
      const std::string v = std::to_string(n);
      own->set(key("alive", env.rank), std::vector<uint8_t>(v.begin(), v.end()));
      for (int i = 0; i < 10 && !stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  } catch (const std::exception&) {
    // The store went with rank 0; the next collective reports it.
  }
}

std::vector<int> ProcessGroup::Impl::lost_ranks() const {
  try {
    auto probe = connect_store(env, false, std::chrono::seconds(3));
    auto read = [&] {
      std::map<int, std::vector<uint8_t>> counters;
      for (int r = 0; r < env.world_size; ++r)
        if (r != env.rank && probe->check({key("alive", r)})) counters[r] = probe->get(key("alive", r));
      return counters;
    };
    const auto before = read();
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    const auto after = read();
    std::vector<int> lost;
    for (int r = 0; r < env.world_size; ++r)
      if (r != env.rank && (!before.count(r) || before.at(r) == after.at(r))) lost.push_back(r);
    return lost;
  } catch (const std::exception&) {
    return {0};  // the store lives in rank 0
  }
}

ProcessGroup::ProcessGroup(const RankEnvironment& env, const std::string& backend, std::chrono::seconds timeout,
                           std::chrono::seconds join_timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->env = env;
  impl_->backend = backend;
  impl_->timeout = timeout;
  impl_->join_timeout = join_timeout;
  impl_->rendezvous();
  impl_->heartbeat = std::thread([impl = impl_.get()] { impl->beat(); });
  try {
    impl_->create_group();
  } catch (const std::exception& e) {
    fail("joining the " + backend + " group", e);
  }
}

ProcessGroup::~ProcessGroup() = default;

int ProcessGroup::rank() const { return impl_->env.rank; }
int ProcessGroup::size() const { return impl_->env.world_size; }

void ProcessGroup::fail(const std::string& what, const std::exception& e) {
  const std::vector<int> lost = impl_->lost_ranks();
  std::string names;
  for (int r : lost) names += (names.empty() ? "" : ", ") + std::to_string(r);
  const std::string me = "rank " + std::to_string(impl_->env.rank);
  if (lost.empty()) throw Error(me + ": " + what + " failed: " + first_line(e));
  throw Error(me + ": lost rank " + names + " during " + what + " (" + (lost == std::vector<int>{0} ? "the master, " : "") +
              "its heartbeat stopped): " + first_line(e));
}

std::shared_ptr<ProcessGroup::Pending> ProcessGroup::all_reduce_sum_async(at::Tensor& t) {
  std::vector<at::Tensor> tensors{t};
  try {
    return std::make_shared<Pending>(impl_->group->allreduce(tensors));
  } catch (const std::exception& e) {
    fail("an all-reduce", e);
  }
}

void ProcessGroup::wait(Pending& pending) {
  try {
    pending.work->wait();
  } catch (const std::exception& e) {
    fail("an all-reduce", e);
  }
}

void ProcessGroup::all_reduce_sum(at::Tensor& t) { wait(*all_reduce_sum_async(t)); }

void ProcessGroup::broadcast(at::Tensor& t, int root) {
  std::vector<at::Tensor> tensors{t};
  c10d::BroadcastOptions options;
  options.rootRank = root;
  try {
    impl_->group->broadcast(tensors, options)->wait();
  } catch (const std::exception& e) {
    fail("a broadcast", e);
  }
}

void ProcessGroup::barrier() {
  try {
    impl_->group->barrier()->wait();
  } catch (const std::exception& e) {
    fail("a barrier", e);
  }
}

bool is_loopback_address(const std::string& host) { return host == "localhost" || host.rfind("127.", 0) == 0; }

void check_ranks_agree(ProcessGroup& group, const std::vector<int64_t>& values, const std::vector<std::string>& names,
                       const std::string& what) {
  at::Tensor mine = torch::tensor(values, torch::kInt64);
  at::Tensor first = mine.clone();
  group.broadcast(first, 0);
  at::Tensor differs = torch::zeros({group.size()}, torch::kInt64);
  differs[group.rank()] = torch::equal(mine, first) ? 0 : 1;
  group.all_reduce_sum(differs);
  std::string ranks;
  for (int r = 0; r < group.size(); ++r)
    if (differs[r].item<int64_t>()) ranks += (ranks.empty() ? "" : ", ") + std::to_string(r);
  if (ranks.empty()) return;
  std::string detail;
  for (size_t i = 0; i < values.size() && detail.empty(); ++i)
    if (values[i] != first[static_cast<int64_t>(i)].item<int64_t>())
      detail = "; here " + names[i] + " " + std::to_string(values[i]) + ", rank 0's " +
               std::to_string(first[static_cast<int64_t>(i)].item<int64_t>());
  throw Error("rank " + ranks + " hold" + (ranks.find(',') == std::string::npos ? "s" : "") + " other " + what +
              " than rank 0" + detail + ": every machine needs the same --data (and readable images)");
}

}  // namespace edgessd
