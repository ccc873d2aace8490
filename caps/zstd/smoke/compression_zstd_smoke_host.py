"""Host side of compression_zstd_smoke.py: CPython's own zstd tests as an oracle.

CPython 3.14's ``compression.zstd`` is a Python layer over the C module ``_zstd``;
Pylon serves ``_zstd`` from its overlay on the zstd cap. The 3.14 source is not reachable
from the package registries this project uses, but PyPI's ``backports.zstd`` carries the
same Python layer and CPython's ``Lib/test/test_zstd.py`` (ported to 3.10-3.13) with the
``test.support`` helpers it needs. prepare() fetches that sdist, pinned by version and
sha256, and unpacks its Python layer and tests into the scratch directory for the guest.
The sdist's own ``_zstd`` (a C extension, or its CFFI twin) is never used: the guest
substitutes Pylon's. It also trains, with the host's ``zstd`` CLI, the dictionary the test
module would train for itself (the cap cannot train; see compression_zstd_smoke.py).

The sdist comes from ~/.cache/pylon/inputs when a file with the pinned digest is there,
else from ``PYLON_BACKPORTS_ZSTD_SDIST`` (a local copy), else from the package index pip
is configured with (``pip download``: the index host is pip's business, never named
here). Whatever the source, its sha256 must match the pin.
"""
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile

SDIST = "backports_zstd-1.8.0.tar.gz"
REQUIREMENT = "backports.zstd==1.8.0"
SHA256 = "9dae4f4c481716e3db473d667457b4f508ff7459c0931b567a5c9677fb3db316"
TOP = "backports_zstd-1.8.0/"
# What the guest needs from the sdist: the Python layer and the tests with their support
# package. The C sources, the bundled libzstd and the CFFI twin stay out.
WANTED = (TOP + "src/python/backports/", TOP + "tests/test/")
UNWANTED = (TOP + "src/python/backports/zstd/_cffi/",)

CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                     "pylon", "inputs")


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _verified(path, what):
    digest = _sha256(path)
    if digest != SHA256:
        raise RuntimeError(f"{what}: sha256 mismatch for {SDIST}: expected {SHA256}, "
                           f"got {digest}")
    return path


def sdist():
    """The pinned sdist's path in the cache, fetched and verified if needed."""
    cached = os.path.join(CACHE, SHA256, SDIST)
    if os.path.isfile(cached) and _sha256(cached) == SHA256:
        return cached
    os.makedirs(os.path.dirname(cached), exist_ok=True)
    with tempfile.TemporaryDirectory(dir=os.path.dirname(cached)) as tmp:
        local = os.environ.get("PYLON_BACKPORTS_ZSTD_SDIST")
        if local:
            fetched = os.path.join(tmp, SDIST)
            shutil.copyfile(local, fetched)
            what = f"PYLON_BACKPORTS_ZSTD_SDIST={local}"
        else:
            p = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                 "--no-binary", ":all:", "-d", tmp, REQUIREMENT],
                capture_output=True, text=True)
            fetched = os.path.join(tmp, SDIST)
            if p.returncode != 0 or not os.path.isfile(fetched):
                raise RuntimeError(f"pip download {REQUIREMENT} failed (exit "
                                   f"{p.returncode}); set PYLON_BACKPORTS_ZSTD_SDIST to a "
                                   f"local copy of {SDIST}\n{p.stderr}")
            what = f"pip download {REQUIREMENT}"
        _verified(fetched, what)
        os.replace(fetched, cached)  # atomic: the cache never holds a partial file
    return cached


def _unpack(archive, dest):
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            name = member.name
            if not (name + "/").startswith(WANTED) or (name + "/").startswith(UNWANTED):
                continue
            if not (member.isfile() or member.isdir()):
                continue  # no links: nothing in the pinned sdist needs them
            target = os.path.join(dest, name[len(TOP):])
            if member.isdir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with tar.extractfile(member) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)


def _train_dictionary(tmp):
    """A zstd-format dictionary trained by the host's CLI on samples shaped like the
    test module's own (lines of "<word> = <n>")."""
    cli = shutil.which("zstd")
    if cli is None:
        raise RuntimeError("the zstd command-line tool is needed to train the test "
                           "dictionary (scripts/install-prereqs.sh installs it)")
    rng = random.Random(3)
    words = [b"red", b"green", b"yellow", b"black", b"white", b"blue", b"lilac",
             b"purple", b"navy", b"gold", b"silver", b"olive", b"dog", b"cat", b"tiger",
             b"lion", b"fish", b"bird"]
    paths = []
    for i in range(300):
        path = os.path.join(tmp, f"sample{i:03d}")
        with open(path, "wb") as f:
            f.write(b"\n".join(b"%s = %d" % (rng.choice(words), rng.randrange(100))
                               for _ in range(20)))
        paths.append(path)
    out = os.path.join(tmp, "trained.dict")
    subprocess.run([cli, "-q", "--train", *paths, "-o", out, "--maxdict=3072"],
                   check=True, capture_output=True)
    with open(out, "rb") as f:
        return f.read()


def prepare(scratch):
    root = os.path.join(scratch, "backports-zstd")
    _unpack(sdist(), root)
    with tempfile.TemporaryDirectory() as tmp:
        trained = _train_dictionary(tmp)
    return {
        "python_path": ["/smoke/backports-zstd/src/python", "/smoke/backports-zstd/tests"],
        "trained_dict": trained.hex(),
        "sdist": SDIST,
    }


def check(scratch):
    return []
