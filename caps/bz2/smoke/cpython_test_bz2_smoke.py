"""CPython's own test_bz2 (from the pinned source tarball) inside pylon.wasm, against
the stdlib's unchanged bz2.py over Pylon's _bz2 (the bz2 cap).

Every test must pass except those in EXPECTED_FAILURES, each with its reason; a listed
test that passes fails this file. Skips are the suite's own (no threads, no
subprocesses, no bigmem run) and are printed with their reasons.
"""
import json
import os
import sys
import tempfile

with open("/smoke/host.json") as f:
    host = json.load(f)["cpython_test_bz2"]
sys.path.insert(0, host["python_path"])
# The file tests write TESTFN into the working directory, and use tempfile.
work = tempfile.tempdir = "/smoke/tmp-bz2"
os.makedirs(work, exist_ok=True)
os.chdir(work)

import _bz2  # noqa: E402
import cpython_suite  # noqa: E402
from test import test_bz2  # noqa: E402

# Pylon's overlay (a .py in the stdlib zip, compiled to .pyc there), not a C module.
assert _bz2.__file__.endswith((".py", ".pyc")), f"not Pylon's _bz2: {_bz2.__file__}"

# Test id (Class.method) -> why it fails on Pylon.
EXPECTED_FAILURES = {}

cpython_suite.run(test_bz2, EXPECTED_FAILURES, "CPython's test_bz2 on Pylon's _bz2")
