#!/usr/bin/env python3
"""`make smoke`: run the smoke files inside build/pylon.wasm with pylon-launch.

Smoke files are found by looking: tests/*_smoke.py (the interpreter itself) and each
pinned cap's <cap>/smoke/*_smoke.py (caps as `pylon cap list` finds them). Each
<name>_smoke.py may have a host side, <name>_smoke_host.py beside it, run by the
host's CPython with two functions:
  prepare(scratch) -> dict   expected values computed on the host (its own zlib,
                             hashlib, decimal...); the guest reads them from
                             /smoke/host.json under the key <name>
  check(scratch) -> [(what, ok, detail)]
                             run after the guest passed, to check what it wrote to
                             /smoke (e.g. compressed files the host must read back)
and optionally
  launcher_args(prepared) -> [str]
                             extra pylon-launch options for that guest, e.g. the
                             --allow-net=HOST:PORT grant for servers prepare() started
                             (they run in threads of this process while the guest runs)
The guest sees the scratch directory read-write as /smoke and the smoke file's own
directory read-only as /tests. Then the sandbox is probed (no file outside the mapped
directories, --timeout, --max-memory, no sockets without --allow-net but the guest's
own loopback) and cap calls are
checked for leaks: every cap's smoke/alloc_loop.py runs in one interpreter through
tests/alloc_loop.py, which must end with the same linear-memory size after 10k and 100k
rounds.

Exit status: 0 all passed, 1 a check failed, 2 the harness could not run (missing
pylon-launch or pylon.wasm).
"""
import argparse
import glob
import hashlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(ROOT, "tests")


class Harness:
    def __init__(self, launch, wasm, verbose):
        self.launch = launch
        self.wasm = wasm
        self.verbose = verbose
        self.results = []

    def run(self, launcher_args, python_args, timeout=900):
        cmd = [self.launch, "--wasm", self.wasm, *launcher_args, "--", *python_args]
        if self.verbose:
            print("+", " ".join(cmd), file=sys.stderr)
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            # A guest that hangs is that check's failure, not the end of the run.
            def text(b):
                return b.decode(errors="replace") if isinstance(b, bytes) else (b or "")
            return subprocess.CompletedProcess(
                cmd, 124, text(e.stdout),
                text(e.stderr) + f"\n(killed after {timeout} s: the guest did not finish)")

    def check(self, name, ok, detail="", summary=""):
        self.results.append((name, ok))
        print(f"{'OK  ' if ok else 'FAIL'} {name}", flush=True)
        if ok and summary:
            print(indent(summary), flush=True)
        if not ok and detail:
            print(indent(detail), flush=True)


def indent(text):
    return "\n".join("    " + line for line in str(text).rstrip().splitlines())


def outcome(p):
    return f"exit {p.returncode}\nstdout:\n{indent(p.stdout)}\nstderr:\n{indent(p.stderr)}"


def host_module(directory, name):
    path = os.path.join(directory, f"{name}_smoke_host.py")
    if not os.path.isfile(path):
        return None
    spec = importlib.util.spec_from_file_location(f"{name}_smoke_host", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pinned_caps(pylon):
    """(name, directory) of every pinned cap, from `pylon cap list --json`."""
    p = subprocess.run([pylon, "cap", "list", "--json", "--manifest",
                        os.path.join(ROOT, "caps-manifest.toml")],
                       capture_output=True, text=True)
    doc = json.loads(p.stdout) if p.stdout.strip() else {}
    if p.returncode != 0 or not doc.get("success"):
        raise SystemExit(f"smoke: `pylon cap list` failed (exit {p.returncode}):\n{p.stderr}")
    return [(c["name"], c["dir"]) for c in doc["caps"] if c["pinned"]]


def smoke_files(caps):
    """{name: directory} of every smoke file; a name used twice is an error."""
    found = {}
    dirs = [("tests", TESTS)] + [(f"cap {n}", os.path.join(d, "smoke")) for n, d in caps]
    for owner, directory in dirs:
        for path in sorted(glob.glob(os.path.join(directory, "*_smoke.py"))):
            name = os.path.basename(path)[: -len("_smoke.py")]
            if name in found:
                raise SystemExit(f"smoke: {path}: {name}_smoke.py is also in {found[name]}")
            found[name] = directory
    return found


def cpython_tarball(record):
    """The pinned CPython source of this build in pylon's input cache (for the smoke
    files that run CPython's own tests, see cpython_source.py), if it is there intact."""
    sha = record.get("inputs", {}).get("tarball_sha256")
    cache = os.environ.get("PYLON_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pylon")
    path = os.path.join(cache, "inputs", sha or "-")
    if not sha or not os.path.isfile(path):
        return None
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return path if h.hexdigest() == sha else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wasm", default=os.path.join(ROOT, "build", "pylon.wasm"))
    ap.add_argument("--launch", default=os.path.join(ROOT, "target", "release", "pylon-launch"))
    ap.add_argument("--pylon", default=os.path.join(ROOT, "target", "release", "pylon"))
    ap.add_argument("-k", dest="only", help="run only the smoke files whose name contains this "
                    "(and skip the sandbox and leak checks)")
    ap.add_argument("--skip-leak-check", action="store_true",
                    help="skip the caps' canonical-ABI leak check (it measures the caps' "
                    "memory, not how CPython started: `make smoke` runs it once, in the pass "
                    "that resumes the startup snapshot)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each command")
    args = ap.parse_args()
    for path, what in ((args.launch, "pylon-launch (make tools)"),
                       (args.pylon, "pylon (make tools)"),
                       (args.wasm, "pylon.wasm (make build)")):
        if not os.path.exists(path):
            print(f"smoke: {path}: missing; build {what} first", file=sys.stderr)
            return 2
    wasm = os.path.realpath(args.wasm)
    with open(os.path.join(os.path.dirname(wasm), "record.json")) as f:
        record = json.load(f)
    source = cpython_tarball(record)
    if source:
        os.environ["PYLON_SMOKE_CPYTHON_TARBALL"] = source

    h = Harness(args.launch, wasm, args.verbose)
    caps = pinned_caps(args.pylon)
    where = smoke_files(caps)
    names = sorted(where)
    if args.only:
        names = [n for n in names if args.only in n]
    env = {"PYLON_SMOKE": "1"}
    argv = ["one", "two words"]
    env_args = [a for k, v in env.items() for a in ("--env", f"{k}={v}")]
    with tempfile.TemporaryDirectory(prefix="pylon-smoke-") as scratch:
        hosts = {n: host_module(where[n], n) for n in names}
        shared = {"run": {"cpython": record["cpython"], "argv": argv, "env": env}}
        unprepared = {}
        for n, m in hosts.items():
            if m is not None:
                try:
                    shared[n] = m.prepare(scratch)
                except Exception as e:  # a missing tool or input: that file fails
                    unprepared[n] = f"{type(e).__name__}: {e}"
        with open(os.path.join(scratch, "host.json"), "w") as f:
            json.dump(shared, f)
        scratch_map = ["--dir", f"{scratch}::/smoke::rw"]
        maps = ["--dir", f"{TESTS}::/tests"] + scratch_map

        for n in names:
            if n in unprepared:
                h.check(f"{n}_smoke.py: host side ({where[n]}/{n}_smoke_host.py prepare)",
                        False, unprepared[n])
                continue
            own = ["--dir", f"{where[n]}::/tests"] + scratch_map
            if hosts[n] is not None and hasattr(hosts[n], "launcher_args"):
                own += hosts[n].launcher_args(shared[n])
            p = h.run(own + env_args, [f"/tests/{n}_smoke.py", *argv])
            # A passing smoke file's summary is its first line of output.
            h.check(f"{n}_smoke.py", p.returncode == 0, outcome(p),
                    summary=(p.stdout.strip().splitlines() or [""])[0])
            escaping = escaping_links(scratch)
            if escaping:
                h.check(f"{n}_smoke.py: left symlinks pointing out of /smoke", False,
                        ", ".join(escaping) + " (removed, not followed)")
            elif p.returncode == 0 and hosts[n] is not None:
                for what, ok, detail in hosts[n].check(scratch):
                    h.check(f"{n}_smoke.py: {what}", ok, detail)
        if args.only:
            return summary(h)

        # --- the sandbox ----------------------------------------------------------------
        p = h.run(maps, ["-c", "open('/etc/passwd').read()"])
        h.check("sandbox: a file outside the mapped directories cannot be read",
                p.returncode != 0 and ("FileNotFoundError" in p.stderr
                                       or "PermissionError" in p.stderr), outcome(p))
        p = h.run(["--dir", f"{TESTS}::/tests"], ["-c", "open('/tests/new-file', 'w')"])
        h.check("sandbox: a read-only mapped directory cannot be written",
                p.returncode != 0 and not os.path.exists(os.path.join(TESTS, "new-file")),
                outcome(p))
        # A guest with a ::rw mapping can make a symlink whose target climbs out of it;
        # the host side reads what the guest wrote and must never follow one there.
        p = h.run(scratch_map, ["-c", "import os; os.symlink('../../../../../../../etc/hostname', "
                                "'/smoke/escape'); os.symlink('inside', '/smoke/fine')"])
        found = escaping_links(scratch)
        h.check("sandbox: a guest's symlink out of its ::rw mapping is found and removed "
                "before host checks read the directory",
                p.returncode == 0 and found == ["escape"]
                and not os.path.lexists(os.path.join(scratch, "escape")),
                f"{outcome(p)}; escaping: {found}")
        p = h.run(["--timeout", "3s"], ["-c", "while True: pass"], timeout=120)
        h.check("sandbox: --timeout 3s stops `while True: pass` (exit 124)",
                p.returncode == 124 and "timed out" in p.stderr, outcome(p))
        p = h.run(["--max-memory", "64Mi"], ["-c", "x = bytearray(1 << 30); print(len(x))"])
        h.check("sandbox: --max-memory 64Mi stops a 1 GiB allocation",
                p.returncode != 0 and "1073741824" not in p.stdout, outcome(p))
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen(4)
            port = server.getsockname()[1]
            code = ("import socket\n"
                    f"s = socket.create_connection(('127.0.0.1', {port}), timeout=10)\n"
                    "print('connected')\n")
            p = h.run([], ["-c", code], timeout=120)
            h.check("sandbox: no sockets without --allow-net",
                    p.returncode != 0 and "connected" not in p.stdout, outcome(p))
        # ...but the guest's own loopback: socket.socketpair(), which every asyncio event
        # loop opens, is a TCP pair on 127.0.0.1 under WASI.
        code = ("import asyncio, socket\n"
                "a, b = socket.socketpair()\n"
                "a.sendall(b'pair'); assert b.recv(4) == b'pair'\n"
                "async def main():\n"
                "    await asyncio.sleep(0.01)\n"
                "    return 'ran'\n"
                "print(asyncio.run(main()))\n")
        p = h.run([], ["-c", code], timeout=120)
        h.check("sandbox: without --allow-net, socketpair() and asyncio still work "
                "(the guest's own loopback)", p.returncode == 0 and p.stdout == "ran\n",
                outcome(p))

        # --- canonical-ABI allocations are freed ------------------------------------------
        if args.skip_leak_check:
            return summary(h)
        loops = [(name, os.path.join(d, "smoke")) for name, d in caps
                 if os.path.isfile(os.path.join(d, "smoke", "alloc_loop.py"))]
        loop_maps = ["--dir", f"{TESTS}::/tests"]
        for name, d in loops:
            loop_maps += ["--dir", f"{d}::/caps/{name}"]
        loop_files = [f"/caps/{name}/alloc_loop.py" for name, _ in loops]
        sizes = {}
        for n in (10_000, 100_000):
            p = h.run(["--report-memory", *loop_maps],
                      ["/tests/alloc_loop.py", str(n), *loop_files])
            lines = [l for l in p.stderr.splitlines() if "linear memory:" in l]
            if p.returncode != 0 or not lines:
                h.check(f"alloc_loop.py {n}", False, outcome(p))
            else:
                sizes[n] = int(lines[-1].split(":")[-1].split()[0])
        if len(sizes) == 2:
            h.check(f"caps ({', '.join(n for n, _ in loops)}): linear memory after 100k rounds "
                    f"of cap calls equals that after 10k ({sizes[10_000]} bytes)", sizes[10_000] == sizes[100_000],
                    f"10k: {sizes[10_000]} bytes, 100k: {sizes[100_000]} bytes")
    return summary(h)


def escaping_links(root):
    """Symlinks under `root` whose target resolves outside it, by path relative to
    `root`; each is removed (the link, never its target). Host checks read what the
    guest wrote only after this, so they never follow a guest's link out."""
    real_root = os.path.realpath(root)
    found = []
    for dirpath, dirnames, filenames in os.walk(root):  # does not descend into links
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                continue
            target = os.path.realpath(path)
            if os.path.commonpath([real_root, target]) != real_root:
                found.append(os.path.relpath(path, root))
                os.unlink(path)
    return sorted(found)


def summary(h):
    failed = [n for n, ok in h.results if not ok]
    print(f"smoke: {len(h.results) - len(failed)} OK, {len(failed)} FAIL")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
