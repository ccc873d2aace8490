"""Host side of bz2_smoke.py: reference output of the host's libbzip2 (CPython's own
_bz2), and checks that the host reads what the guest wrote."""
import bz2
import os
import random
import tarfile
import zipfile


def _text():
    rng = random.Random(20261203)
    return "\n".join(f"{i:05d} bzip2 through a component; {rng.random():.6f}"
                     for i in range(5000)).encode()


def prepare(scratch):
    text = _text()
    return {
        "text": text.hex(),
        "host_bz2": bz2.compress(text).hex(),
        "host_levels": {str(n): bz2.compress(text, n).hex() for n in (1, 9)},
    }


def check(scratch):
    text = _text()
    out = []
    with open(os.path.join(scratch, "ours.bz2"), "rb") as f:
        ok = bz2.decompress(f.read()) == text
    out.append(("the host's bz2 reads the guest's stream", ok, ""))
    with tarfile.open(os.path.join(scratch, "ours.tar.bz2"), "r:bz2") as tar:
        ok = tar.extractfile("hello.txt").read() == text
    out.append(("the host's tarfile reads the guest's tar.bz2", ok, ""))
    with zipfile.ZipFile(os.path.join(scratch, "ours.zip")) as z:
        ok = z.read("hello.txt") == text and z.testzip() is None
    out.append(("the host's zipfile reads the guest's ZIP_BZIP2 archive", ok, ""))
    return out
