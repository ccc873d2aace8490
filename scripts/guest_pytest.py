r"""Guest side of the smoke files that run a third-party package's own pytest suite
inside pylon.wasm. The host side (pypi_pins.stage_pytest) copies this file beside a
``wheels/`` directory holding the pinned pytest and its dependencies; a smoke file puts
that directory on sys.path, imports this module and calls ``run``.

``run(test_paths, expected, title, extra_args=(), rootdir=None, not_run=None,
trace_each_test=False)`` runs pytest in this interpreter (``pytest.main``) on
``test_paths`` and checks every outcome against ``expected``:

* every test that fails (in setup, call or teardown, or a test file that cannot even be
  collected) must be matched by an entry of ``expected``, which maps a pattern to the
  reason the test fails on Pylon;
* every entry must still match at least one failing test and no passing one, so the
  list cannot go stale (a test that starts passing fails the run until its entry goes).

``not_run`` (same patterns) names tests that must not run at all: they would take the
interpreter down with them (a wasm trap, a hang, an allocation the sandbox refuses), or
they are many parametrizations failing for one listed reason, where running one (listed
in ``expected``) proves the reason still holds and the rest would only cost minutes.
They are deselected and reported, and each entry must still match a collected test.

Patterns are pytest node ids relative to ``rootdir``, exactly as pytest prints them
(``tests/frame/test_frame_1.py::test_roundtrip[data0-1]``), or a prefix of them that ends
at a node boundary: a file (``tests/block/test_block_2.py``), a class or function
(``...::test_roundtrip`` takes every parametrization ``test_roundtrip[...]``), or a
directory ending in "/" (``tests/stream/``). No glob characters: parametrization ids
contain "[", "]" and "*" of their own. Where that is not enough (a few parameters of
one function), a key may be a compiled regular expression, matched against the whole
node id: ``re.compile(r"tests/block/test_block_0\.py::test_1\[data[036]-mode2[2-8]-.*")``.

The first line printed is the summary; skips follow with their reasons (the package's
own skip/skipif/xfail marks and our ``not_run``). Raises AssertionError on an unexpected
failure, a stale entry, or a pytest run that did not get as far as running the tests;
returns the number of tests run (a file that fails to collect counts as a failure, not
as a test run). pytest's own terminal output is kept and printed (to stderr) only when
pytest itself failed; failing tests are printed with their tracebacks. Progress goes to
stderr as each test file starts, so a wasm trap, which ends the guest with no Python
traceback, still says where it happened (``trace_each_test`` names each test instead).

What pytest needs on WASI (each option below says why): no fd-level capture and no
faulthandler (os.dup is unsupported: the ``capfd`` fixture cannot work, ``capsys``
does), no /dev/null (the logging plugin opens it), a writable base temp directory
(``tmp_path``; smoke files set ``tempfile.tempdir``), an existing working directory,
and no cache or bytecode written into the tests' directories. The package's own pytest
configuration (its addopts, markers) is not read; pass what its tests need with ``-o``.
"""
import collections
import contextlib
import glob
import io
import os
import re
import sys
import tempfile
import tracemalloc
import time

WHEELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wheels")
# Failing functions shown with a whole traceback; the rest are listed by id.
FULL_REPORTS = 20


def _import_pytest():
    """pytest from the pinned wheels, imported straight from the .whl files (zipimport:
    all of them are pure Python)."""
    wheels = sorted(glob.glob(os.path.join(WHEELS_DIR, "*.whl")))
    if not wheels:
        raise RuntimeError(f"no pytest wheels in {WHEELS_DIR}: the smoke file's host side "
                           "must stage them (pypi_pins.stage_pytest)")
    for wheel in reversed(wheels):
        if wheel not in sys.path:
            sys.path.insert(0, wheel)
    import pytest
    return pytest


def _matches(pattern, nodeid):
    if isinstance(pattern, re.Pattern):
        return pattern.fullmatch(nodeid) is not None
    if nodeid == pattern:
        return True
    if pattern.endswith("/"):
        return nodeid.startswith(pattern)
    return nodeid.startswith(pattern) and nodeid[len(pattern):].startswith(("::", "["))


def _show(pattern):
    return f"re:{pattern.pattern}" if isinstance(pattern, re.Pattern) else pattern


def _function_id(nodeid):
    """The node id without its parametrization, to group the skips of one function."""
    return nodeid.split("[", 1)[0]


def _skip_reason(report):
    if hasattr(report, "wasxfail"):
        return report.wasxfail or "(no reason given)"
    longrepr = report.longrepr
    # A skip's longrepr is (path, line, "Skipped: reason").
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


class _Outcomes:
    """A pytest plugin that records each test's outcome from pytest's reports (not from
    its text output), deselects the ``not_run`` tests, and says on stderr where the run
    is: a wasm trap ends the guest at once, with no Python traceback, and pytest's own
    output (kept in memory) is lost with it."""

    def __init__(self, not_run, progress, trace_each_test):
        self.not_run = not_run
        self.progress = progress    # the real stderr, not the one pytest.main redirects
        self.trace_each_test = trace_each_test
        self.current_file = None
        self.started = time.monotonic()
        self.deselected = {}        # pattern -> node ids deselected by it
        self.outcome = {}           # node id -> "passed" | "failed" | "skipped" | "xfailed"
        # node id -> (phase, report) per failure; rendered only for unexpected failures
        # (rendering thousands of expected ones took minutes in the guest)
        self.failure = collections.defaultdict(list)
        self.skip_reason = {}       # node id -> reason
        self.collect_errors = []    # node ids of files (or classes) that failed to collect

    def pytest_collection_modifyitems(self, session, config, items):
        if not self.not_run:
            return
        keep, dropped = [], []
        for item in items:
            hits = [p for p in self.not_run if _matches(p, item.nodeid)]
            for p in hits:
                self.deselected.setdefault(p, []).append(item.nodeid)
            (dropped if hits else keep).append(item)
        if dropped:
            items[:] = keep
            config.hook.pytest_deselected(items=dropped)

    def pytest_runtest_logstart(self, nodeid, location):
        if self.trace_each_test:
            print(f"guest_pytest: {nodeid}", file=self.progress, flush=True)
        elif location[0] != self.current_file:
            self.current_file = location[0]
            elapsed = time.monotonic() - self.started
            print(f"guest_pytest: {elapsed:.0f}s: running {self.current_file}",
                  file=self.progress, flush=True)

    def pytest_runtest_teardown(self, item, nextitem):
        # A test that starts tracemalloc and never stops it (python-lz4's memory-usage
        # tests) leaves every allocation of every later test traced: in the guest that
        # tripled a 100 s suite. Stopped after each test, so no test runs under another
        # test's tracing.
        if tracemalloc.is_tracing():
            tracemalloc.stop()

    def pytest_collectreport(self, report):
        if report.failed:
            self.collect_errors.append(report.nodeid)
            self.outcome[report.nodeid] = "failed"
            self.failure[report.nodeid].append(("collect", report))

    def pytest_runtest_logreport(self, report):
        # One test makes a report per phase (setup, call, teardown). A failure in any
        # phase fails the test; a skip happens in setup (marks) or call (pytest.skip).
        nodeid = report.nodeid
        if report.failed:
            self.outcome[nodeid] = "failed"
            self.failure[nodeid].append((report.when, report))
        elif report.skipped and self.outcome.get(nodeid) != "failed":
            self.outcome[nodeid] = "xfailed" if hasattr(report, "wasxfail") else "skipped"
            self.skip_reason[nodeid] = _skip_reason(report)
        elif report.when == "call" and nodeid not in self.outcome:
            self.outcome[nodeid] = "passed"


def _pytest_args(test_paths, rootdir, work, extra_args):
    ini = os.path.join(work, "pytest.ini")
    with open(ini, "w") as f:
        f.write("[pytest]\n")
    return [
        # Our own (empty) config instead of the package's setup.cfg/tox.ini/pyproject:
        # their addopts (-x, --cov, ...) are for the package's CI, not for this run.
        # With -c, rootdir and confcutdir would follow the ini's directory: name both.
        "-c", ini, f"--rootdir={rootdir}", f"--confcutdir={rootdir}",
        # .pytest_cache would be written into the (maybe read-only) tests directory.
        "-p", "no:cacheprovider",
        # Both dup file descriptors (os.dup), which WASI does not support.
        "-p", "no:faulthandler", "--capture=sys",
        # tmp_path lives here (pytest empties it first), instead of a per-user
        # directory under the system temp dir, which it would look up with getuser().
        f"--basetemp={os.path.join(work, 'basetemp')}",
        # The logging plugin opens os.devnull when no log file is named; the guest has
        # no /dev.
        f"--log-file={os.path.join(work, 'pytest.log')}",
        # A test file that fails to import is a failure to list, not the end of the run.
        "--continue-on-collection-errors",
        "-q", "--color=no", "--tb=short",
        *extra_args,
        *test_paths,
    ]


def run(test_paths, expected, title, extra_args=(), rootdir=None, not_run=None,
        trace_each_test=False):
    """Runs pytest on ``test_paths`` (relative to ``rootdir``, or absolute) and checks
    the outcomes as the module's doc says. Node ids are relative to ``rootdir``, which
    defaults to the paths' common directory: for ``/smoke/lz4/tests/block`` alone that
    is the directory itself (ids ``test_block_0.py::...``); pass ``rootdir="/smoke/lz4"``
    to get upstream's ids (``tests/block/test_block_0.py::...``).

    ``extra_args`` go to pytest after ours (e.g. ``-k``, ``-o name=value`` for an ini
    option the package's tests need). Progress goes to stderr, one line per test file,
    or per test with ``trace_each_test`` (to find a test that traps the interpreter).
    Returns the number of tests run."""
    pytest = _import_pytest()
    not_run = dict(not_run or {})
    if rootdir is None:
        if not all(os.path.isabs(p) for p in test_paths):
            raise ValueError("relative test paths need a rootdir to be relative to")
        rootdir = os.path.commonpath(test_paths)
        if not os.path.isdir(rootdir):
            rootdir = os.path.dirname(rootdir)
    # tempfile.gettempdir() must be writable: smoke files set tempfile.tempdir.
    work = tempfile.mkdtemp(prefix="guest-pytest-")
    outcomes = _Outcomes(not_run, sys.stderr, trace_each_test)
    output = io.StringIO()
    cwd = os.getcwd()
    # pytest returns to its starting directory at the end, and the guest's default one,
    # "/", is not a preopened directory: start in rootdir, where upstream's tests run.
    os.chdir(rootdir)
    # No __pycache__ in the tests' directories (maybe read-only), neither from pytest's
    # assertion rewriting nor from plain imports of conftest and helper modules.
    dont_write_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            code = pytest.main(_pytest_args(test_paths, rootdir, work, extra_args),
                               plugins=[outcomes])
    finally:
        sys.dont_write_bytecode = dont_write_bytecode
        with contextlib.suppress(OSError):  # "/" again: cannot go back, nor need to
            os.chdir(cwd)
    return _report(title, expected, not_run, outcomes, pytest.ExitCode(code), output)


def _report(title, expected, not_run, outcomes, code, output):
    failed = [n for n, o in outcomes.outcome.items() if o == "failed"]
    passed = [n for n, o in outcomes.outcome.items() if o == "passed"]
    counts = collections.Counter(outcomes.outcome.values())
    unexpected = [n for n in failed if not any(_matches(p, n) for p in expected)]
    # Any other exit code means pytest stopped before (or while) running the tests, and
    # then which entries are stale says nothing.
    broken = code not in (code.OK, code.TESTS_FAILED)
    stale = {}
    for pattern, reason in () if broken else expected.items():
        still_failing = any(_matches(pattern, n) for n in failed)
        now_passing = [n for n in passed if _matches(pattern, n)]
        if now_passing:
            shown = ", ".join(now_passing[:5]) + (", ..." if len(now_passing) > 5 else "")
            stale[pattern] = (f"listed as failing ({reason}) but {len(now_passing)} "
                              f"test(s) it names passed: {shown}")
        elif not still_failing:
            stale[pattern] = (f"listed as failing ({reason}) but names no failing test "
                              "(renamed, removed, or skipped now?)")
    for pattern, reason in () if broken else not_run.items():
        if pattern not in outcomes.deselected:
            stale[pattern] = f"listed as not to run ({reason}) but names no collected test"
    run_count = len(outcomes.outcome) - len(outcomes.collect_errors)
    deselected = sum(len(ids) for ids in outcomes.deselected.values())

    line = (f"{title}: {run_count} run, {counts['passed']} passed, "
            f"{len(failed) - len(unexpected)} expected failures, {counts['skipped']} skipped")
    if counts["xfailed"]:
        line += f", {counts['xfailed']} xfailed (the package's own marks)"
    if deselected:
        line += f", {deselected} not run"
    print(line + f", {len(unexpected)} unexpected failures")
    _print_skips(outcomes, not_run)
    sys.stdout.flush()  # the summary first, also where stdout and stderr are one stream

    _print_failures(unexpected, outcomes)
    for pattern, why in stale.items():
        print(f"STALE {_show(pattern)}: {why}; remove or narrow the entry", file=sys.stderr)
    if broken:
        print(f"pytest exited with {code.name}; its output:\n{output.getvalue()}",
              file=sys.stderr)
    problems = [f"{len(unexpected)} unexpected failure(s)" if unexpected else "",
                f"{len(stale)} stale entry(ies)" if stale else "",
                f"pytest exit {code.name}" if broken else "",
                "no test ran" if not run_count and not broken else ""]
    problems = [p for p in problems if p]
    assert not problems, f"{title}: " + ", ".join(problems) + " (see above)"
    return run_count


def _print_failures(unexpected, outcomes):
    """The first failure of each function with its traceback; its other
    parametrizations by count, with how many passed (when none did, the function's id
    is the entry to list)."""
    by_function = collections.defaultdict(list)
    for nodeid in sorted(unexpected):
        by_function[_function_id(nodeid)].append(nodeid)
    passed = collections.Counter(_function_id(n) for n, o in outcomes.outcome.items()
                                 if o == "passed")
    for i, (function, ids) in enumerate(sorted(by_function.items())):
        if i < FULL_REPORTS:
            texts = [f"[{when}] {report.longreprtext}" for when, report in outcomes.failure[ids[0]]]
            print(f"FAIL {ids[0]}\n" + "\n".join(texts), file=sys.stderr)
        else:
            print(f"FAIL {ids[0]} (traceback left out)", file=sys.stderr)
        if len(ids) > 1:
            print(f"FAIL {function}: {len(ids)} of its tests failed unexpectedly, "
                  f"{passed[function]} passed", file=sys.stderr)


def _print_skips(outcomes, not_run):
    """One line per function and reason: parametrized suites skip by the hundred."""
    groups = collections.defaultdict(list)
    for nodeid, reason in outcomes.skip_reason.items():
        kind = outcomes.outcome[nodeid]   # "skipped" or "xfailed" (a failure it expects)
        if kind in ("skipped", "xfailed"):
            groups[(kind, _function_id(nodeid), reason)].append(nodeid)
    for pattern, ids in outcomes.deselected.items():
        groups[("not run", _show(pattern), not_run[pattern])].extend(ids)
    for (kind, function, reason), ids in sorted(groups.items()):
        name = f"{function} ({len(ids)} tests)" if len(ids) > 1 else ids[0]
        print(f"  {kind} {name}: {reason}")
