#!/usr/bin/env bash
# Fuzzes the .pth reader with libFuzzer (clang, ASan + UBSan) for SECONDS (default 300).
# Crashes are written to fuzz/crashes/; add each (after fixing it) to fuzz/corpus/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-300}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DEDGESSD_FUZZ=ON -DEDGESSD_BUILD_TESTS=OFF >/dev/null
cmake --build build-fuzz --target fuzz_checkpoint_reader -j"$(nproc)"
mkdir -p fuzz/corpus-work fuzz/crashes
cp -n fuzz/corpus/* fuzz/corpus-work/
# Leak detection stays on for our code (see fuzz/lsan.supp for the one LibTorch leak).
ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=fuzz/lsan.supp ./build-fuzz/fuzz_checkpoint_reader fuzz/corpus-work \
  -max_total_time="$SECONDS_TO_RUN" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
  -artifact_prefix=fuzz/crashes/ -print_final_stats=1
