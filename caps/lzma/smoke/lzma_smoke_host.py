"""Host side of lzma_smoke.py: reference output of the host's liblzma (CPython's own
_lzma), and checks that the host reads what the guest wrote."""
import lzma
import os
import random
import tarfile
import zipfile


def _text():
    rng = random.Random(20261203)
    return "\n".join(f"{i:05d} xz through a component; {rng.random():.6f}"
                     for i in range(5000)).encode()


def prepare(scratch):
    text = _text()
    filters = [{"id": lzma.FILTER_DELTA, "dist": 4},
               {"id": lzma.FILTER_X86, "start_offset": 0x40},
               {"id": lzma.FILTER_LZMA2, "preset": 6 | lzma.PRESET_EXTREME}]
    return {
        "text": text.hex(),
        "host": {
            "xz": lzma.compress(text).hex(),
            "alone": lzma.compress(text, lzma.FORMAT_ALONE).hex(),
        },
        "presets": {
            "0": lzma.compress(text, preset=0).hex(),
            "6": lzma.compress(text, preset=6).hex(),
            "9e": lzma.compress(text, preset=9 | lzma.PRESET_EXTREME).hex(),
        },
        "raw": lzma.compress(text, lzma.FORMAT_RAW, filters=filters).hex(),
    }


def check(scratch):
    text = _text()
    out = []
    with open(os.path.join(scratch, "ours.xz"), "rb") as f:
        ok = lzma.decompress(f.read()) == text
    out.append(("the host's lzma reads the guest's .xz (SHA-256 check)", ok, ""))
    with tarfile.open(os.path.join(scratch, "ours.tar.xz"), "r:xz") as tar:
        ok = tar.extractfile("hello.txt").read() == text
    out.append(("the host's tarfile reads the guest's tar.xz", ok, ""))
    with zipfile.ZipFile(os.path.join(scratch, "ours-lzma.zip")) as z:
        ok = z.read("hello.txt") == text and z.testzip() is None
    out.append(("the host's zipfile reads the guest's ZIP_LZMA archive", ok, ""))
    return out
