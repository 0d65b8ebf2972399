#!/usr/bin/env bash
# What the small-object default costs at inference: ms per frame (batch 1, fixed input, 2
# threads unless THREADS is set) of a model against pytorch-ssd's default network (ref-trained,
# mb1-ssd-relu6 at 300x300), oneDNN fp32 and int8 and ONNX Runtime on each; ROUNDS (3)
# interleaved rounds of RUNS (30) runs, lowest min and median of the medians.
# usage: bench/small_object_speed.sh MODEL.pth [CALIBRATION_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
CLI=${CLI:-build/edgessd}
MODEL=$1
CALIBRATION=${2:-$SHARED/datasets/plates-us/train}
THREADS=${THREADS:-2}
RUNS=${RUNS:-30}
ROUNDS=${ROUNDS:-3}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

$CLI export --input "$MODEL" --output "$WORK/new.onnx" 2>/dev/null
$CLI export --input "$SHARED/fixtures/pytorch-ssd/ref-trained.pth" --net mb1-ssd-relu6 \
  --labels "$SHARED/fixtures/pytorch-ssd/ref-trained-labels.txt" --output "$WORK/ref.onnx" 2>/dev/null
for m in new ref; do
  $CLI quantize --model "$WORK/$m.onnx" --calibration "$CALIBRATION" --output "$WORK/$m-int8.onnx" 2>/dev/null
done
size() { $CLI bench --model "$1" --engine onednn --threads 1 --runs 1 2>/dev/null | sed -n 's/.*: \([0-9]*\)x\([0-9]*\) input.*/\2 \1/p'; }

declare -A MIN MEDS
run() {  # name command...
  local name=$1 line; shift
  line=$("$@" 2>/dev/null | tail -1)
  local min=${line#*min_ms=}; min=${min%% *}
  local med=${line#*median_ms=}
  if [ -z "${MIN[$name]:-}" ] || awk "BEGIN{exit !($min < ${MIN[$name]})}"; then MIN[$name]=$min; fi
  MEDS[$name]="${MEDS[$name]:-} $med"
}
read -r NEW_H NEW_W <<<"$(size "$WORK/new.onnx")"
for ((r = 0; r < ROUNDS; ++r)); do
  for m in new ref; do
    run "$m onednn fp32" $CLI bench --model "$WORK/$m.onnx" --engine onednn --threads "$THREADS" --runs "$RUNS"
    run "$m onednn int8" $CLI bench --model "$WORK/$m-int8.onnx" --engine onednn --threads "$THREADS" --runs "$RUNS"
  done
  run "new onnxruntime fp32" node bench/ort_bench.js "$WORK/new.onnx" "$THREADS" "$RUNS" "$NEW_H" "$NEW_W"
  run "ref onnxruntime fp32" node bench/ort_bench.js "$WORK/ref.onnx" "$THREADS" "$RUNS"
done
echo "model: $MODEL (${NEW_W}x${NEW_H}); reference: ref-trained mb1-ssd-relu6 300x300; $THREADS threads"
for name in "new onednn fp32" "new onednn int8" "new onnxruntime fp32" "ref onednn fp32" "ref onednn int8" "ref onnxruntime fp32"; do
  med=$(tr ' ' '\n' <<<"${MEDS[$name]}" | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  printf '%-22s min %7.2f ms  median %7.2f ms\n' "$name" "${MIN[$name]}" "$med"
done
awk -v a="${MIN[ref onnxruntime fp32]}" -v b="${MIN[new onednn fp32]}" -v c="${MIN[new onednn int8]}" \
  'BEGIN { printf "ONNX Runtime on pytorch-ssd'"'"'s default / ours on the new model: fp32 %.2f, int8 %.2f\n", a / b, a / c }'
