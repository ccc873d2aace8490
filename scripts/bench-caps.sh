#!/usr/bin/env bash
# Reproduces the caps-pipeline figures in BENCHMARKS.md, each measured side by side
# with its baseline in the same run. Needs hyperfine (Debian package `hyperfine`).
#
#   scripts/bench-caps.sh            # all
#   scripts/bench-caps.sh verify     # one of: verify, noop-sync, cold-build
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
which=${1:-all}

cargo build --release --locked -q -p pylon-cli
pylon=$root/target/release/pylon
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Everything must be built and pinned first (a no-op when it already is).
"$pylon" caps-sync >/dev/null 2>&1

# The pinned caps, found by `pylon cap list`: "name:target:dir:artifact" per cap.
mapfile -t caps < <("$pylon" cap list --json | python3 -c '
import json, sys
for c in json.load(sys.stdin)["caps"]:
    d = c["descriptor"]
    if c["pinned"] and d and d["target"]:
        print(":".join([c["name"], d["target"], c["dir"], d["artifact"]]))')
artifacts=()
cargo_loop="true"
for c in "${caps[@]}"; do
  IFS=: read -r name target dir artifact <<<"$c"
  artifacts+=("$dir/$artifact")
  cargo_loop+="; CARGO_TARGET_DIR=$work/TDIR-$name cargo build -q --release --locked --target $target --manifest-path $dir/Cargo.toml"
done

if [ "$which" = all ] || [ "$which" = verify ]; then
  echo "== verify: default manifest + a 40 MB stand-in pylon.wasm, vs sha256sum and openssl"
  head -c 40000000 /dev/urandom >"$work/pylon.wasm"
  digest=$(sha256sum "$work/pylon.wasm" | cut -d' ' -f1)
  # A copy of the manifest pinning the stand-in; in-tree caps resolve through a link.
  ln -s "$root/caps" "$work/caps"
  sed "s/^pylon_sha256 = .*/pylon_sha256 = \"$digest\"/" caps-manifest.toml >"$work/caps-manifest.toml"
  "$pylon" verify --manifest "$work/caps-manifest.toml" --pylon-wasm "$work/pylon.wasm" >/dev/null
  files="${artifacts[*]} $work/pylon.wasm"
  hyperfine -N --warmup 3 --runs 30 \
    -n "pylon verify" "$pylon verify --manifest $work/caps-manifest.toml --pylon-wasm $work/pylon.wasm" \
    -n "sha256sum" "sha256sum $files" \
    -n "openssl dgst -sha256" "openssl dgst -sha256 $files"
fi

if [ "$which" = all ] || [ "$which" = noop-sync ]; then
  echo "== no-op caps-sync (everything pinned and built) vs the bare cargo no-op builds"
  # The baseline gets target dirs of its own (different flags would make the two
  # invalidate each other's builds), built once before timing.
  noop_cargo=${cargo_loop//TDIR/nt}
  bash -c "$noop_cargo"
  hyperfine -N --warmup 2 --runs 10 \
    -n "pylon caps-sync (no-op)" "$pylon caps-sync" \
    -n "cargo build x${#caps[@]} (no-op, baseline)" "bash -c '$noop_cargo'"
fi

if [ "$which" = all ] || [ "$which" = cold-build ]; then
  echo "== cold build of the ${#caps[@]} caps: pylon (fresh target dirs) vs plain cargo (fresh target dirs)"
  hyperfine --runs 1 \
    -n "pylon manifest regen --dry-run (cold, all ${#caps[@]})" "$pylon manifest regen --dry-run" \
    -n "cargo build --release x${#caps[@]} (cold, baseline)" \
    "bash -c '${cargo_loop//TDIR/t}; rm -rf $work/t-*'"
fi
