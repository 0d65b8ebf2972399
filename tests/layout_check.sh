#!/bin/sh
# The library rule of README's Layout: LibTorch (its headers, or a header of model/,
# train/, export/ or demo/) is included only by files in those four folders, so that
# edgessd_core, edgessd_runtime and edgessd_download build and deploy without it.
# Prints each offending include and exits 1; exits 0 when there is none.
set -eu
cd "$(dirname "$0")/.."
status=0
for folder in common data eval download runtime; do
  hits=$(grep -rnE '#include *[<"](torch/|ATen/|c10/|edgessd/(model|train|export|demo)/)' \
           "src/edgessd/$folder" || true)
  if [ -n "$hits" ]; then
    echo "$hits" | sed "s|^|$folder/ is not LibTorch code, but: |"
    status=1
  fi
done
# Every folder of src/edgessd is one named in the rule (a new folder must choose a side).
for dir in src/edgessd/*/; do
  case "$(basename "$dir")" in
    common|data|eval|download|runtime|model|train|export|demo) ;;
    *) echo "src/edgessd/$(basename "$dir")/: a folder the library rule does not name"; status=1 ;;
  esac
done
exit $status
