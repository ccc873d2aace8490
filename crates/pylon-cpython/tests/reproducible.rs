//! Slow (runs when `PYLON_SLOW_TESTS=1`): two cold builds of the default profile in two
//! different absolute directories, each in its own process with another `TZ`,
//! `LC_ALL`, `umask` and `HOME` and its own empty cache (so the native build python is
//! rebuilt too), must give bit-identical python.wasm and stdlib.zip; the component then
//! runs under wasmtime 48.0.8 with nothing but the stdlib zip mapped, read-only, at
//! `/usr/local/lib/python313.zip`, and prints `3.13.15`.
//!
//! Each build runs in a child process (this test binary re-run with
//! `PYLON_CPYTHON_CHILD_BUILD` set, executing only `child_build`), because TZ, the
//! locale, the umask and HOME are process-wide.

use std::path::{Path, PathBuf};
use std::process::Command;

use pylon_cpython::build::{build, BuildOptions};
use pylon_cpython::fetch::{default_cache_root, sha256_file};
use pylon_cpython::profile::load_profile;
use pylon_cpython::toolchain::Layout;

mod support;
use support::run_python;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs in the child: one build with the cache and output given by the parent.
#[test]
fn child_build() {
    let Some(root) = std::env::var_os("PYLON_CPYTHON_CHILD_BUILD") else {
        return; // only meaningful as the parent's child
    };
    let root = PathBuf::from(root);
    let profile = load_profile(&repo().join("profiles"), None).unwrap();
    let opts = BuildOptions {
        layout: Layout::debian(&profile.build.host_triple),
        repo_root: repo(),
        cache_root: root.join("cache"),
        out_dir: root.join("out"),
        local_tarball: std::env::var_os("PYLON_CPYTHON_TARBALL").map(PathBuf::from),
        apt_root: PathBuf::from("/etc/apt"),
        jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
        force: false,
        keep_work: false,
        profile,
    };
    let report = build(&opts, &|ev| eprintln!("{ev:?}")).unwrap_or_else(|e| {
        panic!("build failed: {e}\n{}", e.log_tail().join("\n"));
    });
    eprintln!("{}", serde_json::to_string_pretty(&report).unwrap());
}

#[test]
fn two_builds_in_two_directories_are_identical_and_run() {
    if std::env::var("PYLON_SLOW_TESTS").as_deref() != Ok("1") {
        eprintln!("slow test skipped (set PYLON_SLOW_TESTS=1)");
        return;
    }
    let profile = load_profile(&repo().join("profiles"), None).unwrap();
    // Reuse a tarball already in the machine's input cache (it is digest-checked again);
    // otherwise each child fetches its own.
    let cached_tarball = default_cache_root()
        .map(|c| c.join("inputs").join(profile.source.sha256.as_str()))
        .filter(|p| p.is_file());
    let tmp = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let runs = [
        ("a", "UTC", "C", "022"),
        ("b/deeper/other-name", "Pacific/Chatham", "C.UTF-8", "077"),
    ];
    // The Rust toolchain stays where this machine has it (rustup finds it through
    // RUSTUP_HOME, which defaults to $HOME/.rustup, and HOME changes below).
    let home = PathBuf::from(std::env::var_os("HOME").unwrap_or_default());
    let rustup_home = std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".rustup"));
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".cargo"));
    let mut outs = Vec::new();
    for (dir, tz, lc, umask) in runs {
        let root = tmp.path().join(dir);
        std::fs::create_dir_all(root.join("home")).unwrap();
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
            .arg(&exe)
            .args(["--exact", "child_build", "--nocapture", "--test-threads=1"])
            .env("PYLON_CPYTHON_CHILD_BUILD", &root)
            .env("HOME", root.join("home"))
            .env("RUSTUP_HOME", &rustup_home)
            .env("CARGO_HOME", &cargo_home)
            .env("TZ", tz)
            .env("LC_ALL", lc)
            .env_remove("PYLON_CACHE_DIR");
        match &cached_tarball {
            Some(t) => cmd.env("PYLON_CPYTHON_TARBALL", t),
            None => cmd.env_remove("PYLON_CPYTHON_TARBALL"),
        };
        let status = cmd.status().unwrap();
        assert!(status.success(), "build in {} failed", root.display());
        outs.push(root.join("out"));
    }
    let digest = |p: PathBuf| sha256_file(&p).unwrap();
    let (wasm_a, wasm_b) = (
        digest(outs[0].join("python.wasm")),
        digest(outs[1].join("python.wasm")),
    );
    let (zip_a, zip_b) = (
        digest(outs[0].join("stdlib.zip")),
        digest(outs[1].join("stdlib.zip")),
    );
    eprintln!("python.wasm {wasm_a} / {wasm_b}\nstdlib.zip  {zip_a} / {zip_b}");
    assert_eq!(
        wasm_a, wasm_b,
        "python.wasm differs between the two directories"
    );
    assert_eq!(
        zip_a, zip_b,
        "stdlib.zip differs between the two directories"
    );
    assert_eq!(
        std::fs::read(outs[0].join("record.json")).unwrap(),
        std::fs::read(outs[1].join("record.json")).unwrap()
    );

    // The recorded digests, when the repository has them, are what we just built.
    let expected = repo()
        .join("profiles/expected")
        .join(format!("{}.toml", profile.name));
    if let Ok(text) = std::fs::read_to_string(&expected) {
        assert!(
            text.contains(&wasm_a),
            "{} does not record python.wasm {wasm_a}",
            expected.display()
        );
        assert!(
            text.contains(&zip_a),
            "{} does not record stdlib.zip {zip_a}",
            expected.display()
        );
    }

    let guest_zip = profile.stdlib_zip_guest_path();
    let (ok, out, err) = run_python(
        &outs[0].join("python.wasm"),
        &outs[0].join("stdlib.zip"),
        &guest_zip,
        &["-c", "import sys, json, encodings, hashlib; print(sys.version.split()[0]); print(sys.path); print(hashlib.sha256(b'').hexdigest()[:8])"],
    );
    assert!(ok, "python.wasm failed\nstdout: {out}\nstderr: {err}");
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some(profile.version.as_str()),
        "stdout: {out}\nstderr: {err}"
    );
    assert!(
        lines.next().unwrap_or("").contains(&guest_zip),
        "stdout: {out}"
    );
    assert_eq!(lines.next(), Some("e3b0c442"));
}
