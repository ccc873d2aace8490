"""Guest side of the smoke files that run one of CPython's own test modules inside
pylon.wasm (copied next to the extracted ``test`` package by cpython_source.py).

``run(module, expected_failures, title, keywords=None)`` runs every test of the module
(or those whose id contains one of ``keywords``, lowercase); each test that
fails must be listed in ``expected_failures`` (test id "Class.method" -> the reason),
and every listed test must still fail, so the list cannot go stale. The first line
printed is the summary; skips follow with the suite's own reasons. Raises
AssertionError (the smoke file fails) on an unexpected failure or a stale entry;
returns the number of tests run.
"""
import io
import sys
import unittest


def _test_id(test):
    return ".".join(test.id().split(".")[-2:])


def _select(suite, keywords):
    chosen = unittest.TestSuite()
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            chosen.addTests(_select(test, keywords))
        elif any(k in test.id().lower() for k in keywords):
            chosen.addTest(test)
    return chosen


def run(module, expected_failures, title, keywords=None):
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    if keywords:
        suite = _select(suite, keywords)
    stream = io.StringIO()
    result = unittest.TextTestRunner(stream=stream, verbosity=0).run(suite)
    failed = {}
    for test, trace in result.failures + result.errors:
        failed[_test_id(test)] = trace
    unexpected = {t: tr for t, tr in failed.items() if t not in expected_failures}
    stale = sorted(t for t in expected_failures if t not in failed)
    for t, trace in sorted(unexpected.items()):
        print(f"FAIL {t}\n{trace}", file=sys.stderr)
    for t in stale:
        print(f"STALE {t}: listed as an expected failure ({expected_failures[t]}) but "
              "passed; remove it from the list", file=sys.stderr)
    skipped = len(result.skipped)
    passed = result.testsRun - len(failed) - skipped
    print(f"{title}: {result.testsRun} run, {passed} passed, "
          f"{len(failed) - len(unexpected)} expected failures, {skipped} skipped, "
          f"{len(unexpected)} unexpected failures")
    for test, reason in result.skipped:
        print(f"  skipped {_test_id(test)}: {reason}")
    assert not unexpected and not stale, "see the failures above"
    return result.testsRun
