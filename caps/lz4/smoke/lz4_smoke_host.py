"""Host side of lz4_smoke.py: a corpus (empty, one byte, incompressible, large text) and
frames and blocks of it made by the real python-lz4 (PyPI ``lz4``, the wheel pinned
below, for the host's CPython) and by the ``lz4`` command line tool; then checks that
both read back every frame and block the guest wrote."""
import os
import random
import shutil
import subprocess
import sys
import zipfile

import pypi_pins

# python-lz4 as `pip install lz4` gives it, for the host's CPython (tag -> file, sha256).
PYTHON_LZ4_WHEELS = {
    "cp311-x86_64": (
        "lz4-4.4.5-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64."
        "manylinux_2_28_x86_64.whl",
        "75419bb1a559af00250b8f1360d508444e80ed4b26d9d40ec5b09fe7875cb989"),
    # Debian 13's python3 is 3.13 (scripts/trixie-check.sh); Ubuntu 24.04's is 3.12.
    "cp312-x86_64": (
        "lz4-4.4.5-cp312-cp312-manylinux2014_x86_64.manylinux_2_17_x86_64."
        "manylinux_2_28_x86_64.whl",
        "24092635f47538b392c4eaeff14c7270d2c8e806bf4be2a6446a378591c5e69e"),
    "cp313-x86_64": (
        "lz4-4.4.5-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64."
        "manylinux_2_28_x86_64.whl",
        "451039b609b9a88a934800b5fc6ee401c89ad9c175abf2f4d9f8b2e4ef1afc64"),
}

# Block size ids: the default and the four sizes (64 KiB, 256 KiB, 1 MiB, 4 MiB).
BLOCK_SIZES = (0, 4, 5, 6, 7)


def corpus():
    rng = random.Random(20261203)
    words = [w.encode() for w in
             "lz4 frame block literal match offset token checksum header the of and"
             .split()]
    text = b" ".join(rng.choice(words) for _ in range(1_400_000))[:6 << 20]
    return {
        "empty": b"",
        "one": b"x",
        "random": rng.randbytes(1 << 20),
        "text": text,
    }


def _python_lz4(scratch):
    """Imports the pinned python-lz4 wheel (unpacked into the scratch directory)."""
    tag = f"cp{sys.version_info[0]}{sys.version_info[1]}-{os.uname().machine}"
    if tag not in PYTHON_LZ4_WHEELS:
        raise RuntimeError(
            f"no python-lz4 wheel is pinned for {tag} (the host's CPython); add its "
            f"file name and sha256 to PYTHON_LZ4_WHEELS in {__file__}")
    (wheel,) = pypi_pins.fetch([PYTHON_LZ4_WHEELS[tag]], "python-lz4 for the host")
    dest = os.path.join(scratch, "host-python-lz4")
    if not os.path.isdir(dest):
        with zipfile.ZipFile(wheel) as z:
            z.extractall(dest)
    if dest not in sys.path:
        sys.path.insert(0, dest)
    import lz4.block
    import lz4.frame
    assert lz4.frame.__file__.startswith(dest), lz4.frame.__file__
    return lz4


def _lz4_cli():
    path = shutil.which("lz4")
    if path is None:
        raise RuntimeError("the lz4 command line tool is missing (apt-get install lz4)")
    return path


def prepare(scratch):
    lz4 = _python_lz4(scratch)
    cli = _lz4_cli()
    out = os.path.join(scratch, "lz4")
    os.makedirs(out, exist_ok=True)
    for name, data in corpus().items():
        with open(os.path.join(out, f"{name}.raw"), "wb") as f:
            f.write(data)
        for bs in BLOCK_SIZES:
            for linked in (True, False):
                frame = lz4.frame.compress(data, block_size=bs, block_linked=linked,
                                           content_checksum=True, block_checksum=linked)
                with open(os.path.join(out, f"{name}.host-B{bs}-{int(linked)}.lz4"), "wb") as f:
                    f.write(frame)
        with open(os.path.join(out, f"{name}.host-hc.lz4"), "wb") as f:
            f.write(lz4.frame.compress(data, compression_level=12))
        with open(os.path.join(out, f"{name}.host.block"), "wb") as f:
            f.write(lz4.block.compress(data, mode="high_compression"))
        # The command line tool: every block size, linked and not, with the size.
        for b in (4, 5, 6, 7):
            for flags in ([], ["-BD"], ["--content-size", "-BX"]):
                target = os.path.join(out, f"{name}.cli-B{b}{''.join(flags)}.lz4")
                subprocess.run([cli, "-q", "-f", f"-B{b}", *flags,
                                os.path.join(out, f"{name}.raw"), target], check=True)
    return {"version": lz4.__version__, "library": lz4.library_version_string(),
            "block_sizes": BLOCK_SIZES}


def check(scratch):
    lz4 = _python_lz4(scratch)
    cli = _lz4_cli()
    out = os.path.join(scratch, "lz4")
    results = []
    bad_py, bad_cli, frames, blocks = [], [], 0, 0
    for name, data in corpus().items():
        for entry in sorted(os.listdir(out)):
            if not entry.startswith(f"{name}.guest"):
                continue
            path = os.path.join(out, entry)
            with open(path, "rb") as f:
                packed = f.read()
            if entry.endswith(".block"):
                blocks += 1
                if lz4.block.decompress(packed) != data:
                    bad_py.append(entry)
                continue
            frames += 1
            if lz4.frame.decompress(packed) != data:
                bad_py.append(entry)
            p = subprocess.run([cli, "-d", "-c", path], capture_output=True)
            if p.returncode != 0 or p.stdout != data:
                bad_cli.append(f"{entry}: exit {p.returncode} {p.stderr.decode()[-200:]}")
    results.append((f"the host's python-lz4 {lz4.__version__} reads the guest's {frames} frames "
                    f"and {blocks} blocks", frames > 0 and blocks > 0 and not bad_py,
                    ", ".join(bad_py)))
    results.append((f"the lz4 command line tool reads the guest's {frames} frames",
                    frames > 0 and not bad_cli, "\n".join(bad_cli)))
    return results
