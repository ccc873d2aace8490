"""CPython's own test_zlib (from the pinned source tarball) inside pylon.wasm, against
Pylon's zlib (the zlib cap).

Every test must pass except those in EXPECTED_FAILURES, each with its reason; a listed
test that passes fails this file. Skips are the suite's own (64-bit only, bigmem,
refcount builds) and are printed with their reasons.
"""
import json
import os
import sys
import tempfile

with open("/smoke/host.json") as f:
    host = json.load(f)["cpython_test_zlib"]
sys.path.insert(0, host["python_path"])
work = tempfile.tempdir = "/smoke/tmp-zlib"
os.makedirs(work, exist_ok=True)
os.chdir(work)

import zlib  # noqa: E402
import cpython_suite  # noqa: E402
from test import test_zlib  # noqa: E402

# Pylon's overlay (a .py in the stdlib zip), not a C module.
assert zlib.__file__.endswith((".py", ".pyc")), f"not Pylon's zlib: {zlib.__file__}"

# Test id (Class.method) -> why it fails on Pylon.
EXPECTED_FAILURES = {}

cpython_suite.run(test_zlib, EXPECTED_FAILURES, "CPython's test_zlib on Pylon's zlib")
