#!/bin/sh
# README's Layout rules, checked on the includes of src/edgessd:
# - LibTorch (its headers, or a header of model/, train/, export/ or demo/) is included only
#   by files in those four folders, so that edgessd_core, edgessd_runtime, edgessd_deploy
#   and edgessd_download build and deploy without it;
# - the engine (runtime/) knows no task: it includes only common/ and itself;
# - plates/ sits on common/ alone; common/, plates/, data/ and eval/ include neither the
#   engine, the application (deploy/) nor the downloader;
# - model/ includes neither runtime/ nor deploy/ (ONNX files open in deploy/);
# - a folder's internal/ headers are included only from that folder.
# Prints each offending include and exits 1; exits 0 when there is none.
set -eu
cd "$(dirname "$0")/.."
status=0
# forbid FOLDER REGEX WHY: includes of edgessd/<REGEX>/ (or LibTorch's own) in FOLDER.
forbid() {
  hits=$(grep -rnE "#include *[<\"]($2)" "src/edgessd/$1" || true)
  if [ -n "$hits" ]; then
    echo "$hits" | sed "s|^|$1/ $3, but: |"
    status=1
  fi
}
for folder in common plates data eval download runtime deploy; do
  forbid $folder 'torch/|ATen/|c10/|edgessd/(model|train|export|demo)/' "is not LibTorch code"
done
forbid runtime 'edgessd/(plates|data|eval|download|deploy|model|train|export|demo)/' "is the task-free engine"
forbid plates 'edgessd/(data|eval|download|runtime|deploy)/' "sits on common/ alone"
for folder in common data eval; do
  forbid $folder 'edgessd/(runtime|deploy|download)/' "is below the engine, the application and the downloader"
done
forbid model 'edgessd/(runtime|deploy)/' "is the LibTorch network (ONNX opens in deploy/)"
# A folder's internal/ headers are its own: not installed, not included from elsewhere.
for dir in src/edgessd/*/; do
  folder=$(basename "$dir")
  for other in src/edgessd/*/; do
    [ "$other" = "$dir" ] && continue
    forbid "$(basename "$other")" "edgessd/$folder/internal/" "may not use $folder/'s internal headers"
  done
done
# Every folder of src/edgessd is one named in the rules (a new folder must choose a side).
for dir in src/edgessd/*/; do
  case "$(basename "$dir")" in
    common|plates|data|eval|download|runtime|deploy|model|train|export|demo) ;;
    *) echo "src/edgessd/$(basename "$dir")/: a folder the layout rules do not name"; status=1 ;;
  esac
done
exit $status
