//! What the end-to-end test files share: where they keep their files, and the test
//! guest (tests/guest) built with cargo for wasm32-wasip2.

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn guest_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guest")
}

pub fn tmp_root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pylon-launch-tests")
}

/// Builds the test guest (in a target directory every test file shares, so it is
/// compiled once) and returns its component. Callers keep the path in a `OnceLock`.
pub fn build_guest() -> PathBuf {
    let target = tmp_root().join("guest-target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .args(["--offline", "--locked"])
        .arg("--target-dir")
        .arg(&target)
        .current_dir(guest_dir())
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .status()
        .expect("running cargo for the test guest");
    assert!(status.success(), "building the test guest failed");
    let wasm = target.join("wasm32-wasip2/release/pylon-launch-test-guest.wasm");
    assert!(wasm.is_file(), "{} missing", wasm.display());
    wasm
}
