#!/usr/bin/env bash
# The arm64 build's work per frame, counted: guest instructions per forward pass of each
# engine under qemu (bench/qemu_insn_count.c, a TCG plugin), the x86 build's under
# qemu-x86_64 the same way (TCG has no AVX-512, so x86 runs its AVX2 code here), XNNPACK on
# the same convolutions, and the model's multiply-adds. A forward's count is the
# difference of `edgessd-bench --runs 3` and `--runs 1` (the same load and warm-up), / 2.
# One engine thread: the plugin's count is exact for one guest thread.
#
#   [ENGINES="onednn opencv"] [XNNPACK=1] bench/arm64_cost.sh [MODEL.onnx ...]
#   (default: scripts/arm64.sh test's detector and its int8; an int8 model runs on onednn alone)
#
# Needs scripts/arm64.sh (sysroot, build, test) and the x86 build; installs qemu-user
# (the plugin-capable, non-static qemu) if missing. Instruction counts do not depend on
# what else the machine runs. README's cost model turns them and the multiply-adds into
# predicted frame rates on Raspberry Pi 4/5 and Jetson Nano.
set -euo pipefail
cd "$(dirname "$0")/.."
WORKDIR=${WORKDIR:-/var/tmp/edgessd-arm64}
SYSROOT=$WORKDIR/sysroot
MODELS=("$@")
[ ${#MODELS[@]} -gt 0 ] || MODELS=("$WORKDIR/parity/detector.onnx" "$WORKDIR/parity/detector-int8.onnx")
for m in "${MODELS[@]}"; do [ -f "$m" ] || { echo "arm64_cost.sh: error: $m: no such model (run scripts/arm64.sh test first)" >&2; exit 1; }; done
[ -x build-arm64/edgessd-bench ] || { echo "arm64_cost.sh: error: no build-arm64/edgessd-bench (scripts/arm64.sh build)" >&2; exit 1; }
[ -x build/edgessd-bench ] || { echo "arm64_cost.sh: error: no build/edgessd-bench (scripts/setup.sh)" >&2; exit 1; }
command -v qemu-aarch64 >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user >/dev/null
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
gcc -O2 -shared -fPIC bench/qemu_insn_count.c -o "$WORK/insn.so"

count() {  # count EMULATOR... PROGRAM ARGS...: instructions the program executed
  "$@" 2>&1 >/dev/null | sed -n 's/^qemu-insn-count: //p'
}
per_run() {  # per_run EMULATOR_AND_PROGRAM_AND_FLAGS...: instructions of one more --runs
  local one three
  one=$(count "$@" --runs 1)
  three=$(count "$@" --runs 3)
  [ -n "$one" ] && [ -n "$three" ] || { echo "arm64_cost.sh: error: no count from: $*" >&2; exit 1; }
  echo $(((three - one) / 2))
}
# A board's core, not qemu's default "max" (whose SVE oneDNN would use: no board has it).
arm=(qemu-aarch64 -cpu "${QEMU_CPU:-cortex-a72}" -L "$SYSROOT" -plugin "$WORK/insn.so")
x86=(env -u QEMU_CPU qemu-x86_64 -plugin "$WORK/insn.so")
giga() { awk -v n="$1" 'BEGIN { printf "%.2f", n / 1e9 }'; }

printf '%-34s %-12s %12s %12s %10s\n' model engine "arm64 G/run" "x86 G/run" "insn/MAC"
for model in "${MODELS[@]}"; do
  # One native run gives both: the multiply-adds (first line) and whether oneDNN runs it in int8 (last).
  native=$(build/edgessd-bench --model "$model" --engine onednn --threads 1 --runs 1)
  macs=$(sed -n 's/.*, \([0-9.]*\) G multiply-adds/\1/p' <<<"$native")
  read -r -a engines <<<"${ENGINES:-onednn opencv}"
  int8=0
  grep -q "engine=onednn-int8" <<<"$native" && int8=1 && engines=(onednn)
  for engine in "${engines[@]}"; do
    flags=(--model "$model" --engine "$engine" --threads 1)
    a=$(per_run "${arm[@]}" build-arm64/edgessd-bench "${flags[@]}")
    x=$(per_run "${x86[@]}" build/edgessd-bench "${flags[@]}")
    name=$engine; [ "$int8" = 1 ] && name=onednn-int8
    printf '%-34s %-12s %12s %12s %10s\n' "$(basename "$model") (${macs} G MAC)" "$name" "$(giga "$a")" "$(giga "$x")" \
      "$(awk -v a="$a" -v m="$macs" 'BEGIN { printf "%.2f", a / (m * 1e9) }')"
  done
done
# XNNPACK (Debian's, TFLite's engine) on mb1-ssd 300's 47 convolutions, one thread.
if [ "${XNNPACK:-1}" = 1 ] && [ -x build-arm64/xnnpack_convs ]; then
  one=$(count "${arm[@]}" build-arm64/xnnpack_convs 1 1)
  three=$(count "${arm[@]}" build-arm64/xnnpack_convs 1 3)
  a=$(((three - one) / 2))
  printf '%-34s %-12s %12s %12s\n' "mb1-ssd 300 convolutions only" xnnpack "$(giga "$a")" "-"
fi
