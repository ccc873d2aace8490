//! Slow (runs when `PYLON_SLOW_TESTS=1`): the whole product, twice, through
//! `pylon repro-check --product`. `pylon build` of the default profile — cap shims
//! generated from the caps' WIT, CPython cross-built with them, composed with the caps
//! — runs in two child processes, each in its own copy of the project with its own
//! empty cache root (so the native build python and every CPython object are rebuilt
//! at another absolute path), the second with every variation repro-check can apply
//! (build path, HOME, TZ, locale, umask, one make job, SOURCE_DATE_EPOCH, extra
//! variables, and the clock when faketime is installed). Both must give bit-identical
//! python.wasm, stdlib.zip and pylon.wasm, equal to the digests the repository pins
//! (`profiles/expected/<profile>.toml`, `pylon_sha256`), with no path of either build
//! inside. The composed component then runs under wasmtime 48.0.8 and computes a
//! CRC-32 through the zlib cap that matches the host's.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};

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
    let repo = common::repo_root();
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

    // The scratch directory goes under TMPDIR; kept, so the outputs can be run.
    let tmp = tempfile::tempdir().unwrap();
    let output = Command::new(pylon)
        .current_dir(&repo)
        .args(["repro-check", "--product", "--keep", "--json"])
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    eprintln!("{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["success"], true, "{report:#}");
    assert_eq!(
        report["caps"].as_array().map(Vec::len),
        Some(0),
        "{report:#}"
    );
    let product = &report["product"];
    assert_eq!(product["kind"], "product", "{product:#}");
    assert_eq!(product["builds"], 2, "{product:#}");

    // The baseline is the pinned product, every output of it.
    let baseline = &product["baseline"];
    assert_eq!(baseline["matches_pin"], true, "{baseline:#}");
    let files: Vec<&str> = baseline["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            assert_eq!(o["matches"], true, "{o:#}");
            o["file"].as_str().unwrap()
        })
        .collect();
    assert_eq!(files, ["python.wasm", "stdlib.zip", "pylon.wasm"]);
    let manifest = std::fs::read_to_string(repo.join("caps-manifest.toml")).unwrap();
    assert!(manifest.contains(baseline["sha256"].as_str().unwrap()));

    // The varied build is identical in every output.
    let combined = common::repro_row(product, "combined");
    assert_eq!(combined["verdict"], "identical", "{combined:#}");
    for o in combined["outputs"].as_array().unwrap() {
        assert_eq!(o["matches"], true, "{o:#}");
    }
    let varied: Vec<&str> = combined["variations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for v in [
        "build-path",
        "home",
        "tz",
        "locale",
        "umask",
        "source-date-epoch",
    ] {
        assert!(varied.contains(&v), "{v} not varied: {varied:?}");
    }

    // Neither build's directories appear in what it produced.
    let kept = PathBuf::from(report["kept"].as_str().unwrap());
    let scratch = kept.join("product");
    let needle = scratch.to_str().unwrap().as_bytes().to_vec();
    for label in ["baseline", "combined"] {
        for file in files.iter().copied() {
            let path = scratch.join("artifacts").join(label).join(file);
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(
                common::sha256sum(&path),
                baseline["outputs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|o| o["file"] == file)
                    .unwrap()["sha256"]
                    .as_str()
                    .unwrap()
            );
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{label}/{file} contains the build path {}",
                scratch.display()
            );
        }
    }

    // The kept baseline build runs: its out dir holds pylon.wasm and lib/.
    let out_dir = scratch.join("kept/baseline/build").join(&profile.name);
    let guest_zip = profile.stdlib_zip_guest_path();
    let guest_lib = guest_zip.rsplit_once('/').unwrap().0;
    let (ok, out, err) = run_python(
        &out_dir,
        guest_lib,
        "import sys, zlib; print(sys.version.split()[0]); print(zlib.crc32(b'pylon'))",
    );
    assert!(ok, "pylon.wasm failed\nstdout: {out}\nstderr: {err}");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some(profile.version.as_str()), "{out}\n{err}");
    let want = crc32fast::hash(b"pylon").to_string();
    assert_eq!(lines.next(), Some(want.as_str()), "{out}\n{err}");
}
