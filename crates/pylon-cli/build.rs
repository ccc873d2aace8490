//! Records the versions of the composition and runtime crates this `pylon` is
//! built with, read from the workspace Cargo.lock (the versions cargo really
//! links), as `PYLON_WASMTIME_VERSION` and `PYLON_WAC_GRAPH_VERSION`: `manifest
//! regen` writes them into `[toolchain]` and a drift diagnosis compares them.

use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let lock_path = manifest_dir.join("../../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock_path.display());
    println!("cargo:rerun-if-changed=build.rs");
    let lock = std::fs::read_to_string(&lock_path).unwrap_or_default();
    for (crate_name, var) in [
        ("wasmtime", "PYLON_WASMTIME_VERSION"),
        ("wac-graph", "PYLON_WAC_GRAPH_VERSION"),
    ] {
        // Empty when unknown (no lockfile, e.g. a packaged source): the tool then
        // records nothing rather than a guess.
        let version = pylon_util::lockfile::locked_versions(&lock, crate_name).unwrap_or_default();
        println!("cargo:rustc-env={var}={version}");
    }
}
