//! `pylon build`: the product. Generates each cap's CPython shim from its WIT
//! (`product::generate_shims`), builds CPython for wasm32-wasip2 from the profile's
//! pinned inputs with those shims and the caps' Python overlays (`pylon_cpython`), then
//! composes the result with the caps into `build/<profile>/pylon.wasm`
//! (`product::compose_product`). Stage progress on stderr, the result on stdout (text,
//! or one JSON document with `--json`), and the exit codes of the other commands: 0
//! built or cached (matching `profiles/expected/<profile>.toml` and `pylon_sha256`
//! where they pin something), 1 a stage, a fetch or a pinned digest failed, 2 a usage,
//! profile, manifest or toolchain problem.
//!
//! Errors are rendered here (not returned), so `main` only maps the returned code.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use pylon_cpython::build::BuildReport;

use pylon_cpython::fetch::{default_cache_root, FetchEvent};
use pylon_cpython::{explain_modules, load_profile, BuildEvent};
use pylon_product::build::{ProductEvent, ProductRequest};
use pylon_product::{self as product, CapModule, PinStatus, ProductReport};

#[derive(clap::Args, Debug, Clone)]
#[command(
    after_help = "Examples:\n  pylon build                       # the default profile (profiles/default)\n  pylon build --profile cp314 --cpython-tarball ~/python3.14_3.14.10.orig.tar.xz\n  pylon build --explain-modules\n\nExit status: 0 built or cached, 1 a stage or fetch failed or the outputs differ from\nprofiles/expected/<profile>.toml, 2 usage, profile or toolchain error."
)]
pub struct BuildArgs {
    /// Profile name (profiles/<NAME>.toml) or path; default: the name in profiles/default.
    #[arg(long, env = "PYLON_PROFILE")]
    pub profile: Option<String>,
    /// Directory holding the profiles, patches/ and expected/.
    #[arg(long, default_value = "profiles")]
    pub profiles_dir: PathBuf,
    /// A local copy of the profile's CPython tarball; checked against its pinned sha256.
    #[arg(long, env = "PYLON_CPYTHON_TARBALL")]
    pub cpython_tarball: Option<PathBuf>,
    /// Where to publish python.wasm, stdlib.zip and record.json (default build/<profile>).
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
    /// Cache root (default ${XDG_CACHE_HOME:-~/.cache}/pylon).
    #[arg(long, env = "PYLON_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Parallel make jobs (default: CPU count).
    #[arg(short, long, env = "PYLON_JOBS")]
    pub jobs: Option<usize>,
    /// Rebuild even if the inputs' digest is cached.
    #[arg(long)]
    pub force: bool,
    /// List the C-extension modules the profile disables (and why) and those wired from
    /// cpython-ext/, then exit without building.
    #[arg(long)]
    pub explain_modules: bool,
    /// Print a versioned JSON document on stdout instead of text.
    #[arg(long)]
    pub json: bool,
    /// The caps manifest whose caps are wired in and composed.
    #[arg(long, env = "PYLON_MANIFEST", default_value = "caps-manifest.toml")]
    pub manifest: PathBuf,
    /// Where git caps are checked out (as for caps-sync; default ~/git).
    #[arg(long, env = "PYLON_CAPS_DIR")]
    pub caps_dir: Option<PathBuf>,
    /// Build the bare interpreter: no cap shims, no overlays, no composition.
    #[arg(long)]
    pub no_caps: bool,
    /// Also make the seeded startup snapshot the profile pins (`snapshot_seed` in
    /// profiles/expected/<profile>.toml) into <out-dir>/pylon-snapshot-seed<N>.wasm, and
    /// check it against `snapshot_sha256` (seconds: CPython is initialised once).
    #[arg(long, conflicts_with = "no_caps")]
    pub snapshot: bool,
}

const EXIT_USAGE: u8 = 2;

/// Runs `pylon build`; the returned value is the process exit code.
pub fn run(args: BuildArgs) -> anyhow::Result<u8> {
    let project = match Project::resolve(&args) {
        Ok(p) => p,
        Err(message) => return Ok(fail(&args, &message, &[], EXIT_USAGE)),
    };
    if args.explain_modules {
        let cap_modules = product::build::cap_modules(
            project.manifest.as_ref(),
            &project.caps_dir,
            &project.repo_root,
        );
        return Ok(match cap_modules {
            Ok(m) => explain(&args, &project.profile, &project.repo_root, &m),
            Err(e) => fail(&args, &e.to_string(), &[], EXIT_USAGE),
        });
    }
    let Project {
        profile,
        repo_root,
        manifest,
        caps_dir,
    } = project;
    let request = match product_request(&args, profile, repo_root, manifest.as_ref(), caps_dir) {
        Ok(r) => r,
        Err(message) => return Ok(fail(&args, &message, &[], EXIT_USAGE)),
    };

    let progress = StageProgress::new(args.json);
    let result = product::build::build_product(&request, &|ev| progress.product_event(ev));
    progress.clear();
    let built = match result {
        Ok(b) => b,
        Err(e) => return Ok(fail(&args, &e.to_string(), e.log_tail(), e.exit_code())),
    };
    Ok(print_built(&args, &built))
}

/// What the arguments name: the profile, the repository it belongs to, the caps
/// manifest (none with `--no-caps`) and where git caps are checked out.
struct Project {
    profile: pylon_cpython::Profile,
    repo_root: PathBuf,
    manifest: Option<pylon_manifest::Manifest>,
    caps_dir: PathBuf,
}

impl Project {
    /// Reads the profile and the manifest and settles the directories.
    fn resolve(args: &BuildArgs) -> Result<Project, String> {
        // Unknown, unreadable or invalid: all for the user to fix.
        let profile =
            load_profile(&args.profiles_dir, args.profile.as_deref()).map_err(|e| e.to_string())?;
        let repo_root = args
            .profiles_dir
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    p.to_path_buf()
                }
            })
            .unwrap_or_else(|| PathBuf::from("."));
        // Absolute, because the build runs commands in other directories.
        let repo_root = std::fs::canonicalize(&repo_root).unwrap_or(repo_root);
        let manifest = if args.no_caps {
            None
        } else {
            Some(pylon_manifest::read_manifest(&args.manifest).map_err(|e| e.to_string())?)
        };
        let caps_dir = args
            .caps_dir
            .clone()
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join("git")))
            .ok_or("HOME is not set; pass --caps-dir or set PYLON_CAPS_DIR")?;
        Ok(Project {
            profile,
            repo_root,
            manifest,
            caps_dir,
        })
    }
}

/// The build the arguments ask for, with the defaults of everything they leave out.
fn product_request<'m>(
    args: &BuildArgs,
    profile: pylon_cpython::Profile,
    repo_root: PathBuf,
    manifest: Option<&'m pylon_manifest::Manifest>,
    caps_dir: PathBuf,
) -> Result<ProductRequest<'m>, String> {
    let cache_root = args
        .cache_dir
        .clone()
        .or_else(default_cache_root)
        .ok_or("no cache directory: set HOME, XDG_CACHE_HOME or --cache-dir")?;
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if jobs == 0 {
        return Err("--jobs must be at least 1".into());
    }
    if let Some(t) = &args.cpython_tarball {
        if !t.is_file() {
            return Err(format!("--cpython-tarball {}: no such file", t.display()));
        }
    }
    let out_dir = args
        .out_dir
        .clone()
        .unwrap_or_else(|| repo_root.join("build").join(&profile.name));
    // `build/pylon.wasm` for the default `build/<profile>/`; beside any other --out-dir,
    // so a build elsewhere never re-points the repository's link.
    let link = out_dir
        .parent()
        .map_or_else(|| PathBuf::from("pylon.wasm"), |p| p.join("pylon.wasm"));
    let check_pin =
        pylon_cpython::load_profile(&args.profiles_dir, None).is_ok_and(|p| p.name == profile.name);
    Ok(ProductRequest {
        repo_root,
        profile,
        manifest,
        caps_dir,
        cache_root,
        out_dir,
        link,
        check_pin,
        local_tarball: args.cpython_tarball.clone(),
        jobs,
        force: args.force,
        seeded_snapshot: args.snapshot,
    })
}

/// Prints what was built (text, or the JSON document) and returns the exit code.
fn print_built(args: &BuildArgs, built: &product::build::ProductBuild) -> u8 {
    let ok = built.success();
    if args.json {
        crate::render::print_json(
            "build",
            &serde_json::json!({
                "build": built.build,
                "caps": built.caps,
                "pylon": built.pylon,
                "snapshot": built.snapshot,
            }),
            ok,
        );
    } else {
        print_report(&built.build);
        if let Some(p) = &built.pylon {
            print_product(p, &built.caps);
        }
        if let Some(s) = &built.snapshot {
            print_snapshot(s);
        }
    }
    if ok {
        0
    } else {
        1
    }
}

/// `--explain-modules`: the profile's disabled modules, those wired from cpython-ext/,
/// and the caps' modules with their Python sides.
fn explain(
    args: &BuildArgs,
    profile: &pylon_cpython::Profile,
    repo_root: &std::path::Path,
    cap_modules: &[CapModule],
) -> u8 {
    let ext = match pylon_cpython::ext::scan_ext_modules(&repo_root.join("cpython-ext")) {
        Ok(m) => m,
        Err(e) => return fail(args, &e.to_string(), &[], EXIT_USAGE),
    };
    let mut rows = explain_modules(profile, &ext);
    // Which cap serves a disabled C module is the cap's fact (its descriptor), not the
    // profile's: the profile says only why CPython's C module is off.
    for row in rows.iter_mut().filter(|r| r.state == "disabled") {
        if let Some(m) = cap_modules
            .iter()
            .find(|m| m.served.iter().any(|s| s.name == row.name))
        {
            row.reason = format!("{}; served in Python by cap {}", row.reason, m.cap);
        }
    }
    for m in cap_modules {
        rows.push(cap_row(m));
        rows.extend(m.served.iter().map(|s| pylon_cpython::ModuleExplanation {
            name: s.name.clone(),
            state: "cap-python",
            reason: format!(
                "Python side of cap {} (over {}): {}",
                m.cap, m.module, s.reason
            ),
        }));
    }
    if args.json {
        crate::render::print_json(
            "build-explain-modules",
            &serde_json::json!({"profile": profile.name, "modules": rows}),
            true,
        );
    } else {
        println!(
            "{} (CPython {}): C-extension modules not built from CPython's defaults:",
            profile.name, profile.version
        );
        let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0);
        for r in &rows {
            println!("  {:width$}  {:11}  {}", r.name, r.state, r.reason);
        }
        println!(
            "Every other module of Modules/Setup.stdlib is built from CPython's bundled sources."
        );
    }
    0
}

fn cap_row(m: &CapModule) -> pylon_cpython::ModuleExplanation {
    let python = if m.python_modules.is_empty() {
        String::new()
    } else {
        format!("; Python: {}", m.python_modules.join(", "))
    };
    pylon_cpython::ModuleExplanation {
        name: m.module.clone(),
        state: "cap",
        reason: format!(
            "served by cap {} through {}{python}",
            m.cap,
            m.imports.join(", ")
        ),
    }
}

fn print_product(p: &ProductReport, caps: &[CapModule]) {
    println!("pylon.wasm  {}  {} bytes", p.sha256, p.size);
    println!(
        "  published in {} ({} -> it)",
        p.path.display(),
        p.link.display()
    );
    for plug in &p.composition.plugged {
        let imports: Vec<&str> = plug.satisfied.iter().map(|s| s.import.as_str()).collect();
        let python = caps
            .iter()
            .find(|c| c.cap == plug.cap)
            .map(|c| c.python_modules.join(", "))
            .unwrap_or_default();
        println!(
            "  cap {:10} {}{}",
            plug.cap,
            imports.join(", "),
            if python.is_empty() {
                String::new()
            } else {
                format!("  (Python: {python})")
            }
        );
    }
    for cap in &p.composition.unused_caps {
        println!("  cap {cap:10} not imported by the interpreter (no shim uses it)");
    }
    match p.pin_status {
        PinStatus::Ok => println!("pylon_sha256 status: OK"),
        PinStatus::Mismatch => println!(
            "pylon_sha256 status: MISMATCH (caps-manifest.toml pins {}; run `pylon diff` against a reference, or `make regen-manifest` if the change is intended)",
            p.pinned.as_deref().unwrap_or("-")
        ),
        PinStatus::Placeholder => println!(
            "pylon_sha256 status: PLACEHOLDER (run `make regen-manifest` to pin {})",
            p.sha256
        ),
        PinStatus::NotChecked => println!(
            "pylon_sha256 status: NOT CHECKED (it pins the default profile)"
        ),
    }
}

fn print_snapshot(s: &product::build::SnapshotReport) {
    println!(
        "startup snapshot (seed {})  {}  {} bytes\n  published in {}",
        s.seed,
        s.sha256,
        s.size,
        s.path.display()
    );
    match &s.pinned {
        Some(_) if s.matches() => println!("snapshot_sha256 status: OK"),
        Some(p) => println!(
            "snapshot_sha256 status: MISMATCH (profiles/expected pins {p}; `make regen-manifest` if the change is intended)"
        ),
        None => println!(
            "snapshot_sha256 status: PLACEHOLDER (run `make regen-manifest` to pin {})",
            s.sha256
        ),
    }
}

/// Reports an error (stderr, or a JSON document) and returns the exit code.
fn fail(args: &BuildArgs, message: &str, tail: &[String], code: u8) -> u8 {
    if args.json {
        crate::render::print_json(
            "build",
            &serde_json::json!({"error": message, "log_tail": tail, "exit_code": code}),
            false,
        );
    } else {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "error: {message}");
        if !tail.is_empty() {
            let _ = writeln!(err, "--- last lines of the log ---");
            for line in tail {
                let _ = writeln!(err, "  {line}");
            }
        }
    }
    code
}

fn print_report(r: &BuildReport) {
    println!(
        "{} (CPython {}): {}",
        r.profile,
        r.cpython,
        if r.cached {
            "CACHED (nothing to do)"
        } else {
            "BUILT"
        }
    );
    println!(
        "  python.wasm  {}  {} bytes",
        r.python_wasm.sha256, r.python_wasm.size
    );
    println!(
        "  stdlib.zip   {}  {} bytes  (guest path {})",
        r.stdlib_zip.sha256, r.stdlib_zip.size, r.stdlib_zip_guest_path
    );
    println!("  published in {}", r.out_dir.display());
    println!("  inputs key   {}", r.key);
    if !r.cached {
        println!("  logs         {}", r.logs.display());
    }
    if let Some(x) = &r.expected {
        if x.matches {
            println!("  expected digests ({}): OK", x.path.display());
        } else {
            println!("  expected digests ({}): MISMATCH", x.path.display());
            if let Some(d) = &x.python_wasm {
                println!("    python.wasm expected {d}");
            }
            if let Some(d) = &x.stdlib_zip {
                println!("    stdlib.zip  expected {d}");
            }
        }
    }
}

/// Stage lines on stderr; on a terminal the running stage shows with its elapsed
/// time when it ends. Quiet with --json.
struct StageProgress {
    quiet: bool,
    tty: bool,
    start: Instant,
    current: Mutex<Option<Instant>>,
}

impl StageProgress {
    fn new(json: bool) -> Self {
        StageProgress {
            quiet: json,
            tty: std::io::stderr().is_terminal(),
            start: Instant::now(),
            current: Mutex::new(None),
        }
    }

    fn event(&self, ev: BuildEvent<'_>) {
        if self.quiet {
            return;
        }
        let mut err = std::io::stderr().lock();
        let clock = self.start.elapsed().as_secs_f64();
        match ev {
            BuildEvent::Start(stage) => {
                *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
                if self.tty {
                    let _ = write!(err, "\r\x1b[K[{clock:>5.0}s] build: {} …", stage.as_str());
                    let _ = err.flush();
                }
            }
            BuildEvent::Done(stage, took) => {
                let _ = writeln!(
                    err,
                    "{}[{clock:>5.0}s] build: {} done ({:.1}s)",
                    if self.tty { "\r\x1b[K" } else { "" },
                    stage.as_str(),
                    took.as_secs_f64()
                );
            }
            BuildEvent::Cached(stage, key) => {
                let _ = writeln!(
                    err,
                    "{}[{clock:>5.0}s] build: {} cached ({})",
                    if self.tty { "\r\x1b[K" } else { "" },
                    stage.as_str(),
                    &key[..key.len().min(16)]
                );
            }
            BuildEvent::Fetch(FetchEvent::Downloading { url }) => {
                let _ = writeln!(
                    err,
                    "{}build: fetching {url}",
                    if self.tty { "\r\x1b[K" } else { "" }
                );
            }
            BuildEvent::Fetch(FetchEvent::Failed { url, error }) => {
                let _ = writeln!(
                    err,
                    "{}build: {url}: {error}",
                    if self.tty { "\r\x1b[K" } else { "" }
                );
            }
            BuildEvent::Fetch(FetchEvent::Cached { .. }) => {}
        }
    }

    fn product_event(&self, ev: ProductEvent<'_>) {
        match ev {
            ProductEvent::Cpython(ev) => self.event(ev),
            ProductEvent::Toolchain(ev) if !self.quiet => {
                if let Some(line) = crate::toolchain_cmd::describe(&ev) {
                    self.clear();
                    eprintln!("build: {line}");
                }
            }
            ProductEvent::ComposeStart if !self.quiet => eprintln!("build: compose …"),
            ProductEvent::ComposeDone(took) if !self.quiet => {
                eprintln!("build: compose done ({:.1}s)", took.as_secs_f64())
            }
            ProductEvent::SnapshotStart { seed } if !self.quiet => {
                eprintln!("build: seeded startup snapshot (seed {seed}) …")
            }
            ProductEvent::SnapshotDone(took) if !self.quiet => {
                eprintln!("build: snapshot done ({:.1}s)", took.as_secs_f64())
            }
            _ => {}
        }
    }

    fn clear(&self) {
        if !self.quiet && self.tty {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }
}
