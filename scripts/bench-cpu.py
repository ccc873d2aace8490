#!/usr/bin/env python3
"""CPU time of a small benchmark set inside build/pylon.wasm (resuming the startup
snapshot, and with --no-snapshot) against a real CPython binary, measured in the same
run: what the snapshot costs once the program runs (nothing, if the two pylon columns
agree). Each workload is timed inside its interpreter (time.perf_counter around the
work only, best of 5 rounds in one process).

    python3 scripts/bench-cpu.py [--peer /usr/bin/python3]

Workloads: nbody (floating point loops), json (dumps + loads of a 1 MB document),
regex (a few patterns over 2 MB of text).
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WORKLOADS = r'''
import json, re, time

def nbody(steps=40000):
    bodies = [
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 39.47841760435743],
        [4.84, -1.16, -0.10, 0.606, 2.81, -0.02, 0.037],
        [8.34, 4.12, -0.40, -1.01, 1.82, 0.008, 0.011],
        [12.89, -15.11, -0.22, 1.08, 0.868, -0.01, 0.0017],
        [15.37, -25.91, 0.17, 0.979, 0.594, -0.034, 0.002],
    ]
    dt = 0.01
    for _ in range(steps):
        for i in range(5):
            bi = bodies[i]
            for j in range(i + 1, 5):
                bj = bodies[j]
                dx, dy, dz = bi[0] - bj[0], bi[1] - bj[1], bi[2] - bj[2]
                d2 = dx * dx + dy * dy + dz * dz
                mag = dt / (d2 * d2 ** 0.5)
                bi[3] -= dx * bj[6] * mag; bi[4] -= dy * bj[6] * mag; bi[5] -= dz * bj[6] * mag
                bj[3] += dx * bi[6] * mag; bj[4] += dy * bi[6] * mag; bj[5] += dz * bi[6] * mag
        for b in bodies:
            b[0] += dt * b[3]; b[1] += dt * b[4]; b[2] += dt * b[5]
    return bodies[0][0]

DOC = {"items": [{"id": i, "name": f"item-{i}", "tags": ["a", "b", str(i % 7)],
                  "price": i * 1.25, "ok": i % 3 == 0} for i in range(8000)]}

def json_round():
    for _ in range(3):
        text = json.dumps(DOC)
        assert json.loads(text)["items"][-1]["id"] == 7999
    return len(text)

TEXT = " ".join(f"user{i}@example.org visited /page/{i % 97}?q={i * 7} at 12:{i % 60:02d}"
                for i in range(30000))

def regex():
    n = len(re.findall(r"[\w.]+@[\w.]+", TEXT))
    n += len(re.findall(r"/page/(\d+)\?q=(\d+)", TEXT))
    n += len(re.sub(r"\d+", "#", TEXT))
    return n

out = {}
for name, fn in (("nbody", nbody), ("json", json_round), ("regex", regex)):
    best = None
    for _ in range(5):
        t = time.perf_counter()
        fn()
        took = time.perf_counter() - t
        best = took if best is None or took < best else best
    out[name] = best
print(json.dumps(out))
'''


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"bench-cpu: {' '.join(cmd[:3])}…: exit {p.returncode}\n{p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peer", default="/usr/bin/python3")
    ap.add_argument("--launch", default=os.path.join(ROOT, "target", "release", "pylon-launch"))
    args = ap.parse_args()
    peer = os.path.realpath(args.peer)
    with open(peer, "rb") as f:
        if f.read(4) != b"\x7fELF":
            sys.exit(f"bench-cpu: {peer} is not an ELF binary (a shim?)")
    version = subprocess.run([peer, "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True).stdout.strip()
    snap = run([args.launch, "-c", WORKLOADS])
    plain = run([args.launch, "--no-snapshot", "-c", WORKLOADS])
    host = run([peer, "-c", WORKLOADS])
    print(f"| workload | pylon.wasm, snapshot | pylon.wasm, --no-snapshot | {peer} ({version}) "
          "| snapshot / native | snapshot / no-snapshot |")
    print("|---|---|---|---|---|---|")
    for name in snap:
        print(f"| {name} | {snap[name] * 1000:.1f} ms | {plain[name] * 1000:.1f} ms | "
              f"{host[name] * 1000:.1f} ms | {snap[name] / host[name]:.2f}× | "
              f"{snap[name] / plain[name]:.2f}× |")


if __name__ == "__main__":
    main()
