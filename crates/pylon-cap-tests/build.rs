//! Finds the caps' wasmtime tests by looking: every `caps/<name>/wasmtime_test.rs` of
//! this repository becomes a module of `tests/caps.rs`, so adding a cap adds its test
//! without editing anything here.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let caps = manifest_dir.join("../../caps");
    // A directory is watched recursively: a new cap, or an edited test, re-runs this.
    println!("cargo:rerun-if-changed={}", caps.display());
    let mut names = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&caps) {
        for entry in entries.flatten() {
            let test = entry.path().join("wasmtime_test.rs");
            if test.is_file() {
                names.push((entry.file_name().to_string_lossy().into_owned(), test));
            }
        }
    }
    names.sort();
    let mut out = String::new();
    for (name, test) in &names {
        let module = name.replace('-', "_");
        let path = test.canonicalize().unwrap_or_else(|_| test.clone());
        writeln!(
            out,
            "#[path = {:?}]\nmod {module};",
            path.display().to_string()
        )
        .expect("writing to a String");
    }
    let dest =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it")).join("cap_tests.rs");
    // Written only when it changes, so an unrelated re-run recompiles nothing.
    if std::fs::read_to_string(&dest).ok().as_deref() != Some(out.as_str()) {
        std::fs::write(&dest, out).expect("writing cap_tests.rs in OUT_DIR");
    }
}
