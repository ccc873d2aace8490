#!/usr/bin/env bash
# The README's main job on Debian 13 (trixie): another glibc (2.41) and libstdc++
# (GCC 14) than the pins were made with (Debian 12). A trixie root filesystem is made
# with debootstrap from the Debian host of this machine's apt configuration, with only
# the host tools README lists; it is entered with unshare + chroot, and a fresh clone
# runs scripts/install-prereqs.sh, caps-sync, build, verify and smoke as an ordinary
# user there. Every pin must reproduce. The WASI toolchain comes from the profile's
# pinned bookworm .deb files, unpacked by pylon inside the chroot.
#
# The Rust toolchain is shared read-only from the invoking user (rustup cannot
# download without the internet).
#
# Usage: sudo scripts/trixie-check.sh [WORK_DIR]   (default /tmp/pylon-trixie)
# Set KEEP_ROOTFS=1 to reuse an existing $WORK_DIR/rootfs.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/pylon-trixie}
[ "$(id -u)" -eq 0 ] || { echo "trixie-check: run as root (debootstrap, chroot)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "trixie-check: needs debootstrap (apt-get install debootstrap)" >&2; exit 2; }
rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
cargo_home=${CARGO_HOME:-$HOME/.cargo}

# The Debian archive: the first http(s) URI of /etc/apt that serves a release suite
# (no -updates/-security), as pylon reads it.
mirror=$(
  { cat /etc/apt/sources.list 2>/dev/null | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i, $(i+1); break } }'
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] && awk 'BEGIN { RS = ""; FS = "\n" } { u = ""; s = ""
        for (i = 1; i <= NF; i++) { if ($i ~ /^URIs:/) { u = $i; sub(/^URIs:[ \t]*/, "", u) } if ($i ~ /^Suites:/) { s = $i; sub(/^Suites:[ \t]*/, "", s) } }
        split(u, us, /[ \t]+/); split(s, ss, /[ \t]+/); print us[1], ss[1] }' "$f"
    done; } | awk '$1 ~ /^https?:/ && $2 !~ /-/ && $1 !~ /security/ { print $1; exit }'
)
[ -n "$mirror" ] || { echo "trixie-check: no Debian archive in /etc/apt" >&2; exit 2; }
echo "trixie-check: Debian archive from /etc/apt: $mirror"

rootfs=$work/rootfs
if [ "${KEEP_ROOTFS:-}" != 1 ] || [ ! -x "$rootfs/bin/bash" ]; then
  rm -rf "$work"
  mkdir -p "$work"
  start=$SECONDS
  debootstrap --variant=minbase \
    --include=gcc,libc6-dev,make,patch,xz-utils,pkg-config,curl,ca-certificates,git,python3,python3-pip,zstd,lz4,sqlite3,faketime \
    trixie "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
      echo "trixie-check: debootstrap failed; see $work/debootstrap.log" >&2; tail -5 "$work/debootstrap.log" >&2; exit 1; }
  echo "trixie-check: rootfs made in $((SECONDS - start)) s"
fi
# The chroot's apt configuration names the same archive: pylon reads it from there.
echo "deb $mirror trixie main" >"$rootfs/etc/apt/sources.list"
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
# The machine's own trust and pip configuration (a proxy's CA, a wheel mirror) carry
# over, as they would on a real trixie machine set up the same way.
if [ -d /usr/local/share/ca-certificates ]; then
  cp -a /usr/local/share/ca-certificates/. "$rootfs/usr/local/share/ca-certificates/"
  chroot "$rootfs" update-ca-certificates >/dev/null 2>&1 || true
fi
[ -f /etc/pip.conf ] && cp /etc/pip.conf "$rootfs/etc/pip.conf"
chroot "$rootfs" sh -c 'id pylon >/dev/null 2>&1 || useradd --create-home --shell /bin/bash pylon'
home=$rootfs/home/pylon
rm -rf "$home/pylon" "$home/.cache/pylon" "$home/cargo"
git clone -q "file://$repo" "$home/pylon"
[ -d "$repo/../shared" ] && cp -a "$(cd "$repo/../shared" && pwd)" "$home/shared"
mkdir -p "$home/cargo" "$rootfs/opt/rustup" "$rootfs/opt/cargo-bin"
[ -d "$cargo_home/registry" ] && cp -a "$cargo_home/registry" "$home/cargo/"
chroot "$rootfs" chown -R pylon:pylon /home/pylon

exec unshare --mount --propagation private bash -s -- "$rootfs" "$rustup_home" "$cargo_home" <<'NS'
set -euo pipefail
rootfs=$1 rustup_home=$2 cargo_home=$3
# Proxy and pip settings of the caller's environment (not paths into its filesystem).
passthrough=()
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY PIP_INDEX_URL PIP_DEFAULT_TIMEOUT; do
  [ -n "${!v:-}" ] && passthrough+=("$v=${!v}")
done
passthrough+=(SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt)
mount --bind -o ro "$rustup_home" "$rootfs/opt/rustup"
mount --bind -o ro "$cargo_home/bin" "$rootfs/opt/cargo-bin"
mount -t proc proc "$rootfs/proc"
mount --rbind /dev "$rootfs/dev"
mount -t tmpfs tmpfs "$rootfs/tmp"
exec chroot "$rootfs" setpriv --reuid=pylon --regid=pylon --init-groups \
  env -i HOME=/home/pylon USER=pylon LANG=C.UTF-8 "${passthrough[@]}" \
  PATH=/opt/cargo-bin:/usr/local/bin:/usr/bin:/bin \
  RUSTUP_HOME=/opt/rustup CARGO_HOME=/home/pylon/cargo \
  bash -c '
    set -eo pipefail
    cd ~/pylon
    . /etc/os-release
    echo "trixie-check: $PRETTY_NAME, glibc $(ldd --version | head -1 | grep -o "[0-9.]*$"), as $(id -un)"
    t() { local s=$SECONDS; echo "== $*"; "$@"; echo "== $1 ${2-}: $((SECONDS - s)) s"; }
    t scripts/install-prereqs.sh
    t make caps-sync
    t make build
    t make verify
    t make smoke
    echo "trixie-check: the main job passed on $PRETTY_NAME"
  '
NS
