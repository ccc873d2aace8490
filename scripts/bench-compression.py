#!/usr/bin/env python3
"""Compression throughput inside pylon.wasm against the host's CPython, same run.

Compresses and decompresses 10 MB of mixed text (deterministic: numbered lines, words,
random floats, some binary) with bz2 (level 9), xz (preset 6), zlib (level 6) and LZ4
frames (level 0 and HC level 9), in pylon.wasm under pylon-launch and in the given host
interpreter (default /usr/bin/python3, the real binary), timing only the calls
themselves (best of 3). On the host, lz4 is the real python-lz4: the wheel pinned by
caps/lz4/smoke/lz4_smoke_host.py, fetched by digest. Prints a Markdown table for
BENCHMARKS.md.

    python3 scripts/bench-compression.py [--host-python /usr/bin/python3]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CODECS = ("bz2 (level 9)", "xz (preset 6)", "zlib (level 6)", "lz4 frame (level 0)",
          "lz4 frame (HC level 9)")


def host_python_lz4(host_python, dest):
    """Unpacks the python-lz4 wheel the lz4 smoke test pins for this host interpreter
    into ``dest``; returns it, for the host's PYTHONPATH."""
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    sys.path.insert(0, os.path.join(ROOT, "caps", "lz4", "smoke"))
    import lz4_smoke_host
    import pypi_pins
    tag = subprocess.run(
        [host_python, "-c", "import os, sys; "
         "print(f'cp{sys.version_info[0]}{sys.version_info[1]}-{os.uname().machine}')"],
        capture_output=True, text=True, check=True).stdout.strip()
    if tag not in lz4_smoke_host.PYTHON_LZ4_WHEELS:
        sys.exit(f"bench-compression: no python-lz4 wheel pinned for {tag} "
                 "(caps/lz4/smoke/lz4_smoke_host.py PYTHON_LZ4_WHEELS)")
    (wheel,) = pypi_pins.fetch([lz4_smoke_host.PYTHON_LZ4_WHEELS[tag]], "python-lz4")
    with zipfile.ZipFile(wheel) as z:
        z.extractall(dest)
    return dest

GUEST = r'''
import bz2, json, lzma, random, sys, time, zlib
import lz4, lz4.frame
rng = random.Random(10)
words = [w.encode() for w in "the quick brown fox jumps over a lazy dog while pylon "
         "compresses text through components in webassembly".split()]
parts, size = [], 0
while size < 10_000_000:
    line = b"%07d %s %.6f " % (len(parts), b" ".join(rng.choice(words) for _ in range(8)),
                              rng.random())
    if len(parts) % 50 == 0:
        line += rng.randbytes(40)
    parts.append(line + b"\n")
    size += len(line) + 1
data = b"".join(parts)[:10_000_000]
codecs = {
    "bz2 (level 9)": (lambda d: bz2.compress(d, 9), bz2.decompress),
    "xz (preset 6)": (lambda d: lzma.compress(d, preset=6), lzma.decompress),
    "zlib (level 6)": (lambda d: zlib.compress(d, 6), zlib.decompress),
    "lz4 frame (level 0)": (lambda d: lz4.frame.compress(d), lz4.frame.decompress),
    "lz4 frame (HC level 9)": (lambda d: lz4.frame.compress(d, compression_level=9),
                               lz4.frame.decompress),
}
out = {"version": sys.version.split()[0], "lz4": lz4.__version__,
       "liblz4": lz4.library_version_string()}
for name, (comp, decomp) in codecs.items():
    best_c = best_d = None
    for _ in range(3):
        t = time.perf_counter(); packed = comp(data); tc = time.perf_counter() - t
        t = time.perf_counter(); back = decomp(packed); td = time.perf_counter() - t
        assert back == data
        best_c = tc if best_c is None else min(best_c, tc)
        best_d = td if best_d is None else min(best_d, td)
    out[name] = {"compress": best_c, "decompress": best_d, "ratio": len(packed) / len(data)}
print(json.dumps(out))
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host-python", default="/usr/bin/python3")
    ap.add_argument("--launch", default=os.path.join(ROOT, "target/release/pylon-launch"))
    ap.add_argument("--wasm", default=os.path.join(ROOT, "build/pylon.wasm"))
    args = ap.parse_args()
    host_python = os.path.realpath(args.host_python)
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "bench.py")
        with open(script, "w") as f:
            f.write(GUEST)
        guest = subprocess.run(
            [args.launch, "--wasm", args.wasm, "--dir", f"{tmp}::/bench", "--",
             "/bench/bench.py"], capture_output=True, text=True, check=True)
        env = dict(os.environ, PYTHONPATH=host_python_lz4(host_python, f"{tmp}/python-lz4"))
        host = subprocess.run([host_python, script], capture_output=True, text=True,
                              check=True, env=env)
    g, h = json.loads(guest.stdout), json.loads(host.stdout)
    print(f"10 MB of mixed text; best of 3; pylon.wasm (CPython {g['version']}, Pylon's "
          f"lz4 over liblz4 {g['liblz4']}) under pylon-launch vs {host_python} (CPython "
          f"{h['version']}, python-lz4 {h['lz4']} over liblz4 {h['liblz4']}), same run.\n")
    print("| codec | operation | pylon.wasm s | host s | ratio (pylon / host) |")
    print("|---|---|---|---|---|")
    for name in CODECS:
        for op in ("compress", "decompress"):
            gs, hs = g[name][op], h[name][op]
            print(f"| {name} | {op} | {gs:.3f} | {hs:.3f} | {gs / hs:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
