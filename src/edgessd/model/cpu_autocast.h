// CPU bf16 autocast switches across LibTorch versions: Debian's 1.13 has the per-device
// functions (set_cpu_enabled ...), which 2.4 deprecated for the device-generic ones. A
// CUDA build against a newer LibTorch (the one inside PyTorch) compiles this too.
#pragma once
#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace edgessd {

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
inline bool cpu_autocast_enabled() { return at::autocast::is_autocast_enabled(at::kCPU); }
inline void set_cpu_autocast(bool on) {
  if (on) at::autocast::set_autocast_dtype(at::kCPU, at::kBFloat16);
  at::autocast::set_autocast_enabled(at::kCPU, on);
}
#else
inline bool cpu_autocast_enabled() { return at::autocast::is_cpu_enabled(); }
inline void set_cpu_autocast(bool on) {
  if (on) at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  at::autocast::set_cpu_enabled(on);
}
#endif

}  // namespace edgessd
