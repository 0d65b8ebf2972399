#!/usr/bin/env bash
# Two builds of edgessd-bench (before and after a change) on the same models, interleaved:
# ROUNDS rounds, each running every (model, engine) on both programs back to back, so a
# slower stretch of the machine hits both alike. Prints each pair's median of the runs'
# median_ms and the ratio after/before (1.00 = unchanged).
#   bench/before_after.sh OLD/edgessd-bench NEW/edgessd-bench MODEL.onnx [MODEL.onnx ...]
#   ROUNDS=5 RUNS=50 THREADS=2 ENGINES="onednn opencv"
# Benchmark on a quiet machine: a second process beside it halves the figures.
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,7p' "$0"; exit 2; }
old=$1 new=$2
shift 2
ROUNDS=${ROUNDS:-5} RUNS=${RUNS:-50} THREADS=${THREADS:-2} ENGINES=${ENGINES:-onednn opencv}
for program in "$old" "$new"; do [ -x "$program" ] || { echo "before_after.sh: $program: not a program" >&2; exit 2; }; done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

median_ms() {  # program model engine -> its median_ms
  "$1" --model "$2" --engine "$3" --threads "$THREADS" --runs "$RUNS" 2>/dev/null |
    sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p'
}

for ((round = 1; round <= ROUNDS; ++round)); do
  for model in "$@"; do
    for engine in $ENGINES; do
      key=$(basename "$model" .onnx)-$engine
      median_ms "$old" "$model" "$engine" >>"$work/$key.old"
      median_ms "$new" "$model" "$engine" >>"$work/$key.new"
    done
  done
done

middle() { sort -g "$1" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
printf '%-28s %12s %12s %8s   (%d rounds x %d runs, %d threads)\n' "model-engine" "before ms" "after ms" "ratio" \
  "$ROUNDS" "$RUNS" "$THREADS"
for file in "$work"/*.old; do
  key=$(basename "$file" .old)
  before=$(middle "$file") after=$(middle "$work/$key.new")
  printf '%-28s %12.3f %12.3f %8.3f\n' "$key" "$before" "$after" "$(awk -v a="$after" -v b="$before" 'BEGIN {print a / b}')"
done
