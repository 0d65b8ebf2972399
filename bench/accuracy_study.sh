#!/usr/bin/env bash
# Small objects and nets, measured: each configuration (input size, priors, head, net)
# trained SEEDS times for EPOCHS epochs from the face-api base (its base net only for
# mb1-ssd-lite; from scratch for the nets without an offline start), scored on the data
# set's test split: mAP (mean, min, max over the seeds), AP by object size, recall, the
# training boxes' best possible recall, training images/s, and the cross-domain set's mAP
# (CROSS, never trained on) with its AP by size; then, on a quiet machine, the network's ms per frame at 2
# threads (oneDNN engine, fp32, min over RUNS runs) of each configuration's first seed.
#
# usage: bench/accuracy_study.sh [CONFIG ...]     (default: all of them, in this order)
#   CONFIG is a name below, or NAME='flags' for one of your own.
# env: CLI (build/edgessd), DATA (plates-us), CROSS (plates-eu; skipped when absent),
#      BASE (face-api base .pth; made when absent),
#      OUT (study), SEEDS ("1 2 3"), EPOCHS (30), PARALLEL (2 runs side by side, 1 thread
#      each: the images/s column is then per thread), RUNS (30)
# Each run's logs, checkpoints and eval stay under OUT/NAME/seedS; a run already scored
# there is not repeated, and one whose training finished is only scored, so the study can
# be stopped and continued.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
CLI=${CLI:-build/edgessd}
DATA=${DATA:-$SHARED/datasets/plates-us}
CROSS=${CROSS:-$SHARED/datasets/plates-eu}
OUT=${OUT:-study}
BASE=${BASE:-$OUT/base.pth}
SEEDS=${SEEDS:-1 2 3}
EPOCHS=${EPOCHS:-30}
PARALLEL=${PARALLEL:-2}
RUNS=${RUNS:-30}

declare -A FLAGS=(
  [300-ssd]="--net mb1-ssd-relu6 --resolution 300 --priors ssd"
  [300-auto]="--net mb1-ssd-relu6 --resolution 300 --priors auto"
  [300-auto-ema]="--net mb1-ssd-relu6 --resolution 300 --priors auto --ema 0.99"
  [300-s8]="--net mb1-ssd-relu6-s8 --resolution 300 --priors auto"
  [384-auto]="--net mb1-ssd-relu6 --resolution 384 --priors auto"
  [384-s8]="--net mb1-ssd-relu6-s8 --resolution 384 --priors auto"
  [384-s8-ema]="--net mb1-ssd-relu6-s8 --resolution 384 --priors auto --ema 0.99"
  [512-auto]="--net mb1-ssd-relu6 --resolution 512 --priors auto"
  [default]=""
  [default-ema]="--ema 0.99"
  [before-29]="--priors auto-stored --stretch 1 --zoom-in 0"  # issue 14's defaults, before issue 29
  [300-ssd-before-29]="--net mb1-ssd-relu6 --resolution 300 --priors ssd --stretch 1 --zoom-in 0"  # pytorch-ssd's
  [mb1-ssd-lite]="--net mb1-ssd-lite"
  [mb2-ssd-lite]="--net mb2-ssd-lite"
  [mb1-ssd-lite-s8]="--net mb1-ssd-lite-s8"
  [mb2-ssd-lite-s8]="--net mb2-ssd-lite-s8"
  [vgg16-ssd]="--net vgg16-ssd"
  [vgg16-ssd-300]="--net vgg16-ssd --resolution 300"  # pytorch-ssd's size for it
)
# Where a configuration starts: the face-api SSD (all but the heads), else as named here.
declare -A START=(
  [mb1-ssd-lite]="--base-net"  # the same MobileNetV1 base; its extras and heads differ
  [mb1-ssd-lite-s8]="--base-net"
  [mb2-ssd-lite]="scratch"
  [mb2-ssd-lite-s8]="scratch"
  [vgg16-ssd]="scratch"
  [vgg16-ssd-300]="scratch"
)
ORDER=(300-ssd 300-auto 300-s8 384-auto 384-s8 512-auto default)
if [ $# -gt 0 ]; then
  ORDER=()
  for c in "$@"; do
    if [[ $c == *=* ]]; then FLAGS[${c%%=*}]=${c#*=}; c=${c%%=*}; fi
    [ -n "${FLAGS[$c]+x}" ] || { echo "accuracy_study: unknown configuration '$c'" >&2; exit 2; }
    ORDER+=("$c")
  done
fi

mkdir -p "$OUT"
if [ ! -f "$BASE" ]; then
  $CLI convert --from face-api --calibration "$DATA/train" --reestimate-bn folded --output "$BASE" 2>"$OUT/base.log"
fi

# The checkpoint a user would ship: best.pth (best validation mAP) when the run wrote one,
# else the last epoch's.
checkpoint_of() {
  if [ -f "$1/best.pth" ]; then echo "$1/best.pth"; return; fi
  ls "$1"/*-Epoch-*.pth | sed 's/.*-Epoch-\([0-9]*\)-.*/\1 &/' | sort -n | tail -1 | cut -d' ' -f2
}

# One run: train, evaluate, and one line of results in $dir/result.
run_one() {
  local name=$1 seed=$2 dir="$OUT/$1/seed$2"
  [ -f "$dir/result" ] && return 0
  mkdir -p "$dir"
  local start=(--pretrained-ssd "$BASE")
  case "${START[$name]:-}" in
    scratch) start=() ;;
    --base-net) start=(--base-net "$BASE") ;;
  esac
  # A run whose training finished (its last epoch in metrics.csv) is only scored again.
  local last
  last=$( (tail -n 1 "$dir/metrics.csv" 2>/dev/null || true) | cut -d, -f1)
  # shellcheck disable=SC2086
  if [ "$last" != "$((EPOCHS - 1))" ] && ! $CLI train --data "$DATA" "${start[@]}" ${FLAGS[$name]} --seed "$seed" \
      --threads 1 --epochs "$EPOCHS" --model-dir "$dir" >"$dir/train.log" 2>&1; then
    echo "$name seed $seed: training failed, see $dir/train.log" >&2
    return 1
  fi
  $CLI eval --dataset "$DATA" --trained-model "$(checkpoint_of "$dir")" --eval-dir "$dir/eval" >"$dir/eval.txt" 2>/dev/null
  local map bpr ips small medium large recall cross=- cross_sizes="- - -"
  map=$(sed -n 's/^Average Precision Across All Classes:\(.*\)/\1/p' "$dir/eval.txt")
  if [ -d "$CROSS" ]; then
    $CLI eval --dataset "$CROSS" --trained-model "$(checkpoint_of "$dir")" --eval-dir "$dir/eval-cross" >"$dir/eval-cross.txt" 2>/dev/null
    cross=$(sed -n 's/^Average Precision Across All Classes:\(.*\)/\1/p' "$dir/eval-cross.txt")
    cross_sizes=$(for size in small medium large; do
                    v=$(sed -n "s/^$size ([0-9]* objects): \(.*\)/\1/p" "$dir/eval-cross.txt"); echo "${v:--}"
                  done | tr '\n' ' ')
  fi
  small=$(sed -n 's/^small ([0-9]* objects): \(.*\)/\1/p' "$dir/eval.txt")
  medium=$(sed -n 's/^medium ([0-9]* objects): \(.*\)/\1/p' "$dir/eval.txt")
  large=$(sed -n 's/^large ([0-9]* objects): \(.*\)/\1/p' "$dir/eval.txt")
  recall=$(sed -n 's/^Recall at IoU 0.5 (every detection): \(.*\)/\1/p' "$dir/eval.txt")
  bpr=$(sed -n 's/.*Priors vs training boxes: .*best possible recall \([0-9.]*\).*/\1/p' "$dir/train.log" | head -1)
  ips=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i == "images_per_second") c = i; next }
                 NR > 2 { s += $c; n++ } END { if (n) printf "%.1f", s / n; else print "-" }' "$dir/metrics.csv")
  echo "$name $seed $map $small $medium $large $recall $bpr $ips $cross $cross_sizes" >"$dir/result"
  echo "$name seed $seed: mAP $map (small $small, medium $medium, large $large), recall $recall, BPR $bpr, $ips images/s, cross-domain mAP $cross (small, medium, large: $cross_sizes)" >&2
}

for name in "${ORDER[@]}"; do
  for seed in $SEEDS; do
    while [ "$(jobs -rp | wc -l)" -ge "$PARALLEL" ]; do wait -n || true; done
    run_one "$name" "$seed" &
  done
done
wait

# Inference speed, one configuration at a time, nothing else running.
for name in "${ORDER[@]}"; do
  dir="$OUT/$name/seed${SEEDS%% *}"
  [ -f "$dir/result" ] || continue
  if [ ! -f "$dir/speed" ]; then
    if ! $CLI export --input "$(checkpoint_of "$dir")" --output "$dir/model.onnx" 2>"$dir/export.log"; then
      echo "$name: export failed, see $dir/export.log; no speed figure" >&2
      continue
    fi
    $CLI bench --model "$dir/model.onnx" --engine onednn --threads 2 --runs "$RUNS" 2>/dev/null | tail -1 |
      sed -n 's/.*min_ms=\([0-9.]*\).*/\1/p' >"$dir/speed"
  fi
done

printf '\n| configuration | flags | mAP mean (min-max), %s seeds | AP small / medium / large | recall | best possible recall | train images/s | ms/frame, 2 threads | cross-domain mAP mean (min-max) | cross-domain AP small / medium / large |\n' "$(wc -w <<<"$SEEDS")"
printf '|---|---|---|---|---|---|---|---|---|---|\n'
for name in "${ORDER[@]}"; do
  cat "$OUT/$name"/seed*/result 2>/dev/null | awk -v name="$name" -v flags="${FLAGS[$name]:-(defaults)}" \
      -v speed="$(cat "$OUT/$name/seed${SEEDS%% *}/speed" 2>/dev/null || echo -)" '
    function avg(col,   s, k, i) { s = 0; k = 0; for (i = 1; i <= n; ++i) if (v[i, col] != "-") { s += v[i, col]; k++ }
                                    return k ? sprintf("%.3f", s / k) : "-" }
    { n++; for (i = 3; i <= 13; ++i) v[n, i] = ($i == "" ? "-" : $i)
      if (n == 1 || $3 < lo) lo = $3; if (n == 1 || $3 > hi) hi = $3
      if ($10 != "-" && $10 != "") { if (!c || $10 < clo) clo = $10; if (!c || $10 > chi) chi = $10; c++ } }
    END { if (!n) exit
          printf "| %s | `%s` | %s (%.3f-%.3f) | %s / %s / %s | %s | %s | %s | %s | %s | %s / %s / %s |\n", name,
                 flags == "" ? "(defaults)" : flags, avg(3), lo, hi, avg(4), avg(5), avg(6), avg(7), avg(8), avg(9), speed,
                 c ? sprintf("%s (%.3f-%.3f)", avg(10), clo, chi) : "-", avg(11), avg(12), avg(13) }'
done
