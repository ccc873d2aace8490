"""Host side of zlib_smoke.py: expected values from the host's zlib, and a check that
the host's zlib, gzip and zipfile read what the cap wrote."""
import gzip
import os
import random
import zipfile
import zlib


def _inputs():
    rng = random.Random(20261126)
    text = "\n".join(
        f"{i:05d} The quick brown fox jumps over the lazy dog; {rng.random():.6f}"
        for i in range(2000)
    ).encode()
    return {
        "empty": b"",
        "text": text,
        "random": rng.randbytes(65536),
        "zeros": bytes(262144),
    }


def prepare(scratch):
    inputs = _inputs()
    return {
        "inputs": {k: v.hex() for k, v in inputs.items()},
        "checks": {
            k: {
                "crc32": zlib.crc32(v),
                "adler32": zlib.adler32(v),
                "host_deflate": zlib.compress(v, 6).hex(),
            }
            for k, v in inputs.items()
        },
    }


def check(scratch):
    inputs = _inputs()
    out = os.path.join(scratch, "zlib-out")
    bad = []
    for k, v in inputs.items():
        with open(os.path.join(out, f"{k}.z"), "rb") as f:
            if zlib.decompress(f.read()) != v:
                bad.append(f"{k}.z")
        with open(os.path.join(out, f"{k}.gz"), "rb") as f:
            if gzip.decompress(f.read()) != v:
                bad.append(f"{k}.gz")
    with zipfile.ZipFile(os.path.join(out, "archive.zip")) as z:
        if z.read("a.txt") != inputs["text"] or z.read("b.bin") != inputs["random"]:
            bad.append("archive.zip")
    return [("the host's zlib, gzip and zipfile read what the cap wrote", not bad,
             "differs: " + ", ".join(bad))]
