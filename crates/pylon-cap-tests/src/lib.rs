//! Test support for running the default caps' components in wasmtime.
//!
//! `cap_component(name)` returns the component `pylon caps-sync` published for the cap
//! (`<checkout>/<artifact>` of the repository's `caps-manifest.toml`), after checking
//! that its sha256 is the manifest's pin: the tests exercise exactly the bytes that
//! are shipped, and no test compiles a cap (`make test` runs caps-sync first, which
//! CI has already done). The tests in `tests/` then call the component's exports
//! through `wasmtime::component::bindgen!`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use pylon_caps::digest::sha256_file;
use pylon_caps::sync::checkout_dir;
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

/// The pinned component of cap `name`, as caps-sync published it (checked once per
/// process). Panics, saying what to run, when it is missing or not the pinned bytes:
/// this is test support.
pub fn cap_component(name: &str) -> PathBuf {
    static CHECKED: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let checked = CHECKED.get_or_init(Default::default);
    let mut checked = checked.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(path) = checked.get(name) {
        return path.clone();
    }
    let root = repo_root();
    let manifest = pylon_manifest::read_manifest(&root.join("caps-manifest.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let cap = manifest
        .cap(name)
        .unwrap_or_else(|| panic!("no cap {name:?} in caps-manifest.toml"));
    let caps_dir = std::env::var_os("PYLON_CAPS_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join("git")))
        .unwrap_or_default();
    let artifact = checkout_dir(&manifest, cap, &caps_dir).join(&cap.artifact);
    let pin = cap
        .sha256
        .pinned()
        .unwrap_or_else(|| panic!("cap {name} has a placeholder sha256 in caps-manifest.toml"));
    match sha256_file(&artifact) {
        Ok(d) if d.matches(pin) => {}
        Ok(d) => panic!(
            "{} has sha256 {}, not the pinned {pin}: run `make caps-sync` (it rebuilds the \
             cap and says why it differs)",
            artifact.display(),
            d.sha256.0
        ),
        Err(e) => panic!(
            "{}: {e}: run `make caps-sync` first (these tests run the published cap)",
            artifact.display()
        ),
    }
    checked.insert(name.to_string(), artifact.clone());
    artifact
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

/// One engine per test process, and each cap's component compiled once with it:
/// Cranelift in a debug build takes tens of seconds for the larger caps, and every
/// test wants a fresh instance, not a fresh compilation.
fn compiled(name: &str) -> (Engine, Component) {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    static COMPONENTS: OnceLock<Mutex<HashMap<String, Component>>> = OnceLock::new();
    let engine = ENGINE.get_or_init(|| {
        let mut config = Config::new();
        config.wasm_component_model(true);
        Engine::new(&config).expect("wasmtime engine")
    });
    let path = cap_component(name);
    let components = COMPONENTS.get_or_init(Default::default);
    let mut components = components.lock().unwrap_or_else(|e| e.into_inner());
    let component = components
        .entry(name.to_string())
        .or_insert_with(|| {
            Component::from_file(engine, &path)
                .unwrap_or_else(|e| panic!("compiling {}: {e:#}", path.display()))
        })
        .clone();
    (engine.clone(), component)
}

/// The cap's pinned component (compiled once per process), a linker with WASI 0.2 and
/// a fresh store.
pub fn harness(name: &str) -> Harness {
    let (engine, component) = compiled(name);
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).expect("WASI 0.2 in linker");
    let store = Store::new(
        &engine,
        Host {
            ctx: WasiCtx::builder().build(),
            table: ResourceTable::new(),
        },
    );
    Harness {
        engine,
        linker,
        store,
        component,
    }
}
