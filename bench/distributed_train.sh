#!/usr/bin/env bash
# Data-parallel training on this machine: images/s end to end (loading, augmentation,
# forward, backward, all-reduce, step; validation excluded) of 1 rank x THREADS threads
# against N ranks x THREADS/N threads each (the launcher), same data, same global batch,
# interleaved ROUNDS times; then the gradient all-reduce alone (bench/allreduce_time).
#
# usage: bench/distributed_train.sh [DATA] [BASE.pth]
# env: CLI (build/edgessd), EPOCHS (2: the first is warm-up, the second measured),
#      ROUNDS (2), RANKS (2), THREADS (2), BATCH (4, global), PRECISION (auto)
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=${CLI:-build/edgessd}
DATA=${1:-../shared/datasets/plates-us}
EPOCHS=${EPOCHS:-2}; ROUNDS=${ROUNDS:-2}; RANKS=${RANKS:-2}; THREADS=${THREADS:-2}; BATCH=${BATCH:-4}
PRECISION=${PRECISION:-auto}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
BASE=${2:-$WORK/base.pth}
[ -f "$BASE" ] || $CLI convert --from face-api --calibration "$DATA/train" --output "$BASE" 2>/dev/null

# images/s of the last epoch in metrics.csv, and the all-reduce wait of its log line
last_epoch() {
  local ips wait
  ips=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i == "images_per_second") c = i; next } { v = $c } END { print v }' "$1/metrics.csv")
  wait=$(sed -n 's/.*gradient all-reduce wait \([0-9.]*\) ms\/step.*/\1/p' "$2" | tail -1)
  echo "$ips ${wait:--}"
}

COMMON=(train --data "$DATA" --pretrained-ssd "$BASE" --epochs "$EPOCHS" --precision "$PRECISION" --workers 1)
printf "%-28s %10s %22s\n" "configuration" "images/s" "all-reduce wait ms/step"
for round in $(seq "$ROUNDS"); do
  $CLI "${COMMON[@]}" --batch-size "$BATCH" --threads "$THREADS" --model-dir "$WORK/one" >"$WORK/one.log" 2>&1
  read -r ips wait < <(last_epoch "$WORK/one" "$WORK/one.log")
  printf "%-28s %10s %22s\n" "1 rank x $THREADS threads" "$ips" "$wait"
  one[$round]=$ips
  $CLI "${COMMON[@]}" --batch-size $((BATCH / RANKS)) --threads $((THREADS / RANKS)) --nproc-per-node "$RANKS" \
    --master-port $((20000 + $$ % 20000)) --model-dir "$WORK/many" >"$WORK/many.log" 2>&1
  read -r ips wait < <(last_epoch "$WORK/many" "$WORK/many.log")
  printf "%-28s %10s %22s\n" "$RANKS ranks x $((THREADS / RANKS)) thread(s)" "$ips" "$wait"
  many[$round]=$ips
done
awk -v a="${one[*]}" -v b="${many[*]}" 'BEGIN { n = split(a, x, " "); split(b, y, " ");
  for (i = 1; i <= n; ++i) { sa += x[i]; sb += y[i] } printf "ratio, ranks / one process: %.2f\n", sb / sa }'
build/bench/allreduce_time
