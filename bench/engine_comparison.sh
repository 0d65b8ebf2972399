#!/usr/bin/env bash
# Every engine and its peers on one network, same machine, same run: ms per frame (min and
# median over RUNS runs after 5 warm-up runs, batch 1, 300x300, fixed input) at 1 and 2
# threads, and each process's peak memory; then the ratios to ONNX Runtime fp32, and the
# int8 model's mAP next to fp32's on plates-us test.
# A shared machine's load comes and goes, so the engines take turns for ROUNDS rounds (3
# unless set): each figure is the lowest min and the median of the rounds' medians.
# usage: bench/engine_comparison.sh [CHECKPOINT.pth] [LABELS] [DATASET] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
PTH=${1:-$SHARED/fixtures/pytorch-ssd/ref-trained.pth}
LABELS=${2:-$SHARED/fixtures/pytorch-ssd/ref-trained-labels.txt}
DATA=${3:-$SHARED/datasets/plates-us}
RUNS=${4:-30}
ROUNDS=${ROUNDS:-3}
NET=${NET:-mb1-ssd-relu6}
CLI=${CLI:-build/edgessd}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

$CLI export --input "$PTH" --labels "$LABELS" --net "$NET" --output "$WORK/fp32.onnx" 2>/dev/null
$CLI quantize --model "$WORK/fp32.onnx" --calibration "$DATA/train" --output "$WORK/int8.onnx" 2>/dev/null

declare -A MIN MED RSS
run() {  # name threads command...
  local name=$1 threads=$2; shift 2
  local out line min med
  out=$("$@" 2>/dev/null)
  line=$(tail -1 <<<"$out")
  min=$(sed -E 's/.*min_ms=([0-9.]+).*/\1/' <<<"$line")
  med=$(sed -E 's/.*median_ms=([0-9.]+).*/\1/' <<<"$line")
  if [[ -z "${MIN[$name,$threads]:-}" ]] || awk -v a="$min" -v b="${MIN[$name,$threads]}" 'BEGIN { exit !(a < b) }'; then
    MIN[$name,$threads]=$min
  fi
  MED[$name,$threads]="${MED[$name,$threads]:-} $med"
  RSS[$name,$threads]=$(sed -nE 's/^peak_rss_mb=([0-9.]+).*/\1/p' <<<"$out")
}
median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
NAMES=("edgessd onednn fp32" "edgessd onednn int8" "OpenCV DNN 4.6" "ONNX Runtime 1.17" "LibTorch eager")
for t in 1 2; do
  for ((round = 0; round < ROUNDS; ++round)); do
    run "${NAMES[0]}" $t $CLI bench --model "$WORK/fp32.onnx" --engine onednn --threads $t --runs "$RUNS"
    run "${NAMES[1]}" $t $CLI bench --model "$WORK/int8.onnx" --engine onednn --threads $t --runs "$RUNS"
    run "${NAMES[2]}" $t $CLI bench --model "$WORK/fp32.onnx" --engine opencv --threads $t --runs "$RUNS"
    run "${NAMES[3]}" $t node bench/ort_bench.js "$WORK/fp32.onnx" $t "$RUNS"
    run "${NAMES[4]}" $t $CLI bench --model "$PTH" --engine libtorch --net "$NET" --threads $t --runs "$RUNS"
  done
  for n in "${NAMES[@]}"; do MED[$n,$t]=$(median "${MED[$n,$t]}"); done
done

printf '\n%-22s | %-24s | %-24s | %s\n' "engine" "1 thread: min / median" "2 threads: min / median" "peak RSS (2 thr)"
printf '%s\n' "-----------------------+--------------------------+--------------------------+----------------"
for n in "${NAMES[@]}"; do
  printf '%-22s | %8s / %8s ms      | %8s / %8s ms      | %s MB\n' "$n" "${MIN[$n,1]}" "${MED[$n,1]}" "${MIN[$n,2]}" "${MED[$n,2]}" "${RSS[$n,2]}"
done
ORT="ONNX Runtime 1.17"
echo
for n in "${NAMES[0]}" "${NAMES[1]}"; do
  for t in 1 2; do
    awk -v a="${MIN[$ORT,$t]}" -v b="${MIN[$n,$t]}" -v m="${MED[$ORT,$t]}" -v c="${MED[$n,$t]}" -v n="$n" -v t=$t \
      'BEGIN { printf "%s, %d thread(s): ORT time / ours = %.2f (min), %.2f (median)\n", n, t, a / b, m / c }'
  done
done
FP32=$($CLI eval --model "$WORK/fp32.onnx" --engine onednn --dataset "$DATA" --eval-dir "$WORK/e1" 2>/dev/null | sed -n 's/Average Precision Across All Classes://p')
INT8=$($CLI eval --model "$WORK/int8.onnx" --engine onednn --dataset "$DATA" --eval-dir "$WORK/e2" 2>/dev/null | sed -n 's/Average Precision Across All Classes://p')
awk -v f="$FP32" -v i="$INT8" 'BEGIN { printf "\nmAP on plates-us test: fp32 %.4f, int8 %.4f (change %+.4f; target: drop <= 0.01)\n", f, i, i - f }'
