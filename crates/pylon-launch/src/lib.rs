//! pylon-launch: runs a `wasi:cli/run` component (normally `build/pylon.wasm`) under
//! wasmtime 48 with explicit capabilities: preopened directories, chosen environment
//! variables, optional network, a memory cap and a timeout.
//!
//! - [`parse_args`] turns the command line into [`LaunchOptions`] (pure data).
//! - [`run`] resolves the wasm file and its stdlib (`record.json` next to it), loads the
//!   compiled component from the checked cache (see [`cache`]) or compiles it, runs it on
//!   a thread with room for [`MAX_WASM_STACK`] and returns an [`Outcome`]. Launcher
//!   problems are [`LaunchError`]s.
//!
//! The library prints nothing and never exits the process: what is worth telling goes to
//! the caller's `report` callback as [`Event`]s, and a guest that `--timeout` cannot
//! interrupt is handed to the caller's [`OnStuck`].

mod args;
pub mod cache;
mod limits;
pub mod net;
pub mod snapshot;
mod stdlib;

use std::ffi::OsString;
use std::fmt;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store, Trap};
use wasmtime_wasi::p2::bindings::sync::Command;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

pub use net::{NetAccess, NetGrant};

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

/// The wasm stack the guest may use (`Config::max_wasm_stack`), 8 MiB.
///
/// CPython 3.13 guards C recursion with a counter, not by measuring the stack:
/// `Py_C_RECURSION_LIMIT` is 5000 for `__wasi__` (Include/cpython/pystate.h, "based on
/// wasmtime 16"), and CPython's own WASI scripts run it with `wasmtime run --wasm
/// max-wasm-stack=8388608` (Tools/wasm/wasi.py, configure.ac's HOSTRUNNER; the C stack
/// in linear memory is also `-z stack-size=8388608`). Below what those 5000 levels
/// need, deep recursion is a `call stack exhausted` trap instead of a RecursionError.
///
/// Measured on build/pylon.wasm (CPython 3.13.15, wasmtime 48.0.8, x86_64), with 100000
/// levels of: repr/json.dumps/json.loads/pickle.dumps/copy.deepcopy/== of nested
/// lists, repr of nested dicts, compile() of a long `1+1+…`, ast.literal_eval of deep
/// `-`/`(`/`[` nesting, and recursive `__getattr__`/`__str__`/`__instancecheck__`:
/// 512 KiB (wasmtime's default) trapped on 13 of them, 1 MiB on 8, 2 MiB on 2
/// (json.loads, ==), 2176 KiB on 1 (json.loads); 2240 KiB and every larger size tried
/// (2304, 2560, 2816, 2944, 3072, 4096, 6144 and 8192 KiB) raised RecursionError (the
/// parser's MemoryError for the ast cases) on all. 8 MiB is upstream's value and ~3.6
/// times the measured minimum: a margin for C paths with bigger frames than these.
pub const MAX_WASM_STACK: usize = 8 << 20;

/// Native stack of the thread that runs the guest: all the wasm stack wasmtime allows,
/// plus room for the host functions called from wasm (WASI's filesystem, sockets, …),
/// which run on the same stack below the wasm frames. Only address space is reserved:
/// pages are committed as they are touched.
pub const GUEST_THREAD_STACK: usize = MAX_WASM_STACK + (8 << 20);

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
    /// The guest's working directory (`--cwd`, normalised: absolute, no `.`, `..` or
    /// repeated `/`); `None`: `/`. It must lie in a mapped directory.
    pub cwd: Option<String>,
    /// The guest's whole environment.
    pub env: Vec<(String, String)>,
    pub net: NetAccess,
    /// Cap on the total of all linear memories of the component, in bytes.
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
    /// Modules the startup snapshot imports besides CPython's own start
    /// (`--snapshot-import`); part of which snapshot is used.
    pub snapshot_imports: Vec<String>,
    /// Resume CPython from the startup snapshot (made on first use, kept in the cache
    /// directory) when the wasm can have one; off with `--no-snapshot` or `--no-cache`.
    pub snapshot: bool,
    /// The caller ends the process as soon as [`run`] returns (the `pylon-launch`
    /// binary): the instance, its linear memories and the compiled code are then left
    /// for the kernel to reclaim instead of being torn down one mapping at a time, and
    /// the guest's thread is not waited for once it has handed over the outcome.
    /// An embedder that goes on running leaves this false.
    pub process_exits_after: bool,
    /// The calling thread has [`GUEST_THREAD_STACK`] bytes of stack left for the guest
    /// (the `pylon-launch` binary raises its main thread's stack limit for it): the
    /// guest runs there, after the load, instead of on a thread of its own. On a
    /// virtual machine handing the component to another thread and the outcome back
    /// costs more (cross-CPU wake-ups) than building the guest's context beside the
    /// load saves. False: a guest thread is started.
    pub guest_on_calling_thread: bool,
}

/// Called from the watchdog thread when the guest is still blocked in a host call (a
/// read of stdin, a sleep, a write to a pipe nobody reads) a grace period after
/// `--timeout` fired: the epoch cannot interrupt it there, so only the embedder can end
/// it. The blocked call may hold Rust's lock on stdout or stderr, so the callback must
/// not print through `std::io` (nor call `std::process::exit`, which flushes stdout).
/// The `pylon-launch` binary writes its message with a raw write(2) and `_exit`s with
/// 124; an embedder that must not be exited passes none and gets
/// [`Outcome::TimedOut`] once the host call returns.
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
    #[error(
        "compilation cache `{path}` is {reason}: whoever can write it chooses the native \
         code pylon-launch runs. Make it yours and private (`chmod go-w` it, or remove it \
         to have it recreated), or use --cache-dir DIR of your own, or --no-cache"
    )]
    CacheUntrusted { path: PathBuf, reason: String },
    #[error("making the startup snapshot of `{path}`: {reason}")]
    Snapshot { path: PathBuf, reason: String },
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
    #[error("invalid --cwd `{cwd}`: {reason}")]
    Cwd { cwd: String, reason: String },
    #[error("preopening host directory `{host}` at guest path `{guest}`")]
    Preopen {
        host: PathBuf,
        guest: String,
        #[source]
        source: BoxError,
    },
    #[error(
        "creating the empty directory the guest sees at `/` (in the temporary directory, \
         $TMPDIR; or map a directory at `/` with --dir HOST::/)"
    )]
    EmptyRoot(#[source] std::io::Error),
    #[error("instantiating `{path}` as a wasi:cli/run command")]
    Instantiate {
        path: PathBuf,
        #[source]
        source: BoxError,
    },
    #[error(
        "--max-memory {limit} is too small: the component's initial linear memories alone \
         need at least {needed} bytes"
    )]
    MaxMemoryTooSmall {
        limit: u64,
        needed: u64,
        #[source]
        source: BoxError,
    },
    #[error("starting the timeout watchdog thread")]
    Watchdog(#[source] std::io::Error),
    #[error("starting the thread that runs the guest ({GUEST_THREAD_STACK} bytes of stack)")]
    GuestThread(#[source] std::io::Error),
    /// The guest thread's side of a launch that failed while loading the component
    /// (never reported: the load's error is).
    #[error("the component was not loaded")]
    NotLoaded,
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
        /// `None`: the entry was the file as published and was mapped unread. `Some`:
        /// its identity had changed (a copied cache), so its bytes were hashed against
        /// the sidecar; what changed, and whether the new identity was recorded.
        reverified: Option<String>,
    },
    /// The wasm was read and hashed to find its cache entry because its identity record
    /// could not be used (`reason`); `recorded` says whether a new record was written
    /// (`Err`: why not). Absent when the record named the file as it is.
    WasmHashed {
        wasm: PathBuf,
        reason: String,
        hash: Duration,
        recorded: Result<(), String>,
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
    /// Entries removed by the cache's pruning after a new entry was written.
    CachePruned {
        removed: Vec<PathBuf>,
    },
    /// The total size of all linear memories of the component (CPython's and every
    /// cap's) when the guest ended (`--report-memory`): what `--max-memory` bounds.
    LinearMemory {
        bytes: u64,
    },
    /// The startup snapshot was made (first launch of this wasm on this machine).
    SnapshotMade {
        path: PathBuf,
        took: Duration,
    },
    /// The run resumes this startup snapshot.
    SnapshotUsed {
        path: PathBuf,
    },
    /// The run initialises CPython itself: why there is no snapshot.
    NoSnapshot {
        reason: String,
    },
    /// A snapshot in the cache did not compile; it was removed and the run goes on
    /// without it.
    SnapshotDiscarded {
        path: PathBuf,
        reason: String,
    },
}

impl Event {
    /// Notes are always shown; the rest only with `--verbose`.
    pub fn is_note(&self) -> bool {
        matches!(
            self,
            Event::CacheRejected { .. }
                | Event::CacheWriteFailed { .. }
                | Event::SnapshotDiscarded { .. }
        )
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::CacheHit {
                entry,
                load,
                reverified,
            } => {
                write!(
                    f,
                    "cache hit {} (load {:.3}s",
                    entry.display(),
                    load.as_secs_f64()
                )?;
                match reverified {
                    Some(why) => write!(f, "; {why})"),
                    None => write!(f, ")"),
                }
            }
            Event::WasmHashed {
                wasm,
                reason,
                hash,
                recorded,
            } => {
                write!(
                    f,
                    "wasm {} read and hashed ({:.3}s): {reason}; ",
                    wasm.display(),
                    hash.as_secs_f64()
                )?;
                match recorded {
                    Ok(()) => write!(f, "identity recorded"),
                    Err(why) => write!(f, "identity not recorded: {why}"),
                }
            }
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
            Event::CachePruned { removed } => {
                write!(f, "cache pruned:")?;
                for entry in removed {
                    write!(f, " {}", entry.display())?;
                }
                Ok(())
            }
            Event::LinearMemory { bytes } => write!(f, "linear memory: {bytes} bytes"),
            Event::SnapshotMade { path, took } => write!(
                f,
                "startup snapshot made: {} ({:.3}s)",
                path.display(),
                took.as_secs_f64()
            ),
            Event::SnapshotUsed { path } => write!(f, "startup snapshot {}", path.display()),
            Event::NoSnapshot { reason } => write!(f, "no startup snapshot: {reason}"),
            Event::SnapshotDiscarded { path, reason } => write!(
                f,
                "note: discarding startup snapshot {}: it does not compile ({reason}); \
                 running without it",
                path.display()
            ),
        }
    }
}

struct Host {
    ctx: WasiCtx,
    table: ResourceTable,
    limits: limits::TotalLimits,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

/// Appended to a trap's report when the run resumed the startup snapshot, whose
/// backtraces have function indices where pylon.wasm's have names.
const SNAPSHOT_TRAP_NOTE: &str = "\n(the startup snapshot keeps no function names: \
    run again with --no-snapshot for a backtrace that names them)";

/// The engine configuration every run (and every cache entry) uses.
pub fn engine() -> Result<Engine, LaunchError> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    // Traps carry a wasm backtrace (set WASMTIME_BACKTRACE_DETAILS=1 for file:line).
    config.wasm_backtrace_max_frames(NonZeroUsize::new(64));
    // Always on, with or without --timeout, so one compiled artifact serves both.
    config.epoch_interruption(true);
    config.parallel_compilation(true);
    // No .eh_frame for the compiled wasm: wasmtime walks wasm frames itself (traps
    // keep their backtraces) and catches a host call's panic before it reaches them,
    // so no native unwinder ever needs it. Registering it costs every load: 1.1 MB for
    // pylon.wasm's snapshot, and since GCC 13 libgcc's unwinder (lock-free lookup)
    // parses and sorts every FDE of a table as it is registered, not on first use.
    config.native_unwind_info(false);
    // CPython's C recursion limit assumes this much wasm stack (see MAX_WASM_STACK);
    // wasmtime's 512 KiB default turns deep recursion into a trap.
    config.max_wasm_stack(MAX_WASM_STACK);
    // Never used (the embedding is synchronous), but wasmtime refuses an engine whose
    // async stack is smaller than `max_wasm_stack`.
    config.async_stack_size(GUEST_THREAD_STACK);
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
    let run_wasm = match (&opts.cache_dir, opts.snapshot) {
        (Some(cache_dir), true) => snapshot::for_launch(
            &wasm,
            stdlib.as_ref(),
            &opts.snapshot_imports,
            cache_dir,
            report,
        )?,
        (None, true) => {
            report(&Event::NoSnapshot {
                reason: "--no-cache (a snapshot lives in the cache)".into(),
            });
            wasm.clone()
        }
        (_, false) => wasm.clone(),
    };
    let engine = engine()?;
    let setup = GuestSetup {
        engine: engine.clone(),
        opts: opts.clone(),
        stdlib: stdlib.clone(),
        wasm: wasm.clone(),
    };
    let guest = if opts.guest_on_calling_thread {
        GuestRun::Here(Box::new(setup.build()?))
    } else {
        // The guest thread builds what does not need the compiled component (the WASI
        // linker, the context with its preopens and network policy, the store) while
        // this thread loads the component.
        let (send_load, receive_load) = mpsc::sync_channel::<Loaded>(1);
        let thread = GuestThread::spawn(move || setup.build()?.run(receive_load))?;
        GuestRun::Thread { thread, send_load }
    };
    // Whether what runs is the snapshot (function names left out of its backtraces).
    let mut resumes_snapshot = run_wasm != wasm;
    let component =
        match cache::load_or_compile(&engine, &run_wasm, opts.cache_dir.as_deref(), report) {
            // A snapshot that does not compile (damaged in the cache by hand: it is written
            // by rename) is discarded; the run goes on from the wasm itself, and the next
            // one makes it again.
            Err(LaunchError::Compile { source, .. }) if run_wasm != wasm => {
                let _ = std::fs::remove_file(&run_wasm);
                report(&Event::SnapshotDiscarded {
                    path: run_wasm.clone(),
                    reason: source.to_string(),
                });
                resumes_snapshot = false;
                cache::load_or_compile(&engine, &wasm, opts.cache_dir.as_deref(), report)?
            }
            // Returning drops the guest thread's `send_load`: it ends without running.
            other => other?,
        };
    let watchdog = match opts.timeout {
        Some(after) => Some(Watchdog::start(engine.clone(), after, on_stuck)?),
        None => None,
    };
    let loaded = Loaded {
        component,
        fired: watchdog.as_ref().map(|w| w.fired.clone()),
    };
    let (mut outcome, memory_bytes) = match guest {
        GuestRun::Here(guest) => guest.run_loaded(loaded)?,
        GuestRun::Thread { thread, send_load } => {
            // Fails only if the thread is gone (its setup failed): its result says why.
            let _ = send_load.send(loaded);
            thread.finish(!opts.process_exits_after)?
        }
    };
    if let (Outcome::Trapped { report }, true) = (&mut outcome, resumes_snapshot) {
        report.push_str(SNAPSHOT_TRAP_NOTE);
    }
    drop(watchdog);
    if opts.report_memory {
        report(&Event::LinearMemory {
            bytes: memory_bytes,
        });
    }
    Ok(outcome)
}

/// Where the guest runs: on the calling thread (built before the load), or on a thread
/// of its own (built there, beside the load).
enum GuestRun {
    Here(Box<Guest>),
    Thread {
        thread: GuestThread<(Outcome, u64)>,
        /// Hands the loaded component over.
        send_load: mpsc::SyncSender<Loaded>,
    },
}

/// Synchronous wasmtime runs wasm on the calling thread's native stack, and
/// `max_wasm_stack` only bounds how much of it wasm may use: the thread must have that
/// much plus room for the host calls made from wasm, more than a main thread's usual
/// 8 MiB. So unless the caller's thread has that much (see
/// [`LaunchOptions::guest_on_calling_thread`]), the guest runs on a thread of its own,
/// sized for it.
struct GuestThread<T> {
    thread: JoinHandle<()>,
    result: mpsc::Receiver<Result<T, LaunchError>>,
}

impl<T: Send + 'static> GuestThread<T> {
    fn spawn(
        guest: impl FnOnce() -> Result<T, LaunchError> + Send + 'static,
    ) -> Result<Self, LaunchError> {
        let (send, result) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("pylon-launch-guest".into())
            .stack_size(GUEST_THREAD_STACK)
            .spawn(move || {
                let _ = send.send(guest());
            })
            .map_err(LaunchError::GuestThread)?;
        Ok(GuestThread { thread, result })
    }

    /// The guest's result. `join`: wait for the thread to end; otherwise the result is
    /// taken as soon as it is sent, and the thread is left to finish (or be ended by
    /// the process's exit).
    fn finish(self, join: bool) -> Result<T, LaunchError> {
        if !join {
            if let Ok(result) = self.result.recv() {
                return result;
            }
            // Nothing was sent: the thread panicked; join it for the panic.
        }
        match self.thread.join() {
            // It ended normally, so it sent its result before ending.
            Ok(()) => self
                .result
                .recv()
                .unwrap_or_else(|_| unreachable!("the guest thread ended without its result")),
            // A panic in the host side of a call: the caller sees it as its own.
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

/// What the guest thread builds while the component loads.
struct GuestSetup {
    engine: Engine,
    opts: LaunchOptions,
    stdlib: Option<stdlib::Mount>,
    wasm: PathBuf,
}

/// What the launching thread hands the guest thread once the component is loaded.
struct Loaded {
    component: Component,
    /// Set once the watchdog has fired (`None`: no `--timeout`).
    fired: Option<Arc<AtomicBool>>,
}

impl GuestSetup {
    fn build(self) -> Result<Guest, LaunchError> {
        let GuestSetup {
            engine,
            opts,
            stdlib,
            wasm,
        } = self;
        let mut linker: Linker<Host> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| LaunchError::Engine(e.into()))?;
        let ctx = wasi_ctx(&opts, stdlib.as_ref())?;
        let mut store = Store::new(
            &engine,
            Host {
                ctx,
                table: ResourceTable::new(),
                limits: limits::TotalLimits::new(opts.max_memory),
            },
        );
        store.limiter(|host| &mut host.limits);
        // Without a watchdog the epoch never advances; any far deadline will do.
        store.set_epoch_deadline(if opts.timeout.is_some() {
            1
        } else {
            u64::MAX / 2
        });
        Ok(Guest {
            store,
            linker,
            wasm,
            timeout: opts.timeout,
            max_memory: opts.max_memory,
            leave_to_exit: opts.process_exits_after,
        })
    }
}

/// Everything the guest thread needs to instantiate and run the command.
struct Guest {
    store: Store<Host>,
    linker: Linker<Host>,
    wasm: PathBuf,
    timeout: Option<Duration>,
    max_memory: Option<u64>,
    /// [`LaunchOptions::process_exits_after`].
    leave_to_exit: bool,
}

impl Guest {
    /// On a guest thread: waits for the loaded component and runs it. (`load` closed:
    /// the launch failed while loading, and that error is what is reported.)
    fn run(self, load: mpsc::Receiver<Loaded>) -> Result<(Outcome, u64), LaunchError> {
        let Ok(loaded) = load.recv() else {
            return Err(LaunchError::NotLoaded);
        };
        self.run_loaded(loaded)
    }

    /// Instantiates the component and calls `wasi:cli/run`; the outcome comes with the
    /// total size of the linear memories at the end.
    fn run_loaded(self, loaded: Loaded) -> Result<(Outcome, u64), LaunchError> {
        let Guest {
            mut store,
            linker,
            wasm,
            timeout,
            max_memory,
            leave_to_exit,
        } = self;
        let Loaded { component, fired } = loaded;
        let fired = || fired.as_ref().is_some_and(|f| f.load(Ordering::SeqCst));
        let command = match Command::instantiate(&mut store, &component, &linker) {
            Ok(command) => command,
            // Start functions may trap or exit; that is the guest's outcome, not ours.
            Err(e) if e.is::<Trap>() || e.is::<I32Exit>() => {
                let memory = store.data().limits.memory_bytes();
                return Ok((classify(e, fired(), timeout), memory));
            }
            Err(e) => {
                // The memories the component starts with do not fit under --max-memory:
                // say so rather than show wasmtime's per-memory message.
                if let (Some(limit), Some(needed)) =
                    (max_memory, store.data().limits.refused_memory())
                {
                    return Err(LaunchError::MaxMemoryTooSmall {
                        limit,
                        needed,
                        source: e.into(),
                    });
                }
                return Err(LaunchError::Instantiate {
                    path: wasm,
                    source: e.into(),
                });
            }
        };
        let outcome = match command.wasi_cli_run().call_run(&mut store) {
            Ok(Ok(())) => Outcome::Exited(0),
            Ok(Err(())) => Outcome::Exited(EXIT_RUN_ERROR),
            Err(e) => classify(e, fired(), timeout),
        };
        let memory = store.data().limits.memory_bytes();
        if leave_to_exit {
            // Unmapping every linear memory and the code one by one is work the
            // process's exit does at once (about a millisecond for pylon.wasm).
            std::mem::forget(store);
            std::mem::forget(component);
            std::mem::forget(linker);
        }
        Ok((outcome, memory))
    }
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
    for (key, value) in guest_defaults(stdlib) {
        if !opts.env.iter().any(|(k, _)| *k == key) {
            b.env(key, value);
        }
    }
    let policy = match &opts.net {
        NetAccess::All => None,
        NetAccess::Only(grants) => Some(net::NetPolicy::granting(grants)?),
        NetAccess::Denied => Some(net::NetPolicy::denied()),
    };
    match policy {
        None => {
            b.inherit_network()
                .allow_ip_name_lookup(true)
                .allow_tcp(true)
                .allow_udp(true);
        }
        Some(policy) => {
            let lookups_and_udp = matches!(opts.net, NetAccess::Only(_));
            let policy = Arc::new(policy);
            b.socket_addr_check(move |addr, usage| {
                let admitted = policy.admits(addr, usage);
                Box::pin(async move { admitted })
            })
            .allow_ip_name_lookup(lookups_and_udp)
            .allow_tcp(true)
            .allow_udp(lookups_and_udp);
        }
    }
    let maps_root = stdlib.is_some_and(|m| is_root(&m.guest_dir))
        || opts.dirs.iter().any(|d| is_root(&d.guest));
    if let Some(cwd) = &opts.cwd {
        let mut mapped: Vec<(&Path, &str)> = opts
            .dirs
            .iter()
            .map(|d| (d.host.as_path(), d.guest.as_str()))
            .collect();
        if let Some(mount) = stdlib {
            mapped.push((&mount.host_dir, &mount.guest_dir));
        }
        check_cwd(cwd, &mapped).map_err(|reason| LaunchError::Cwd {
            cwd: cwd.clone(),
            reason,
        })?;
        b.initial_cwd(cwd);
    }
    if !maps_root {
        empty_root(&mut b, opts.cache_dir.as_deref())?;
    }
    if let Some(mount) = stdlib {
        preopen(&mut b, &mount.host_dir, &mount.guest_dir, false)?;
    }
    for dir in &opts.dirs {
        preopen(&mut b, &dir.host, &dir.guest, dir.writable)?;
    }
    Ok(b.build())
}

/// Checks that `--cwd` names a directory the guest can enter, so that a wrong one is a
/// launcher error (exit 2) naming the option rather than the guest's own refusal.
/// `mapped` is every preopen but the empty root; the directory is looked up through
/// the one whose guest path is the longest prefix of `cwd`, as wasi-libc does. The
/// guest checks again when it enters it (python.wasm's `_pylon_wasi_libc`).
fn check_cwd(cwd: &str, mapped: &[(&Path, &str)]) -> Result<(), String> {
    let components = |p: &str| -> Vec<String> {
        p.split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .map(str::to_owned)
            .collect()
    };
    let want = components(cwd);
    let best = mapped
        .iter()
        .map(|(host, guest)| (host, components(guest)))
        .filter(|(_, guest)| want.starts_with(guest))
        .max_by_key(|(_, guest)| guest.len());
    let Some((host, guest)) = best else {
        if want.is_empty() {
            return Ok(()); // `/`, the empty root
        }
        return Err(format!(
            "no mapped directory holds it (map one with --dir HOST::{cwd})"
        ));
    };
    let host_dir = want[guest.len()..]
        .iter()
        .fold(host.to_path_buf(), |dir, part| dir.join(part));
    match std::fs::metadata(&host_dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(format!(
            "its host path `{}` is not a directory",
            host_dir.display()
        )),
        Err(e) => Err(format!("its host path `{}`: {e}", host_dir.display())),
    }
}

/// The environment a launch gives the guest unless `--env` says otherwise (also what
/// the startup snapshot is initialised with, so that both compute one configuration).
///
/// CPython looks for its landmark files under the compiled-in prefix and warns on
/// every start when they are absent (the stdlib is a zip here). Naming the prefix the
/// zip lives under (`/usr/local` for `/usr/local/lib/python313.zip`) silences that.
pub(crate) fn guest_defaults(stdlib: Option<&stdlib::Mount>) -> Vec<(String, String)> {
    match stdlib.and_then(|m| m.guest_dir.strip_suffix("/lib")) {
        Some(home) => vec![(
            "PYTHONHOME".to_string(),
            if home.is_empty() { "/" } else { home }.to_string(),
        )],
        None => Vec::new(),
    }
}

/// `/`, `//`, …: the guest's root.
fn is_root(guest: &str) -> bool {
    !guest.is_empty() && guest.trim_start_matches('/').is_empty()
}

/// Preopens an empty, read-only directory at `/`.
///
/// The guest's working directory is `/`: wasi-libc keeps the cwd itself, starting at
/// `/` (python.wasm's wasi-libc, Debian's 20260423 snapshot, does not ask for
/// `wasi:cli/environment`'s `initial-cwd`), and resolves every path, relative ones
/// against that cwd, through the
/// preopen whose guest path is the longest prefix of it. With no preopen at `/`, the
/// cwd names nothing: `os.stat(os.getcwd())`, `os.chdir(os.getcwd())` and `os.stat('.')`
/// fail with ENOENT, and CPython's test runner, which chdirs back to where it started,
/// fails. An empty directory there makes `/` (and `.`) exist without giving the guest
/// anything; longer guest paths (`--dir`, the stdlib) still resolve through their own
/// preopens.
///
/// The host directory is `<cache>/empty-root/` when the cache directory has one that
/// is still as the launcher made it: a directory of the user's, read-only even to them
/// (0500), and empty. The cache directory itself is only the user's, as it must be for
/// the compiled code it holds. Otherwise (no cache, or the directory was changed) it is
/// a fresh temporary one, removed as soon as it is open: the preopen keeps it alive
/// (empty, and no entry can be created in a removed directory), and nothing is left
/// behind however the launcher ends. The kept one spares every launch a mkdir and an
/// rmdir (a few hundred microseconds of a warm start on ext4).
fn empty_root(b: &mut WasiCtxBuilder, cache_dir: Option<&Path>) -> Result<(), LaunchError> {
    if let Some(kept) = cache_dir.and_then(kept_empty_root) {
        return preopen(b, &kept, "/", false);
    }
    let dir = tempfile::Builder::new()
        .prefix("pylon-launch-root-")
        .tempdir()
        .map_err(LaunchError::EmptyRoot)?;
    preopen(b, dir.path(), "/", false)?;
    dir.close().map_err(LaunchError::EmptyRoot)
}

/// `<cache>/empty-root/` if it is (or, first time, can be made) an empty directory
/// owned by this user with mode 0500; `None` to fall back to a temporary one.
#[cfg(unix)]
fn kept_empty_root(cache_dir: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = cache_dir.join("empty-root");
    let meta = match std::fs::symlink_metadata(&dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // Made under a temporary name and renamed, so no launch sees it writable.
            let staging = tempfile::Builder::new()
                .prefix(".empty-root-")
                .tempdir_in(cache_dir)
                .ok()?;
            std::fs::set_permissions(staging.path(), std::fs::Permissions::from_mode(0o500))
                .ok()?;
            let staged = staging.keep();
            if std::fs::rename(&staged, &dir).is_err() {
                // Another launch made it first, or the rename failed: ours goes.
                let _ = std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o700));
                let _ = std::fs::remove_dir(&staged);
            }
            std::fs::symlink_metadata(&dir).ok()?
        }
        Err(_) => return None,
    };
    let ours = meta.is_dir()
        && cache::untrusted(&meta).is_none()
        && meta.mode() & 0o7777 == 0o500
        && std::fs::read_dir(&dir).ok()?.next().is_none();
    ours.then_some(dir)
}

#[cfg(not(unix))]
fn kept_empty_root(_cache_dir: &Path) -> Option<PathBuf> {
    None
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
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.done.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
