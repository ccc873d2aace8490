//! The startup snapshot: CPython initialised once, its state captured, so a launch only
//! instantiates it and runs the user's code.
//!
//! `build/pylon.wasm` is a composition: CPython's component (the one exporting
//! `pylon-snapshot-initialize`, see `cpython-ext/_pylon_snapshot/`) nested beside the
//! caps' components. wasmtime-wizer pre-initialises that nested component alone: it is
//! instrumented, instantiated with WASI (the stdlib mapped where a launch maps it, the
//! environment a launch gives, `PYLON_SNAPSHOT_IMPORTS`) and trapping stand-ins for the
//! caps' imports (initialisation never calls a cap), its initialiser is called, and its
//! memory and globals are written back as data. The result replaces the nested
//! component's bytes in the composition; nothing else changes, so the caps, the
//! composition's wiring and the component's type are the verified product's.
//!
//! What a run re-does (argv, environment, preopens, stdio, `random`'s seed) is the
//! guest's job, in `cpython-ext/_pylon_snapshot/snapshot.c`; the working directory is
//! entered by a libc constructor (`cpython-ext/_pylon_wasi_libc/`), which runs again
//! when `run` starts; clocks and randomness are live host calls.
//!
//! Two kinds of snapshot, told apart by [`Entropy`]:
//! - [`Entropy::Live`] (the launcher's own, made on first use and cached per machine):
//!   the host's clocks and randomness during initialisation, so the str-hash secret
//!   CPython draws then is this installation's own;
//! - [`Entropy::Seeded`] (`pylon snapshot --seed N`, to ship): `PYTHONHASHSEED=N`, a
//!   fixed clock and a random stream derived from N, so the same pylon.wasm and seed
//!   give the same bytes on any machine — and everyone who has the file shares its
//!   hash secret (CPython's defence against hash flooding is then only as good as the
//!   seed is secret).
//!
//! A snapshot carries a `pylon-snapshot` custom section naming its source and options,
//! which is how the launcher knows not to snapshot it again.

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime};

use wasmtime::component::{Component, Instance, Linker, ResourceTable, WasmList};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wizer::{ComponentInstanceState, Wizer};

use crate::{Event, LaunchError};
use pylon_util::digest::sha256_hex;

/// The export `cpython-ext/_pylon_snapshot/snapshot.wit` adds to python.wasm.
pub const INIT_EXPORT: &str = "pylon-snapshot-initialize";
/// The custom section a snapshot carries: [`SnapshotSpec::describe`]'s text.
pub const MARKER_SECTION: &str = "pylon-snapshot";

/// Where initialisation's randomness and time come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entropy {
    /// The host's: a per-machine snapshot.
    Live,
    /// Derived from the seed (also CPython's PYTHONHASHSEED): a reproducible snapshot.
    Seeded(u32),
}

/// What a snapshot is made of, besides the wasm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotSpec {
    /// Modules imported after CPython's own initialisation.
    pub imports: Vec<String>,
    pub entropy: Entropy,
}

impl SnapshotSpec {
    /// The text of the marker section, also the part of the cache key that is not the
    /// wasm: one `key value` line each.
    pub fn describe(&self, source_sha256: &str) -> String {
        let entropy = match self.entropy {
            Entropy::Live => "live".to_string(),
            Entropy::Seeded(seed) => format!("seed {seed}"),
        };
        // Format 2: names other than the modules' own dropped (see `without_names`).
        format!(
            "pylon-snapshot 2\nsource {source_sha256}\nimports {}\nentropy {entropy}\nwizer {}\n",
            self.imports.join(","),
            WIZER_VERSION
        )
    }
}

/// The wasmtime-wizer release compiled in (its output format is part of a snapshot's
/// identity).
pub const WIZER_VERSION: &str = "48.0.8";

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{0}")]
    NotSnapshottable(String),
    #[error("pre-initialising CPython: {0}")]
    Initialize(String),
    #[error("{0}")]
    Wasm(String),
}

/// Whether `wasm` is a composition whose CPython can be snapshotted, and if it already
/// is a snapshot, its marker text.
pub enum Kind {
    /// A composition holding CPython with the initialiser export.
    Snapshottable,
    /// Already a snapshot (its marker section's text).
    Snapshot(String),
    /// Anything else (a component without the export: an older build, a test guest).
    Other(String),
}

/// Classifies a component without compiling it.
pub fn kind(wasm: &[u8]) -> Kind {
    let sections = match top_level_sections(wasm) {
        Ok(s) => s,
        Err(e) => return Kind::Other(e),
    };
    for s in &sections {
        if s.id == 0 {
            if let Some((name, payload)) = custom_section(&wasm[s.body.clone()]) {
                if name == MARKER_SECTION {
                    return Kind::Snapshot(String::from_utf8_lossy(payload).into_owned());
                }
            }
        }
    }
    match find_cpython(wasm, &sections) {
        Ok(_) => Kind::Snapshottable,
        Err(e) => Kind::Other(e),
    }
}

/// Makes the snapshot of the composition `wasm` (bytes whose sha256 is
/// `source_sha256`), with the stdlib preopened as `stdlib` names it (host dir, guest
/// dir) and the environment a launch gives (`env`).
pub fn make(
    wasm: &[u8],
    source_sha256: &str,
    spec: &SnapshotSpec,
    stdlib: Option<(&Path, &str)>,
    env: &[(String, String)],
) -> Result<Vec<u8>, SnapshotError> {
    let sections = top_level_sections(wasm).map_err(SnapshotError::NotSnapshottable)?;
    let index = find_cpython(wasm, &sections).map_err(SnapshotError::NotSnapshottable)?;
    let cpython = &wasm[sections[index].body.clone()];

    let mut wizer = Wizer::new();
    wizer.init_func(INIT_EXPORT);
    // The composition may alias every export of the nested component: keep its type.
    wizer.keep_init_func(true);
    let (cx, instrumented) = wizer
        .instrument_component(cpython)
        .map_err(|e| SnapshotError::Wasm(format!("instrumenting CPython's component: {e:#}")))?;

    let engine = init_engine()?;
    let component = Component::from_binary(&engine, &instrumented)
        .map_err(|e| SnapshotError::Wasm(format!("compiling the instrumented component: {e:#}")))?;
    let mut linker: Linker<InitHost> = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
        .map_err(|e| SnapshotError::Wasm(format!("{e:#}")))?;
    stub_caps(&mut linker, &component, &engine)
        .map_err(|e| SnapshotError::Wasm(format!("standing in for the caps: {e:#}")))?;
    if let Entropy::Seeded(_) = spec.entropy {
        fixed_file_metadata(&mut linker)
            .map_err(|e| SnapshotError::Wasm(format!("fixing file metadata: {e:#}")))?;
    }
    let (ctx, output) = init_ctx(spec, stdlib, env)?;
    let mut store = Store::new(
        &engine,
        InitHost {
            ctx,
            table: ResourceTable::new(),
            file_ids: HashMap::new(),
        },
    );
    let instance = linker
        .instantiate(&mut store, &component)
        .map_err(|e| SnapshotError::Initialize(format!("instantiating: {e:#}")))?;
    let init = instance
        .get_typed_func::<(), ()>(&mut store, INIT_EXPORT)
        .map_err(|e| SnapshotError::Initialize(format!("{INIT_EXPORT}: {e:#}")))?;
    if let Err(e) = init.call(&mut store, ()) {
        // What CPython printed says why (the trap is its abort()); the wasm backtrace
        // would only bury that.
        let said = String::from_utf8_lossy(&output.contents())
            .trim()
            .to_string();
        return Err(SnapshotError::Initialize(if said.is_empty() {
            e.root_cause().to_string()
        } else {
            format!("{} ({})", said.replace('\n', "; "), e.root_cause())
        }));
    }

    let mut state = WizerState {
        store: &mut store,
        instance,
        error: None,
    };
    let snapshot = block_on(wizer.snapshot_component(&cx, &mut state))
        .map_err(|e| SnapshotError::Wasm(format!("capturing the state: {e}")))?
        .map_err(|e| SnapshotError::Wasm(format!("capturing the state: {e:#}")))?;
    if let Some(e) = state.error {
        return Err(SnapshotError::Wasm(format!("capturing the state: {e}")));
    }
    let spliced = splice(
        wasm,
        &sections,
        index,
        &snapshot,
        &spec.describe(source_sha256),
    );
    without_names(&spliced).map_err(|e| SnapshotError::Wasm(format!("dropping names: {e}")))
}

/// Defines every import that is not WASI (the caps' interfaces) as functions that trap
/// and resources that are never made: initialisation imports no module that calls a
/// cap. (wasmtime's `define_unknown_imports_as_traps` cannot be used: it stubs WASI
/// imports whose version differs from what wasmtime-wasi defines, which the linker
/// would otherwise match by semver.)
fn stub_caps(
    linker: &mut Linker<InitHost>,
    component: &Component,
    engine: &Engine,
) -> wasmtime::Result<()> {
    use wasmtime::component::types::ComponentItem;
    use wasmtime::component::ResourceType;
    struct NeverMade;
    for (name, item) in component.component_type().imports(engine) {
        if name.starts_with("wasi:") {
            continue;
        }
        let ComponentItem::ComponentInstance(instance) = item.ty else {
            wasmtime::bail!("import `{name}` is not an interface");
        };
        let mut stubs = linker.instance(name)?;
        for (export, item) in instance.exports(engine) {
            match item.ty {
                ComponentItem::ComponentFunc(_) => {
                    let what = format!("{name}#{export}");
                    stubs.func_new(export, move |_, _, _, _| {
                        wasmtime::bail!("`{what}` called while making the startup snapshot")
                    })?;
                }
                ComponentItem::Resource(_) => {
                    stubs.resource(export, ResourceType::host::<NeverMade>(), |_, _| Ok(()))?;
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// For a seeded snapshot, file metadata that does not depend on the machine: CPython's
/// import system keeps what it stats while it initialises (a directory's mtime, a
/// file's identity), and those would otherwise be the host's inode numbers, device and
/// timestamps of wherever the stdlib was unpacked. Timestamps read as absent (0 to the
/// guest: any cache keyed by an mtime is refreshed at the first import after resume),
/// a directory's size and every link count as fixed values, and file identities
/// (`metadata-hash`, libc's st_ino) as numbers handed out in the order they are first
/// asked for, which the deterministic initialisation fixes. Sizes of files stay: they
/// are their contents'.
fn fixed_file_metadata(linker: &mut Linker<InitHost>) -> wasmtime::Result<()> {
    use wasmtime::component::Resource;
    use wasmtime::StoreContextMut;
    use wasmtime_wasi::filesystem::WasiFilesystemView;
    use wasmtime_wasi::p2::bindings::sync::filesystem::types::{
        self as fs, DescriptorStat, DescriptorType, ErrorCode, Host, HostDescriptor,
        MetadataHashValue, PathFlags,
    };
    use wasmtime_wasi::p2::FsResult;

    fn neutral(mut stat: DescriptorStat) -> DescriptorStat {
        stat.data_access_timestamp = None;
        stat.data_modification_timestamp = None;
        stat.status_change_timestamp = None;
        stat.link_count = 1;
        if stat.type_ == DescriptorType::Directory {
            stat.size = 0;
        }
        stat
    }
    fn lower<T>(host: &mut InitHost, r: FsResult<T>) -> wasmtime::Result<Result<T, ErrorCode>> {
        match r {
            Ok(v) => Ok(Ok(v)),
            Err(e) => Ok(Err(Host::convert_error_code(&mut host.filesystem(), e)?)),
        }
    }
    fn file_id(host: &mut InitHost, real: MetadataHashValue) -> MetadataHashValue {
        let next = host.file_ids.len() as u64 + 1;
        let id = *host
            .file_ids
            .entry((real.lower, real.upper))
            .or_insert(next);
        MetadataHashValue {
            lower: id,
            upper: 0,
        }
    }

    linker.allow_shadowing(true);
    let mut types = linker.instance(FILESYSTEM_TYPES)?;
    types.func_wrap(
        "[method]descriptor.stat",
        |mut store: StoreContextMut<'_, InitHost>, (fd,): (Resource<fs::Descriptor>,)| {
            let host = store.data_mut();
            let r = HostDescriptor::stat(&mut host.filesystem(), fd).map(neutral);
            Ok((lower(host, r)?,))
        },
    )?;
    types.func_wrap(
        "[method]descriptor.stat-at",
        |mut store: StoreContextMut<'_, InitHost>,
         (fd, flags, path): (Resource<fs::Descriptor>, PathFlags, String)| {
            let host = store.data_mut();
            let r = HostDescriptor::stat_at(&mut host.filesystem(), fd, flags, path).map(neutral);
            Ok((lower(host, r)?,))
        },
    )?;
    types.func_wrap(
        "[method]descriptor.metadata-hash",
        |mut store: StoreContextMut<'_, InitHost>, (fd,): (Resource<fs::Descriptor>,)| {
            let host = store.data_mut();
            let r = HostDescriptor::metadata_hash(&mut host.filesystem(), fd);
            let r = lower(host, r)?.map(|real| file_id(host, real));
            Ok((r,))
        },
    )?;
    types.func_wrap(
        "[method]descriptor.metadata-hash-at",
        |mut store: StoreContextMut<'_, InitHost>,
         (fd, flags, path): (Resource<fs::Descriptor>, PathFlags, String)| {
            let host = store.data_mut();
            let r = HostDescriptor::metadata_hash_at(&mut host.filesystem(), fd, flags, path);
            let r = lower(host, r)?.map(|real| file_id(host, real));
            Ok((r,))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// The name wasmtime-wasi defines `wasi:filesystem/types` under (guests' older 0.2
/// imports resolve to it by semver).
const FILESYSTEM_TYPES: &str = "wasi:filesystem/types@0.2.12";

/// An engine with the component model and no more: the instrumented component runs
/// once, and its compiled code is never kept.
fn init_engine() -> Result<Engine, SnapshotError> {
    let mut config = wasmtime::Config::new();
    config.wasm_component_model(true);
    config.max_wasm_stack(crate::MAX_WASM_STACK);
    config.async_stack_size(crate::GUEST_THREAD_STACK);
    Engine::new(&config).map_err(|e| SnapshotError::Wasm(format!("{e:#}")))
}

struct InitHost {
    ctx: WasiCtx,
    table: ResourceTable,
    /// Host file identities and the stable numbers a seeded snapshot sees instead.
    file_ids: HashMap<(u64, u64), u64>,
}

impl WasiView for InitHost {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

/// A fixed wall clock (the seed's snapshot must not record when it was made).
struct FixedWallClock;

impl wasmtime_wasi::HostWallClock for FixedWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }
    fn now(&self) -> Duration {
        // 2000-01-01T00:00:00Z: any fixed time after the stdlib's files were written.
        Duration::from_secs(946_684_800)
    }
}

/// A monotonic clock that advances by a fixed step on every reading: deterministic,
/// and still never standing still for code that waits for it to move.
struct SteppingClock(std::sync::atomic::AtomicU64);

impl wasmtime_wasi::HostMonotonicClock for SteppingClock {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        self.0
            .fetch_add(1_000, std::sync::atomic::Ordering::Relaxed)
    }
}

fn init_ctx(
    spec: &SnapshotSpec,
    stdlib: Option<(&Path, &str)>,
    env: &[(String, String)],
) -> Result<(WasiCtx, wasmtime_wasi::p2::pipe::MemoryOutputPipe), SnapshotError> {
    let mut b = WasiCtxBuilder::new();
    b.allow_blocking_current_thread(true);
    let output = wasmtime_wasi::p2::pipe::MemoryOutputPipe::new(64 * 1024);
    b.stdout(output.clone()).stderr(output.clone());
    b.arg("python");
    b.envs(env);
    b.env("PYLON_SNAPSHOT_IMPORTS", spec.imports.join(","));
    if let Entropy::Seeded(seed) = spec.entropy {
        use rand::SeedableRng;
        b.env("PYTHONHASHSEED", seed.to_string());
        b.secure_random(rand::rngs::StdRng::seed_from_u64(u64::from(seed)));
        b.insecure_random(rand::rngs::StdRng::seed_from_u64(u64::from(seed) ^ 0x5eed));
        b.insecure_random_seed(u128::from(seed));
        b.wall_clock(FixedWallClock);
        b.monotonic_clock(SteppingClock(std::sync::atomic::AtomicU64::new(0)));
    }
    let root = tempfile::tempdir()
        .map_err(|e| SnapshotError::Initialize(format!("an empty root directory: {e}")))?;
    let ro = wasmtime_wasi::FsPerms::ReadOnly;
    b.preopened_dir(root.path(), "/", ro)
        .map_err(|e| SnapshotError::Initialize(format!("preopening `/`: {e:#}")))?;
    if let Some((host, guest)) = stdlib {
        b.preopened_dir(host, guest, ro).map_err(|e| {
            SnapshotError::Initialize(format!("preopening {} at {guest}: {e:#}", host.display()))
        })?;
    }
    let ctx = b.build();
    // The preopen holds the directory open; its name can go.
    drop(root);
    Ok((ctx, output))
}

/// wizer asks for the instrumented state through this; the calls are synchronous,
/// so every future it makes is ready when first polled.
struct WizerState<'a> {
    store: &'a mut Store<InitHost>,
    instance: Instance,
    error: Option<String>,
}

impl WizerState<'_> {
    fn call<R>(&mut self, instance: &str, func: &str) -> Option<R>
    where
        R: wasmtime::component::ComponentType + wasmtime::component::Lift + Send + Sync + 'static,
    {
        let result = (|| {
            let parent = self
                .instance
                .get_export_index(&mut *self.store, None, instance)
                .ok_or_else(|| format!("no export {instance}"))?;
            let index = self
                .instance
                .get_export_index(&mut *self.store, Some(&parent), func)
                .ok_or_else(|| format!("no export {instance}#{func}"))?;
            let f = self
                .instance
                .get_typed_func::<(), (R,)>(&mut *self.store, index)
                .map_err(|e| format!("{instance}#{func}: {e:#}"))?;
            let (r,) = f
                .call(&mut *self.store, ())
                .map_err(|e| format!("{instance}#{func}: {e:#}"))?;
            Ok::<R, String>(r)
        })();
        match result {
            Ok(r) => Some(r),
            Err(e) => {
                self.error.get_or_insert(e);
                None
            }
        }
    }
}

impl ComponentInstanceState for WizerState<'_> {
    async fn call_func_ret_list_u8(
        &mut self,
        instance: &str,
        func: &str,
        contents: impl FnOnce(&[u8]) + Send,
    ) {
        if let Some(list) = self.call::<WasmList<u8>>(instance, func) {
            contents(list.as_le_slice(&*self.store));
        } else {
            contents(&[]);
        }
    }

    async fn call_func_ret_s32(&mut self, instance: &str, func: &str) -> i32 {
        self.call(instance, func).unwrap_or(0)
    }

    async fn call_func_ret_s64(&mut self, instance: &str, func: &str) -> i64 {
        self.call(instance, func).unwrap_or(0)
    }

    async fn call_func_ret_f32(&mut self, instance: &str, func: &str) -> u32 {
        self.call::<f32>(instance, func).map_or(0, f32::to_bits)
    }

    async fn call_func_ret_f64(&mut self, instance: &str, func: &str) -> u64 {
        self.call::<f64>(instance, func).map_or(0, f64::to_bits)
    }
}

/// Polls a future that never waits (every await in it is on a ready future).
fn block_on<F: Future>(future: F) -> Result<F::Output, String> {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(out) => Ok(out),
        Poll::Pending => {
            Err("wasmtime-wizer waited on something (not expected of a synchronous store)".into())
        }
    }
}

/// One top-level section of a component: its id and the range of its body.
struct Section {
    id: u8,
    start: usize,
    body: std::ops::Range<usize>,
}

const COMPONENT_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
const MODULE_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
/// In a component: a nested core module, and a nested component.
const CORE_MODULE_SECTION: u8 = 1;
const COMPONENT_SECTION: u8 = 4;

fn leb_u32(bytes: &[u8], at: &mut usize) -> Result<u32, String> {
    let mut value: u64 = 0;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(*at).ok_or("truncated LEB128")?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return u32::try_from(value).map_err(|_| "LEB128 out of range".to_string());
        }
    }
    Err("LEB128 too long".into())
}

fn push_leb_u32(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn top_level_sections(wasm: &[u8]) -> Result<Vec<Section>, String> {
    if wasm.get(..8) != Some(&COMPONENT_HEADER[..]) {
        return Err("not a WebAssembly component".into());
    }
    sections(wasm)
}

/// The sections after the 8-byte header of a component or a core module.
fn sections(wasm: &[u8]) -> Result<Vec<Section>, String> {
    id_sized_entries(wasm, 8, "a section")
}

/// The `id byte, LEB128 size, body` entries of `bytes` from `at` to its end: the
/// sections of a binary, or the subsections of a name section (`what`, for errors).
fn id_sized_entries(bytes: &[u8], mut at: usize, what: &str) -> Result<Vec<Section>, String> {
    let mut entries = Vec::new();
    while at < bytes.len() {
        let start = at;
        let id = bytes[at];
        at += 1;
        let len = leb_u32(bytes, &mut at).map_err(|e| format!("{what}'s size: {e}"))? as usize;
        let end = at
            .checked_add(len)
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| format!("{what} runs past the end"))?;
        entries.push(Section {
            id,
            start,
            body: at..end,
        });
        at = end;
    }
    Ok(entries)
}

/// `wasm` (a component or a core module) with its name sections cut down to the
/// module's or component's own name, at every depth of nesting (`name` in core
/// modules, `component-name` in components: their subsection 0 is kept, the names of
/// functions, locals, types and the rest are dropped). Everything else is kept byte
/// for byte, in order.
///
/// Why a snapshot drops them: wasmtime deserialises a module's function-name table
/// with the rest of its metadata on every load, and for CPython and the caps that
/// table is a fifth of it (~0.5 ms of a 5 ms launch, BENCHMARKS.md). Function names only
/// serve trap backtraces, which keep the module's name (`python.wasm!<wasm function
/// 1899>`); a trap in a snapshot run says where to get the rest (`--no-snapshot`),
/// and pylon.wasm itself keeps them.
pub(crate) fn without_names(wasm: &[u8]) -> Result<Vec<u8>, String> {
    let nests = match wasm.get(..8) {
        Some(h) if h == COMPONENT_HEADER => true,
        Some(h) if h == MODULE_HEADER => false,
        _ => return Err("neither a WebAssembly component nor a core module".into()),
    };
    let mut out = Vec::with_capacity(wasm.len());
    out.extend_from_slice(&wasm[..8]);
    for section in sections(wasm)? {
        let body = &wasm[section.body.clone()];
        let names = match section.id {
            0 => custom_section(body).filter(|(n, _)| matches!(*n, "name" | "component-name")),
            _ => None,
        };
        let rewritten = match (section.id, names) {
            (_, Some((name, payload))) => {
                let kept = own_name_only(payload)?;
                if kept.is_empty() {
                    continue;
                }
                let mut body = Vec::with_capacity(name.len() + 1 + kept.len());
                push_leb_u32(&mut body, len_u32(name.len())?);
                body.extend_from_slice(name.as_bytes());
                body.extend_from_slice(&kept);
                body
            }
            (CORE_MODULE_SECTION | COMPONENT_SECTION, _) if nests => without_names(body)?,
            _ => {
                out.extend_from_slice(&wasm[section.start..section.body.end]);
                continue;
            }
        };
        out.push(section.id);
        push_leb_u32(&mut out, len_u32(rewritten.len())?);
        out.extend_from_slice(&rewritten);
    }
    Ok(out)
}

/// Subsection 0 (the module's or component's own name) of a name section's payload,
/// as it was; empty when it has none.
fn own_name_only(payload: &[u8]) -> Result<Vec<u8>, String> {
    let subsections = id_sized_entries(payload, 0, "a name subsection")?;
    Ok(subsections
        .iter()
        .filter(|sub| sub.id == 0)
        .flat_map(|sub| payload[sub.start..sub.body.end].iter().copied())
        .collect())
}

fn len_u32(len: usize) -> Result<u32, String> {
    u32::try_from(len).map_err(|_| "a section longer than 4 GiB".to_string())
}

/// `(name, payload)` of a custom section body.
fn custom_section(body: &[u8]) -> Option<(&str, &[u8])> {
    let mut at = 0;
    let len = leb_u32(body, &mut at).ok()? as usize;
    let name = std::str::from_utf8(body.get(at..at.checked_add(len)?)?).ok()?;
    Some((name, &body[at + len..]))
}

/// The index (into `sections`) of the nested component exporting [`INIT_EXPORT`].
fn find_cpython(wasm: &[u8], sections: &[Section]) -> Result<usize, String> {
    let mut found = None;
    for (i, s) in sections.iter().enumerate() {
        if s.id != COMPONENT_SECTION {
            continue;
        }
        if exports_init(&wasm[s.body.clone()]) {
            if found.is_some() {
                return Err(format!("two nested components export `{INIT_EXPORT}`"));
            }
            found = Some(i);
        }
    }
    found.ok_or_else(|| {
        format!("no component in it exports `{INIT_EXPORT}` (built before startup snapshots?)")
    })
}

fn exports_init(component: &[u8]) -> bool {
    use wasmparser::{Parser, Payload};
    for payload in Parser::new(0).parse_all(component) {
        match payload {
            Ok(Payload::ComponentExportSection(exports)) => {
                for export in exports.into_iter().flatten() {
                    if export.name.name == INIT_EXPORT {
                        return true;
                    }
                }
            }
            // Only this component's own sections: nested ones are skipped whole.
            Ok(Payload::ModuleSection { .. } | Payload::ComponentSection { .. }) => {}
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

/// `wasm` with section `index` (a nested component) replaced by `component`, and the
/// marker section appended.
fn splice(
    wasm: &[u8],
    sections: &[Section],
    index: usize,
    component: &[u8],
    marker: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(wasm.len() + component.len());
    out.extend_from_slice(&wasm[..sections[index].start]);
    out.push(COMPONENT_SECTION);
    push_leb_u32(&mut out, component.len() as u32);
    out.extend_from_slice(component);
    out.extend_from_slice(&wasm[sections[index].body.end..]);
    let mut body = Vec::new();
    push_leb_u32(&mut body, MARKER_SECTION.len() as u32);
    body.extend_from_slice(MARKER_SECTION.as_bytes());
    body.extend_from_slice(marker.as_bytes());
    out.push(0);
    push_leb_u32(&mut out, body.len() as u32);
    out.extend_from_slice(&body);
    out
}

/// The wasm a launch of `wasm` runs: its startup snapshot, made and cached on first
/// use, or `wasm` itself when it cannot have one (reported as [`Event::NoSnapshot`]).
///
/// Snapshots live in `<cache_dir>/snapshots/<sha256 of wasm>-<16 hex of the spec's
/// digest>.wasm`, published by rename; the directory's trust is the cache's (checked
/// before anything in it is used). A snapshot that cannot be made is not retried on
/// every launch: `<same name>.none` records why, until the wasm changes. `imports`
/// (`--snapshot-import`) are part of the name: one snapshot per list.
pub(crate) fn for_launch(
    wasm: &Path,
    stdlib: Option<&crate::stdlib::Mount>,
    imports: &[String],
    cache_dir: &Path,
    report: &mut dyn FnMut(&Event),
) -> Result<PathBuf, LaunchError> {
    // The wasm's digest from the compiled-code cache's identity record: a launch whose
    // snapshot exists reads neither the wasm nor the snapshot here.
    let (source, read) = crate::cache::wasm_sha256(cache_dir, wasm, report)?;
    let spec = SnapshotSpec {
        imports: imports.to_vec(),
        entropy: Entropy::Live,
    };
    let describe = spec.describe(&source);
    let dir = cache_dir.join("snapshots");
    crate::cache::prepare_dir(&dir)?;
    let name = format!("{source}-{}", &sha256_hex(describe.as_bytes())[..16]);
    let path = dir.join(format!("{name}.wasm"));
    // Why this wasm has no snapshot, once found out (not snapshottable, or making it
    // failed): not retried on every launch, until the wasm changes.
    let none = dir.join(format!("{name}.none"));
    if crate::cache::trusted_file(&path) {
        report(&Event::SnapshotUsed { path: path.clone() });
        return Ok(path);
    }
    let no_snapshot = |reason: String, report: &mut dyn FnMut(&Event)| {
        report(&Event::NoSnapshot { reason });
        Ok(wasm.to_path_buf())
    };
    if crate::cache::trusted_file(&none) {
        if let Ok(reason) = std::fs::read_to_string(&none) {
            return no_snapshot(reason.trim_end().to_string(), report);
        }
    }
    let bytes = match read {
        Some(bytes) => bytes,
        None => std::fs::read(wasm).map_err(|source| LaunchError::ReadWasm {
            path: wasm.to_path_buf(),
            source,
        })?,
    };
    let remember = |reason: String| {
        // Best effort: without it the next launch finds the same out again.
        let _ = pylon_util::fs::write_atomic(&none, format!("{reason}\n").as_bytes());
        reason
    };
    match kind(&bytes) {
        Kind::Snapshottable => {}
        Kind::Snapshot(_) => {
            return no_snapshot(remember("the wasm is a snapshot itself".into()), report)
        }
        Kind::Other(reason) => return no_snapshot(remember(reason), report),
    }
    let start = Instant::now();
    let env = crate::guest_defaults(stdlib);
    let made = make(
        &bytes,
        &sha256_hex(&bytes),
        &spec,
        stdlib.map(|m| (m.host_dir.as_path(), m.guest_dir.as_str())),
        &env,
    );
    match made {
        Ok(snapshot) => match pylon_util::fs::write_atomic(&path, &snapshot) {
            Ok(()) => {
                report(&Event::SnapshotMade {
                    path: path.clone(),
                    took: start.elapsed(),
                });
                prune(&dir, &path, SystemTime::now());
                Ok(path)
            }
            Err(e) => no_snapshot(format!("writing {}: {e}", path.display()), report),
        },
        Err(e) => no_snapshot(
            remember(format!(
                "making it failed ({e}); remove {} to retry",
                none.display()
            )),
            report,
        ),
    }
}

/// Snapshots kept after a new one is made: the newest few (a build and the ones
/// before it, a few profiles); ~15 MB each for pylon.wasm.
pub const KEEP_SNAPSHOTS: usize = 4;
/// Records of why a wasm has no snapshot, and a killed writer's temporary files, go
/// once this old.
const STALE_AGE: Duration = Duration::from_secs(30 * 24 * 3600);

/// Keeps the [`KEEP_SNAPSHOTS`] newest snapshots (by when they were made: a snapshot
/// is never touched on use, its file identity is what the compiled-code cache checks)
/// and `keep`; removes older ones, stale `.none` records and temporary files. Best
/// effort, and only names this module writes.
fn prune(dir: &Path, keep: &Path, now: SystemTime) {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return;
    };
    let age = |meta: &std::fs::Metadata| {
        meta.modified()
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .unwrap_or(Duration::ZERO)
    };
    let named = |stem: &str| {
        stem.split_once('-').is_some_and(|(wasm, spec)| {
            wasm.len() == 64
                && spec.len() == 16
                && stem.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
        })
    };
    let mut snapshots = Vec::new();
    for item in listing.flatten() {
        let path = item.path();
        let (Some(name), Ok(meta)) = (path.file_name().and_then(|n| n.to_str()), item.metadata())
        else {
            continue;
        };
        if name.starts_with(".pylon-tmp-") || name.strip_suffix(".none").is_some_and(named) {
            if age(&meta) > STALE_AGE {
                let _ = std::fs::remove_file(&path);
            }
        } else if name.strip_suffix(".wasm").is_some_and(named) && path != keep {
            snapshots.push((meta.modified().unwrap_or(now), path));
        }
    }
    snapshots.sort_by_key(|(made, _)| std::cmp::Reverse(*made));
    for (_, path) in snapshots.into_iter().skip(KEEP_SNAPSHOTS - 1) {
        let _ = std::fs::remove_file(path);
    }
}

/// A snapshot made from a wasm file: its bytes, and the digest of the wasm it was made of.
pub struct Made {
    pub bytes: Vec<u8>,
    pub source_sha256: String,
}

/// `pylon snapshot`: the snapshot of the composition at `wasm` (its stdlib found as a
/// launch finds it: `record.json` and `lib/` next to the resolved file).
pub fn make_from_file(wasm: &Path, spec: &SnapshotSpec) -> Result<Made, LaunchError> {
    let wasm = std::fs::canonicalize(wasm).map_err(|source| LaunchError::ReadWasm {
        path: wasm.to_path_buf(),
        source,
    })?;
    let bytes = std::fs::read(&wasm).map_err(|source| LaunchError::ReadWasm {
        path: wasm.clone(),
        source,
    })?;
    let stdlib = crate::stdlib::locate(&wasm, None)?;
    let source_sha256 = sha256_hex(&bytes);
    let env = crate::guest_defaults(stdlib.as_ref());
    let snapshot = make(
        &bytes,
        &source_sha256,
        spec,
        stdlib
            .as_ref()
            .map(|m| (m.host_dir.as_path(), m.guest_dir.as_str())),
        &env,
    )
    .map_err(|e| LaunchError::Snapshot {
        path: wasm.clone(),
        reason: e.to_string(),
    })?;
    Ok(Made {
        bytes: snapshot,
        source_sha256,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(id: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![id];
        push_leb_u32(&mut out, body.len() as u32);
        out.extend_from_slice(body);
        out
    }

    /// A component whose one nested component exports [`INIT_EXPORT`] (a type-less
    /// export section is enough for the scan) beside another nested component.
    fn composition(inner: &[u8]) -> Vec<u8> {
        let mut out = COMPONENT_HEADER.to_vec();
        out.extend(section(COMPONENT_SECTION, &COMPONENT_HEADER));
        out.extend(section(COMPONENT_SECTION, inner));
        out.extend(section(0, b"\x04nameXYZ"));
        out
    }

    fn exporting_init() -> Vec<u8> {
        let mut inner = COMPONENT_HEADER.to_vec();
        // One export: extern name (0x00, name), kind func (0x01), index 0, no type.
        let mut body = vec![1u8, 0x00, INIT_EXPORT.len() as u8];
        body.extend_from_slice(INIT_EXPORT.as_bytes());
        body.extend_from_slice(&[0x01, 0x00, 0x00]);
        inner.extend(section(11, &body));
        inner
    }

    /// A `name` (or `component-name`) custom section: subsection 0 holding `own`
    /// (when given), then a function-names subsection.
    fn name_section(custom_name: &str, own: Option<&str>) -> Vec<u8> {
        let mut body = vec![custom_name.len() as u8];
        body.extend_from_slice(custom_name.as_bytes());
        if let Some(own) = own {
            let mut sub = vec![own.len() as u8];
            sub.extend_from_slice(own.as_bytes());
            body.extend(section(0, &sub));
        }
        // Subsection 1: one function, index 0, named "f".
        body.extend(section(1, b"\x01\x00\x01f"));
        section(0, &body)
    }

    #[test]
    fn names_are_cut_to_the_modules_own_at_every_depth() {
        // A core module: a type section, a producers section, a name section.
        let mut module = MODULE_HEADER.to_vec();
        module.extend(section(1, b"\x01\x60\x00\x00"));
        module.extend(section(0, b"\x09producersXY"));
        module.extend(name_section("name", Some("python.wasm")));
        // A nested component holding that module and a component-name without an own
        // name (dropped whole).
        let mut inner = COMPONENT_HEADER.to_vec();
        inner.extend(section(CORE_MODULE_SECTION, &module));
        inner.extend(name_section("component-name", None));
        let mut outer = COMPONENT_HEADER.to_vec();
        outer.extend(section(COMPONENT_SECTION, &inner));
        outer.extend(section(0, b"\x0epylon-snapshotkeep me"));
        outer.extend(name_section("component-name", Some("root")));

        let out = without_names(&outer).unwrap();

        let mut module_after = MODULE_HEADER.to_vec();
        module_after.extend(section(1, b"\x01\x60\x00\x00"));
        module_after.extend(section(0, b"\x09producersXY"));
        module_after.extend(section(0, b"\x04name\x00\x0c\x0bpython.wasm"));
        let mut inner_after = COMPONENT_HEADER.to_vec();
        inner_after.extend(section(CORE_MODULE_SECTION, &module_after));
        let mut expected = COMPONENT_HEADER.to_vec();
        expected.extend(section(COMPONENT_SECTION, &inner_after));
        expected.extend(section(0, b"\x0epylon-snapshotkeep me"));
        expected.extend(section(0, b"\x0ecomponent-name\x00\x05\x04root"));
        assert_eq!(out, expected);
        // Nothing left to cut: the same bytes again.
        assert_eq!(without_names(&out).unwrap(), out);
        // What wasmparser reads of the result: a valid structure, the module's own
        // name kept, no function names.
        let mut own_names = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(&out) {
            if let wasmparser::Payload::CustomSection(c) = payload.unwrap() {
                if let wasmparser::KnownCustom::Name(reader) = c.as_known() {
                    for name in reader {
                        match name.unwrap() {
                            wasmparser::Name::Module { name, .. } => own_names.push(name),
                            _ => panic!("a name subsection other than the module's was kept"),
                        }
                    }
                }
            }
        }
        assert_eq!(own_names, ["python.wasm"]);
    }

    #[test]
    fn names_of_a_broken_binary_are_an_error_not_a_guess() {
        assert!(without_names(b"\x00asm\x02\x00\x00\x00").is_err());
        let mut truncated = COMPONENT_HEADER.to_vec();
        truncated.extend([CORE_MODULE_SECTION, 0x20, 0x00]);
        assert!(without_names(&truncated).is_err());
        let mut bad_name = MODULE_HEADER.to_vec();
        // A name section whose subsection claims more bytes than it has.
        bad_name.extend(section(0, b"\x04name\x01\x7f\x00"));
        assert!(without_names(&bad_name).is_err());
    }

    #[test]
    fn leb_round_trips() {
        for value in [0u32, 1, 127, 128, 16_383, 16_384, u32::MAX] {
            let mut out = Vec::new();
            push_leb_u32(&mut out, value);
            let mut at = 0;
            assert_eq!(leb_u32(&out, &mut at).unwrap(), value);
            assert_eq!(at, out.len());
        }
        assert!(leb_u32(&[0x80, 0x80], &mut 0).is_err(), "truncated");
    }

    #[test]
    fn kinds_are_told_apart_without_compiling() {
        assert!(
            matches!(kind(b"\0asm\x01\0\0\0"), Kind::Other(r) if r.contains("not a WebAssembly component"))
        );
        assert!(matches!(kind(&COMPONENT_HEADER), Kind::Other(r) if r.contains(INIT_EXPORT)));
        let wasm = composition(&exporting_init());
        assert!(matches!(kind(&wasm), Kind::Snapshottable));
        let mut truncated = wasm.clone();
        truncated.truncate(wasm.len() - 3);
        assert!(matches!(kind(&truncated), Kind::Other(r) if r.contains("past the end")));
    }

    #[test]
    fn splice_replaces_only_the_cpython_component_and_marks_the_result() {
        let wasm = composition(&exporting_init());
        let sections = top_level_sections(&wasm).unwrap();
        let index = find_cpython(&wasm, &sections).unwrap();
        assert_eq!(index, 1);
        let mut replacement = exporting_init();
        replacement.extend(section(0, b"\x05stateSNAPSHOT-DATA"));
        let spliced = splice(&wasm, &sections, index, &replacement, "pylon-snapshot 1\n");
        let after = top_level_sections(&spliced).unwrap();
        assert_eq!(after.len(), sections.len() + 1);
        // Everything before and after the replaced section is byte-for-byte the same.
        assert_eq!(&spliced[..sections[1].start], &wasm[..sections[1].start]);
        assert_eq!(&spliced[after[1].body.clone()], &replacement[..]);
        assert_eq!(
            &spliced[after[2].start..after[2].body.end],
            &wasm[sections[2].start..sections[2].body.end]
        );
        match kind(&spliced) {
            Kind::Snapshot(text) => assert_eq!(text, "pylon-snapshot 1\n"),
            _ => panic!("the marker section is not found"),
        }
    }

    #[test]
    fn the_spec_names_everything_that_changes_the_bytes() {
        let live = SnapshotSpec {
            imports: vec![],
            entropy: Entropy::Live,
        };
        let seeded = SnapshotSpec {
            imports: vec!["json".into()],
            entropy: Entropy::Seeded(7),
        };
        let a = live.describe("ab");
        let b = seeded.describe("ab");
        assert_ne!(a, b);
        assert!(b.contains("imports json\n") && b.contains("entropy seed 7\n"));
        assert!(a.contains(&format!("wizer {WIZER_VERSION}\n")));
        assert_ne!(live.describe("ab"), live.describe("cd"));
    }

    #[test]
    fn prune_keeps_the_newest_snapshots_and_only_its_own_names() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let name = |i: usize| format!("{:064x}-{:016x}", i, i);
        let mut paths = Vec::new();
        for i in 0..7 {
            let path = dir.path().join(format!("{}.wasm", name(i)));
            std::fs::write(&path, b"x").unwrap();
            let made = now - Duration::from_secs(3600 * (10 - i as u64));
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(made)
                .unwrap();
            paths.push(path);
        }
        let old_none = dir.path().join(format!("{}.none", name(20)));
        let new_none = dir.path().join(format!("{}.none", name(21)));
        let foreign = dir.path().join("notes.wasm");
        for p in [&old_none, &new_none, &foreign] {
            std::fs::write(p, b"x").unwrap();
        }
        std::fs::File::options()
            .write(true)
            .open(&old_none)
            .unwrap()
            .set_modified(now - STALE_AGE - Duration::from_secs(60))
            .unwrap();
        // The oldest one is the one just made (its clock is off): kept whatever it says.
        prune(dir.path(), &paths[0], now);
        let left: Vec<bool> = paths.iter().map(|p| p.exists()).collect();
        assert_eq!(left, [true, false, false, false, true, true, true]);
        assert!(!old_none.exists() && new_none.exists() && foreign.exists());
    }
}
