"""CPython's own test_lzma (from the pinned source tarball) inside pylon.wasm, against
the stdlib's unchanged lzma.py over Pylon's _lzma (the lzma cap).

Every test must pass except those in EXPECTED_FAILURES, each with its reason; a listed
test that passes fails this file. Skips are the suite's own and are printed with their
reasons.
"""
import json
import os
import sys
import tempfile

with open("/smoke/host.json") as f:
    host = json.load(f)["cpython_test_lzma"]
sys.path.insert(0, host["python_path"])
work = tempfile.tempdir = "/smoke/tmp-lzma"
os.makedirs(work, exist_ok=True)
os.chdir(work)

import _lzma  # noqa: E402
import cpython_suite  # noqa: E402
from test import test_lzma  # noqa: E402

# Pylon's overlay (a .py in the stdlib zip), not a C module.
assert _lzma.__file__.endswith((".py", ".pyc")), f"not Pylon's _lzma: {_lzma.__file__}"

# Test id (Class.method) -> why it fails on Pylon.
EXPECTED_FAILURES = {}

cpython_suite.run(test_lzma, EXPECTED_FAILURES, "CPython's test_lzma on Pylon's _lzma")
