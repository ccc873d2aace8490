#!/usr/bin/env bash
# The README's main job as an ordinary user on a machine where the WASI toolchain was
# never installed, from a fresh clone, with an empty pylon cache: every pin must
# reproduce (caps-sync OK for every cap, build OK against profiles/expected and
# pylon_sha256, verify OK, smoke).
#
# Run as root: it only sets the stage, then drops to the user.
# - a user `pylon-rootless` (created when missing), a fresh HOME under $WORK;
# - a private mount namespace in which the system's clang/LLVM 19 and wasi-libc are
#   hidden under empty tmpfs mounts (as on a machine that never had them): a build
#   that still reached for /usr/bin/clang-19 or /usr/include/wasm32-wasip2 fails;
# - the Rust toolchain (rustup home) and cargo's binaries shared read-only from the
#   invoking user (no rustup download is possible without the internet); the user's
#   CARGO_HOME is their own, seeded with a copy of the crate cache.
#
# Usage: sudo scripts/rootless-check.sh [WORK_DIR]   (default /tmp/pylon-rootless)
# Prints each step's time; exit status is the main job's.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/pylon-rootless}
user=pylon-rootless
[ "$(id -u)" -eq 0 ] || { echo "rootless-check: run as root (it drops to $user itself)" >&2; exit 2; }
rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
cargo_home=${CARGO_HOME:-$HOME/.cargo}

id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
rm -rf "$work"
mkdir -p "$work/home" "$work/rustup" "$work/cargo-bin"
cp -a /etc/skel/. "$work/home/"
mkdir -p "$work/home/cargo"
[ -d "$cargo_home/registry" ] && cp -a "$cargo_home/registry" "$work/home/cargo/"
git clone -q "file://$repo" "$work/home/pylon"
[ -d "$repo/../shared" ] && ln -s "$(cd "$repo/../shared" && pwd)" "$work/home/shared"
chown -R "$user:$user" "$work/home"
chmod 755 "$work"

# Everything below runs in a private mount namespace.
exec unshare --mount --propagation private bash -s -- "$work" "$user" "$rustup_home" "$cargo_home" <<'NS'
set -euo pipefail
work=$1 user=$2 rustup_home=$3 cargo_home=$4
mount --bind -o ro "$rustup_home" "$work/rustup"
mount --bind -o ro "$cargo_home/bin" "$work/cargo-bin"
# The system toolchain, gone for this test.
hidden=()
for d in /usr/lib/llvm-19 /usr/include/wasm32-wasi /usr/include/wasm32-wasip1 \
         /usr/include/wasm32-wasip2 /usr/lib/wasm32-wasi /usr/lib/wasm32-wasip1 /usr/lib/wasm32-wasip2; do
  [ -d "$d" ] && mount -t tmpfs -o ro,size=1k none "$d" && hidden+=("$d")
done
for f in /usr/lib/x86_64-linux-gnu/libLLVM.so.19.1 /usr/lib/x86_64-linux-gnu/libLLVM-19.so.1; do
  [ -e "$f" ] && mount --bind /dev/null "$f" && hidden+=("$f")
done
echo "rootless-check: hidden from the build: ${hidden[*]:-nothing (never installed)}"
if command -v clang-19 >/dev/null && clang-19 --version >/dev/null 2>&1; then
  echo "rootless-check: clang-19 still runs from the system; refusing to test" >&2
  exit 2
fi
exec setpriv --reuid="$user" --regid="$user" --init-groups \
  env -i HOME="$work/home" USER="$user" LOGNAME="$user" LANG=C.UTF-8 \
  PATH="$work/cargo-bin:/usr/local/bin:/usr/bin:/bin" \
  RUSTUP_HOME="$work/rustup" CARGO_HOME="$work/home/cargo" \
  bash -c '
    set -eo pipefail
    cd "$HOME/pylon"
    echo "rootless-check: as $(id -un) (uid $(id -u)), HOME=$HOME, no sudo"
    t() { local s=$SECONDS; echo "== $*"; "$@"; echo "== $1 ${2-}: $((SECONDS - s)) s"; }
    t scripts/install-prereqs.sh
    t make caps-sync
    t make build
    t make verify
    t make smoke
    echo "rootless-check: the main job passed; toolchain at $(ls -d "$HOME"/.cache/pylon/toolchain/*/)"
  '
NS
