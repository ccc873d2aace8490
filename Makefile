# Thin wrappers over the `pylon` CLI so the documented workflow works as written:
#   make caps-sync [CAPS_ONLY=zlib,zstd] [CAPS_SKIP_BUILD=1]
#   make build [PYLON_PROFILE=cp314 PYLON_CPYTHON_TARBALL=...]
#   make verify
#   make regen-manifest [CAPS_ONLY=zlib]
#   make smoke
# Every target builds the CLI first (a no-op when it is up to date).

CARGO ?= cargo
PYLON := target/release/pylon

# Passed to pylon through the environment, exactly as the spec spells them
# (`make caps-sync CAPS_ONLY=zlib` as well as `CAPS_ONLY=zlib make caps-sync`).
ifdef CAPS_ONLY
export CAPS_ONLY
endif
ifdef CAPS_SKIP_BUILD
export CAPS_SKIP_BUILD
endif
ifdef PYLON_CAPS_DIR
export PYLON_CAPS_DIR
endif
ifdef PYLON_PROFILE
export PYLON_PROFILE
endif
ifdef PYLON_CPYTHON_TARBALL
export PYLON_CPYTHON_TARBALL
endif
ifdef PYLON_CACHE_DIR
export PYLON_CACHE_DIR
endif

.PHONY: all tools caps-sync build verify smoke cpython-tests regen-manifest repro-check repro-check-baseline repro-check-product test test-new-cap prereqs toolchain

all: caps-sync build verify smoke

prereqs:
	scripts/install-prereqs.sh

# The pinned WASI C toolchain (clang/lld/llvm 19, compiler-rt, wasi-libc and the
# libraries they load): the profile's .deb files, fetched by sha256 and unpacked into
# pylon's cache, no root. caps-sync and build do this themselves on first use; this
# target does it alone, after checking what the host must provide.
toolchain: tools
	$(PYLON) doctor
	$(PYLON) toolchain

tools:
	$(CARGO) build --release --locked -p pylon-cli -p pylon-launch

caps-sync: tools
	$(PYLON) caps-sync

# CPython for wasm32-wasip2 with the caps' shims (cached by content), composed with the
# caps into build/<profile>/pylon.wasm; build/pylon.wasm points at it. --snapshot: also
# the seeded startup snapshot profiles/expected/<profile>.toml pins, checked like the rest.
build: tools
	$(PYLON) build --snapshot

# tests/*_smoke.py inside build/pylon.wasm under pylon-launch, plus the sandbox checks:
# once resuming the startup snapshot (pylon-launch's default), once initialising CPython
# in every run (the caps' leak check, which is about the caps, only in the first); then
# the snapshot's own checks (what a run re-does, reproducibility).
smoke: tools
	python3 scripts/smoke.py
	PYLON_NO_SNAPSHOT=1 python3 scripts/smoke.py --skip-leak-check
	python3 scripts/snapshot-check.py

verify: tools
	$(PYLON) verify

# What CI proves: every cap, then the whole product (CPython, stdlib.zip, pylon.wasm),
# each built ONCE under every variation at once and compared with the committed pins
# (no baseline build); the product's build runs beside the caps'. Needs `make caps-sync`
# and `make build` first: their outputs are composed, and are the pinned bytes a
# difference is diffed against. A cap that differs is then built once per variation to
# say which one is to blame; the product is not (minutes per build):
# `make repro-check-product` does that.
repro-check: tools
	$(PYLON) repro-check --against pins --all

# For diagnosing a drift: a baseline build here, then the varied build (two cold builds
# per cap), with attribution when they differ.
repro-check-baseline: tools
	$(PYLON) repro-check $(subst $(comma), ,$(CAPS_ONLY))

# The product against its pins, attributing a difference to a variation (one more cold
# product build per variation when it differs: up to an hour on 2 cores).
repro-check-product: tools
	$(PYLON) repro-check --against pins --product --attribute-product

regen-manifest: tools
	$(PYLON) manifest regen $(subst $(comma), ,$(CAPS_ONLY))

# The test suite: formatting, lints, then every test of the workspace. The caps'
# wasmtime tests run the components caps-sync published (a no-op sync when they are
# up to date), so no test compiles a default cap.
test: caps-sync
	$(CARGO) fmt --all --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	$(CARGO) test --release --locked --workspace

# CPython's own regression suite inside build/pylon.wasm against
# tests/cpython-tests.toml: the CI subset by default; `make cpython-tests ALL=1` runs
# every module, `make cpython-tests MODULES="test_json test_os"` the named ones.
cpython-tests: tools
	python3 scripts/cpython_tests.py $(if $(ALL),--all) $(MODULES)

# Opt-in: a new cap from `pylon cap new` to `make smoke` in a copy of this repository,
# the product rebuilt by `manifest regen` (one more CPython build, ~10 minutes).
test-new-cap: tools
	$(CARGO) test --locked -p pylon-cli --test cap_new_product -- --ignored

comma := ,
