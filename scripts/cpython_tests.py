#!/usr/bin/env python3
"""`make cpython-tests`: CPython's own regression suite, from the source tarball this
pylon.wasm was built from, run inside build/pylon.wasm under pylon-launch, module by
module, against a committed expectations file.

Each module runs in its own interpreter with CPython's own runner (`python -m test
MODULE`): `Lib/test` from the pinned tarball, extracted afresh for each run of this
script, mapped read-write at /cpython-lib (some tests write modules beside their own,
into sys.path[0]), a fresh
scratch directory read-write as the guest's `/` (its working directory, and /tmp
inside it). Its outcome is one of

  pass         regrtest ran it and reported SUCCESS
  skip         regrtest skipped the whole module (its own reason is printed), or the
               module needs a resource regrtest enables only with -u (network, cpu...)
  fail         regrtest reported FAILURE (some tests failed or errored)
  env-changed  the tests passed but altered the environment (regrtest's exit 3)
  no-tests     nothing ran (regrtest's exit 4)
  trap         the interpreter was killed by a wasm trap (exit 134)
  timeout      pylon-launch's --timeout stopped it (exit 124)
  crash        anything else (the launcher's own error, an unknown status)

The expectations file (tests/cpython-tests.toml) lists every module that is not
expected to pass, with the outcome and the reason (needs threads/subprocess, a module
not built, a WASI limit...). A module may also list each test it skips
([module.NAME.skips]) or fails ([module.NAME.failures]) with the reason; it then runs
verbosely, and the tests it skipped and failed must be exactly those listed. A module whose outcome differs from the file -- including a
listed failure that now passes, so the file cannot go stale -- fails the run, and so
does every trap and crash, listed or not: the interpreter must raise, not trap.

  scripts/cpython_tests.py                 the curated subset CI runs ([ci] modules)
  scripts/cpython_tests.py --all           every test module of the tarball
  scripts/cpython_tests.py test_json ...   the named modules
  --json                                   one JSON document on stdout
  -j N                                     modules run at once (default: CPU count)

Exit status: 0 every module as expected, 1 a difference or a trap, 2 the harness could
not run (no pylon.wasm, no tarball, a malformed expectations file).
"""
import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTCOMES = ("pass", "skip", "fail", "env-changed", "no-tests", "trap", "timeout", "crash")
# Outcomes no expectations entry can make acceptable.
NEVER_EXPECTED = ("trap", "crash")


class HarnessError(Exception):
    """The run cannot start: exit 2."""


def load_expectations(path):
    """{module: (outcome, reason)}, {module: {"skips": {test id: reason}, "failures":
    {test id: reason}}} for the modules whose skipped and failing tests are accounted for
    one by one, and the CI subset, checked strictly: an unknown key, outcome or a
    missing reason names the entry."""
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise HarnessError(f"{path}: {e}") from e
    unknown = set(doc) - {"ci", "module"}
    if unknown:
        raise HarnessError(f"{path}: unknown top-level key(s) {sorted(unknown)} "
                           "(expected [ci] and [module.NAME] tables)")
    ci = doc.get("ci", {})
    if set(ci) - {"modules"} or not isinstance(ci.get("modules", []), list):
        raise HarnessError(f"{path}: [ci] takes one key, modules = [\"test_x\", ...]")
    expected, per_test = {}, {}
    for name, entry in doc.get("module", {}).items():
        where = f"{path}: [module.{name}]"
        if not isinstance(entry, dict) or set(entry) - {"outcome", "reason", "skips", "failures"}:
            raise HarnessError(f"{where}: takes outcome = \"...\", reason = \"...\" and "
                               "optional [module.NAME.skips] / [module.NAME.failures] tables")
        outcome, reason = entry.get("outcome"), entry.get("reason")
        tests = {}
        for key in ("skips", "failures"):
            table = entry.get(key)
            if table is None:
                continue
            if not isinstance(table, dict) or not all(
                    isinstance(r, str) and r.strip() for r in table.values()):
                raise HarnessError(f"{where}.{key}: maps test ids to reasons "
                                   "(\"test.mod.Class.test_x\" = \"why\")")
            tests[key] = table
        if outcome not in OUTCOMES or (outcome == "pass" and not tests):
            raise HarnessError(f"{where}: outcome must be one of "
                               f"{', '.join(o for o in OUTCOMES if o != 'pass')}, "
                               f"not {outcome!r} (a passing module is listed only to "
                               "account for the tests it skips, in [module.NAME.skips])")
        if tests.get("failures") and outcome != "fail":
            raise HarnessError(f"{where}: [module.NAME.failures] needs outcome = \"fail\"")
        if not isinstance(reason, str) or not reason.strip():
            raise HarnessError(f"{where}: every entry needs a reason")
        expected[name] = (outcome, reason)
        if tests:
            per_test[name] = {"skips": tests.get("skips", {}),
                              "failures": tests.get("failures", {})}
    return expected, per_test, list(ci.get("modules", []))


def pinned_tarball(wasm):
    """The CPython source this pylon.wasm was built from, from pylon's input cache,
    checked against the digest its record.json names."""
    record_path = os.path.join(os.path.dirname(os.path.realpath(wasm)), "record.json")
    try:
        with open(record_path) as f:
            sha = json.load(f)["inputs"]["tarball_sha256"]
    except (OSError, KeyError, ValueError) as e:
        raise HarnessError(f"{record_path}: cannot read the tarball's digest ({e}); "
                           "run `make build`") from e
    cache = os.environ.get("PYLON_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pylon")
    path = os.path.join(cache, "inputs", sha)
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError as e:
        raise HarnessError(f"the CPython tarball {sha} is not in pylon's input cache "
                           f"({e}); run `make build`") from e
    if h.hexdigest() != sha:
        raise HarnessError(f"{path} does not have the sha256 {sha} record.json names")
    return path


def extract_lib_test(tarball, dest):
    """`Lib/test/` of the tarball into `dest/test/`; returns the test module names
    (test_*.py files and test_* packages), sorted."""
    with tarfile.open(tarball) as tar:
        for member in tar:
            parts = member.name.split("/", 3)
            if len(parts) < 4 or parts[1:3] != ["Lib", "test"]:
                continue
            if not (member.isfile() or member.isdir()):
                continue  # links and devices: not needed, never followed
            member.name = "test/" + parts[3]
            tar.extract(member, dest, filter="data")
    names = set()
    for entry in os.listdir(os.path.join(dest, "test")):
        if entry.startswith("test_"):
            if entry.endswith(".py"):
                names.add(entry[:-3])
            elif os.path.isfile(os.path.join(dest, "test", entry, "__init__.py")):
                names.add(entry)
    return sorted(names)


RESULT = re.compile(r"^Result: (.+)$", re.M)
TOTALS = re.compile(r"^Total tests: (.+)$", re.M)
FILES = re.compile(r"^Total test files: (.+)$", re.M)
SKIPPED = re.compile(r"^(test_\S+) skipped(?: \(resource denied\))? -- (.+)$", re.M)


# One test in unittest's verbose output: `test_x (test.mod.Class.test_x) ... ok`, with
# the status on the next line when the test has a docstring; class-level skips print
# `setUpClass (test.mod.Class) ... skipped '...'`.
TEST_LINE = re.compile(r"^\w+ \(([\w.]+)\)")
SKIP_STATUS = re.compile(r""" \.\.\. skipped (['"])(.*)\1$""")


FAIL_STATUS = re.compile(r" \.\.\. (FAIL|ERROR)$")


def test_statuses(output):
    """({test id: the suite's reason} for every test the verbose run skipped,
    {test id: "FAIL" or "ERROR"} for every test that failed)."""
    skipped, failed = {}, {}
    lines = output.splitlines()
    for i, line in enumerate(lines):
        m = TEST_LINE.match(line)
        if not m:
            continue
        rest = line[m.end():]
        if " ... " not in rest and i + 1 < len(lines):
            rest = lines[i + 1]  # the docstring's line carries the status
        if status := SKIP_STATUS.search(rest):
            skipped[m.group(1)] = status.group(2)
        elif status := FAIL_STATUS.search(rest):
            failed[m.group(1)] = status.group(1)
    return skipped, failed


def compare_tests(what, seen, listed):
    """What differs between the tests a run skipped (or failed) and those listed."""
    extra = sorted(set(seen) - set(listed))
    gone = sorted(set(listed) - set(seen))
    lines = [f"{what} but not listed: {t} ({seen[t]})" for t in extra]
    lines += [f"listed as {what} but was not: {t}" for t in gone]
    return lines


def classify(code, output):
    """(outcome, detail) of one `python -m test MODULE` run."""
    if code == 134:
        return "trap", ""
    if code == 124:
        return "timeout", ""
    result = RESULT.search(output)
    totals = TOTALS.search(output)
    detail = totals.group(1) if totals else ""
    files = FILES.search(output)
    if code == 0 and result and result.group(1).startswith("SUCCESS"):
        if files and "skipped=1" in files.group(1):
            why = SKIPPED.search(output)
            return "skip", why.group(2) if why else "skipped"
        return "pass", detail
    # A resource the suite gates behind `-u` (network, cpu, curses, ...): regrtest says
    # NO TESTS RAN and exits 1; that is the module skipping itself, with its reason.
    if files and "resource_denied=1" in files.group(1):
        why = SKIPPED.search(output)
        return "skip", why.group(2) if why else "resource denied"
    if code in (1, 2) and result and "FAILURE" in result.group(1):
        return "fail", detail
    if code == 3:
        return "env-changed", detail
    if code == 4:
        return "no-tests", detail
    return "crash", f"exit status {code}"


def run_module(args, module, lib_dir, verbose=False):
    with tempfile.TemporaryDirectory(prefix=f"pylon-cpt-{module}-") as scratch:
        # The scratch directory is the guest's whole root, read-write: the suite
        # writes beside its working directory (`/`) as well as in /tmp.
        os.mkdir(os.path.join(scratch, "tmp"))
        cmd = [args.launch, "--wasm", args.wasm, "--timeout", f"{args.timeout}s",
               "--dir", f"{lib_dir}::/cpython-lib::rw", "--dir", f"{scratch}::/::rw",
               "--env", "PYTHONPATH=/cpython-lib", "--env", "TMPDIR=/tmp",
               "--", "-m", "test", *(["-v"] if verbose else []), module]
        start = time.monotonic()
        # The output is bounded by the launcher's own --timeout; it goes to a file,
        # not a pipe, so a flood cannot block the guest or fill memory here.
        with tempfile.TemporaryFile() as out:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=subprocess.STDOUT)
            out.seek(0)
            text = out.read(8 << 20).decode("utf-8", "replace")
    outcome, detail = classify(proc.returncode, text)
    result = {"module": module, "outcome": outcome, "detail": detail,
              "seconds": round(time.monotonic() - start, 1),
              "tail": text.splitlines()[-40:]}
    if verbose:
        result["skipped_tests"], result["failed_tests"] = test_statuses(text)
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("modules", nargs="*", help="test modules to run (default: [ci] modules)")
    ap.add_argument("--all", action="store_true", help="every test module of the tarball")
    ap.add_argument("--wasm", default=os.path.join(ROOT, "build", "pylon.wasm"))
    ap.add_argument("--launch", default=os.path.join(ROOT, "target", "release", "pylon-launch"))
    ap.add_argument("--expectations", default=os.path.join(ROOT, "tests", "cpython-tests.toml"))
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--timeout", type=int, default=900, help="seconds per module")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    try:
        for path, what in ((args.launch, "pylon-launch (make tools)"),
                           (args.wasm, "pylon.wasm (make build)")):
            if not os.path.exists(path):
                raise HarnessError(f"{path} is missing: {what}")
        expected, per_test, ci_modules = load_expectations(args.expectations)
        tarball = pinned_tarball(args.wasm)
        with tempfile.TemporaryDirectory(prefix="pylon-cpython-tests-") as lib_dir:
            available = extract_lib_test(tarball, lib_dir)
            chosen = available if args.all else (args.modules or ci_modules)
            missing = [m for m in chosen if m not in available]
            stray = [m for m in expected if m not in available]
            if missing or stray:
                raise HarnessError(
                    "not test modules of this CPython: "
                    + ", ".join(sorted(set(missing + stray)))
                    + f" (named on the command line or in {args.expectations})")
            # Compile once before the parallel runs share the launcher's cache.
            subprocess.run([args.launch, "--wasm", args.wasm, "-c", "pass"],
                           stdin=subprocess.DEVNULL, check=False)
            results = []
            with ThreadPoolExecutor(max(1, args.jobs)) as pool:
                for i, r in enumerate(pool.map(
                        lambda m: run_module(args, m, lib_dir, m in per_test),
                        chosen), 1):
                    want = expected.get(r["module"], ("pass", ""))[0]
                    r["expected"] = want
                    r["as_expected"] = r["outcome"] == want and want not in NEVER_EXPECTED
                    if r["module"] in per_test:
                        listed = per_test[r["module"]]
                        r["test_differences"] = (
                            compare_tests("skipped", r["skipped_tests"], listed["skips"])
                            + compare_tests("failed", r["failed_tests"], listed["failures"]))
                        r["as_expected"] = r["as_expected"] and not r["test_differences"]
                    mark = "ok  " if r["as_expected"] else "DIFF"
                    print(f"[{i}/{len(chosen)}] {mark} {r['module']}: {r['outcome']}"
                          f" (expected {want}, {r['seconds']}s) {r['detail']}",
                          file=sys.stderr, flush=True)
                    results.append(r)
    except HarnessError as e:
        print(f"cpython-tests: {e}", file=sys.stderr)
        return 2
    counts = {o: sum(r["outcome"] == o for r in results) for o in OUTCOMES}
    differing = [r for r in results if not r["as_expected"]]
    ok = not differing
    if args.json:
        json.dump({"format_version": 1, "success": ok, "counts": counts,
                   "modules": [{k: v for k, v in r.items() if k != "tail" or not r["as_expected"]}
                               for r in results]}, sys.stdout, indent=1)
        print()
    else:
        for r in differing:
            reason = expected.get(r["module"], (None, "not listed: expected to pass"))[1]
            print(f"\n== {r['module']}: {r['outcome']}, expected {r['expected']} ({reason})")
            for line in r.get("test_differences", []):
                print("   " + line)
            print("\n".join("   " + line for line in r["tail"][-25:]))
        print("\ncpython-tests: " + ", ".join(f"{n} {o}" for o, n in counts.items() if n)
              + f"; {len(results)} modules, {len(differing)} not as expected")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
