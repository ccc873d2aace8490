#!/usr/bin/env bash
# Prepares a machine with rustup (Rust 1.95) for building and testing Pylon, without
# root: adds the wasm targets of the Rust toolchain and checks the host tools the
# build and the smoke tests run. The WASI C toolchain (clang 19, wasi-libc, …) is not
# installed here: pylon fetches the profile's pinned .deb files and unpacks them into
# its own cache on first use (`pylon toolchain`; see README).
#
# A host tool that is missing is named with the package that provides it. Only when
# run as root (a fresh CI machine) are those packages installed with apt-get; a user
# is told the command instead and the script fails. Idempotent.
set -euo pipefail

# program:Debian/Ubuntu package — what the main job and the smoke tests run.
needs=(
  cc:gcc cc:libc6-dev      # the native build python of CPython's cross-build
  make:make patch:patch tar:tar xz:xz-utils pkg-config:pkg-config
  curl:curl curl:ca-certificates   # fetches the pinned tarball and .deb files
  git:git                  # caps-sync
  python3:python3          # smoke computes expected values with the host's CPython
  zstd:zstd lz4:lz4 sqlite3:sqlite3   # smoke decodes what the caps wrote
  pip3:python3-pip         # smoke's pinned third-party files (scripts/pypi_pins.py)
  faketime:faketime        # repro-check's clock variation
)
missing=()
for need in "${needs[@]}"; do
  program=${need%%:*} package=${need#*:}
  if [ "$program" = pip3 ]; then
    python3 -m pip --version >/dev/null 2>&1 && continue
  elif command -v "$program" >/dev/null 2>&1; then
    continue
  fi
  [[ " ${missing[*]-} " == *" $package "* ]] || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "install-prereqs: missing host packages: ${missing[*]}" >&2
    echo "install-prereqs: install them (Debian/Ubuntu): sudo apt-get install ${missing[*]}" >&2
    echo "install-prereqs: (\`pylon doctor\` says what each is for)" >&2
    exit 1
  fi
fi

# Caps build for these targets; rustc 1.95 ships wasm-component-ld for wasip2.
installed=$(rustup target list --installed)
for target in wasm32-wasip1 wasm32-wasip2; do
  grep -qx "$target" <<<"$installed" || rustup target add "$target"
done

rustc -V
