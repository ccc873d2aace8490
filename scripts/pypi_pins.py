"""Pinned files from the Python package index, for smoke files that run a third-party
package's own tests inside pylon.wasm (their ``*_host.py`` imports this; scripts/ is on
their path).

``fetch(pins, what)``: ``pins`` is a list of (filename, sha256); returns the local paths
of exactly those files, each checked against its digest. They are cached by digest under
``$PYLON_CACHE_DIR/pypi/<sha256>/<filename>`` (``$PYLON_CACHE_DIR`` defaults to
``$XDG_CACHE_HOME/pylon``, else ``~/.cache/pylon``), so only the first use needs the
index. A missing file is fetched with ``pip download`` (the host's pip, reading the
index from the machine's own pip configuration, so no index is named here) into a
temporary directory inside the cache, checked, then renamed into place: an interrupted
or mismatching download leaves nothing cached.

``extract_sdist(path, dest, members)`` unpacks part of an sdist (tests, data files).

``stage_pytest(dest)`` puts the pinned pytest wheels (``PYTEST_WHEELS``) and the guest's
runner, guest_pytest.py, into ``dest`` for the guest to import.
"""
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

# pytest and everything it imports (pygments only colours its output); all pure Python,
# imported by the guest straight from the wheels.
PYTEST_WHEELS = [
    ("pytest-9.2.0-py3-none-any.whl",
     "07acdcf88ec174f907dc01af70bf52d49b014bbab03faeeade31c96b18c2e588"),
    ("pluggy-1.7.0-py3-none-any.whl",
     "7dd7b0d8832ba3cb632c306926ded123429211b83641b35dc5c41ad2d34f9bec"),
    ("iniconfig-2.3.1-py3-none-any.whl",
     "9121e2c1fdb355232495be3194c8dfe87ccc2d5dee45947b78e68f499790d7a7"),
    ("packaging-26.4-py3-none-any.whl",
     "81383611a09c1bc0b08b76e0fd5829d7c6824c65b27a6aee339da133f4233ea2"),
    ("pygments-2.21.0-py3-none-any.whl",
     "2363c69b61c4a97c838da3b130dcd6468f4848992b21a82f2a63ec34377137d9"),
]

SDIST_SUFFIXES = (".tar.gz", ".zip")


class PinError(RuntimeError):
    """A pinned file that cannot be had as pinned; the message says what to do."""


def cache_dir():
    base = os.environ.get("PYLON_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pylon")
    return os.path.join(base, "pypi")


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch(pins, what):
    """Local paths of the pinned files, in the order of ``pins``; ``what`` says what
    they are for, in errors."""
    paths = []
    for filename, sha256 in pins:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise PinError(f"{filename} (for {what}): pinned digest {sha256!r} is not a "
                           "lowercase hex sha256")
        cached = os.path.join(cache_dir(), sha256, filename)
        if os.path.isfile(cached):
            if sha256_of(cached) == sha256:
                paths.append(cached)
                continue
            # Corrupted in place (a disk error, an edit): fetch it again.
            os.remove(cached)
        paths.append(_download(filename, sha256, what, cached))
    return paths


def _download(filename, sha256, what, cached):
    os.makedirs(cache_dir(), exist_ok=True)
    _check_pip()
    print(f"pypi_pins: fetching {filename} for {what} with pip", file=sys.stderr)
    # Inside the cache, so the final rename stays on one file system.
    tmp = tempfile.mkdtemp(prefix=".download-", dir=cache_dir())
    try:
        # pip checks the hash itself (hash-checking mode, from a requirements file): a
        # wrong sdist is refused before pip runs its build backend for the metadata.
        requirements = os.path.join(tmp, "requirements.txt")
        name, version = _name_version(filename)
        with open(requirements, "w") as f:
            f.write(f"{name}=={version} --hash=sha256:{sha256}\n")
        downloads = os.path.join(tmp, "files")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps",
               "--disable-pip-version-check", "--no-input", "-d", downloads,
               *_pip_selection(filename), "-r", requirements]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            got = re.search(r"Got\s+([0-9a-f]{64})", p.stdout + p.stderr)
            if got:
                raise _mismatch(filename, what, sha256, got.group(1))
            raise PinError(
                f"{filename} (for {what}): `pip download` failed (exit {p.returncode}); "
                "the host needs the package index that pip is configured for "
                "(`pip config list` shows it).\n" + _tail(p.stdout + p.stderr))
        fetched = os.path.join(downloads, filename)
        if not os.path.isfile(fetched):
            got = sorted(os.listdir(downloads)) if os.path.isdir(downloads) else []
            raise PinError(f"{filename} (for {what}): pip fetched {got or 'nothing'} "
                           "instead; is the file name (and for a wheel, its tag) as the "
                           "index has it?")
        digest = sha256_of(fetched)
        if digest != sha256:
            raise _mismatch(filename, what, sha256, digest)
        os.makedirs(os.path.dirname(cached), exist_ok=True)
        os.replace(fetched, cached)
        return cached
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _mismatch(filename, what, pinned, got):
    return PinError(f"{filename} (for {what}): sha256 mismatch: pinned {pinned}, the index "
                    f"served {got}; nothing was cached. Check the pin against the "
                    "package's release before changing it.")


def _check_pip():
    p = subprocess.run([sys.executable, "-m", "pip", "--version"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise PinError(f"pip is missing for {sys.executable} (needed to fetch pinned "
                       "packages): `apt-get install python3-pip`.\n" + _tail(p.stderr))


def _tail(text, lines=15):
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _name_version(filename):
    if filename.endswith(".whl"):
        # name-version[-build]-python-abi-platform.whl; no part contains "-".
        parts = filename[:-len(".whl")].split("-")
        if len(parts) not in (5, 6):
            raise PinError(f"{filename}: not a wheel file name (name-version-py-abi-plat)")
        return parts[0], parts[1]
    for suffix in SDIST_SUFFIXES:
        if filename.endswith(suffix):
            # name-version.tar.gz; an old sdist's name may contain "-", a version cannot.
            name, _, version = filename[:-len(suffix)].rpartition("-")
            if name and version:
                return name, version
    raise PinError(f"{filename}: neither a wheel (.whl) nor an sdist "
                   f"({', '.join(SDIST_SUFFIXES)})")


def _pip_selection(filename):
    """pip options that make it fetch this kind of file: an sdist, a pure wheel, or a
    wheel for the tag in its name (not the host's own)."""
    if not filename.endswith(".whl"):
        return ["--no-binary", ":all:"]
    python, abi, platform = filename[:-len(".whl")].split("-")[-3:]
    options = ["--only-binary", ":all:"]
    if abi == "none" and platform == "any":
        return options
    # A compressed tag set ("manylinux_2_17_x86_64.manylinux2014_x86_64") is several
    # tags; pip takes --platform and --abi more than once. The interpreter is the first
    # python tag ("cp311" -> implementation cp, version 311).
    first = python.split(".")[0]
    m = re.fullmatch(r"([a-z]+)(\d+)", first)
    if not m:
        raise PinError(f"{filename}: cannot read the python tag {python!r}")
    options += ["--implementation", m.group(1), "--python-version", m.group(2)]
    for tag in abi.split("."):
        options += ["--abi", tag]
    for tag in platform.split("."):
        options += ["--platform", tag]
    return options


def extract_sdist(path, dest, members):
    """Unpacks from the sdist at ``path`` the ``members`` (paths relative to the sdist's
    top directory ``name-version/``; one ending in "/" is a whole directory) into
    ``dest``, keeping their relative paths. Regular files only: a link among them is an
    error, as is a member that matches nothing. Returns ``dest``."""
    wanted = list(members)
    matched = set()

    def take(name):
        top, _, rel = name.partition("/")
        hits = [w for w in wanted if rel == w or (w.endswith("/") and rel.startswith(w))]
        if not hits:
            return None
        if os.path.isabs(rel) or ".." in rel.split("/"):
            raise PinError(f"{path}: member {name!r} would land outside {dest}")
        matched.update(hits)
        return os.path.join(dest, rel)

    def write(target, src):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as out:
            shutil.copyfileobj(src, out)

    if path.endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                target = None if info.is_dir() else take(info.filename)
                if target:
                    with archive.open(info) as src:
                        write(target, src)
    else:
        with tarfile.open(path) as archive:
            for member in archive:
                target = None if member.isdir() else take(member.name)
                if not target:
                    continue
                if not member.isfile():
                    raise PinError(f"{path}: {member.name} is a link or special file; "
                                   "only regular files are extracted")
                with archive.extractfile(member) as src:
                    write(target, src)
    missing = [w for w in wanted if w not in matched]
    if missing:
        raise PinError(f"{path}: nothing in the sdist matches {missing}")
    return dest


def stage_pytest(dest):
    """The pinned pytest wheels in ``dest/wheels/`` and guest_pytest.py in ``dest``:
    the guest puts ``dest`` (its guest path) on sys.path and imports guest_pytest.
    Returns ``dest``."""
    wheels = os.path.join(dest, "wheels")
    os.makedirs(wheels, exist_ok=True)
    for path in fetch(PYTEST_WHEELS, "pytest inside pylon.wasm"):
        shutil.copyfile(path, os.path.join(wheels, os.path.basename(path)))
    runner = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest_pytest.py")
    shutil.copyfile(runner, os.path.join(dest, "guest_pytest.py"))
    return dest
