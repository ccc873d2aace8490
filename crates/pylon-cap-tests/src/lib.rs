//! Test support for running the default caps' components in wasmtime.
//!
//! `cap_component(name)` builds the cap from `caps/<name>/` with the same code
//! `pylon caps-sync` runs (`pylon_caps::build::build_cap`, target taken from the
//! repository's `caps-manifest.toml`), once per test process, publishes it into this
//! workspace's `target/cap-tests/`, and returns the component's path. The tests in `tests/`
//! then call the component's exports through `wasmtime::component::bindgen!`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use pylon_caps::build::{build_cap, BuildRequest, HostPaths};
pub use wasmtime;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root exists")
}

/// Builds `caps/<name>` (once per process) and returns the component's path.
/// Panics with the build log's tail when the build fails: this is test support.
pub fn cap_component(name: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(path) = built.get(name) {
        return path.clone();
    }
    let root = repo_root();
    let manifest = pylon_manifest::read_manifest(&root.join("caps-manifest.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let cap = manifest
        .cap(name)
        .unwrap_or_else(|| panic!("no cap {name:?} in caps-manifest.toml"));
    let out_dir = root.join("target/cap-tests").join(name);
    let req = BuildRequest {
        name: name.to_string(),
        checkout: root.join("caps").join(name),
        target: cap.target,
        output: out_dir.join(format!("{name}.wasm")),
        // The checkout's own target dir, which caps-sync uses too: after a sync the
        // build is a cargo no-op (same flags), and cargo's lock serialises the two.
        target_dir: None,
        log: out_dir.join("build.log"),
    };
    if let Err(e) = build_cap(&req, &HostPaths::detect()) {
        panic!(
            "building cap {name} failed: {e}\n{}",
            e.log_tail().join("\n")
        );
    }
    built.insert(name.to_string(), req.output.clone());
    req.output
}

/// Store state: a WASI context with nothing granted (no dirs, no env, no network).
pub struct Host {
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

/// Everything needed to instantiate a cap: engine, linker with WASI 0.2, a store,
/// and the compiled component.
pub struct Harness {
    pub engine: Engine,
    pub linker: Linker<Host>,
    pub store: Store<Host>,
    pub component: Component,
}

/// Builds the cap, compiles its component and prepares a fresh store.
pub fn harness(name: &str) -> Harness {
    let path = cap_component(name);
    let mut config = Config::new();
    config.wasm_component_model(true);
    let engine = Engine::new(&config).expect("wasmtime engine");
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).expect("WASI 0.2 in linker");
    let store = Store::new(
        &engine,
        Host {
            ctx: WasiCtx::builder().build(),
            table: ResourceTable::new(),
        },
    );
    let component = Component::from_file(&engine, &path)
        .unwrap_or_else(|e| panic!("compiling {}: {e:#}", path.display()));
    Harness {
        engine,
        linker,
        store,
        component,
    }
}
