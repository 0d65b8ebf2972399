#!/usr/bin/env bash
# Installs the build into a temporary prefix and uses it as a user would: the programs
# (--version, man pages), find_package(edgessd) from a consumer project that detects plates
# in one image with a model the installed `edgessd export` wrote, and the pkg-config file
# (the same consumer compiled with its flags).   usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 source=$2
shared=$source/../shared
ref=$shared/fixtures/pytorch-ssd/ref-trained.pth
image=$(ls "$shared"/datasets/plates-us/test/*.jpg 2>/dev/null | head -n 1 || true)
if [ ! -f "$ref" ] || [ -z "$image" ]; then
  echo "SKIP: needs ../shared (fixtures/pytorch-ssd and datasets/plates-us)"; exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log"
version=$(sed -n 's/^#define EDGESSD_VERSION "\(.*\)"/\1/p' "$prefix/include/edgessd/common/version.h")
[ -n "$version" ] || { echo "FAIL: no version.h installed"; exit 1; }
"$prefix/bin/edgessd-detect" --version | grep -qx "edgessd-detect $version" || { echo "FAIL: edgessd-detect --version"; exit 1; }
"$prefix/bin/edgessd" --version | grep -qx "edgessd $version" || { echo "FAIL: edgessd --version"; exit 1; }
"$prefix/bin/edgessd-bench" --version | grep -qx "edgessd-bench $version" || { echo "FAIL: edgessd-bench --version"; exit 1; }
for f in share/man/man1/edgessd.1.gz share/man/man1/edgessd-detect.1.gz share/man/man1/edgessd-bench.1.gz share/doc/edgessd/LICENSE \
         share/bash-completion/completions/edgessd lib/pkgconfig/edgessd.pc lib/cmake/edgessd/edgessdConfig.cmake \
         share/edgessd/face-api/model/ssd_mobilenetv1_model.bin; do
  [ -s "$prefix/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
zcat "$prefix/share/man/man1/edgessd-detect.1.gz" | grep -q 'output\\-cvg' || { echo "FAIL: man page lacks --help's flags"; exit 1; }

"$prefix/bin/edgessd" export --input "$ref" --net mb1-ssd-relu6 \
  --labels "$shared/fixtures/pytorch-ssd/ref-trained-labels.txt" --output "$work/plates.onnx" >"$work/export.log" 2>&1
cmake -S "$source/tests/install/consumer" -B "$work/consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" >"$work/consumer.log" 2>&1 || { cat "$work/consumer.log"; exit 1; }
cmake --build "$work/consumer" >>"$work/consumer.log" 2>&1 || { cat "$work/consumer.log"; exit 1; }
"$work/consumer/consumer" "$work/plates.onnx" "$image" | tee "$work/found.txt"
grep -q "^engine onednn$" "$work/found.txt" || { echo "FAIL: consumer did not run"; exit 1; }
grep -q "^Vehicle registration plate " "$work/found.txt" || { echo "FAIL: consumer found no plate"; exit 1; }

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
[ "$(pkg-config --modversion edgessd)" = "$version" ] || { echo "FAIL: pkg-config --modversion"; exit 1; }
# shellcheck disable=SC2046
c++ -std=c++17 -O1 "$source/tests/install/consumer/main.cpp" -o "$work/consumer-pc" $(pkg-config --cflags --libs edgessd)
"$work/consumer-pc" "$work/plates.onnx" "$image" | diff - "$work/found.txt"
echo "PASS: installed into a prefix; find_package and pkg-config consumers found the same plates"
