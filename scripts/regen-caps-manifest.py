#!/usr/bin/env python3
"""Re-pin caps in caps-manifest.toml: a thin wrapper over `pylon manifest regen`.

Usage: python3 scripts/regen-caps-manifest.py [CAP ...] [--dry-run] [--json]
All arguments are passed through; see `pylon manifest regen --help`.
"""
import os
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = subprocess.run(
    ["cargo", "build", "--release", "--locked", "-q", "-p", "pylon-cli"], cwd=root
)
if build.returncode != 0:
    sys.exit(build.returncode)
pylon = os.path.join(root, "target", "release", "pylon")
result = subprocess.run([pylon, "manifest", "regen", *sys.argv[1:]], cwd=root)
sys.exit(result.returncode)
