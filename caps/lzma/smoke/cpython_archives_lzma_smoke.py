"""The xz/lzma parts of CPython's own test_tarfile, test_zipfile (core) and test_shutil
(from the pinned source tarball) inside pylon.wasm: the archive modules over Pylon's
_lzma (the lzma cap), unchanged. Tests are chosen by their id naming xz/lzma.

Every chosen test must pass except those in EXPECTED_FAILURES, each with its reason; a
listed test that passes fails this file. Skips are the suites' own (no chmod, symlinks,
pwd/grp or external tar/zip commands under WASI) and are printed with their reasons.
"""
import contextlib
import io
import json
import os
import sys
import tempfile

with open("/smoke/host.json") as f:
    host = json.load(f)["cpython_archives_lzma"]
sys.path.insert(0, host["python_path"])
work = tempfile.tempdir = "/smoke/tmp-archives-lzma"
os.makedirs(work, exist_ok=True)
os.chdir(work)

import cpython_suite  # noqa: E402
from test import test_shutil, test_tarfile  # noqa: E402
from test.test_zipfile import test_core  # noqa: E402

KEYWORDS = ("lzma", "xz")
# Test id (Class.method) -> why it fails on Pylon.
EXPECTED_FAILURES = {}

failures, reports = [], []
for module, name in ((test_tarfile, "test_tarfile"), (test_core, "test_zipfile"),
                     (test_shutil, "test_shutil")):
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            if not cpython_suite.run(module, EXPECTED_FAILURES, name, keywords=KEYWORDS):
                failures.append(f"{name}: no test matched {KEYWORDS}")
    except AssertionError as e:
        failures.append(f"{name}: {e}")
    reports.append(out.getvalue())
# The first line is the summary smoke.py shows; each module's report follows.
print("CPython's archive tests, " + KEYWORDS[0] + " parts: "
      + "; ".join(r.splitlines()[0] for r in reports if r))
for r in reports:
    print(r, end="")
assert not failures, failures
