//! Running the CPython component under wasmtime 48.0.8 (shared by the slow test and
//! `examples/run-python.rs`).

use std::path::Path;

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

/// Runs python.wasm's `wasi:cli/run` with `args`, the zip as the only file it can see.
pub fn run_python(
    wasm: &Path,
    zip: &Path,
    guest_zip: &str,
    args: &[&str],
) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let (guest_dir, zip_name) = guest_zip.rsplit_once('/').unwrap();
    std::fs::copy(zip, dir.path().join(zip_name)).unwrap();
    let mut config = Config::new();
    config.wasm_component_model(true);
    let engine = Engine::new(&config).unwrap();
    let mut linker: Linker<Host> = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    let stdout = MemoryOutputPipe::new(1 << 20);
    let stderr = MemoryOutputPipe::new(1 << 20);
    let mut argv = vec!["python"];
    argv.extend_from_slice(args);
    let ctx = WasiCtx::builder()
        .args(&argv)
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .preopened_dir(dir.path(), guest_dir, FsPerms::ReadOnly)
        .unwrap()
        .build();
    let mut store = Store::new(
        &engine,
        Host {
            ctx,
            table: ResourceTable::new(),
        },
    );
    let component = Component::from_file(&engine, wasm).unwrap();
    let command =
        wasmtime_wasi::p2::bindings::sync::Command::instantiate(&mut store, &component, &linker)
            .unwrap();
    let ok = matches!(command.wasi_cli_run().call_run(&mut store), Ok(Ok(())));
    let text = |p: &MemoryOutputPipe| String::from_utf8_lossy(&p.contents()).into_owned();
    (ok, text(&stdout), text(&stderr))
}
