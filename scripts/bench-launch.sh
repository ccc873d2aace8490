#!/usr/bin/env bash
# Reproduces the pylon.wasm / pylon-launch figures in BENCHMARKS.md, each measured side
# by side with its baseline in the same run. Needs hyperfine and a built product
# (make caps-sync build).
#
#   scripts/bench-launch.sh            # all
#   scripts/bench-launch.sh startup    # one of: startup, compile, zlib, size
#
# The native peer is a real interpreter binary, never a launcher script on PATH (a pyenv
# shim alone takes ~100 ms): PEER_PYTHON (default /usr/bin/python3), resolved to the
# file it links to, checked to be an ELF binary, and named with its version.
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}

peer=$(readlink -f "${PEER_PYTHON:-/usr/bin/python3}")
if [ "$(head -c 4 "$peer" | od -An -c | tr -d ' ')" != "177ELF" ]; then
  echo "bench-launch: $peer is not an ELF binary (a shim?); set PEER_PYTHON to the real one" >&2
  exit 2
fi
peer_name="$peer ($("$peer" -c 'import platform; print(platform.python_version())'))"
echo "native peer: $peer_name"

cargo build --release --locked -q -p pylon-launch
launch=$PWD/target/release/pylon-launch
wasm=$(readlink -f build/pylon.wasm)
[ -f "$wasm" ] || { echo "build/pylon.wasm missing: make build first" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cache=$work/cache

if [ "$which" = all ] || [ "$which" = startup ]; then
  echo "== startup, warm cache: pylon-launch -c pass vs $peer_name -c pass"
  "$launch" --cache-dir "$cache" -c pass
  peers=(-n "$peer_name -c pass" "$peer -c pass"
         -n "$peer_name -I -S -c pass" "$peer -I -S -c pass")
  if command -v wasmtime >/dev/null; then
    # The plain interpreter component under the wasmtime CLI, its own cache warm.
    dir=$(dirname "$wasm")
    wasmtime run -C cache=y --dir "$dir/lib::/usr/local/lib" --env PYTHONHOME=/usr/local \
      "$dir/python.wasm" -c pass
    peers+=(-n "wasmtime run python.wasm -c pass" \
      "wasmtime run -C cache=y --dir $dir/lib::/usr/local/lib --env PYTHONHOME=/usr/local $dir/python.wasm -c pass")
  fi
  hyperfine -N --warmup 5 --runs 40 \
    -n "pylon-launch -c pass (snapshot, warm)" "$launch --cache-dir $cache -c pass" \
    -n "pylon-launch --no-snapshot -c pass (warm)" "$launch --cache-dir $cache --no-snapshot -c pass" \
    "${peers[@]}"
  echo "== startup with imports, and a script that reads a file"
  printf 'line %s\n' $(seq 1 2000) >"$work/input.txt"
  printf 'import sys\nwith open(sys.argv[1]) as f:\n    print(sum(1 for _ in f))\n' >"$work/count.py"
  "$launch" --cache-dir "$cache" --snapshot-import json,re -c pass   # make that snapshot
  hyperfine -N --warmup 5 --runs 40 \
    -n "pylon-launch -c 'import json, re, zlib'" "$launch --cache-dir $cache -c 'import json, re, zlib'" \
    -n "pylon-launch --snapshot-import json,re -c 'import json, re, zlib'" \
      "$launch --cache-dir $cache --snapshot-import json,re -c 'import json, re, zlib'" \
    -n "$peer_name -c 'import json, re, zlib'" "$peer -c 'import json, re, zlib'" \
    -n "pylon-launch count.py input.txt" "$launch --cache-dir $cache --dir $work::/w /w/count.py /w/input.txt" \
    -n "$peer_name count.py input.txt" "$peer $work/count.py $work/input.txt"
  echo "== first launch: startup snapshot made, both wasm compiled (cold cache)"
  hyperfine -N --runs 3 --prepare "rm -rf $work/first" \
    -n "first launch (cold cache)" "$launch --cache-dir $work/first -c pass"
fi

if [ "$which" = all ] || [ "$which" = compile ]; then
  echo "== first run (compile + serialize) vs cache hit (digest check + deserialize)"
  "$launch" --cache-dir "$cache" -c pass   # warm the hit side
  hyperfine -N --runs 5 --prepare "rm -rf $work/cold" \
    -n "first run (cold cache)" "$launch --cache-dir $work/cold -c pass" \
    -n "cache hit" "$launch --cache-dir $cache -c pass"
  PYLON_LAUNCH_VERBOSE=1 "$launch" --cache-dir "$work/cold2" -c pass 2>&1 | grep cache || true
  PYLON_LAUNCH_VERBOSE=1 "$launch" --cache-dir "$work/cold2" -c pass 2>&1 | grep cache || true
fi

if [ "$which" = all ] || [ "$which" = zlib ]; then
  echo "== zlib: 10 MB compress + decompress through the cap vs the host's native zlib"
  "$peer" - "$work/data.bin" <<'PY'
import random, sys
rng = random.Random(7)
words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(5000)]
out = bytearray()
while len(out) < 10_000_000:
    out += rng.choice(words) + b" "
open(sys.argv[1], "wb").write(bytes(out[:10_000_000]))
PY
  cat >"$work/zlib_bench.py" <<'PY'
import sys, time, zlib
data = open(sys.argv[1], "rb").read()
t = time.perf_counter(); c = zlib.compress(data, 6); t1 = time.perf_counter()
d = zlib.decompress(c); t2 = time.perf_counter()
assert d == data
print(f"compress {t1 - t:.3f}s  decompress {t2 - t1:.3f}s  ratio {len(c) / len(data):.3f}")
PY
  for i in 1 2 3; do
    printf 'pylon (cap)  : '; "$launch" --cache-dir "$cache" --dir "$work::/w" -- /w/zlib_bench.py /w/data.bin
    printf 'host %s : ' "$peer_name"; "$peer" "$work/zlib_bench.py" "$work/data.bin"
  done
fi

if [ "$which" = all ] || [ "$which" = size ]; then
  echo "== size of pylon.wasm, raw and gzip -9 (python.wasm alone for comparison)"
  for f in "$wasm" "$(dirname "$wasm")/python.wasm"; do
    printf '%-12s raw %10d  gzip -9 %10d\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(gzip -9 -c "$f" | wc -c)"
  done
fi
