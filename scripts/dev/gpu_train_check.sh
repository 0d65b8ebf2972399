#!/bin/bash
# The GPU check of issue 3: build edgessd-train against the CUDA LibTorch inside an
# installed PyTorch (found through torch.utils.cmake_prefix_path), import the face-api base,
# train a few epochs on plates-us and print the images/s of each epoch.
#
# For a machine with PyTorch but without Debian's -dev packages, EDGESSD_PREFIX names a
# prefix holding what the trainer needs besides LibTorch: OpenCV (core, imgproc, imgcodecs;
# static), CLI11, nlohmann-json, tinyxml2 and zlib: scripts/dev/make_trainer_prefix.sh makes it.
# Arguments: DATA FACE_API_DIR OUT_DIR; EDGESSD_BUILD_ONLY=1 stops after the build.
set -euo pipefail
data=${1:?data folder (Open Images layout)}
face_api=${2:?folder with ssd_mobilenetv1_model-weights_manifest.json}
out=${3:-/tmp/gpu-check}
prefix=${EDGESSD_PREFIX:-}
mkdir -p "$out"
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
torch_lib=$(python3 -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available() and torch.cuda.get_device_name(0))'
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
extra=()
if [ -n "$prefix" ]; then
  extra+=(-DZLIB_ROOT="$prefix" -Dtinyxml2_DIR="$prefix/lib/x86_64-linux-gnu/cmake/tinyxml2")
  export LD_LIBRARY_PATH="$prefix/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
fi
export LD_LIBRARY_PATH="$torch_lib:${LD_LIBRARY_PATH:-}"
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DEDGESSD_TRAINER_ONLY=ON \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$prefix" "${extra[@]}" > "$out/cmake.log" 2>&1 ||
  { tail -n 40 "$out/cmake.log"; exit 1; }
time cmake --build build-gpu -j"$(nproc)" > "$out/build.log" 2>&1 || { grep -m 20 -B2 -A6 "error" "$out/build.log"; exit 1; }
bin=build-gpu/edgessd-train
ldd "$bin" | grep -E "torch_cuda|opencv|tinyxml" || true
[ -n "${EDGESSD_BUILD_ONLY:-}" ] && exit 0
$bin convert --from face-api --input "$face_api" --calibration "$data/train" --reestimate-bn folded \
  --output "$out/base.pth" 2>&1 | tail -n 3
for workers in 2 8; do
  echo "== train, --workers $workers"
  $bin train --data "$data" --pretrained-ssd "$out/base.pth" --net mb1-ssd-relu6 --epochs 6 \
    --workers "$workers" --model-dir "$out/models-w$workers" 2>&1 | tee "$out/train-w$workers.log" |
    grep -E "Using|Precision|Training Loss|Validation Loss"
done
