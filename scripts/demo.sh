#!/usr/bin/env bash
# The main job on its built-in default, offline (no network beyond the package registries):
# set up and build, then `edgessd demo`: a synthetic licence-plate data set, the
# pretrained SSD-MobileNet-v1 from the pinned npm package @vladmandic/face-api as the base
# model, re-training, evaluation (mAP), ONNX export, and the deploy runtime detecting
# plates on held-out images. Everything lands in the work dir (default: demo/), with
# report.md; a rerun reuses what is done. Extra arguments go to `edgessd demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh edgessd_cli  # the program the demo runs; the tests build with scripts/test.sh
build/edgessd demo "$@"
