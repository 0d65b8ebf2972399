#include "cli_flags.h"
#include "commands.h"
#include "edgessd/common/defaults.h"
#include "edgessd/common/parallel.h"
#include "edgessd/common/error.h"
#include "edgessd/common/logging.h"
#include "edgessd/common/output_guard.h"
#include "edgessd/common/model_info.h"
#include "edgessd/train/rank_launcher.h"
#include "edgessd/train/trainer.h"

namespace {

// torchrun's launcher flags and DistributedDataParallel's options (README, "Training on
// several processes or machines").
void add_distributed_options(CLI::App* cmd, edgessd::TrainOptions& o, edgessd::LaunchOptions& launch) {
  cmd->add_option("--nproc-per-node,--nproc_per_node", launch.nproc_per_node,
                  "Start this many ranks here and stand for them, as torchrun does")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--nnodes", launch.nnodes, "Machines in the run (with --nproc-per-node)")
      ->check(CLI::Range(1, 1 << 16))->capture_default_str();
  cmd->add_option("--node-rank,--node_rank", launch.node_rank, "This machine's index, 0 to --nnodes - 1")
      ->check(edgessd::cli::whole_number(0))->capture_default_str();
  cmd->add_option("--master-addr,--master_addr", launch.master_addr, "Address of node 0 (it serves the rendezvous)")
      ->capture_default_str();
  cmd->add_option("--master-port,--master_port", launch.master_port, "Port of the rendezvous on node 0")
      ->check(CLI::Range(1, 65535))->capture_default_str();
  cmd->add_option("--dist-backend", o.dist_backend, "auto (NCCL for CUDA ranks, else Gloo), gloo or nccl")
      ->check(CLI::IsMember({"auto", "gloo", "nccl"}))->capture_default_str();
  cmd->add_option("--dist-timeout", o.dist_timeout,
                  "Seconds a rank waits for the others before it stops with an error naming the lost rank")
      ->check(CLI::Range(1, 24 * 3600))->capture_default_str();
  cmd->add_option("--dist-join-timeout", o.dist_join_timeout,
                  "Seconds rank 0 waits for every rank to join (it names the missing ones every 5 s)")
      ->check(CLI::Range(1, 24 * 3600))->capture_default_str();
  cmd->add_flag("--sync-bn", o.sync_bn, "BatchNorm statistics over every rank's batch (SyncBatchNorm)");
}

// Ours, not pytorch-ssd's: what keeps runs from diverging or drifting apart.
void add_stability_options(CLI::App* cmd, edgessd::TrainOptions& o) {
  cmd->add_option("--clip-grad-norm", o.clip_grad_norm,
                  "Clip the gradients' global L2 norm to this before each step (0: none, as pytorch-ssd)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--warmup-epochs", o.warmup_epochs,
                  "Linear learning-rate warm-up over this many epochs (0: none, as pytorch-ssd)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--ema", o.ema,
                  "Validate and save an exponential moving average of the weights with this per-step decay "
                  "(e.g. 0.99; 0: none)")
      ->capture_default_str();
}

// The launcher's flags only with --nproc-per-node, and a run over machines names node 0.
void check_launcher_flags(const CLI::App& cmd, const edgessd::LaunchOptions& launch) {
  if (!cmd.count("--nproc-per-node") && !edgessd::launched_as_rank())
    for (const char* flag : {"--nnodes", "--node-rank", "--master-addr", "--master-port"})
      if (cmd.count(flag))
        throw edgessd::Error(std::string(flag) + ": a launcher flag; give --nproc-per-node too (or set torchrun's "
                             "variables and leave the launcher flags out)");
  if (launch.nnodes > 1 && !cmd.count("--master-addr"))
    throw edgessd::Error("--nnodes " + std::to_string(launch.nnodes) +
                         ": give --master-addr, node 0's address that the other machines reach");
}

// --model-dir is none of the inputs (a data set, a starting checkpoint) nor inside one.
void check_train_paths(const edgessd::TrainOptions& o) {
  using edgessd::NamedPath;
  edgessd::check_no_repeats(o.data, "--data");
  std::vector<NamedPath> inputs;
  for (const std::string& d : o.data) inputs.push_back({d, "--data"});
  for (const auto& [path, flag] : {std::pair{o.resume, "--resume"}, {o.pretrained_ssd, "--pretrained-ssd"},
                                   {o.base_net, "--base-net"}})
    for (const NamedPath& p : edgessd::checkpoint_inputs(path, flag)) inputs.push_back(p);
  edgessd::check_outputs_apart({{o.model_dir, "--model-dir"}}, inputs);
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto o = std::make_shared<edgessd::TrainOptions>();
  auto launch = std::make_shared<edgessd::LaunchOptions>();
  auto dataset_type = std::make_shared<std::string>("open_images");
  auto base_net_lr = std::make_shared<double>(0.001);
  auto width_mult = std::make_shared<double>(1.0);
  auto extra_layers_lr = std::make_shared<double>(0);
  auto use_cuda = std::make_shared<std::string>("true");
  CLI::App* cmd = app.add_subcommand("train", "Re-train SSD-MobileNet on your classes (pytorch-ssd's train_ssd.py)");
  edgessd::cli::add_dataset_type_flag(*cmd, *dataset_type);
  cmd->add_option("--data,--datasets", o->data, "Dataset folder(s); several train together")->required();
  cmd->add_flag("--balance-data,--balance_data", o->balance_data, "Balance classes by sampling (open_images)");
  cmd->add_option("--net", o->net, edgessd::known_net_names_text() + " (default: --resume's, else the --pretrained-ssd/--base-net net, "
                  "an mb1-ssd with the stride-8 head; else mb1-ssd-s8)")
      ->check(CLI::IsMember(edgessd::known_net_names()));
  auto* width = cmd->add_option("--mb2-width-mult,--mb2_width_mult", *width_mult,
                  "mb2-ssd-lite's width multiplier (default: --resume's, else 1.0)")
      ->check(CLI::Range(0.05, 4.0));
  cmd->add_option("--resolution", o->resolution,
                  std::string("Network input, W or WxH (default: --resume's, else ") + edgessd::kDefaultResolution +
                      "); feature maps follow it");
  edgessd::cli::add_priors_flag(*cmd, o->priors, "--resume's, else auto");
  edgessd::cli::add_shape_jitter_flags(*cmd, o->jitter);
  cmd->add_option("--pretrained-ssd,--pretrained_ssd", o->pretrained_ssd, "Start from an SSD checkpoint (all but the heads)");
  cmd->add_option("--base-net,--base_net", o->base_net, "Start from a base net checkpoint");
  cmd->add_option("--resume", o->resume, "Resume from a checkpoint of ours: weights, momentum, schedule, epoch");
  cmd->add_flag("--freeze-base-net,--freeze_base_net", o->freeze_base_net, "Freeze the base net");
  cmd->add_flag("--freeze-net,--freeze_net", o->freeze_net, "Freeze all but the prediction heads");
  cmd->add_option("--lr,--learning-rate", o->lr, "Initial learning rate")->capture_default_str();
  cmd->add_option("--momentum", o->momentum, "SGD momentum")->capture_default_str();
  cmd->add_option("--weight-decay,--weight_decay", o->weight_decay, "SGD weight decay")->capture_default_str();
  cmd->add_option("--gamma", o->gamma, "Multi-step LR decay")->capture_default_str();
  cmd->add_option("--base-net-lr,--base_net_lr", *base_net_lr, "Base net learning rate")->capture_default_str();
  auto* extra = cmd->add_option("--extra-layers-lr,--extra_layers_lr", *extra_layers_lr,
                                "Extra layers learning rate (default: --lr)");
  cmd->add_option("--scheduler", o->scheduler, "cosine or multi-step")
      ->check(CLI::IsMember({"cosine", "multi-step"}))
      ->capture_default_str();
  cmd->add_option("--milestones", o->milestones, "Multi-step milestones (epochs)")->capture_default_str();
  cmd->add_option("--t-max,--t_max", o->t_max, "Cosine annealing period (epochs)")->capture_default_str();
  cmd->add_option("--batch-size,--batch_size", o->batch_size, "Images per step")
      ->check(edgessd::cli::whole_number(1))->capture_default_str();
  cmd->add_option("--epochs,--num-epochs,--num_epochs", o->epochs, "Epochs")->check(edgessd::cli::whole_number(1))->capture_default_str();
  cmd->add_option("--workers,--num-workers,--num_workers", o->workers, "Loader threads (0: load on the training thread)")
      ->check(edgessd::cli::whole_number(0))->capture_default_str();
  cmd->add_option("--validation-epochs,--validation_epochs", o->validation_epochs, "Validate every N epochs")
      ->check(edgessd::cli::whole_number(1))->capture_default_str();
  cmd->add_option("--debug-steps,--debug_steps", o->debug_steps, "Log every N steps (when not on a terminal; 0: never)")
      ->check(edgessd::cli::whole_number(0))->capture_default_str();
  edgessd::cli::add_boolean_option(*cmd, "--use-cuda,--use_cuda", *use_cuda, "Use CUDA when LibTorch has it (true/false)");
  cmd->add_option("--model-dir,--checkpoint-folder,--checkpoint_folder", o->model_dir, "Output folder")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of shuffling and augmentation")
      ->check(edgessd::cli::whole_number(0))->capture_default_str();
  cmd->add_option("--precision", o->precision, "auto, fp32 or bf16 (CPU autocast where the CPU has bf16)")
      ->check(CLI::IsMember({"auto", "fp32", "bf16"}))
      ->capture_default_str();
  edgessd::cli::add_threads_flag(*cmd, o->threads, "LibTorch threads");
  add_stability_options(cmd, *o);
  add_distributed_options(cmd, *o, *launch);
  cmd->callback([=] {
    o->dataset_type = edgessd::parse_dataset_type(*dataset_type);
    check_train_paths(*o);
    o->base_net_lr = *base_net_lr;
    if (extra->count()) o->extra_layers_lr = *extra_layers_lr;
    if (width->count()) o->width_mult = *width_mult;
    o->use_cuda = edgessd::cli::truthy(*use_cuda);
    check_launcher_flags(*cmd, *launch);
    if (cmd->count("--nproc-per-node") && !edgessd::launched_as_rank()) {
      edgessd::launch_ranks(*launch);
      return;
    }
    edgessd::TrainResult result = edgessd::train(*o);
    if (!result.last_checkpoint.empty()) edgessd::log_info("Last checkpoint: " + result.last_checkpoint);
  });
}
