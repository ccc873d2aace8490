//! Slow (runs when `PYLON_SLOW_TESTS=1`): the whole product, twice. `pylon build` of
//! the default profile — cap shims generated from the caps' WIT, CPython cross-built
//! with them, composed with the caps — runs in two child processes, each with its own
//! empty cache root (so the native build python and every CPython object are rebuilt,
//! in a different absolute directory) and another `TZ`, `LC_ALL`, `umask` and `HOME`.
//! Both must give bit-identical python.wasm, stdlib.zip and pylon.wasm, equal to the
//! digests the repository pins (`profiles/expected/<profile>.toml`, `pylon_sha256`),
//! with no path of either build inside. The composed component then runs under
//! wasmtime 48.0.8 and computes a CRC-32 through the zlib cap that matches the host's.

use std::path::{Path, PathBuf};
use std::process::Command;

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn sha256(path: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

struct Host {
    ctx: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

/// Runs the component's `wasi:cli/run` with `-c code`, only the stdlib directory
/// mapped (read-only), as pylon-launch does.
fn run_python(out_dir: &Path, guest_lib: &str, code: &str) -> (bool, String, String) {
    let mut config = Config::new();
    config.wasm_component_model(true);
    let engine = Engine::new(&config).unwrap();
    let mut linker: Linker<Host> = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    let stdout = MemoryOutputPipe::new(1 << 20);
    let stderr = MemoryOutputPipe::new(1 << 20);
    let ctx = WasiCtx::builder()
        .args(&["python", "-c", code])
        .env("PYTHONHOME", "/usr/local")
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .preopened_dir(out_dir.join("lib"), guest_lib, FsPerms::ReadOnly)
        .unwrap()
        .build();
    let mut store = Store::new(
        &engine,
        Host {
            ctx,
            table: ResourceTable::new(),
        },
    );
    let component = Component::from_file(&engine, out_dir.join("pylon.wasm")).unwrap();
    let command =
        wasmtime_wasi::p2::bindings::sync::Command::instantiate(&mut store, &component, &linker)
            .unwrap();
    let ok = matches!(command.wasi_cli_run().call_run(&mut store), Ok(Ok(())));
    let text = |p: &MemoryOutputPipe| String::from_utf8_lossy(&p.contents()).into_owned();
    (ok, text(&stdout), text(&stderr))
}

#[test]
fn two_product_builds_are_identical_pinned_and_run() {
    if std::env::var("PYLON_SLOW_TESTS").as_deref() != Ok("1") {
        eprintln!("slow test skipped (set PYLON_SLOW_TESTS=1)");
        return;
    }
    let repo = repo();
    let pylon = env!("CARGO_BIN_EXE_pylon");
    // The caps must be the pinned ones before they can be composed (a no-op when they
    // are; CI has just run caps-sync).
    let status = Command::new(pylon)
        .current_dir(&repo)
        .arg("caps-sync")
        .status()
        .unwrap();
    assert!(status.success(), "pylon caps-sync failed");

    let profile = pylon_cpython::load_profile(&repo.join("profiles"), None).unwrap();
    // Reuse a tarball already in the machine's input cache (digest-checked again).
    let cached_tarball = pylon_cpython::fetch::default_cache_root()
        .map(|c| c.join("inputs").join(profile.source.sha256.as_str()))
        .filter(|p| p.is_file());
    let home = PathBuf::from(std::env::var_os("HOME").unwrap_or_default());
    // The Rust toolchain stays where this machine has it (HOME changes below).
    let rustup_home = std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".rustup"));
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".cargo"));
    let caps_dir = std::env::var_os("PYLON_CAPS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join("git"));

    let tmp = tempfile::tempdir().unwrap();
    let runs = [
        ("a", "UTC", "C", "022"),
        ("b/deeper/other-name", "Pacific/Chatham", "C.UTF-8", "077"),
    ];
    let mut outs = Vec::new();
    let mut reports = Vec::new();
    for (dir, tz, lc, umask) in runs {
        let root = tmp.path().join(dir);
        let out = root.join("build").join(&profile.name);
        std::fs::create_dir_all(root.join("home")).unwrap();
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
            .arg(pylon)
            .arg("build")
            .arg("--json")
            .arg("--out-dir")
            .arg(&out)
            .arg("--cache-dir")
            .arg(root.join("cache"))
            .arg("--caps-dir")
            .arg(&caps_dir)
            .current_dir(&repo)
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
        let output = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "build in {} failed\n{stdout}\n{}",
            root.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        // The link sits beside the out dir, never in the repository.
        let link = root.join("build/pylon.wasm");
        assert_eq!(
            std::fs::read_link(&link).unwrap(),
            Path::new(&profile.name).join("pylon.wasm")
        );
        reports.push(serde_json::from_str::<serde_json::Value>(&stdout).unwrap());
        outs.push(out);
    }

    for file in ["python.wasm", "stdlib.zip", "pylon.wasm"] {
        let (a, b) = (sha256(&outs[0].join(file)), sha256(&outs[1].join(file)));
        eprintln!("{file}: {a} / {b}");
        assert_eq!(a, b, "{file} differs between the two builds");
    }
    // Both builds reported their digests as the pinned ones (exit 0 says so too).
    for report in &reports {
        assert_eq!(report["pylon"]["pin_status"], "OK", "{report:#}");
        assert_eq!(report["build"]["expected"]["matches"], true, "{report:#}");
    }
    let manifest = std::fs::read_to_string(repo.join("caps-manifest.toml")).unwrap();
    assert!(manifest.contains(&sha256(&outs[0].join("pylon.wasm"))));

    // Neither build's directories appear in what it produced.
    for (out, root) in outs
        .iter()
        .zip([tmp.path().join("a"), tmp.path().join("b")])
    {
        let needle = root.to_str().unwrap().as_bytes().to_vec();
        for file in ["python.wasm", "stdlib.zip", "pylon.wasm", "record.json"] {
            let bytes = std::fs::read(out.join(file)).unwrap();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{file} contains the build path {}",
                root.display()
            );
        }
    }

    let guest_zip = profile.stdlib_zip_guest_path();
    let guest_lib = guest_zip.rsplit_once('/').unwrap().0;
    let (ok, out, err) = run_python(
        &outs[0],
        guest_lib,
        "import sys, zlib; print(sys.version.split()[0]); print(zlib.crc32(b'pylon'))",
    );
    assert!(ok, "pylon.wasm failed\nstdout: {out}\nstderr: {err}");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some(profile.version.as_str()), "{out}\n{err}");
    let want = crc32fast::hash(b"pylon").to_string();
    assert_eq!(lines.next(), Some(want.as_str()), "{out}\n{err}");
}
