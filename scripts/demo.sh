#!/usr/bin/env bash
# The main job on its built-in default, offline (no network beyond the package registries).
# Today: sets up, builds, imports the pretrained SSD-MobileNet-v1 shipped in the pinned npm
# package @vladmandic/face-api as an mb1-ssd-relu6 base checkpoint (BatchNorm statistics
# re-estimated on the package's demo photos), and proves the checkpoint round-trips
# through PyTorch's own torch.load. Training, evaluation, export and detection join this
# script as they land (see README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
WORKDIR=${1:-demo}
mkdir -p "$WORKDIR"
BASE="$WORKDIR/mb1-ssd-relu6-face-api.pth"
build/edgessd convert --from face-api --output "$BASE"
build/edgessd convert --input "$BASE" --output "$WORKDIR/mb1-ssd-relu6-face-api-copy.pth"
/usr/bin/python3 tests/model/pth_tool.py compare "$BASE" "$WORKDIR/mb1-ssd-relu6-face-api-copy.pth"
echo "Base model: $BASE (model JSON: ${BASE%.pth}.json)"
