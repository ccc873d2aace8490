#!/usr/bin/env python3
"""Prints CI's time table and checks the compile budget.

Usage: ci-time-table.py STEPS.tsv LEDGER.jsonl MANIFEST

STEPS.tsv has one line per step run by .ci/run: name, seconds, exit status.
LEDGER.jsonl is the build ledger pylon itself appends to (PYLON_BUILD_LEDGER): one
record per compilation of a cap, of CPython (wasm32-wasip2) or of the native build
python, by whichever process compiled it (caps-sync, pylon build, repro-check's
children, tests). The counts below come from those records, not from this script.

Exit status: 0 within the compile budget (every cap of the manifest and CPython
compiled at most twice), 1 over it, 2 bad input.
"""

import json
import re
import sys

BUDGET_SECONDS = 45 * 60
MAX_COMPILES = 2


def manifest_caps(path):
    """Cap names of caps-manifest.toml, in order (the [[cap]] tables' `name`)."""
    names, in_cap = [], False
    with open(path, encoding="utf-8") as f:
        for line in f:
            stripped = line.strip()
            if stripped.startswith("["):
                in_cap = stripped == "[[cap]]"
                continue
            m = re.match(r'name\s*=\s*"([^"]+)"', stripped)
            if in_cap and m:
                names.append(m.group(1))
    return names


def minutes(s):
    return f"{int(s) // 60}m{int(s) % 60:02d}s"


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    steps_path, ledger_path, manifest_path = argv[1:]
    steps = []
    with open(steps_path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3:
                steps.append((parts[0], int(parts[1]), int(parts[2])))
    records = []
    try:
        with open(ledger_path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    try:
                        records.append(json.loads(line))
                    except json.JSONDecodeError as e:
                        print(f"{ledger_path}:{n}: {e}", file=sys.stderr)
                        return 2
    except FileNotFoundError:
        pass
    caps = manifest_caps(manifest_path)

    total = sum(s for _, s, _ in steps)
    width = max([len(n) for n, _, _ in steps] + [5])
    print()
    print("== CI time table")
    print(f"  {'step':<{width}}  {'seconds':>7}  status")
    for name, secs, rc in steps:
        status = "ok" if rc == 0 else f"FAILED ({rc})"
        print(f"  {name:<{width}}  {secs:>7}  {status}")
    verdict = "within" if total <= BUDGET_SECONDS else "OVER"
    print(f"  {'total':<{width}}  {total:>7}  {minutes(total)}, {verdict} the "
          f"{BUDGET_SECONDS // 60}-minute budget")

    def compiles(subject, name):
        rows = [r for r in records
                if r.get("subject") == subject and r.get("name") == name and r.get("compiled")]
        return rows

    print()
    print("== compilations (from pylon's build ledger)")
    over = []
    subjects = [("cap", c) for c in caps]
    profiles = sorted({r.get("name") for r in records if r.get("subject") == "cpython"})
    subjects += [("cpython", p) for p in profiles]
    subjects += [("build-python", p) for p in sorted(
        {r.get("name") for r in records if r.get("subject") == "build-python"})]
    for subject, name in subjects:
        rows = compiles(subject, name)
        detail = ", ".join(f"{r.get('by', '?')} {r.get('how', '?')} {r.get('seconds', 0):.0f}s"
                           for r in rows)
        label = f"{subject} {name}"
        print(f"  {label:<24} {len(rows)}x  {detail}")
        # The native build python is a build tool of CPython's cross build, rebuilt cold
        # by the varied product build; it is listed, not budgeted.
        if subject != "build-python" and len(rows) > MAX_COMPILES:
            over.append(f"{label} compiled {len(rows)} times (budget: {MAX_COMPILES})")
    fixtures = [r for r in records if r.get("subject") == "cap" and r.get("name") not in caps]
    if fixtures:
        compiled = sum(1 for r in fixtures if r.get("compiled"))
        secs = sum(r.get("seconds", 0) for r in fixtures)
        print(f"  {'test fixture caps':<24} {compiled} builds of tiny caps, {secs:.0f}s in all")
    fresh = sum(1 for r in records if r.get("subject") == "cap" and r.get("name") in caps
                and not r.get("compiled"))
    if fresh:
        print(f"  ({fresh} cap build(s) found everything fresh and compiled nothing)")
    for line in over:
        print(f"OVER BUDGET: {line}", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
