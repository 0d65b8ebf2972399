#!/bin/sh
# Lists functions longer than a limit (default 80 lines) and files longer than
# 500 lines under src/ and tools/: the size rules of the developers' brief.
# Usage: scripts/dev/long_functions.sh [LIMIT]
set -eu
limit=${1:-80}
cd "$(dirname "$0")/../.."
find src tools -name '*.cpp' -o -name '*.h' | sort |
  xargs ctags --fields=+ne --c++-kinds=f --extras=-q -o - |
  awk -F'\t' -v limit="$limit" '
    $1 !~ /^__anon/ {
      line = ""; end = "";
      for (i = 4; i <= NF; i++) {
        if ($i ~ /^line:/) line = substr($i, 6);
        if ($i ~ /^end:/) end = substr($i, 5);
      }
      if (line != "" && end != "" && end - line + 1 > limit)
        printf "%5d  %s:%s %s\n", end - line + 1, $2, line, $1;
    }' | sort -rn
find src tools -name '*.cpp' -o -name '*.h' | xargs wc -l |
  awk '$2 != "total" && $1 > 500 { printf "%5d  %s (file)\n", $1, $2 }'
