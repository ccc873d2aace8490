#!/usr/bin/env bash
# Installs the WASI C toolchain pinned by a Pylon profile (default profiles/cp313.toml):
# clang/lld/llvm 19, compiler-rt for wasm32 and wasi-libc, at the exact Debian versions
# the profile names, each .deb checked against the profile's sha256 before it is
# installed. Also the native tools the CPython build needs (cc, make, patch, xz, curl).
#
# Idempotent: when every pinned package is already installed at its pinned version it
# changes nothing. Runs as root, or through sudo.
#
# Where each pinned .deb comes from, first that has it with the pinned sha256:
#   1. $PYLON_TOOLCHAIN_DEBS, a directory of .deb files you provide (any file name);
#   2. for a pin with a `pool` path: that path under each archive host of this
#      machine's apt configuration (a pool file outlives the suite index that named it;
#      sid and backports packages are served this way);
#   3. `apt-get download NAME=VERSION` from the suites apt knows.
# The Debian archive host is never hard-coded: it is read from this machine's own apt
# configuration (deb822 *.sources files or sources.list).
#
# Usage: scripts/install-wasi-toolchain.sh [PROFILE.toml]
#
# PYLON_TOOLCHAIN_DOWNLOAD_ONLY=DIR: download every pinned .deb into DIR and check its
# sha256, whether installed or not, and install nothing — the download path of a fresh
# machine, exercised on one that already has the toolchain.
set -euo pipefail
download_only=${PYLON_TOOLCHAIN_DOWNLOAD_ONLY:-}
local_debs=${PYLON_TOOLCHAIN_DEBS:-}

root=$(cd "$(dirname "$0")/.." && pwd)
profile=${1:-$root/profiles/cp313.toml}
[ -f "$profile" ] || { echo "install-wasi-toolchain: no profile at $profile" >&2; exit 2; }

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

# --- the pins, from the profile's [toolchain] packages (one inline table per line) ----
pin_re='^[[:space:]]*\{[[:space:]]*name[[:space:]]*=[[:space:]]*"([^"]+)"[[:space:]]*,[[:space:]]*version[[:space:]]*=[[:space:]]*"([^"]+)"[[:space:]]*,[[:space:]]*sha256[[:space:]]*=[[:space:]]*"([0-9a-f]{64})"[[:space:]]*(,[[:space:]]*pool[[:space:]]*=[[:space:]]*"(pool/[A-Za-z0-9/._+~-]+\.deb)"[[:space:]]*)?\},?[[:space:]]*$'
names=() versions=() digests=() pools=()
while IFS= read -r line; do
  if [[ $line =~ $pin_re ]]; then
    names+=("${BASH_REMATCH[1]}")
    versions+=("${BASH_REMATCH[2]}")
    digests+=("${BASH_REMATCH[3]}")
    pools+=("${BASH_REMATCH[5]}")
  elif [[ $line =~ name[[:space:]]*= ]]; then
    echo "install-wasi-toolchain: $profile: cannot read this [toolchain] line (expected" \
         '`{ name = "...", version = "...", sha256 = "..."[, pool = "pool/....deb"] },`):' "$line" >&2
    exit 2
  fi
done < <(sed -n '/^\[toolchain\]/,/^\[/p' "$profile")
if [ "${#names[@]}" -eq 0 ]; then
  echo "install-wasi-toolchain: $profile: no packages found under [toolchain] (expected one" \
       '`{ name = "...", version = "...", sha256 = "..." },` per line)' >&2
  exit 2
fi

installed_version() {
  dpkg-query -W -f='${db:Status-Abbrev}|${Version}' "$1" 2>/dev/null | awk -F'|' '$1 ~ /^ii/ {print $2}'
}

# Native tools: configure/make of the build python, patch sets, tarball unpack, fetch.
native=()
command -v cc >/dev/null 2>&1 || native+=(gcc libc6-dev)
command -v make >/dev/null 2>&1 || native+=(make)
command -v patch >/dev/null 2>&1 || native+=(patch)
command -v xz >/dev/null 2>&1 || native+=(xz-utils)
command -v curl >/dev/null 2>&1 || native+=(curl ca-certificates)
command -v pkg-config >/dev/null 2>&1 || native+=(pkg-config)

missing=()
for i in "${!names[@]}"; do
  if [ -n "$download_only" ] || [ "$(installed_version "${names[$i]}")" != "${versions[$i]}" ]; then
    missing+=("$i")
  fi
done
[ -z "$download_only" ] || native=()
if [ "${#missing[@]}" -eq 0 ] && [ "${#native[@]}" -eq 0 ]; then
  echo "install-wasi-toolchain: all ${#names[@]} pinned packages already installed"
  exit 0
fi

# --- the Debian host, from this machine's apt configuration --------------------------
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$codename" ] || { echo "install-wasi-toolchain: no VERSION_CODENAME in /etc/os-release" >&2; exit 2; }

# Prints "URI<TAB>SUITES<TAB>SIGNED-BY" for every binary (deb) entry apt knows.
apt_entries() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN { RS = ""; FS = "\n" }
      {
        types = ""; uris = ""; suites = ""; signed = ""; enabled = "yes"
        for (i = 1; i <= NF; i++) {
          line = $i
          if (line ~ /^#/) continue
          key = line; sub(/:.*/, "", key); val = line; sub(/^[^:]*:[[:space:]]*/, "", val)
          if (key == "Types") types = val
          else if (key == "URIs") uris = val
          else if (key == "Suites") suites = val
          else if (key == "Signed-By") signed = val
          else if (key == "Enabled") enabled = val
        }
        if (enabled == "no" || types !~ /(^|[[:space:]])deb([[:space:]]|$)/) next
        n = split(uris, u, /[[:space:]]+/)
        for (j = 1; j <= n; j++) if (u[j] != "") printf "%s\t%s\t%s\n", u[j], suites, signed
      }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    # deb [options] URI SUITE COMPONENTS...
    sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" { printf "%s\t%s\t\n", $2, $3 }'
  done
}

entries=$(apt_entries)
# The Debian host: the entry that carries the release suite itself (not -security).
host_line=$(awk -F'\t' -v c="$codename" '{ n = split($2, s, /[[:space:]]+/); for (i = 1; i <= n; i++) if (s[i] == c) { print; exit } }' <<<"$entries")
if [ -z "$host_line" ]; then
  echo "install-wasi-toolchain: no apt source for suite '$codename' in /etc/apt; cannot tell which Debian host to use" >&2
  exit 2
fi
host=$(cut -f1 <<<"$host_line")
echo "install-wasi-toolchain: Debian host from apt config: $host"

# Every archive host apt knows (the release host first), for pool downloads.
hosts=("$host")
while IFS= read -r h; do
  [[ " ${hosts[*]} " == *" $h "* ]] || hosts+=("$h")
done < <(cut -f1 <<<"$entries")
need_update=0

# Update the lists only when a pinned version without a pool path is unknown to apt
# (keeps re-runs offline).
for i in "${missing[@]}"; do
  [ -z "${pools[$i]}" ] || continue
  if ! apt-cache show "${names[$i]}=${versions[$i]}" >/dev/null 2>&1; then need_update=1; fi
done
[ "${#native[@]}" -eq 0 ] || need_update=1
if [ "$need_update" -eq 1 ]; then
  "${sudo_cmd[@]}" apt-get update -q
fi

if [ "${#native[@]}" -gt 0 ]; then
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${native[@]}"
fi
[ "${#missing[@]}" -gt 0 ] || { echo "install-wasi-toolchain: done"; exit 0; }

# --- download the exact .debs, check their sha256, install them ----------------------
if [ -n "$download_only" ]; then
  mkdir -p "$download_only"
  work=$(cd "$download_only" && pwd)
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
# apt downloads as its sandbox user _apt, which must be able to write here.
if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$work"; else chmod 755 "$work"; fi
# True when FILE has the pinned sha256; a file with another digest is reported.
digest_ok() {
  local file=$1 want=$2 got
  [ -f "$file" ] || return 1
  got=$(sha256sum "$file" | cut -d' ' -f1)
  [ "$got" = "$want" ] && return 0
  echo "install-wasi-toolchain: $file: sha256 $got, not the pinned $want (not used)" >&2
  return 1
}
# Sets `fetched` to a .deb in $work that is NAME=VERSION with the pinned sha256, taken
# from the first source that has it; returns 1 when none has.
fetch_deb() {
  local name=$1 version=$2 want=$3 pool=$4 f h before
  fetched=
  if [ -n "$local_debs" ]; then
    for f in "$local_debs"/*.deb; do
      [ -f "$f" ] || continue
      if [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$want" ]; then
        cp "$f" "$work/" && fetched="$work/${f##*/}"
        echo "install-wasi-toolchain: $name $version from $f"
        return 0
      fi
    done
  fi
  if [ -n "$pool" ]; then
    f="$work/${pool##*/}"
    for h in "${hosts[@]}"; do
      if curl -fsSL --retry 2 -o "$f" "${h%/}/$pool" && digest_ok "$f" "$want"; then
        fetched=$f
        echo "install-wasi-toolchain: $name $version from ${h%/}/$pool"
        return 0
      fi
      rm -f "$f"
    done
  fi
  before=$(ls "$work")
  if (cd "$work" && apt-get download -q "$name=$version"); then
    f=$(comm -13 <(echo "$before") <(ls "$work") | grep '\.deb$' | head -n 1)
    if [ -n "$f" ] && digest_ok "$work/$f" "$want"; then
      fetched="$work/$f"
      return 0
    fi
    [ -z "$f" ] || rm -f "$work/$f"
  fi
  return 1
}

debs=()
for i in "${missing[@]}"; do
  name=${names[$i]} version=${versions[$i]} want=${digests[$i]} pool=${pools[$i]}
  if ! fetch_deb "$name" "$version" "$want" "$pool"; then
    {
      echo "install-wasi-toolchain: no source has $name=$version with sha256 $want."
      echo "  tried: ${local_debs:+\$PYLON_TOOLCHAIN_DEBS ($local_debs), }${pool:+$pool on ${hosts[*]}, }apt-get download"
      echo "  The archive may have dropped this version. Fetch that .deb from any mirror or"
      echo "  snapshot that still has it (its file name: ${pool##*/}), put it in a directory and"
      echo "  run again with PYLON_TOOLCHAIN_DEBS=<that directory>; its sha256 is checked."
    } >&2
    exit 1
  fi
  echo "install-wasi-toolchain: $name $version sha256 OK"
  debs+=("$fetched")
done
if [ -n "$download_only" ]; then
  echo "install-wasi-toolchain: ${#debs[@]} pinned packages downloaded to $work, every sha256 OK (nothing installed)"
  exit 0
fi
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${debs[@]}"

for i in "${!names[@]}"; do
  got=$(installed_version "${names[$i]}")
  if [ "$got" != "${versions[$i]}" ]; then
    echo "install-wasi-toolchain: ${names[$i]}: wanted ${versions[$i]}, found ${got:-nothing}" >&2
    exit 1
  fi
done
echo "install-wasi-toolchain: done"
