"""CPython's own test files from the source tarball the product was built from, for
smoke files that run a module of ``Lib/test`` inside pylon.wasm (their ``*_host.py``
imports this; scripts/ is on their path).

scripts/smoke.py sets ``PYLON_SMOKE_CPYTHON_TARBALL`` to the pinned tarball in pylon's
input cache (``build/<profile>/record.json`` names it by sha256; ``make build`` put it
there), after checking its digest.
"""
import os
import shutil
import tarfile


def tarball():
    path = os.environ.get("PYLON_SMOKE_CPYTHON_TARBALL")
    if not path or not os.path.isfile(path):
        raise RuntimeError("the CPython source tarball of this build is not in pylon's "
                           "input cache (run `make build`, or pass --cpython-tarball to it)")
    return path


def extract_tests(dest, wanted, filler_bytes=0):
    """Extracts ``Lib/test/<name>`` for every name in ``wanted`` (a file, or a directory
    ending in "/") into ``dest/test/``, with the package's ``__init__.py``; plus, when
    ``filler_bytes`` is set, top-level ``Lib/test/*.py`` files (by name) up to that size,
    for tests that read their own directory's sources as sample data. The guest's
    runner, cpython_suite.py, is copied beside ``test/``. Returns the directory to put
    on the guest's sys.path (the parent of ``test/``)."""
    wanted = tuple(wanted) + ("__init__.py",)
    filled = 0
    with tarfile.open(tarball()) as tar:
        for member in tar:
            parts = member.name.split("/", 3)
            if len(parts) < 4 or parts[1:3] != ["Lib", "test"] or not member.isfile():
                continue
            rel = parts[3]
            take = any(rel == w or (w.endswith("/") and rel.startswith(w)) for w in wanted)
            if not take and filled < filler_bytes and "/" not in rel and rel.endswith(".py"):
                take = True
                filled += member.size
            if not take:
                continue
            target = os.path.join(dest, "test", rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with tar.extractfile(member) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
    shutil.copyfile(os.path.join(os.path.dirname(__file__), "cpython_suite.py"),
                    os.path.join(dest, "cpython_suite.py"))
    return dest
