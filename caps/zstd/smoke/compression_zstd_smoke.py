"""CPython's own zstd test suite against Pylon's ``_zstd``, run inside pylon.wasm.

CPython 3.14's ``compression.zstd`` is Python over the C module ``_zstd``; on Pylon,
``_zstd`` is an overlay over the zstd cap. Here the 3.14 Python layer and
``Lib/test/test_zstd.py``, as carried by PyPI's ``backports.zstd`` 1.8.0 (fetched and
unpacked by compression_zstd_smoke_host.py), run with Pylon's ``_zstd`` standing in for
the package's own extension module. This is what the 3.14 profile's stdlib does, on the
3.13 interpreter this machine can build.

Two things the cap cannot do are accounted for, not hidden:
* The test module trains a dictionary in setUpModule; the cap cannot train, so for that
  one call ``train_dict`` returns a dictionary trained by the host's ``zstd`` CLI. The
  tests of ``train_dict``/``finalize_dict`` themselves run against Pylon's.
* EXPECTED_FAILURES lists each test that fails because of a documented limit of the
  cap, with the limit. Every other test must pass, and every listed test must still
  fail (a listed test that passes is reported, so the list cannot go stale).
"""
import io
import json
import os
import sys
import tempfile
import unittest

with open("/smoke/host.json") as f:
    host = json.load(f)["compression_zstd"]
sys.path[:0] = host["python_path"]
# The file tests need a temporary directory; the guest sees only /tests and /smoke.
tempfile.tempdir = "/smoke/tmp"
os.makedirs(tempfile.tempdir, exist_ok=True)

import _zstd  # noqa: E402  Pylon's overlay, the module under test

# backports.zstd imports its extension as backports.zstd._zstd: hand it Pylon's.
sys.modules["backports.zstd._zstd"] = _zstd

import backports.zstd  # noqa: E402
from test import test_zstd as suite_module  # noqa: E402

assert backports.zstd._zstd is _zstd, "the package did not take Pylon's _zstd"
assert suite_module._zstd is _zstd

TRAINED = _zstd.ZstdDict(bytes.fromhex(host["trained_dict"]))

# Test id (Class.method) -> the cap's limit that makes it fail.
PARAMETERS = ("the cap sets zstd's advanced compression parameters from the level; "
              "only compression_level and the three flags can be set")
TRAINING = "the cap cannot train or finalize dictionaries"
EXPECTED_FAILURES = {
    "CompressorTestCase.test_compress_parameters": PARAMETERS,
    "ZstdDictTestCase.test_advanced_compression_parameters": PARAMETERS,
    "ZstdDictTestCase.test_train_dict": TRAINING,
    "ZstdDictTestCase.test_finalize_dict": TRAINING,
    "ZstdDictTestCase.test_train_buffer_protocol_samples": TRAINING,
}


def set_up_module_with_host_dictionary(original=suite_module.setUpModule):
    real_train_dict = suite_module.train_dict
    suite_module.train_dict = lambda samples, dict_size: TRAINED
    try:
        original()
    finally:
        suite_module.train_dict = real_train_dict


suite_module.setUpModule = set_up_module_with_host_dictionary


def test_id(test):
    return ".".join(test.id().split(".")[-2:])


stream = io.StringIO()
result = unittest.TextTestRunner(stream=stream, verbosity=0).run(
    unittest.defaultTestLoader.loadTestsFromModule(suite_module))

failed = {}
for test, trace in result.failures + result.errors:
    failed[test_id(test)] = trace
unexpected = {t: tr for t, tr in failed.items() if t not in EXPECTED_FAILURES}
stale = sorted(t for t in EXPECTED_FAILURES if t not in failed)

for t, trace in sorted(unexpected.items()):
    print(f"FAIL {t}\n{trace}", file=sys.stderr)
for t in stale:
    print(f"STALE {t}: listed in EXPECTED_FAILURES ({EXPECTED_FAILURES[t]}) but did not "
          "fail; remove it from the list", file=sys.stderr)
skipped = len(result.skipped)
passed = result.testsRun - len(failed) - skipped
print(f"compression.zstd tests ({host['sdist']}) on Pylon's _zstd: {result.testsRun} run, "
      f"{passed} passed, {len(failed) - len(unexpected)} expected failures "
      f"({len(EXPECTED_FAILURES)} listed), {skipped} skipped, {len(unexpected)} unexpected "
      "failures")
for test, reason in result.skipped:
    print(f"  skipped {test_id(test)}: {reason}")
assert not unexpected and not stale, "see the failures above"
