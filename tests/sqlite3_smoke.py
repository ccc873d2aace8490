"""sqlite3 smoke test, run inside pylon.wasm by scripts/smoke.py (`make smoke`): the
stdlib's sqlite3 over CPython's own _sqlite3 and the statically linked SQLite, with
Python callbacks inside queries, a database the host wrote, and databases the host
reads back (its Python and its sqlite3 CLI).
The first line printed is the summary shown when it passes."""
import dbm
import json
import sqlite3

with open("/smoke/host.json") as f:
    host = json.load(f)["sqlite3"]


def expect_error(kind, fragment, call):
    """`call()` must raise `kind` with `fragment` in its message."""
    try:
        call()
    except kind as e:
        assert fragment in str(e), e
    else:
        raise AssertionError(f"no {kind.__name__} ({fragment!r})")


# --- the library --------------------------------------------------------------------
assert sqlite3.sqlite_version == host["expected_version"], sqlite3.sqlite_version
assert sqlite3.threadsafety == 0  # built without threads: WASI has none
cx = sqlite3.connect(":memory:")
options = {r[0] for r in cx.execute("PRAGMA compile_options")}
for opt in ("THREADSAFE=0", "OMIT_LOAD_EXTENSION", "TEMP_STORE=2", "ENABLE_FTS5",
            "ENABLE_RTREE", "ENABLE_MATH_FUNCTIONS"):
    assert opt in options, (opt, sorted(options))
assert not hasattr(cx, "enable_load_extension")

# --- Python callbacks inside SQL ---------------------------------------------------------
cx.create_function("rev", 1, lambda s: s[::-1], deterministic=True)


class Spread:
    def __init__(self):
        self.lo, self.hi = None, None

    def step(self, v):
        self.lo = v if self.lo is None else min(self.lo, v)
        self.hi = v if self.hi is None else max(self.hi, v)

    def finalize(self):
        return self.hi - self.lo


class RunningSum:
    def __init__(self):
        self.total = 0

    def step(self, v):
        self.total += v

    def inverse(self, v):
        self.total -= v

    def value(self):
        return self.total

    def finalize(self):
        return self.total


cx.create_aggregate("spread", 1, Spread)
cx.create_window_function("runsum", 1, RunningSum)
cx.create_collation("byrev", lambda a, b: (a[::-1] > b[::-1]) - (a[::-1] < b[::-1]))
cx.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, n INTEGER, data BLOB)")
cx.executemany("INSERT INTO t(name, n, data) VALUES (?, ?, ?)",
               [(f"name{i}", i * i, bytes([i]) * i) for i in range(1, 51)])
assert cx.execute("SELECT rev('pylon')").fetchone() == ("nolyp",)
assert cx.execute("SELECT spread(n) FROM t").fetchone() == (2500 - 1,)
window = cx.execute("SELECT runsum(n) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)"
                    " FROM t ORDER BY id LIMIT 3").fetchall()
assert window == [(1,), (5,), (13,)], window
names = [r[0] for r in cx.execute("SELECT name FROM t WHERE id <= 3 ORDER BY name COLLATE byrev")]
assert names == ["name1", "name2", "name3"], names
expect_error(sqlite3.OperationalError, "wrong number of arguments",
             lambda: cx.execute("SELECT rev(1, 2)"))

# An exception inside a callback is an error of the statement, not a trap.
cx.create_function("boom", 0, lambda: 1 / 0)
expect_error(sqlite3.OperationalError, "user-defined function raised exception",
             lambda: cx.execute("SELECT boom()"))

# Authorizer, progress handler and trace callback.
seen = []
cx.set_trace_callback(seen.append)
cx.execute("SELECT count(*) FROM t").fetchone()
cx.set_trace_callback(None)
assert seen == ["SELECT count(*) FROM t"], seen
cx.set_authorizer(lambda action, a1, a2, db, src:
                  sqlite3.SQLITE_DENY if a2 == "data" else sqlite3.SQLITE_OK)
expect_error(sqlite3.DatabaseError, "access to t.data is prohibited",
             lambda: cx.execute("SELECT data FROM t"))
cx.set_authorizer(None)
calls = []
cx.set_progress_handler(lambda: calls.append(1) or 0, 100)
cx.execute("SELECT sum(t.n * u.n) FROM t, t AS u").fetchone()
cx.set_progress_handler(None, 0)
assert calls, "the progress handler was never called"

# Adapters and converters.
class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y


sqlite3.register_adapter(Point, lambda p: f"{p.x};{p.y}")
sqlite3.register_converter("point", lambda b: Point(*map(float, b.split(b";"))))
typed = sqlite3.connect(":memory:", detect_types=sqlite3.PARSE_DECLTYPES)
typed.execute("CREATE TABLE p(pt point)")
typed.execute("INSERT INTO p VALUES (?)", (Point(1.5, -2),))
pt = typed.execute("SELECT pt FROM p").fetchone()[0]
assert isinstance(pt, Point) and (pt.x, pt.y) == (1.5, -2.0)
typed.close()

# Blob I/O.
cx.execute("CREATE TABLE b(data BLOB)")
cx.execute("INSERT INTO b VALUES (zeroblob(4096))")
with cx.blobopen("b", "data", 1) as blob:
    blob.write(b"pylon" * 10)
    blob.seek(0)
    assert blob.read(5) == b"pylon" and len(blob) == 4096
    blob[100] = 0x41
assert cx.execute("SELECT substr(data, 101, 1) FROM b").fetchone()[0] == b"A"

# Full-text search, JSON, math.
cx.execute("CREATE VIRTUAL TABLE docs USING fts5(body)")
cx.executemany("INSERT INTO docs VALUES (?)",
               [("components compose into one artifact",), ("python on wasi",)])
assert cx.execute("SELECT body FROM docs WHERE docs MATCH 'wasi'").fetchall() == [("python on wasi",)]
assert cx.execute("SELECT json_extract('{\"a\": [1, 2]}', '$.a[1]')").fetchone() == (2,)
assert cx.execute("SELECT round(sqrt(2), 6)").fetchone() == (1.414214,)

# iterdump and backup.
dump = list(cx.iterdump())
assert dump[0] == "BEGIN TRANSACTION;" and any("CREATE TABLE t(" in s for s in dump), dump[:3]
copy = sqlite3.connect(":memory:")
copy.executescript("\n".join(s for s in dump if "docs" not in s))
assert copy.execute("SELECT sum(n), sum(length(data)) FROM t").fetchone() == (
    sum(i * i for i in range(1, 51)), sum(range(1, 51)))
cx.commit()  # a connection in a write transaction cannot be the source of a backup
pages = []
on_disk = sqlite3.connect("/smoke/backup.db")
cx.backup(on_disk, pages=3, progress=lambda status, remaining, total: pages.append(remaining))
assert pages and pages[-1] == 0, pages
on_disk.close()

# serialize / deserialize.
image = cx.serialize()
again = sqlite3.connect(":memory:")
again.deserialize(image)
assert again.execute("SELECT count(*) FROM t").fetchone() == (50,)

# --- files: the host's database here, ours for the host -----------------------------------
theirs = sqlite3.connect("file:/smoke/host.db?mode=ro", uri=True)
rows = theirs.execute("SELECT id, word, blob FROM words ORDER BY id").fetchall()
assert [(i, w, bytes.fromhex(b)) for i, w, b in host["words"]] == rows
assert theirs.execute("PRAGMA integrity_check").fetchone() == ("ok",)
theirs.close()
# WAL without shared memory (WASI) works in exclusive locking mode only: asked for
# otherwise the journal stays "delete", and a WAL-mode file does not open.
plain = sqlite3.connect("/smoke/plain.db")
assert plain.execute("PRAGMA journal_mode=WAL").fetchone() == ("delete",)
plain.close()
shared = sqlite3.connect("/smoke/host-wal.db")
expect_error(sqlite3.OperationalError, "unable to open database file",
             lambda: shared.execute("SELECT count(*) FROM log").fetchall())
shared.close()
# The WAL-mode database the host wrote, in exclusive locking mode.
wal = sqlite3.connect("/smoke/host-wal.db")
wal.execute("PRAGMA locking_mode=EXCLUSIVE")
assert wal.execute("PRAGMA journal_mode").fetchone() == ("wal",)
assert wal.execute("SELECT count(*) FROM log").fetchone() == (host["wal_rows"],)
wal.execute("INSERT INTO log(msg) VALUES ('from the guest')")
wal.commit()
wal.close()

ours = sqlite3.connect("/smoke/guest.db")
with ours:
    ours.execute("CREATE TABLE items(id INTEGER PRIMARY KEY, label TEXT NOT NULL, score REAL, raw BLOB)")
    ours.execute("CREATE INDEX items_label ON items(label)")
    ours.executemany("INSERT INTO items(label, score, raw) VALUES (?, ?, ?)",
                     [(f"item-{i:04d}-é", i / 7, bytes(range(i % 256))) for i in range(2000)])
ours.execute("VACUUM")
ours.close()
walmine = sqlite3.connect("/smoke/guest-wal.db")
walmine.execute("PRAGMA locking_mode=EXCLUSIVE")
assert walmine.execute("PRAGMA journal_mode=WAL").fetchone() == ("wal",)
with walmine:
    walmine.execute("CREATE TABLE log(id INTEGER PRIMARY KEY, msg TEXT)")
    walmine.executemany("INSERT INTO log(msg) VALUES (?)", [(f"line {i}",) for i in range(300)])
walmine.close()

# --- two connections to one file lock each other as on Linux -------------------------------
a = sqlite3.connect("/smoke/locks.db", timeout=0, isolation_level=None)
b = sqlite3.connect("/smoke/locks.db", timeout=0, isolation_level=None)
a.execute("CREATE TABLE k(v)")
a.execute("BEGIN IMMEDIATE")
a.execute("INSERT INTO k VALUES (1)")
assert b.execute("SELECT count(*) FROM k").fetchone() == (0,)  # reads the committed state
expect_error(sqlite3.OperationalError, "database is locked",
             lambda: b.execute("BEGIN IMMEDIATE"))
a.execute("COMMIT")
b.execute("BEGIN IMMEDIATE")
b.execute("INSERT INTO k VALUES (2)")
b.execute("COMMIT")
assert a.execute("SELECT sum(v) FROM k").fetchone() == (3,)
a.close()
b.close()

# --- dbm's default backend in 3.13 is dbm.sqlite3 ------------------------------------------
with dbm.open("/smoke/kv", "c") as db:
    db["key"] = "value"
    db[b"bytes"] = b"\x00\xff"
assert dbm.whichdb("/smoke/kv") == "dbm.sqlite3", dbm.whichdb("/smoke/kv")
with dbm.open("/smoke/kv", "r") as db:
    assert db[b"key"] == b"value" and db["bytes"] == b"\x00\xff"

print(f"sqlite3 {sqlite3.sqlite_version}: callbacks, blobs, FTS5, backup, serialize, "
      f"host and WAL files, locks between connections, dbm.sqlite3")
