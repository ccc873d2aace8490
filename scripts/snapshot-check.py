#!/usr/bin/env python3
"""`make smoke`'s startup-snapshot checks: build/pylon.wasm under pylon-launch, with a
cache directory of its own (so the first launch makes the snapshot).

- what a run must not inherit from the snapshot differs between two runs that differ
  in it: argv, environment, mapped directories, the working directory (--cwd), stdin,
  clocks, `random`'s state, os.urandom, the time zone variable; and the run did resume
  the snapshot;
- a configuration the snapshot was not initialised with (-O, -X dev, -I, -S,
  PYTHONPATH, an explicit PYTHONHASHSEED) initialises CPython again and behaves as
  --no-snapshot does;
- --no-snapshot and PYLON_NO_SNAPSHOT=1 run without it;
- a resumed run that prints nothing writes nothing on stderr either, and its end
  (atexit, __del__, unclosed files, stdout) looks as a full finalisation's;
- the snapshot keeps only the modules' own names, and a trap in a resumed run names
  the module and says how to get function names (--no-snapshot);
- `pylon snapshot --seed N` is bit-reproducible (twice, under another working
  directory, HOME, TZ and locale), another seed gives other bytes, and the file runs.

Exit status: 0 all passed, 1 a check failed, 2 the harness could not run.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAUNCH = os.path.join(ROOT, "target", "release", "pylon-launch")
PYLON = os.path.join(ROOT, "target", "release", "pylon")
WASM = os.path.join(ROOT, "build", "pylon.wasm")

# What the guest reports about its own run, as one JSON line.
PROBE = r"""
import _pylon_snapshot, json, os, random, sys, time
data = {}
for path in ("/data/marker", "marker"):
    try:
        with open(path) as f:
            data[path] = f.read()
    except OSError as e:
        data[path] = type(e).__name__
print(json.dumps({
    "resumed": _pylon_snapshot.resumed(),
    "fallback": _pylon_snapshot.fallback(),
    "argv": sys.argv,
    "orig_argv": sys.orig_argv,
    "environ": dict(os.environ),
    "data": data,
    "stdin": sys.stdin.read(),
    "time": time.time(),
    "monotonic": time.monotonic(),
    "random": random.random(),
    "urandom": os.urandom(16).hex(),
    "hash": hash("pylon-snapshot-check"),
    "flags": [sys.flags.optimize, sys.flags.dev_mode, sys.flags.isolated, sys.flags.no_site],
    "path": sys.path,
    "cwd": os.getcwd(),
}))
"""

failures = []


def leb128(data, at):
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def name_subsections(wasm):
    """The subsection ids of every `name` / `component-name` section in `wasm`, at
    every depth of nesting: one list per section."""
    found = []
    is_component = wasm[4:8] == b"\x0d\x00\x01\x00"
    at = 8
    while at < len(wasm):
        section_id = wasm[at]
        size, at = leb128(wasm, at + 1)
        body, at = wasm[at:at + size], at + size
        if is_component and section_id in (1, 4):
            found += name_subsections(body)
        elif section_id == 0:
            name_len, p = leb128(body, 0)
            if body[p:p + name_len] in (b"name", b"component-name"):
                p += name_len
                ids = []
                while p < len(body):
                    ids.append(body[p])
                    sub_len, p = leb128(body, p + 1)
                    p += sub_len
                found.append(ids)
    return found


def check(what, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + what + ("" if ok else f"\n     {detail}"))
    if not ok:
        failures.append(what)


def launch(cache, *args, env=None, stdin="", extra_env=None):
    run_env = dict(os.environ)
    run_env.pop("PYLON_NO_SNAPSHOT", None)
    run_env.update(extra_env or {})
    cmd = [LAUNCH, "--wasm", WASM, "--cache-dir", cache, *args]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=run_env,
                          timeout=600)


def probe(cache, launcher_args, python_args=(), stdin="", extra_env=None):
    p = launch(cache, *launcher_args, "--", *python_args, "-c", PROBE, *["tail-arg"],
               stdin=stdin, extra_env=extra_env)
    if p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}: {p.stderr.strip()[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    for path in (LAUNCH, PYLON, WASM):
        if not os.path.exists(path):
            print(f"snapshot-check: {path} is missing (make tools build)", file=sys.stderr)
            return 2
    scratch = tempfile.mkdtemp(prefix="pylon-snapshot-check-")
    try:
        run(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"snapshot-check: {len(failures)} failed" if failures else "snapshot-check: all passed")
    return 1 if failures else 0


# What a program can observe of the interpreter's end. A resumed run ends without
# tearing the snapshot's interpreter down; this must look the same as a full
# finalisation (--no-snapshot): atexit callbacks, __del__ of __main__'s objects (in a
# cycle too) and of a module the run imported, an unclosed file flushed, stdout's
# unterminated last line flushed.
EXIT_PROGRAM = r"""
import atexit, sys
sys.path.insert(0, "/data")
import exitmod
class Noisy:
    def __init__(self, tag):
        self.tag = tag
    def __del__(self):
        print("del", self.tag, flush=True)
held = Noisy("main global")
cycle = Noisy("main cycle")
cycle.me = cycle
atexit.register(print, "atexit callback", flush=True)
unclosed = open("/data/unclosed.txt", "w")
unclosed.write("written, never closed")
sys.stdout.write("an unterminated last line")
"""
EXIT_MODULE = """
class Noisy:
    def __del__(self):
        print("del module global", flush=True)
held = Noisy()
"""


def check_exit(scratch, cache):
    results = []
    for args in ([], ["--no-snapshot"]):
        data = tempfile.mkdtemp(dir=scratch)
        with open(os.path.join(data, "exitmod.py"), "w") as f:
            f.write(EXIT_MODULE)
        p = launch(cache, *args, "--dir", f"{data}::/data::rw", "--", "-c", EXIT_PROGRAM)
        try:
            with open(os.path.join(data, "unclosed.txt")) as f:
                written = f.read()
        except OSError as e:
            written = repr(e)
        results.append((p.returncode, sorted(p.stdout.splitlines()), p.stderr, written))
    resumed, plain = results
    expected_lines = {"atexit callback", "del main global", "del main cycle", "del module global"}
    check("a resumed run ends as a full finalisation does: atexit, __del__ of the run's "
          "objects, an unclosed file and stdout flushed",
          resumed == plain and resumed[0] == 0 and resumed[3] == "written, never closed"
          and expected_lines <= {l.replace("an unterminated last line", "") for l in resumed[1]}
          and any("an unterminated last line" in l for l in resumed[1]),
          (resumed, plain))


def run(scratch):
    cache = os.path.join(scratch, "cache")
    os.makedirs(cache, mode=0o700)
    dirs = []
    for name in ("one", "two"):
        d = os.path.join(scratch, name)
        os.makedirs(d)
        with open(os.path.join(d, "marker"), "w") as f:
            f.write(f"marker {name}")
        os.makedirs(os.path.join(d, "inner"))
        with open(os.path.join(d, "inner", "marker"), "w") as f:
            f.write(f"inner marker {name}")
        dirs.append(d)

    # The first launch makes the snapshot; say so with --verbose.
    first = launch(cache, "--verbose", "-c", "pass")
    check("the first launch makes the startup snapshot",
          first.returncode == 0 and "startup snapshot made" in first.stderr, first.stderr)
    # A resumed run of nothing prints nothing, on either stream (the snapshot's
    # constructors run a second time when it resumes; none may say anything).
    quiet = launch(cache, "-c", "pass")
    quiet_plain = launch(cache, "--no-snapshot", "-c", "pass")
    check("a resumed `-c pass` writes nothing on stdout or stderr (as --no-snapshot)",
          (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
          and (quiet_plain.returncode, quiet_plain.stdout, quiet_plain.stderr) == (0, "", ""),
          (quiet.stdout, quiet.stderr, quiet_plain.stdout, quiet_plain.stderr))
    check_exit(scratch, cache)
    snapshots = os.path.join(cache, "snapshots")
    made = sorted(f for f in os.listdir(snapshots) if f.endswith(".wasm")) if os.path.isdir(snapshots) else []
    check("it is kept in the cache directory: only its owner can write either",
          len(made) == 1 and (os.stat(os.path.join(snapshots, made[0])).st_mode & 0o022) == 0
          and (os.stat(snapshots).st_mode & 0o077) == 0, made)

    # Names: the snapshot keeps each module's and component's own name and drops the
    # rest (function names cost every launch their deserialisation); pylon.wasm keeps
    # them all, and a trap in a resumed run says how to see them.
    if made:
        with open(os.path.join(snapshots, made[0]), "rb") as f:
            kept = name_subsections(f.read())
        with open(WASM, "rb") as f:
            product = name_subsections(f.read())
        check("the snapshot keeps only the modules' own names (name subsection 0); "
              "pylon.wasm keeps function names (subsection 1)",
              kept and all(ids == [0] for ids in kept) and any(1 in ids for ids in product),
              (kept, product))
    trap = launch(cache, "-c", "import os; os.abort()")
    trap_plain = launch(cache, "--no-snapshot", "-c", "import os; os.abort()")
    check("a trap in a resumed run: exit 134, the module named, the note on --no-snapshot; "
          "--no-snapshot's backtrace names the functions",
          trap.returncode == 134 and "python.wasm!<wasm function" in trap.stderr
          and "--no-snapshot for a backtrace" in trap.stderr
          and trap_plain.returncode == 134 and "python.wasm!os_abort" in trap_plain.stderr
          and "--no-snapshot for a backtrace" not in trap_plain.stderr,
          (trap.returncode, trap.stderr[-600:], trap_plain.returncode, trap_plain.stderr[-600:]))

    a = probe(cache, ["--env", "PYLON_CHECK=first", "--env", "TZ=UTC", "--dir", f"{dirs[0]}::/data",
                      "--cwd", "/data"],
              stdin="stdin one")
    b = probe(cache, ["--env", "PYLON_CHECK=second", "--env", "TZ=Asia/Tokyo", "--dir", f"{dirs[1]}::/data",
                      "--cwd", "/data/inner"],
              python_args=(), stdin="stdin two")
    check("runs resume the snapshot", a["resumed"] and b["resumed"], (a["fallback"], b["fallback"]))
    check("sys.argv is the run's", a["argv"] == ["-c", "tail-arg"] and b["argv"] == a["argv"], a["argv"])
    check("sys.orig_argv is the run's",
          a["orig_argv"][0] == "python" and a["orig_argv"][1] == "-c" and a["orig_argv"][-1] == "tail-arg",
          a["orig_argv"])
    check("os.environ is the run's",
          a["environ"].get("PYLON_CHECK") == "first" and b["environ"].get("PYLON_CHECK") == "second"
          and a["environ"].get("TZ") == "UTC" and b["environ"].get("TZ") == "Asia/Tokyo",
          (a["environ"], b["environ"]))
    check("PYLON_SNAPSHOT_IMPORTS of the initialisation is gone",
          "PYLON_SNAPSHOT_IMPORTS" not in a["environ"], a["environ"])
    check("mapped directories are the run's",
          a["data"]["/data/marker"] == "marker one" and b["data"]["/data/marker"] == "marker two",
          (a["data"], b["data"]))
    check("stdin is the run's", a["stdin"] == "stdin one" and b["stdin"] == "stdin two",
          (a["stdin"], b["stdin"]))
    check("the wall clock is live", abs(a["time"] - __import__("time").time()) < 600 and b["time"] >= a["time"],
          (a["time"], b["time"]))
    check("random's state differs between runs", a["random"] != b["random"], (a["random"], b["random"]))
    check("os.urandom differs between runs", a["urandom"] != b["urandom"], (a["urandom"], b["urandom"]))
    check("the working directory is the run's (--cwd), and relative paths resolve in it",
          a["cwd"] == "/data" and b["cwd"] == "/data/inner"
          and a["data"]["marker"] == "marker one" and b["data"]["marker"] == "inner marker two",
          (a["cwd"], b["cwd"], a["data"], b["data"]))
    root = probe(cache, [])
    check("without --cwd the working directory is /", root["resumed"] and root["cwd"] == "/",
          (root["cwd"], root["fallback"]))
    plain = probe(cache, ["--no-snapshot", "--dir", f"{dirs[0]}::/data", "--cwd", "/data/inner"])
    check("--no-snapshot enters --cwd too", plain["cwd"] == "/data/inner"
          and plain["data"]["marker"] == "inner marker one", (plain["cwd"], plain["data"]))
    # The guest's own check (a directory the launcher's lookup admits but the host's
    # WASI refuses to open: a symlink out of the mapped directory) ends the run.
    os.symlink(scratch, os.path.join(dirs[0], "outside"))
    escape = launch(cache, "--dir", f"{dirs[0]}::/data", "--cwd", "/data/outside", "-c", "print('ran')")
    check("a working directory the guest cannot enter ends the run before the program, saying why",
          escape.returncode != 0 and escape.stdout == ""
          and "cannot enter the working directory `/data/outside`" in escape.stderr,
          (escape.returncode, escape.stdout, escape.stderr))
    check("--no-snapshot initialises CPython itself", not plain["resumed"] and plain["fallback"] is None,
          plain)
    check("sys.path is the same with and without the snapshot", plain["path"] == a["path"],
          (plain["path"], a["path"]))
    env_off = probe(cache, [], extra_env={"PYLON_NO_SNAPSHOT": "1"})
    check("PYLON_NO_SNAPSHOT=1 initialises CPython itself", not env_off["resumed"], env_off)

    # Configurations the snapshot was not initialised with.
    for what, largs, pargs, want in (
        ("-O", [], ["-O"], lambda r: r["flags"][0] == 1),
        ("-X dev", [], ["-X", "dev"], lambda r: r["flags"][1] is True),
        ("-I", [], ["-I"], lambda r: r["flags"][2] == 1),
        ("-S", [], ["-S"], lambda r: r["flags"][3] == 1),
        ("PYTHONPATH", ["--env", "PYTHONPATH=/data"], [], lambda r: "/data" in r["path"]),
    ):
        r = probe(cache, largs + ["--dir", f"{dirs[0]}::/data"], python_args=pargs)
        check(f"{what}: CPython is initialised again, and the option is in effect",
              not r["resumed"] and r["fallback"] and want(r), r)
    seeded = probe(cache, ["--env", "PYTHONHASHSEED=1234"])
    seeded_plain = probe(cache, ["--no-snapshot", "--env", "PYTHONHASHSEED=1234"])
    check("an explicit PYTHONHASHSEED is honoured (the hash of a str is --no-snapshot's)",
          not seeded["resumed"] and seeded["hash"] == seeded_plain["hash"],
          (seeded["hash"], seeded_plain["hash"]))
    exit_code = launch(cache, "-c", "import sys; print('out'); sys.exit(0)")
    check("a resumed run's stdout and exit status", exit_code.returncode == 0 and exit_code.stdout == "out\n",
          (exit_code.returncode, exit_code.stdout, exit_code.stderr))
    err = launch(cache, "-c", "raise ValueError('from the snapshot')")
    check("a resumed run's uncaught exception reaches stderr, exit status 1",
          err.returncode == 1 and "ValueError: from the snapshot" in err.stderr, err.stderr)

    # --snapshot-import: another snapshot, with the modules in it.
    with_json = launch(cache, "--verbose", "--snapshot-import", "json,textwrap", "-c",
                       "import sys, _pylon_snapshot; print(_pylon_snapshot.resumed(), "
                       "'json' in sys.modules, 'textwrap' in sys.modules)")
    plain_modules = launch(cache, "-c", "import sys; print('json' in sys.modules)")
    made = sorted(f for f in os.listdir(snapshots) if f.endswith(".wasm"))
    check("--snapshot-import json,textwrap: its own snapshot, resumed, with those modules; "
          "the default one has none of them",
          with_json.returncode == 0 and with_json.stdout == "True True True\n"
          and "startup snapshot made" in with_json.stderr and len(made) == 2
          and plain_modules.stdout == "False\n", (with_json.stdout, with_json.stderr, made))
    missing = launch(cache, "--verbose", "--snapshot-import", "no_such_module_xyz", "-c", "print(1)")
    check("--snapshot-import of a missing module: no snapshot (the reason in --verbose), the run goes on",
          missing.returncode == 0 and missing.stdout == "1\n"
          and "cannot import no_such_module_xyz" in missing.stderr, missing.stderr)
    again = launch(cache, "--verbose", "--snapshot-import", "no_such_module_xyz", "-c", "print(2)")
    check("... and it is not tried again on the next launch",
          again.returncode == 0 and "startup snapshot made" not in again.stderr
          and "no startup snapshot" in again.stderr and "pre-initialising" in again.stderr, again.stderr)

    # stdout on a terminal is line-buffered, as without a snapshot (the pre-initialiser
    # had no terminal).
    import pty
    for label, extra in (("resumed", []), ("--no-snapshot", ["--no-snapshot"])):
        leader, follower = pty.openpty()
        p = subprocess.Popen([LAUNCH, "--wasm", WASM, "--cache-dir", cache, *extra, "-c",
                              "import sys; print(sys.stdout.isatty(), sys.stdout.line_buffering)"],
                             stdout=follower, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        os.close(follower)
        out = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        p.wait(timeout=120)
        os.close(leader)
        check(f"{label}: stdout on a terminal is a line-buffered tty",
              p.returncode == 0 and out.decode().split() == ["True", "True"], (out, p.stderr.read()))

    # Two first launches at once, each making the snapshot: both run, one snapshot kept.
    fresh = os.path.join(scratch, "fresh-cache")
    os.makedirs(fresh, mode=0o700)
    procs = [subprocess.Popen([LAUNCH, "--wasm", WASM, "--cache-dir", fresh, "-c",
                               "import _pylon_snapshot; print(_pylon_snapshot.resumed())"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    kept = [f for f in os.listdir(os.path.join(fresh, "snapshots")) if not f.startswith(".")]
    check("two first launches at once both run resumed; one snapshot is kept, no temporary left",
          all(p.returncode == 0 for p in procs) and [o[0] for o in outs] == ["True\n", "True\n"]
          and len(kept) == 1, (outs, kept))
    # A damaged snapshot (the file is only ever written by rename; this is a hand edit).
    victim = os.path.join(fresh, "snapshots", kept[0]) if kept else None
    if victim:
        with open(victim, "r+b") as f:
            f.truncate(os.path.getsize(victim) // 2)
        p = launch(fresh, "-c", "print('still runs')")
        again = launch(fresh, "-c", "import _pylon_snapshot; print(_pylon_snapshot.resumed())")
        check("a damaged snapshot is discarded with a note, the run goes on; the next makes it again",
              p.returncode == 0 and p.stdout == "still runs\n" and "discarding startup snapshot" in p.stderr
              and again.returncode == 0 and again.stdout == "True\n", (p.stdout, p.stderr, again.stdout, again.stderr))

    # The seeded snapshot: reproducible bytes.
    out = [os.path.join(scratch, f"seed7-{i}.wasm") for i in (1, 2)]
    one = subprocess.run([PYLON, "snapshot", "--seed", "7", "--wasm", WASM, "-o", out[0], "--json"],
                         capture_output=True, text=True)
    elsewhere = os.path.join(scratch, "elsewhere")
    os.makedirs(elsewhere)
    varied = dict(os.environ, HOME=elsewhere, TZ="Pacific/Chatham", LC_ALL="C", TMPDIR=elsewhere)
    two = subprocess.run([PYLON, "snapshot", "--seed", "7", "--wasm", WASM, "-o", out[1], "--json"],
                         capture_output=True, text=True, cwd=elsewhere, env=varied)
    ok = one.returncode == 0 and two.returncode == 0
    check("pylon snapshot --seed 7 succeeds twice", ok, one.stderr + two.stderr)
    if ok:
        first_doc, second_doc = json.loads(one.stdout), json.loads(two.stdout)
        with open(out[0], "rb") as f1, open(out[1], "rb") as f2:
            same = f1.read() == f2.read()
        check("the seeded snapshot is bit-reproducible (another cwd, HOME, TZ, locale, TMPDIR)",
              same and first_doc["sha256"] == second_doc["sha256"], (first_doc, second_doc))
        other = os.path.join(scratch, "seed8.wasm")
        eight = subprocess.run([PYLON, "snapshot", "--seed", "8", "--wasm", WASM, "-o", other, "--json"],
                               capture_output=True, text=True)
        check("another seed gives other bytes",
              eight.returncode == 0 and json.loads(eight.stdout)["sha256"] != first_doc["sha256"],
              eight.stdout + eight.stderr)
        # A shipped snapshot runs as it is (its record.json: the one of the wasm it came from).
        ship = os.path.join(scratch, "ship")
        os.makedirs(ship)
        real = os.path.realpath(WASM)
        shutil.copy(out[0], os.path.join(ship, "pylon.wasm"))
        shutil.copy(os.path.join(os.path.dirname(real), "record.json"), ship)
        shutil.copytree(os.path.join(os.path.dirname(real), "lib"), os.path.join(ship, "lib"))
        p = subprocess.run([LAUNCH, "--wasm", os.path.join(ship, "pylon.wasm"), "--cache-dir", cache,
                            "--verbose", "-c",
                            "import _pylon_snapshot, sys; print(_pylon_snapshot.resumed(), hash('x') == hash('x'))"],
                           capture_output=True, text=True)
        check("the seeded snapshot runs as it is, resumed, not snapshotted again",
              p.returncode == 0 and p.stdout.strip() == "True True"
              and "the wasm is a snapshot itself" in p.stderr, p.stdout + p.stderr)
        h1 = subprocess.run([LAUNCH, "--wasm", os.path.join(ship, "pylon.wasm"), "--cache-dir", cache,
                             "-c", "print(hash('pylon'))"], capture_output=True, text=True)
        h2 = subprocess.run([LAUNCH, "--no-snapshot", "--cache-dir", cache, "--wasm", WASM,
                             "--env", "PYTHONHASHSEED=7", "-c", "print(hash('pylon'))"],
                            capture_output=True, text=True)
        check("its str hashes are PYTHONHASHSEED=7's", h1.stdout == h2.stdout and h1.stdout.strip() != "",
              (h1.stdout, h1.stderr, h2.stdout, h2.stderr))
    bad = subprocess.run([PYLON, "snapshot", "--seed", "1", "--wasm", os.path.join(scratch, "missing.wasm")],
                         capture_output=True, text=True)
    check("pylon snapshot of a missing wasm: exit 2 naming it",
          bad.returncode == 2 and "missing.wasm" in bad.stderr, (bad.returncode, bad.stderr))


if __name__ == "__main__":
    sys.exit(main())
