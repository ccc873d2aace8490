#!/bin/sh
# Regenerates the interop test vectors in this directory with the reference
# `zstd` command-line tool (these were made with zstd v1.5.4). The inputs are
# generated deterministically so the tests can rebuild them without the files.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# text.txt: 3000 numbered lines, 170 KB (more than one 128 KiB block). Not
# kept here: tests/common/mod.rs rebuilds it (`text()`), as it does the raw
# dictionary (first 1024 bytes) and raw_input (bytes 2048..4096).
python3 - "$tmp" <<'PY'
import sys, os
tmp = sys.argv[1]
lines = "".join(f"line {i}: the quick brown fox jumps over the lazy dog {i * 7 % 13}\n" for i in range(3000))
open(os.path.join(tmp, "text.txt"), "w").write(lines)
os.makedirs(os.path.join(tmp, "samples"))
for i in range(400):
    rec = '{"id": %d, "name": "user%d", "email": "user%d@example.org", "active": %s, "score": %d}\n' % (
        i, i, i, "true" if i % 3 else "false", (i * 37) % 101)
    open(os.path.join(tmp, "samples", f"s{i:03}.json"), "w").write(rec * 4)
PY
zstd -q -19 --check -f "$tmp/text.txt" -o text.l19.zst
zstd -q -3 --no-check -f "$tmp/text.txt" -o text.l3.zst
# A streamed frame: no content size in the header, a 2^20 window.
zstd -q -1 --check -c < "$tmp/text.txt" > text.stream.zst
printf '' | zstd -q -c > empty.zst
# A trained (full) dictionary and a frame that needs it.
zstd -q --train "$tmp"/samples/* --maxdict=2048 --dictID=12345 -o dict.bin
cp "$tmp/samples/s007.json" sample.json
zstd -q -3 --check -D dict.bin -f sample.json -o sample.dict.zst
# A raw-content dictionary (no magic number) and a frame made with it.
head -c 1024 "$tmp/text.txt" > "$tmp/raw_dict.txt"
head -c 4096 "$tmp/text.txt" | tail -c 2048 > "$tmp/raw_input.txt"
zstd -q -3 -D "$tmp/raw_dict.txt" -c "$tmp/raw_input.txt" > raw_input.rawdict.zst
