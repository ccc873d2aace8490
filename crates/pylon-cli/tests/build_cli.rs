//! `pylon build` up to the point where CPython would be compiled: which module each cap
//! serves (`--explain-modules`, from shims generated from the caps' real WIT), and the
//! errors for a broken manifest or a cap without a WIT package. The full build is in
//! `product_reproducible.rs` (slow) and in CI's `make build`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::repo_root as repo;

fn pylon(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pylon"))
        .current_dir(dir)
        .args(args)
        .env_remove("PYLON_MANIFEST")
        .env_remove("PYLON_PROFILE")
        .output()
        .unwrap()
}

/// `pylon build --explain-modules` in `dir` with the repository's profiles and the
/// given manifest: everything up to the shims, nothing built.
fn explain_with_manifest(dir: &Path, manifest: &Path) -> Output {
    let profiles = repo().join("profiles");
    pylon(
        dir,
        &[
            "build",
            "--explain-modules",
            "--profiles-dir",
            profiles.to_str().unwrap(),
            "--manifest",
            manifest.to_str().unwrap(),
        ],
    )
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn explain_modules_names_the_cap_behind_each_module() {
    let out = pylon(&repo(), &["build", "--explain-modules", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let modules = doc["modules"].as_array().unwrap();
    let cap_rows: Vec<&serde_json::Value> =
        modules.iter().filter(|m| m["state"] == "cap").collect();
    let names: Vec<&str> = cap_rows
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    // One row per pinned cap of the manifest, found by looking (not a list kept here).
    let manifest = pylon_manifest::read_manifest(&repo().join("caps-manifest.toml")).unwrap();
    let mut expected: Vec<String> = manifest
        .caps
        .iter()
        .map(|c| format!("_pylon_{}", c.name.replace('-', "_")))
        .collect();
    expected.sort();
    assert_eq!(names, expected);
    let row = |module: &str| {
        cap_rows
            .iter()
            .find(|m| m["name"] == module)
            .and_then(|m| m["reason"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    let zlib = row("_pylon_zlib");
    assert!(zlib.contains("cap zlib"), "{zlib}");
    assert!(zlib.contains("pylon:zlib/zlib@0.1.0"), "{zlib}");
    assert!(zlib.contains("Python: zlib"), "{zlib}");
    let hashing = row("_pylon_hashing");
    assert!(hashing.contains("pylon:hashing/kdf@0.1.0"), "{hashing}");
    // The profile's own decision about the C zlib module is still listed, joined with
    // the cap that serves the module, which the profile does not name.
    let zlib_c = modules
        .iter()
        .find(|m| m["name"] == "zlib" && m["state"] == "disabled")
        .and_then(|m| m["reason"].as_str())
        .expect("a disabled zlib row");
    assert!(
        zlib_c.ends_with("; served in Python by cap zlib"),
        "{zlib_c}"
    );
    let ssl_c = modules
        .iter()
        .find(|m| m["name"] == "_ssl" && m["state"] == "disabled")
        .and_then(|m| m["reason"].as_str())
        .expect("a disabled _ssl row");
    assert!(ssl_c.ends_with("; served in Python by cap tls"), "{ssl_c}");
    // The cap's own reason comes from its descriptor.
    let ssl_py = modules
        .iter()
        .find(|m| m["name"] == "_ssl" && m["state"] == "cap-python")
        .and_then(|m| m["reason"].as_str())
        .expect("a cap-python _ssl row");
    let tls = pylon_manifest::read_descriptor(&repo().join("caps/tls")).unwrap();
    assert!(ssl_py.ends_with(&tls.modules[0].reason), "{ssl_py}");
    // _sqlite3 is linked in, and says from which pinned source.
    let sqlite = modules
        .iter()
        .find(|m| m["name"] == "_sqlite3")
        .expect("a _sqlite3 row");
    assert_eq!(sqlite["state"], "static");
    let reason = sqlite["reason"].as_str().unwrap();
    assert!(reason.contains("sqlite3_3.53.4.orig.tar.xz"), "{reason}");
    assert!(reason.contains("05366adc8ee80c6b"), "{reason}");
    assert!(reason.contains("-DSQLITE_WASI"), "{reason}");

    // Text form: one line per module.
    let out = pylon(&repo(), &["build", "--explain-modules"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.contains("_pylon_zstd") && l.contains("served by cap zstd")),
        "{text}"
    );
}

#[test]
fn broken_manifest_is_a_usage_error_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let manifest = tmp.path().join("caps-manifest.toml");
    std::fs::write(&manifest, "schema = 1\npylon_sha256 = \"abc\"\n").unwrap();
    let out = explain_with_manifest(tmp.path(), &manifest);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("caps-manifest.toml:2:"), "{err}");
    assert!(err.contains("pylon_sha256"), "{err}");
}

#[test]
fn cap_without_wit_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    // An in-tree cap directory with no wit/ package.
    std::fs::create_dir_all(tmp.path().join("caps/nowit")).unwrap();
    let manifest = tmp.path().join("caps-manifest.toml");
    std::fs::write(
        &manifest,
        format!(
            "schema = 1\npylon_sha256 = \"{zero}\"\n\n[[cap]]\nname = \"nowit\"\nrepo = \"caps/nowit\"\n\
             rev = \"{rev}\"\ntarget = \"wasm32-wasip2\"\nartifact = \"out/nowit.wasm\"\n\
             sha256 = \"{sha}\"\nexports = [\"pylon:nowit/api@0.1.0\"]\n",
            zero = "0".repeat(64),
            rev = "1".repeat(40),
            sha = "2".repeat(64),
        ),
    )
    .unwrap();
    let out = explain_with_manifest(tmp.path(), &manifest);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("cap nowit: no WIT package at"), "{err}");
    assert!(err.contains("caps/nowit/wit"), "{err}");
}
