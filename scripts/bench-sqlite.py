#!/usr/bin/env python3
"""sqlite3 inside pylon.wasm against the host's CPython sqlite3, same run.

One fixed workload, run by the same script in both: 100,000 inserts in one transaction
into an indexed table of a file database, 20,000 indexed point selects (each its own
implicit transaction, then all in one read transaction), a grouped aggregate over the
table, and a query that calls a Python function for every row
(the callback path a cap could not serve). Each phase is timed inside the interpreter
(time.perf_counter around the calls only), best of 3, each run on a fresh file. The
host is the real binary (default /usr/bin/python3), with its own SQLite. Prints a
Markdown table for BENCHMARKS.md.

    python3 scripts/bench-sqlite.py [--host-python /usr/bin/python3]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHASES = ("100k inserts, one transaction", "20k indexed selects",
          "20k indexed selects, one read transaction", "grouped aggregate",
          "Python function on 100k rows")

WORKLOAD = r'''
import json, os, sqlite3, sys, time
base = sys.argv[1]
best = {}
for run in range(3):
    path = os.path.join(base, f"bench-{run}.db")
    for suffix in ("", "-journal"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    cx = sqlite3.connect(path)
    cx.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, grp INTEGER, v REAL)")
    cx.execute("CREATE INDEX t_k ON t(k)")
    rows = [(i, f"key-{i * 7919 % 100000:06d}", i % 100, i * 0.5) for i in range(100000)]
    times = {}
    t = time.perf_counter()
    with cx:
        cx.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    times["100k inserts, one transaction"] = time.perf_counter() - t
    t = time.perf_counter()
    n = 0
    for i in range(0, 100000, 5):
        n += cx.execute("SELECT v FROM t WHERE k = ?", (f"key-{i:06d}",)).fetchone() is not None
    times["20k indexed selects"] = time.perf_counter() - t
    assert n == 20000, n
    # The same inside one read transaction: SQLite then takes its lock and checks the
    # file once, not once per statement.
    t = time.perf_counter()
    cx.execute("BEGIN")
    n = 0
    for i in range(0, 100000, 5):
        n += cx.execute("SELECT v FROM t WHERE k = ?", (f"key-{i:06d}",)).fetchone() is not None
    cx.execute("COMMIT")
    times["20k indexed selects, one read transaction"] = time.perf_counter() - t
    assert n == 20000, n
    t = time.perf_counter()
    agg = cx.execute("SELECT grp, count(*), sum(v), avg(length(k)) FROM t GROUP BY grp").fetchall()
    times["grouped aggregate"] = time.perf_counter() - t
    assert len(agg) == 100
    cx.create_function("halve", 1, lambda x: x / 2, deterministic=True)
    t = time.perf_counter()
    total = cx.execute("SELECT sum(halve(v)) FROM t").fetchone()[0]
    times["Python function on 100k rows"] = time.perf_counter() - t
    assert total == sum(i * 0.25 for i in range(100000))
    cx.close()
    os.remove(path)
    for k, v in times.items():
        best[k] = min(best.get(k, v), v)
print(json.dumps({"python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version,
                  "times": best}))
'''


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host-python", default="/usr/bin/python3")
    ap.add_argument("--launch", default=os.path.join(ROOT, "target/release/pylon-launch"))
    ap.add_argument("--wasm", default=os.path.join(ROOT, "build/pylon.wasm"))
    args = ap.parse_args()
    host_python = os.path.realpath(args.host_python)
    with tempfile.TemporaryDirectory(prefix="pylon-bench-sqlite-") as tmp:
        script = os.path.join(tmp, "bench.py")
        with open(script, "w") as f:
            f.write(WORKLOAD)
        os.mkdir(os.path.join(tmp, "guest"))
        os.mkdir(os.path.join(tmp, "host"))
        guest = subprocess.run(
            [args.launch, "--wasm", args.wasm, "--dir", f"{tmp}::/bench::rw", "--",
             "/bench/bench.py", "/bench/guest"], capture_output=True, text=True)
        if guest.returncode != 0:
            sys.exit(f"bench-sqlite: the guest failed ({guest.returncode}):\n{guest.stderr}")
        host = subprocess.run([host_python, script, os.path.join(tmp, "host")],
                              capture_output=True, text=True, check=True)
    g, h = json.loads(guest.stdout), json.loads(host.stdout)
    print(f"pylon.wasm (CPython {g['python']}, SQLite {g['sqlite']}) under pylon-launch vs "
          f"{host_python} (CPython {h['python']}, SQLite {h['sqlite']}), same run, "
          "best of 3, file databases in one temporary directory.\n")
    print("| phase | pylon.wasm s | host s | ratio (pylon / host) |")
    print("|---|---|---|---|")
    for phase in PHASES:
        gs, hs = g["times"][phase], h["times"][phase]
        print(f"| {phase} | {gs:.3f} | {hs:.3f} | {gs / hs:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
