#!/usr/bin/env bash
# Installs everything edgessd needs to build and test on Debian 12, then builds: every
# target, or only the targets given (scripts/demo.sh builds the edgessd program alone, not
# the test binaries). Safe to rerun: apt-get and npm ci skip what is already there, the
# build is incremental.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  file help2man           # CPack's .deb (dpkg-shlibdeps needs file) and man pages from --help
  libtorch-dev            # the network, autograd and training (LibTorch 1.13)
  libgloo-dev             # gloo's headers, which c10d's ProcessGroupGloo needs: data-parallel training
  libopencv-dev           # image decoding, augmentation, video I/O, OpenCV DNN runtime
  libonnx-dev libprotobuf-dev protobuf-compiler  # writing and checking ONNX models
  libcurl4-openssl-dev    # parallel HTTP for the Open Images downloader
  libfreetype-dev         # TrueType glyphs for the plate reader's synthetic plates
  fonts-liberation fonts-urw-base35 fonts-roboto-unhinted fonts-dejavu-core fonts-dejavu-extra fonts-b612
                          # the narrow and DIN-like faces those plates are drawn in
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly
  gstreamer1.0-libav      # rtp:// streams through OpenCV's GStreamer backend (x264enc, avdec_h264)
  gstreamer1.0-tools      # test-only: gst-launch-1.0 receives detect's RTP stream
  libdnnl-dev             # oneDNN: the fast CPU inference engine (fp32 and int8)
  ocl-icd-opencl-dev      # dnnl-config.cmake asks for OpenCL; libdnnl-dev only recommends it
  libxnnpack-dev libpthreadpool-dev  # XNNPACK, only for the bench that measured it against oneDNN
  zlib1g-dev              # CRC-32 check of checkpoint archive members
  libcli11-dev            # the command line
  libtinyxml2-dev         # Pascal VOC annotation XML
  nlohmann-json3-dev      # model JSON, fixtures, --json output
  libgtest-dev libgmock-dev  # unit tests under CTest
  python3-torch python3-numpy  # test-only: Python's torch.load reads our .pth files back
  clang libclang-rt-14-dev  # libFuzzer for the checkpoint-reader fuzz target
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js/npm fetch the pinned face-api weights (offline base model); the machine image may
# already carry a newer Node.js than Debian's, so only install Debian's when none is there.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Pinned npm packages: face-api weights (offline base model) and onnxruntime-node (ONNX
# Runtime with its native library; the tests run our exported models through it).
if [ ! -f node_modules/@vladmandic/face-api/model/ssd_mobilenetv1_model.bin ] ||
   [ ! -f node_modules/onnxruntime-node/package.json ]; then
  npm ci --no-audit --no-fund --ignore-scripts
fi

BUILD_TYPE=${BUILD_TYPE:-Release}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" \
  -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
if [ $# -gt 0 ]; then
  cmake --build build -j"$(nproc)" --target "$@"
else
  cmake --build build -j"$(nproc)"
fi
