//! pylon-launch: runs a `wasi:cli/run` component (normally `build/pylon.wasm`) under
//! wasmtime 48 with explicit capabilities: preopened directories, chosen environment
//! variables, optional network, a memory cap and a timeout.
//!
//! - [`parse_args`] turns the command line into [`LaunchOptions`] (pure data).
//! - [`run`] resolves the wasm file and its stdlib (`record.json` next to it), loads the
//!   compiled component from the checked cache (see [`cache`]) or compiles it, runs it and
//!   returns an [`Outcome`]. Launcher problems are [`LaunchError`]s.
//!
//! The library prints only one-line notes on stderr (cache problems, and cache hit/miss
//! lines when verbose; see [`Event`]); [`run_with`] hands them to a callback instead.

mod args;
pub mod cache;
mod stdlib;

use std::ffi::OsString;
use std::fmt;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::component::{Linker, ResourceTable};
use wasmtime::{Config, Engine, Store, StoreLimits, StoreLimitsBuilder, Trap};
use wasmtime_wasi::p2::bindings::sync::Command;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

pub use args::{
    format_duration, parse_args, parse_args_with_env, parse_dir, parse_duration, parse_size, USAGE,
};

/// Exit code when the guest's `run` returned `Err(())`.
pub const EXIT_RUN_ERROR: i32 = 1;
/// Exit code for launcher errors (bad option, missing or invalid wasm, unreadable cache).
pub const EXIT_LAUNCH_ERROR: i32 = 2;
/// Exit code when `--timeout` stopped the guest (as coreutils' `timeout`).
pub const EXIT_TIMEOUT: i32 = 124;
/// Exit code for a trap or other runtime error (128 + SIGABRT, as a native abort).
pub const EXIT_TRAP: i32 = 134;

/// After the timeout fires, how long a guest blocked in a host call (sleep, read) may
/// take to reach an epoch check before the process is ended from the watchdog.
const HARD_EXIT_GRACE: Duration = Duration::from_secs(1);

/// One `--dir`: a host directory preopened at a guest path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirMapping {
    pub host: PathBuf,
    pub guest: String,
    pub writable: bool,
}

/// Everything a run needs, with defaults already resolved by [`parse_args`].
#[derive(Debug, Clone)]
pub struct LaunchOptions {
    /// The component (`--wasm`, `$PYLON_WASM`, `build/pylon.wasm`); symlinks are
    /// followed and `record.json` is looked up next to the resolved file.
    pub wasm: PathBuf,
    pub dirs: Vec<DirMapping>,
    /// The guest's whole environment.
    pub env: Vec<(String, String)>,
    pub allow_net: bool,
    /// Cap on each linear memory, in bytes.
    pub max_memory: Option<u64>,
    pub timeout: Option<Duration>,
    /// `None`: no cache (`--no-cache`, or no cache location could be determined).
    pub cache_dir: Option<PathBuf>,
    /// Host directory holding the stdlib zip, instead of `lib/` next to the wasm file.
    pub stdlib: Option<PathBuf>,
    pub verbose: bool,
    /// `--report-memory`: report [`Event::LinearMemory`] when the guest ends.
    pub report_memory: bool,
    /// `--help` was given: the caller prints [`USAGE`] and runs nothing.
    pub show_help: bool,
    /// The guest's argv[1..] (argv[0] is always `python`).
    pub guest_args: Vec<String>,
}

/// Called from the watchdog thread when the guest is still blocked in a host call (a
/// read of stdin, a sleep) a grace period after `--timeout` fired: the epoch cannot
/// interrupt it there, so only the embedder can end it. The `pylon-launch` binary
/// prints the timeout and exits 124; an embedder that must not be exited passes none
/// and gets [`Outcome::TimedOut`] once the host call returns.
pub type OnStuck = Box<dyn FnOnce(Duration) + Send>;

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The guest returned from `run` (0 for `Ok`, [`EXIT_RUN_ERROR`] for `Err`) or
    /// called `exit` with this code.
    Exited(i32),
    /// A trap or other runtime error; `report` is its `{:?}` text, wasm backtrace
    /// included.
    Trapped { report: String },
    /// `--timeout` interrupted the guest.
    TimedOut { after: Duration },
}

impl Outcome {
    /// The process exit code for this outcome.
    pub fn exit_code(&self) -> i32 {
        match self {
            Outcome::Exited(code) => *code,
            Outcome::Trapped { .. } => EXIT_TRAP,
            Outcome::TimedOut { .. } => EXIT_TIMEOUT,
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that stops the launcher before or outside the guest's own execution.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("{0}")]
    Usage(String),
    #[error("invalid {option} `{value}`: {reason}")]
    InvalidValue {
        option: String,
        value: String,
        reason: String,
    },
    #[error("argument {0:?} is not valid UTF-8")]
    NonUtf8Arg(OsString),
    #[error("cannot read wasm file `{path}` (--wasm / PYLON_WASM)")]
    ReadWasm {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is not a runnable component")]
    Compile {
        path: PathBuf,
        #[source]
        source: BoxError,
    },
    #[error("creating the wasmtime engine")]
    Engine(#[source] BoxError),
    #[error("compilation cache `{path}` is unreadable (use --cache-dir or --no-cache)")]
    Cache {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("stdlib record `{path}`: {reason}")]
    Record { path: PathBuf, reason: String },
    #[error(
        "stdlib zip `{zip}` (guest path `{guest}`, named by `{record}`) is missing \
         (build it, or point --stdlib at the directory holding it)"
    )]
    StdlibMissing {
        zip: PathBuf,
        guest: String,
        record: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("preopening host directory `{host}` at guest path `{guest}`")]
    Preopen {
        host: PathBuf,
        guest: String,
        #[source]
        source: BoxError,
    },
    #[error("instantiating `{path}` as a wasi:cli/run command")]
    Instantiate {
        path: PathBuf,
        #[source]
        source: BoxError,
    },
    #[error("starting the timeout watchdog thread")]
    Watchdog(#[source] std::io::Error),
}

impl LaunchError {
    pub(crate) fn invalid(option: &str, value: &str, reason: &str) -> Self {
        LaunchError::InvalidValue {
            option: option.to_owned(),
            value: value.to_owned(),
            reason: reason.to_owned(),
        }
    }
}

/// Something worth telling the user on the way; see [`Event::is_note`].
#[derive(Debug, Clone)]
pub enum Event {
    CacheHit {
        entry: PathBuf,
        load: Duration,
    },
    CacheMiss {
        entry: PathBuf,
        compile: Duration,
    },
    /// Compiled without a cache (`--no-cache`).
    Compiled {
        compile: Duration,
    },
    /// A cache entry existed but failed its check; it is recompiled and rewritten.
    CacheRejected {
        entry: PathBuf,
        reason: String,
    },
    CacheWriteFailed {
        entry: PathBuf,
        reason: String,
    },
    /// The total size of every linear memory of the instance when the guest ended
    /// (`--report-memory`).
    LinearMemory {
        bytes: u64,
    },
}

impl Event {
    /// Notes are always shown; the rest only with `--verbose`.
    pub fn is_note(&self) -> bool {
        matches!(
            self,
            Event::CacheRejected { .. } | Event::CacheWriteFailed { .. }
        )
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::CacheHit { entry, load } => write!(
                f,
                "cache hit {} (load {:.3}s)",
                entry.display(),
                load.as_secs_f64()
            ),
            Event::CacheMiss { entry, compile } => write!(
                f,
                "cache miss {} (compile {:.3}s)",
                entry.display(),
                compile.as_secs_f64()
            ),
            Event::Compiled { compile } => {
                write!(f, "no cache (compile {:.3}s)", compile.as_secs_f64())
            }
            Event::CacheRejected { entry, reason } => write!(
                f,
                "note: discarding cache entry {}: {reason}; recompiling",
                entry.display()
            ),
            Event::CacheWriteFailed { entry, reason } => write!(
                f,
                "note: could not write cache entry {}: {reason}",
                entry.display()
            ),
            Event::LinearMemory { bytes } => write!(f, "linear memory: {bytes} bytes"),
        }
    }
}

struct Host {
    ctx: WasiCtx,
    table: ResourceTable,
    limits: MeteredLimits,
}

/// `StoreLimits` plus a count of the bytes every linear memory has grown to. Memories
/// never shrink, so the sum of approved growths (creation included, which wasmtime
/// reports as growth from 0) is the instance's total linear memory.
struct MeteredLimits {
    inner: StoreLimits,
    memory_bytes: u64,
}

impl wasmtime::ResourceLimiter for MeteredLimits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let ok = self.inner.memory_growing(current, desired, maximum)?;
        if ok {
            self.memory_bytes += desired.saturating_sub(current) as u64;
        }
        Ok(ok)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.inner.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.inner.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

/// The engine configuration every run (and every cache entry) uses.
pub fn engine() -> Result<Engine, LaunchError> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    // Traps carry a wasm backtrace (set WASMTIME_BACKTRACE_DETAILS=1 for file:line).
    config.wasm_backtrace_max_frames(NonZeroUsize::new(64));
    // Always on, with or without --timeout, so one compiled artifact serves both.
    config.epoch_interruption(true);
    config.parallel_compilation(true);
    Engine::new(&config).map_err(|e| LaunchError::Engine(e.into()))
}

/// Runs the component; [`Event`]s (cache, compile, memory, notes) go to `report`,
/// and `on_stuck` is what to do with a guest that a timeout cannot interrupt. Prints
/// nothing and never exits the process itself.
pub fn run(
    opts: &LaunchOptions,
    report: &mut dyn FnMut(&Event),
    on_stuck: Option<OnStuck>,
) -> Result<Outcome, LaunchError> {
    let wasm = std::fs::canonicalize(&opts.wasm).map_err(|source| LaunchError::ReadWasm {
        path: opts.wasm.clone(),
        source,
    })?;
    let stdlib = stdlib::locate(&wasm, opts.stdlib.as_deref())?;
    let bytes = std::fs::read(&wasm).map_err(|source| LaunchError::ReadWasm {
        path: wasm.clone(),
        source,
    })?;
    let engine = engine()?;
    let component =
        cache::load_or_compile(&engine, &wasm, &bytes, opts.cache_dir.as_deref(), report)?;
    drop(bytes);

    let mut linker: Linker<Host> = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
        .map_err(|e| LaunchError::Engine(e.into()))?;

    let ctx = wasi_ctx(opts, stdlib.as_ref())?;
    let mut limits = StoreLimitsBuilder::new();
    if let Some(max) = opts.max_memory {
        limits = limits.memory_size(usize::try_from(max).unwrap_or(usize::MAX));
    }
    let mut store = Store::new(
        &engine,
        Host {
            ctx,
            table: ResourceTable::new(),
            limits: MeteredLimits {
                inner: limits.build(),
                memory_bytes: 0,
            },
        },
    );
    store.limiter(|host| &mut host.limits);

    let watchdog = match opts.timeout {
        Some(after) => {
            store.set_epoch_deadline(1);
            Some(Watchdog::start(engine.clone(), after, on_stuck)?)
        }
        None => {
            // The epoch never advances without a watchdog; any far deadline will do.
            store.set_epoch_deadline(u64::MAX / 2);
            None
        }
    };
    let fired = || watchdog.as_ref().is_some_and(|w| w.fired());

    let command = match Command::instantiate(&mut store, &component, &linker) {
        Ok(command) => command,
        // Start functions may trap or exit; that is the guest's outcome, not ours.
        Err(e) if e.is::<Trap>() || e.is::<I32Exit>() => {
            return Ok(classify(e, fired(), opts.timeout));
        }
        Err(e) => {
            return Err(LaunchError::Instantiate {
                path: wasm,
                source: e.into(),
            })
        }
    };
    let outcome = match command.wasi_cli_run().call_run(&mut store) {
        Ok(Ok(())) => Outcome::Exited(0),
        Ok(Err(())) => Outcome::Exited(EXIT_RUN_ERROR),
        Err(e) => classify(e, fired(), opts.timeout),
    };
    drop(watchdog);
    if opts.report_memory {
        report(&Event::LinearMemory {
            bytes: store.data().limits.memory_bytes,
        });
    }
    Ok(outcome)
}

fn classify(err: wasmtime::Error, fired: bool, timeout: Option<Duration>) -> Outcome {
    if let Some(exit) = err.downcast_ref::<I32Exit>() {
        return Outcome::Exited(exit.0);
    }
    if fired && err.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
        if let Some(after) = timeout {
            return Outcome::TimedOut { after };
        }
    }
    Outcome::Trapped {
        report: format!("{err:?}"),
    }
}

fn wasi_ctx(opts: &LaunchOptions, stdlib: Option<&stdlib::Mount>) -> Result<WasiCtx, LaunchError> {
    let mut b = WasiCtxBuilder::new();
    // Synchronous embedding: let filesystem calls block this thread directly. Must be
    // set before the preopens, which capture it.
    b.allow_blocking_current_thread(true);
    b.inherit_stdio();
    b.arg("python");
    b.args(&opts.guest_args);
    b.envs(&opts.env);
    // CPython looks for its landmark files under the compiled-in prefix and warns on
    // every start when they are absent (the stdlib is a zip here). Naming the prefix the
    // zip lives under (`/usr/local` for `/usr/local/lib/python313.zip`) silences that;
    // an explicit `--env PYTHONHOME=…` wins.
    if let Some(home) = stdlib.and_then(|m| m.guest_dir.strip_suffix("/lib")) {
        if !opts.env.iter().any(|(k, _)| k == "PYTHONHOME") {
            b.env("PYTHONHOME", if home.is_empty() { "/" } else { home });
        }
    }
    if opts.allow_net {
        b.inherit_network()
            .allow_ip_name_lookup(true)
            .allow_tcp(true)
            .allow_udp(true);
    } else {
        // The defaults already deny every address and lookup; spelled out on purpose.
        b.socket_addr_check(|_, _| Box::pin(async { false }))
            .allow_ip_name_lookup(false)
            .allow_tcp(false)
            .allow_udp(false);
    }
    if let Some(mount) = stdlib {
        preopen(&mut b, &mount.host_dir, &mount.guest_dir, false)?;
    }
    for dir in &opts.dirs {
        preopen(&mut b, &dir.host, &dir.guest, dir.writable)?;
    }
    Ok(b.build())
}

fn preopen(
    b: &mut WasiCtxBuilder,
    host: &Path,
    guest: &str,
    writable: bool,
) -> Result<(), LaunchError> {
    let perms = if writable {
        FsPerms::ReadWrite
    } else {
        FsPerms::ReadOnly
    };
    b.preopened_dir(host, guest, perms)
        .map_err(|e| LaunchError::Preopen {
            host: host.to_path_buf(),
            guest: guest.to_owned(),
            source: e.into(),
        })?;
    Ok(())
}

/// Advances the engine's epoch once the timeout passes (trapping the guest at its next
/// epoch check), and optionally ends the process if the guest stays blocked in a host
/// call.
struct Watchdog {
    done: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    fired: Arc<AtomicBool>,
}

impl Watchdog {
    fn start(
        engine: Engine,
        after: Duration,
        on_stuck: Option<OnStuck>,
    ) -> Result<Self, LaunchError> {
        let (done, wait) = mpsc::channel::<()>();
        let fired = Arc::new(AtomicBool::new(false));
        let flag = fired.clone();
        let thread = std::thread::Builder::new()
            .name("pylon-launch-watchdog".into())
            .spawn(move || {
                if wait.recv_timeout(after) != Err(mpsc::RecvTimeoutError::Timeout) {
                    return; // finished (sender dropped) before the deadline
                }
                flag.store(true, Ordering::SeqCst);
                engine.increment_epoch();
                if let Some(on_stuck) = on_stuck {
                    if wait.recv_timeout(HARD_EXIT_GRACE) == Err(mpsc::RecvTimeoutError::Timeout) {
                        on_stuck(after);
                    }
                }
            })
            .map_err(LaunchError::Watchdog)?;
        Ok(Watchdog {
            done: Some(done),
            thread: Some(thread),
            fired,
        })
    }

    fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.done.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
