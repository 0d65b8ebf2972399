#include "edgessd/train/rank_launcher.h"

#include <arpa/inet.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <vector>

#include "edgessd/common/error.h"
#include "edgessd/common/parallel.h"
#include "edgessd/train/distributed.h"

namespace edgessd {

namespace {

volatile std::sig_atomic_t pending_signal = 0;
void remember_signal(int sig) { pending_signal = sig; }

std::vector<std::string> own_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  for (size_t i = 0; i < all.size();) {
    const size_t end = all.find('\0', i);
    args.push_back(all.substr(i, end - i));
    i = end == std::string::npos ? all.size() : end + 1;
  }
  if (args.empty()) throw Error("cannot read this program's command line from /proc/self/cmdline");
  return args;
}

// Node 0's rank 0 will serve the store on this port: find out now, in one line.
void check_port_free(const LaunchOptions& o) {
  addrinfo hints{}, *found = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(o.master_addr.c_str(), std::to_string(o.master_port).c_str(), &hints, &found) != 0 || !found)
    throw Error("--master-addr " + o.master_addr + ": cannot resolve it");
  const int fd = socket(found->ai_family, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const bool bound = fd >= 0 && bind(fd, found->ai_addr, found->ai_addrlen) == 0;
  const int error = errno;
  if (fd >= 0) close(fd);
  freeaddrinfo(found);
  if (!bound && error == EADDRINUSE)
    throw Error("--master-port " + std::to_string(o.master_port) + ": already in use on " + o.master_addr);
  if (!bound)
    throw Error("--master-addr " + o.master_addr + ": node 0 cannot listen there (" + std::strerror(error) +
                "); give an address of this machine");
}

struct Rank {
  int rank = 0;
  pid_t pid = -1;
  int out = -1, err = -1;  // read ends of its stdout and stderr
  std::string out_partial, err_partial;
  bool running = true;
};

Rank start_rank(const LaunchOptions& o, int local_rank, const std::vector<std::string>& args) {
  Rank r;
  r.rank = o.node_rank * o.nproc_per_node + local_rank;
  int out[2] = {-1, -1}, err[2] = {-1, -1};
  const bool piped = pipe(out) == 0 && pipe(err) == 0;
  const pid_t pid = piped ? fork() : -1;
  if (pid < 0) {
    const std::string why = std::string(piped ? "fork: " : "pipe: ") + std::strerror(errno);
    for (int fd : {out[0], out[1], err[0], err[1]})
      if (fd >= 0) close(fd);
    throw Error("cannot start rank " + std::to_string(r.rank) + ": " + why);
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // no orphaned ranks if the launcher dies
    dup2(out[1], 1);
    dup2(err[1], 2);
    close(out[0]), close(out[1]), close(err[0]), close(err[1]);
    setenv("RANK", std::to_string(r.rank).c_str(), 1);
    setenv("WORLD_SIZE", std::to_string(o.nnodes * o.nproc_per_node).c_str(), 1);
    setenv("LOCAL_RANK", std::to_string(local_rank).c_str(), 1);
    setenv("LOCAL_WORLD_SIZE", std::to_string(o.nproc_per_node).c_str(), 1);
    setenv("GROUP_RANK", std::to_string(o.node_rank).c_str(), 1);
    setenv("MASTER_ADDR", o.master_addr.c_str(), 1);
    setenv("MASTER_PORT", std::to_string(o.master_port).c_str(), 1);
    setenv(kLaunchedRankVariable, "1", 1);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv("/proc/self/exe", argv.data());
    std::fprintf(stderr, "edgessd: cannot run /proc/self/exe: %s\n", std::strerror(errno));
    _exit(127);
  }
  close(out[1]), close(err[1]);
  r.pid = pid;
  r.out = out[0];
  r.err = err[0];
  return r;
}

// Whatever `fd` has now, forwarded line by line with the rank's prefix; false at its end.
bool forward(int fd, std::string& partial, FILE* to, int rank) {
  char buffer[4096];
  const ssize_t n = read(fd, buffer, sizeof buffer);
  if (n <= 0) {
    if (!partial.empty()) std::fprintf(to, "[rank %d] %s\n", rank, partial.c_str());
    partial.clear();
    return false;
  }
  partial.append(buffer, static_cast<size_t>(n));
  for (size_t end; (end = partial.find('\n')) != std::string::npos; partial.erase(0, end + 1))
    std::fprintf(to, "[rank %d] %.*s\n", rank, static_cast<int>(end), partial.c_str());
  std::fflush(to);
  return true;
}

std::string how_it_ended(int status) {
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
                                  strsignal(WTERMSIG(status)) + ")";
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

void signal_all(std::vector<Rank>& ranks, int sig) {
  for (auto& r : ranks)
    if (r.running) kill(r.pid, sig);
}

// One pass of the loop: output forwarded, ended ranks reaped. Returns the first failure's text.
std::string pump(std::vector<Rank>& ranks, int timeout_ms) {
  std::vector<pollfd> fds;
  std::vector<std::pair<Rank*, bool>> owners;  // (rank, is stderr)
  for (auto& r : ranks) {
    if (r.out >= 0) fds.push_back({r.out, POLLIN, 0}), owners.push_back({&r, false});
    if (r.err >= 0) fds.push_back({r.err, POLLIN, 0}), owners.push_back({&r, true});
  }
  if (!fds.empty() && poll(fds.data(), fds.size(), timeout_ms) > 0)
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Rank& r = *owners[i].first;
      int& fd = owners[i].second ? r.err : r.out;
      if (!forward(fd, owners[i].second ? r.err_partial : r.out_partial, owners[i].second ? stderr : stdout, r.rank))
        close(fd), fd = -1;
    }
  if (fds.empty()) usleep(timeout_ms * 1000);
  std::string failure;
  for (auto& r : ranks) {
    int status = 0;
    if (!r.running || waitpid(r.pid, &status, WNOHANG) != r.pid) continue;
    r.running = false;
    if (failure.empty() && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
      failure = "rank " + std::to_string(r.rank) + " (pid " + std::to_string(r.pid) + ") " + how_it_ended(status);
  }
  return failure;
}

// Every local rank, or none: when one cannot start, those already started are killed and reaped.
std::vector<Rank> start_ranks(const LaunchOptions& o, const std::vector<std::string>& args) {
  std::vector<Rank> ranks;
  try {
    for (int local = 0; local < o.nproc_per_node; ++local) {
      ranks.push_back(start_rank(o, local, args));
      std::fprintf(stderr, "[launcher] rank %d: pid %d\n", ranks.back().rank, static_cast<int>(ranks.back().pid));
    }
  } catch (const Error&) {
    for (auto& r : ranks) {
      kill(r.pid, SIGKILL);
      waitpid(r.pid, nullptr, 0);
      close(r.out), close(r.err);
    }
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    throw;
  }
  return ranks;
}

bool any_running(const std::vector<Rank>& ranks) {
  for (const auto& r : ranks)
    if (r.running || r.out >= 0 || r.err >= 0) return true;
  return false;
}

}  // namespace

bool launched_as_rank() { return std::getenv(kLaunchedRankVariable) != nullptr; }

void launch_ranks(const LaunchOptions& o) {
  if (o.node_rank >= o.nnodes)
    throw Error("--node-rank " + std::to_string(o.node_rank) + ": must be below --nnodes " + std::to_string(o.nnodes));
  if (o.nnodes > 1 && is_loopback_address(o.master_addr))
    throw Error("--master-addr " + o.master_addr + ": a loopback address, which the other " +
                std::to_string(o.nnodes - 1) + " machine(s) of --nnodes " + std::to_string(o.nnodes) +
                " cannot reach; give node 0's address on their network");
  if (o.nproc_per_node > hardware_threads())
    throw Error("--nproc-per-node " + std::to_string(o.nproc_per_node) + ": more ranks than this machine's " +
                std::to_string(hardware_threads()) + " cores (a rank needs one at least)");
  if (o.node_rank == 0) check_port_free(o);
  const std::vector<std::string> args = own_command_line();
  std::signal(SIGINT, remember_signal);
  std::signal(SIGTERM, remember_signal);
  std::vector<Rank> ranks = start_ranks(o, args);
  std::string failure;
  auto stop_deadline = std::chrono::steady_clock::time_point::max();
  while (any_running(ranks)) {
    const std::string f = pump(ranks, 200);
    if (failure.empty() && (!f.empty() || pending_signal)) {
      failure = !f.empty() ? f : std::string("launcher got signal ") + std::to_string(pending_signal);
      std::fprintf(stderr, "[launcher] %s; stopping the other ranks\n", failure.c_str());
      signal_all(ranks, pending_signal ? pending_signal : SIGTERM);
      stop_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    }
    if (std::chrono::steady_clock::now() > stop_deadline) {
      signal_all(ranks, SIGKILL);
      stop_deadline = std::chrono::steady_clock::time_point::max();
    }
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (!failure.empty()) throw Error(failure + "; the other ranks were stopped");
}

}  // namespace edgessd
