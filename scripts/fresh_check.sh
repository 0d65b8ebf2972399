#!/usr/bin/env bash
# Proves README's two commands on a pristine Debian 12 machine: builds a minimal bookworm
# root with mmdebstrap, copies a clean clone of this repository (HEAD, committed work only)
# and ../shared into it, and runs `scripts/demo.sh` then `scripts/test.sh` there under
# chroot, then `scripts/arm64.sh` (the arm64 cross build, its tests under qemu and its
# .deb; skipped with --no-arm64). Then it installs the .deb that the build's CPack makes
# into a second pristine root and runs `edgessd-detect --version` and one detection with it.
# Prints which command failed and the last lines of its log; exit 0 only when all pass.
#
#   sudo scripts/fresh_check.sh [--workdir /var/tmp/edgessd-fresh] [--rebuild-base] [--keep] [--no-arm64]
#
# The mmdebstrap output (nothing installed but apt) is cached as WORKDIR/base.tar and
# unpacked anew for every root, so a rerun skips the ~7 minutes it takes to make.
# Needs root (chroot, mounts) and the Debian package mmdebstrap (installed if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
WORKDIR=/var/tmp/edgessd-fresh
REBUILD_BASE=0
KEEP=0
ARM64=1
while [ $# -gt 0 ]; do
  case "$1" in
    --workdir) WORKDIR=$2; shift 2 ;;
    --rebuild-base) REBUILD_BASE=1; shift ;;
    --keep) KEEP=1; shift ;;
    --no-arm64) ARM64=0; shift ;;
    *) echo "fresh_check.sh: error: unknown argument $1" >&2; exit 1 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "fresh_check.sh: error: needs root (chroot, mount)" >&2; exit 1; }
SHARED=$(cd "$REPO/.." && pwd)/shared
mkdir -p "$WORKDIR"
LOGS=$WORKDIR/logs
rm -rf "$LOGS" && mkdir -p "$LOGS"
MOUNTED=()

log() { echo "[fresh_check] $(date +%T) $*"; }

unmount_all() {
  local i
  for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do umount -l "${MOUNTED[$i]}" 2>/dev/null || true; done
  MOUNTED=()
}
trap unmount_all EXIT

# An earlier run that was killed (a session's end) leaves its bind mounts of /proc, /sys
# and /dev under the root: removing the root over them would delete the host's /dev.
unmount_leftovers() {
  local root=$1 m
  while read -r m; do
    umount -l "$m" || { echo "fresh_check.sh: error: cannot unmount $m, left by an earlier run" >&2; exit 1; }
  done < <(awk -v r="$(realpath -m "$root")" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r)
}

make_base() {
  if [ "$REBUILD_BASE" = 1 ] || [ ! -s "$WORKDIR/base.tar" ]; then
    command -v mmdebstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq mmdebstrap >/dev/null; }
    log "mmdebstrap --variant=apt bookworm (about 7 minutes)"
    mmdebstrap --variant=apt --format=tar bookworm "$WORKDIR/base.tar.part" >"$LOGS/mmdebstrap.log" 2>&1 ||
      fail "mmdebstrap" "$LOGS/mmdebstrap.log"
    mv "$WORKDIR/base.tar.part" "$WORKDIR/base.tar"
  fi
}

# A fresh root from the cached base, with the host's proxy CA and npm settings (the
# registries are reached through a proxy whose CA the host trusts; nothing else is copied).
new_root() {
  local root=$1
  unmount_all
  unmount_leftovers "$root"
  rm -rf --one-file-system "$root" && mkdir -p "$root"
  tar -xf "$WORKDIR/base.tar" -C "$root"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/host-ca-bundle.crt"
  { [ -f "$HOME/.npmrc" ] && grep -v -E '^\s*(cafile|nodedir)\s*=' "$HOME/.npmrc"
    echo "cafile=/etc/host-ca-bundle.crt"; } >"$root/root/.npmrc"
  local m
  for m in proc sys dev dev/pts; do
    mkdir -p "$root/$m"
    mount --bind "/$m" "$root/$m"
    MOUNTED+=("$root/$m")
  done
}

# Runs a command line inside the root as a new user would: a login shell as root.
in_root() {
  local root=$1 log=$2; shift 2
  chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 TERM=dumb NODE_EXTRA_CA_CERTS=/etc/host-ca-bundle.crt /bin/bash -c "$*" >"$log" 2>&1
}

fail() {
  echo "fresh_check.sh: FAILED: $1 (log: $2); its last lines:" >&2
  tail -n 30 "$2" >&2
  exit 1
}

timed() {  # timed NAME LOG ROOT COMMAND...
  local name=$1 log=$2 root=$3; shift 3
  local t0=$SECONDS
  log "$name"
  in_root "$root" "$log" "$@" || fail "$name" "$log"
  log "$name passed in $((SECONDS - t0)) s"
}

start=$SECONDS
make_base

# Root 1: README's two commands on a clean clone and ../shared.
ROOT=$WORKDIR/root
new_root "$ROOT"
mkdir -p "$ROOT/work"
git clone -q --no-hardlinks "$REPO" "$ROOT/work/main"
[ -d "$SHARED" ] && cp -a "$SHARED" "$ROOT/work/shared"
timed "scripts/demo.sh" "$LOGS/demo.log" "$ROOT" "cd /work/main && scripts/demo.sh"
timed "scripts/test.sh" "$LOGS/test.log" "$ROOT" "cd /work/main && scripts/test.sh"
timed "cpack -G DEB" "$LOGS/cpack.log" "$ROOT" "cd /work/main/build && cpack -G DEB"
# The arm64 deploy side from the same fresh machine: what scripts/arm64.sh installs itself,
# its sysroot, cross build, tests under qemu, parity with this x86 build and its .deb.
if [ "$ARM64" = 1 ]; then timed "scripts/arm64.sh" "$LOGS/arm64.log" "$ROOT" "cd /work/main && scripts/arm64.sh"; fi
deb=$(ls "$ROOT"/work/main/build/edgessd_*.deb | head -n 1)
model=$ROOT/work/main/demo/model/ssd-mobilenet.onnx
image=$(ls "$ROOT"/work/main/demo/data/test/*.jpg | head -n 1)
mkdir -p "$WORKDIR/carry" && cp "$deb" "$model" "$image" "$WORKDIR/carry/"
[ "$KEEP" = 1 ] || { unmount_all; rm -rf --one-file-system "$ROOT"; }

# Root 2: the .deb alone, its dependencies from Debian's registry.
DEB_ROOT=$WORKDIR/deb-root
new_root "$DEB_ROOT"
mkdir -p "$DEB_ROOT/check" && cp "$WORKDIR/carry/"* "$DEB_ROOT/check/"
timed "apt-get install ./$(basename "$deb")" "$LOGS/deb.log" "$DEB_ROOT" \
  "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /check/$(basename "$deb")"
timed "edgessd-detect from the .deb" "$LOGS/deb-detect.log" "$DEB_ROOT" \
  "edgessd-detect --version && edgessd-detect --headless --model /check/$(basename "$model") \
   /check/$(basename "$image") /check/out.jpg && test -s /check/out.jpg && test -s /usr/share/man/man1/edgessd-detect.1.gz"
[ "$KEEP" = 1 ] || { unmount_all; rm -rf --one-file-system "$DEB_ROOT"; }
log "all passed in $((SECONDS - start)) s"
