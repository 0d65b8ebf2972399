#!/usr/bin/env bash
# Every net's network cost side by side: ms per frame (batch 1, fixed input, THREADS=2
# threads) of each model's ONNX export, oneDNN fp32, oneDNN int8 (calibrated on
# CALIBRATION) and ONNX Runtime fp32 on the same file; ROUNDS (3) interleaved rounds of RUNS
# (30) runs, the least min of each. Also the multiply-adds `edgessd bench` counts, and how
# many convolutions oneDNN runs in int8 (ONEDNN_VERBOSE).
# usage: bench/net_speed.sh MODEL.pth...      (each exported at its model JSON's size, or 300;
#        a checkpoint without a model JSON, pytorch-ssd's, takes its class names from LABELS)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
CLI=${CLI:-build/edgessd}
CALIBRATION=${CALIBRATION:-$SHARED/datasets/plates-us/train}
LABELS=${LABELS:-$SHARED/fixtures/pytorch-ssd/ref-trained-labels.txt}
THREADS=${THREADS:-2}
RUNS=${RUNS:-30}
ROUNDS=${ROUNDS:-3}
[ $# -gt 0 ] || { echo "usage: bench/net_speed.sh MODEL.pth..." >&2; exit 2; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

declare -A MIN NET SIZE MACS INT8
least() {  # key line-with-min_ms
  local min=${2#*min_ms=}; min=${min%% *}
  if [ -z "${MIN[$1]:-}" ] || awk "BEGIN{exit !($min < ${MIN[$1]})}"; then MIN[$1]=$min; fi
}
for ((i = 1; i <= $#; ++i)); do
  model=${!i}
  labels=()
  [ -f "${model%.pth}.json" ] || labels=(--labels "$LABELS")
  $CLI export --input "$model" "${labels[@]}" --output "$WORK/$i.onnx" 2>"$WORK/$i.export.log" ||
    { echo "net_speed: export of $model failed: $(tail -1 "$WORK/$i.export.log")" >&2; exit 1; }
  $CLI quantize --model "$WORK/$i.onnx" --calibration "$CALIBRATION" --output "$WORK/$i-int8.onnx" 2>/dev/null
  info=$($CLI bench --model "$WORK/$i.onnx" --engine onednn --threads 1 --runs 1 2>/dev/null)
  SIZE[$i]=$(sed -n 's/.*: \([0-9]*x[0-9]*\) input.*/\1/p' <<<"$info" | head -1)
  MACS[$i]=$(grep -o '[0-9.]* G multiply-adds' <<<"$info" | head -1 | cut -d' ' -f1)
  NET[$i]=$(sed -n 's/.*Exporting .* (\([a-z0-9-]*\), .*/\1/p' "$WORK/$i.export.log" | head -1)
  # One timed run after 5 warm-ups: each int8 convolution executes 6 times.
  execs=$(ONEDNN_VERBOSE=1 $CLI bench --model "$WORK/$i-int8.onnx" --engine onednn --threads 1 --runs 1 2>/dev/null |
    grep -c 'exec,cpu,convolution.*src_u8' || true)
  INT8[$i]=$((execs / 6))
done
for ((r = 0; r < ROUNDS; ++r)); do
  for ((i = 1; i <= $#; ++i)); do
    least "$i fp32" "$($CLI bench --model "$WORK/$i.onnx" --engine onednn --threads "$THREADS" --runs "$RUNS" 2>/dev/null | tail -1)"
    least "$i int8" "$($CLI bench --model "$WORK/$i-int8.onnx" --engine onednn --threads "$THREADS" --runs "$RUNS" 2>/dev/null | tail -1)"
    h=${SIZE[$i]#*x} w=${SIZE[$i]%x*}
    least "$i ort" "$(node bench/ort_bench.js "$WORK/$i.onnx" "$THREADS" "$RUNS" "$h" "$w" 2>/dev/null | tail -1)"
  done
done
printf '| model | net | input | multiply-adds (G) | oneDNN fp32 ms | oneDNN int8 ms (int8 convs) | ONNX Runtime fp32 ms | ORT / oneDNN fp32 | ORT / int8 |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for ((i = 1; i <= $#; ++i)); do
  awk -v m="${!i}" -v n="${NET[$i]:--}" -v s="${SIZE[$i]}" -v g="${MACS[$i]:--}" -v f="${MIN[$i fp32]}" \
      -v q="${MIN[$i int8]}" -v c="${INT8[$i]}" -v o="${MIN[$i ort]}" \
      'BEGIN { printf "| %s | %s | %s | %s | %.2f | %.2f (%s) | %.2f | %.2f | %.2f |\n", m, n, s, g, f, q, c, o, o / f, o / q }'
done
