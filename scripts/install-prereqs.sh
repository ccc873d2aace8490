#!/usr/bin/env bash
# Installs what building and testing Pylon needs on a fresh Debian/Ubuntu machine
# with rustup: the wasm targets of the pinned Rust toolchain, git, make, python3 with
# pip, zstd, lz4, sqlite3 and faketime.
# Idempotent; safe to run on every CI job.
set -euo pipefail

need_apt=()
command -v git >/dev/null 2>&1 || need_apt+=(git)
command -v make >/dev/null 2>&1 || need_apt+=(make)
# scripts/smoke.py computes the expected values with the host's CPython.
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
# ... and the zstd CLI decodes the frames the zstd cap wrote (caps/zstd/smoke/zstd_smoke_host.py).
command -v zstd >/dev/null 2>&1 || need_apt+=(zstd)
# ... the lz4 CLI those of the lz4 cap (caps/lz4/smoke/lz4_smoke_host.py).
command -v lz4 >/dev/null 2>&1 || need_apt+=(lz4)
# ... the sqlite3 CLI the databases the guest wrote (tests/sqlite3_smoke_host.py).
command -v sqlite3 >/dev/null 2>&1 || need_apt+=(sqlite3)
# Smoke files fetch pinned third-party files (test suites, pytest) with `pip download`
# (scripts/pypi_pins.py).
python3 -m pip --version >/dev/null 2>&1 || need_apt+=(python3-pip)
# `pylon repro-check` moves the build's clock with it (the `clock` variation).
command -v faketime >/dev/null 2>&1 || need_apt+=(faketime)
if [ "${#need_apt[@]}" -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  $sudo_cmd apt-get install -y -q "${need_apt[@]}"
fi

# Caps build for these targets; rustc 1.95 ships wasm-component-ld for wasip2.
installed=$(rustup target list --installed)
for target in wasm32-wasip1 wasm32-wasip2; do
  grep -qx "$target" <<<"$installed" || rustup target add "$target"
done

rustc -V
