"""Host side of sqlite3_smoke.py: databases the host's SQLite writes for the guest
(one in WAL mode), and checks that the host's Python and its sqlite3 CLI read what the
guest wrote."""
import json
import os
import re
import shutil
import sqlite3
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WAL_ROWS = 250


def _pinned_version():
    """The SQLite version the product under test was built with: its build record names
    the SQLite source tarball (`sqlite3_<version>.orig.tar.xz`)."""
    wasm = os.path.realpath(os.path.join(ROOT, "build", "pylon.wasm"))
    with open(os.path.join(os.path.dirname(wasm), "record.json")) as f:
        line = json.load(f)["inputs"]["sqlite"]
    m = re.match(r"sqlite sqlite3_(\d+\.\d+\.\d+)\.orig\.tar\.xz ", line or "")
    assert m, f"record.json names no SQLite source: {line!r}"
    return m.group(1)


def _words():
    return [(i, f"word-{i}-ü", bytes(range(i % 7, i % 7 + 40)).hex()) for i in range(1, 301)]


def prepare(scratch):
    words = _words()
    db = sqlite3.connect(os.path.join(scratch, "host.db"))
    with db:
        db.execute("CREATE TABLE words(id INTEGER PRIMARY KEY, word TEXT, blob BLOB)")
        db.execute("CREATE UNIQUE INDEX words_word ON words(word)")
        db.executemany("INSERT INTO words VALUES (?, ?, ?)",
                       [(i, w, bytes.fromhex(b)) for i, w, b in words])
    db.close()
    wal = sqlite3.connect(os.path.join(scratch, "host-wal.db"))
    assert wal.execute("PRAGMA journal_mode=WAL").fetchone() == ("wal",)
    with wal:
        wal.execute("CREATE TABLE log(id INTEGER PRIMARY KEY, msg TEXT)")
        wal.executemany("INSERT INTO log(msg) VALUES (?)", [(f"host {i}",) for i in range(WAL_ROWS)])
    wal.close()
    return {"expected_version": _pinned_version(), "words": words, "wal_rows": WAL_ROWS}


def _cli(path, sql):
    p = subprocess.run(["sqlite3", "-batch", path, sql], capture_output=True, text=True)
    return p.returncode, p.stdout.strip(), p.stderr.strip()


def check(scratch):
    out = []
    guest = os.path.join(scratch, "guest.db")
    db = sqlite3.connect(f"file:{guest}?mode=ro", uri=True)
    ok = db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    rows = db.execute("SELECT label, score, raw FROM items ORDER BY id").fetchall()
    ok = ok and rows == [(f"item-{i:04d}-é", i / 7, bytes(range(i % 256))) for i in range(2000)]
    plan = db.execute("EXPLAIN QUERY PLAN SELECT id FROM items WHERE label = 'x'").fetchall()
    ok = ok and any("items_label" in str(r) for r in plan)
    db.close()
    out.append(("the host's sqlite3 reads the guest's database (2000 rows, its index used)", ok, ""))

    wal = sqlite3.connect(os.path.join(scratch, "guest-wal.db"))
    ok = (wal.execute("PRAGMA journal_mode").fetchone() == ("wal",)
          and wal.execute("SELECT count(*) FROM log").fetchone() == (300,))
    wal.close()
    out.append(("the host reads the guest's WAL-mode database", ok, ""))

    hw = sqlite3.connect(os.path.join(scratch, "host-wal.db"))
    ok = hw.execute("SELECT count(*) FROM log").fetchone() == (WAL_ROWS + 1,)
    ok = ok and hw.execute("SELECT msg FROM log ORDER BY id DESC LIMIT 1").fetchone() == ("from the guest",)
    hw.close()
    out.append(("the guest's write to the host's WAL database is there", ok, ""))

    bk = sqlite3.connect(os.path.join(scratch, "backup.db"))
    ok = bk.execute("SELECT count(*) FROM t").fetchone() == (50,)
    bk.close()
    out.append(("the guest's online backup is a database the host opens", ok, ""))

    if shutil.which("sqlite3") is None:
        out.append(("the sqlite3 CLI reads the guest's databases", False,
                    "no sqlite3 on PATH (scripts/install-prereqs.sh installs Debian's sqlite3)"))
        return out
    rc, stdout, stderr = _cli(guest, "PRAGMA integrity_check; SELECT count(*) FROM items;")
    ok = rc == 0 and stdout.splitlines() == ["ok", "2000"]
    rc2, stdout2, stderr2 = _cli(os.path.join(scratch, "guest-wal.db"),
                                 "PRAGMA integrity_check; SELECT count(*) FROM log;")
    ok = ok and rc2 == 0 and stdout2.splitlines() == ["ok", "300"]
    out.append(("the sqlite3 CLI reads the guest's databases", ok,
                f"{rc} {stdout!r} {stderr!r}; {rc2} {stdout2!r} {stderr2!r}"))
    return out
