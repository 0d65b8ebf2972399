#!/usr/bin/env bash
# Fuzzes the untrusted-input readers with libFuzzer (clang, ASan + UBSan), SECONDS each
# (default 300): the .pth reader (checkpoints and optimizer state), ONNX model loading
# through both engines, the CSV readers (data set CSVs, the downloader's streaming filter,
# class descriptions), VOC XML annotations and the plate reader's text (its JSON, PlateText
# through the scores and --json, --plate-pattern). Crashes are written to fuzz/crashes/; add
# each (after fixing it) to the target's seed corpus (fuzz/corpus*/).
#   scripts/fuzz.sh [SECONDS] [checkpoint|onnx|csv|voc|reader ...]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-300}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(checkpoint onnx csv voc reader)
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DEDGESSD_FUZZ=ON -DEDGESSD_BUILD_TESTS=OFF >/dev/null
mkdir -p fuzz/crashes
for target in "${TARGETS[@]}"; do
  case "$target" in
    checkpoint) binary=fuzz_checkpoint_reader; seeds=fuzz/corpus; max_len=65536 ;;
    onnx) binary=fuzz_onnx_model; seeds=fuzz/corpus-onnx; max_len=262144 ;;
    csv) binary=fuzz_csv_dataset; seeds=fuzz/corpus-csv; max_len=16384 ;;
    voc) binary=fuzz_voc_annotation; seeds=fuzz/corpus-voc; max_len=16384 ;;
    reader) binary=fuzz_reader_text; seeds=fuzz/corpus-reader; max_len=16384 ;;
    *) echo "fuzz.sh: error: unknown target $target (checkpoint, onnx, csv, voc, reader)" >&2; exit 1 ;;
  esac
  cmake --build build-fuzz --target "$binary" -j"$(nproc)"
  work=fuzz/corpus-work/$target
  mkdir -p "$work"
  cp -n "$seeds"/* "$work"/
  echo "== $binary for $SECONDS_TO_RUN s"
  # Leak detection stays on for our code (see fuzz/lsan.supp for the one LibTorch leak).
  ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=fuzz/lsan.supp "./build-fuzz/$binary" "$work" \
    -max_total_time="$SECONDS_TO_RUN" -max_len="$max_len" -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix=fuzz/crashes/ -print_final_stats=1
done
