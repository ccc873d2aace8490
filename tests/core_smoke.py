"""Core interpreter smoke test, run inside pylon.wasm by scripts/smoke.py.

/smoke is a read-write directory shared with the host harness; /smoke/host.json holds
values the harness computed on the host (core_smoke_host.py, plus the expected version,
argv and environment).
"""
import json
import os
import sys

with open("/smoke/host.json") as f:
    everything = json.load(f)
host = dict(everything["core"], **everything["run"])

# Version: the profile's CPython, running on WASI.
assert sys.version.split()[0] == host["cpython"], (sys.version, host["cpython"])
assert sys.platform == "wasi", sys.platform
assert sys.argv[1:] == host["argv"], sys.argv

# os.environ holds exactly what the launcher was given with --env.
assert os.environ.get("PYLON_SMOKE") == host["env"]["PYLON_SMOKE"], dict(os.environ)
assert "HOME" not in os.environ or os.environ["HOME"] == host["env"].get("HOME"), dict(os.environ)

# json
doc = {"a": [1, 2.5, None, True], "b": {"c": "\u00e9\u4e2d"}}
assert json.loads(json.dumps(doc)) == doc
assert json.dumps(doc, sort_keys=True) == host["json_dump"], json.dumps(doc, sort_keys=True)

# re
import re
m = re.fullmatch(r"(?P<y>\d{4})-(?P<m>\d\d)-(?P<d>\d\d)", "2026-11-26")
assert m and m.group("y", "m", "d") == ("2026", "11", "26")
assert re.sub(r"\s+", " ", "a \t\n b") == "a b"

# datetime
import datetime
d = datetime.datetime(2026, 11, 26, 12, 30, tzinfo=datetime.timezone.utc)
assert d.isoformat() == "2026-11-26T12:30:00+00:00"
assert (d + datetime.timedelta(days=40)).strftime("%Y-%m-%d %a") == host["date_plus_40"]

# decimal (the C _decimal module, with libmpdec)
import decimal
decimal.getcontext().prec = 50
assert str(decimal.Decimal(1) / decimal.Decimal(7)) == host["one_seventh_50"]

# sqlite3, when the profile builds it
try:
    import sqlite3
except ImportError:
    sqlite3 = None
if sqlite3 is not None:
    con = sqlite3.connect(":memory:")
    con.execute("create table t (x integer)")
    con.executemany("insert into t values (?)", [(i,) for i in range(100)])
    assert con.execute("select sum(x) from t").fetchone() == (4950,)

# File I/O inside the mapped read-write directory; the host checks the file afterwards.
path = "/smoke/core-written.txt"
with open(path, "w") as f:
    f.write("written by pylon\n")
with open(path) as f:
    assert f.read() == "written by pylon\n"
# A file that grows after a read reached its end: the next read sees what was added
# (wasi-libc keeps a finished read stream; cpython-ext/_pylon_wasi_libc corrects it).
grow = "/smoke/core-grows.bin"
writer = os.open(grow, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
reader = os.open(grow, os.O_RDONLY)
assert os.read(reader, 10) == b""
os.write(writer, b"first")
assert os.read(reader, 10) == b"first"
assert os.read(reader, 10) == b""
os.write(writer, b" second")
os.lseek(reader, 5, os.SEEK_SET)  # the same offset: no new stream by itself
assert os.read(reader, 10) == b" second"
with open(grow, "rb") as f:  # buffered reads, via readinto
    assert f.read() == b"first second"
    os.write(writer, b" third")
    assert f.read() == b" third"
os.close(writer)
os.close(reader)
os.makedirs("/smoke/sub/dir", exist_ok=True)
assert sorted(os.listdir("/smoke/sub")) == ["dir"]

# The collector clears every kind of object in a garbage cycle through its type's
# tp_clear; one of the wrong C type (operator.methodcaller's returned void) traps in
# WebAssembly. A class holding one, as glob's do, is such a cycle once released.
import gc
import operator
class HoldsMethodcaller:
    call = operator.methodcaller("upper")
cycle = [operator.methodcaller("join", ["a"]), HoldsMethodcaller]
cycle.append(cycle)
del HoldsMethodcaller, cycle
assert gc.collect() > 0

print("core smoke: OK")
