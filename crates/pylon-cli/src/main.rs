//! `pylon`: the command line over the library operations. Parses arguments, calls
//! one operation, renders its report (human text on stdout, progress on stderr, or
//! versioned JSON on stdout with `--json`) and maps it to an exit code:
//! 0 success, 1 a cap failed or drifted, 2 usage or manifest error.

mod build_cmd;
mod cap_cmd;
mod compiled;
mod diff_cmd;
mod progress;
mod regen_cmd;
mod render;
mod repro_cmd;
mod snapshot_cmd;
mod toolchain_cmd;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use pylon_caps::build::HostPaths;
use pylon_caps::sync::{sync_caps, SyncOptions};
use pylon_caps::toolchain::current_rustc;
use pylon_caps::verify::{verify_artifacts, VerifyOptions};
use pylon_manifest::{read_manifest, Manifest};

/// Exit code for usage and manifest errors (clap uses 2 for its own as well).
const EXIT_USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "pylon",
    version,
    about = "Build, pin and verify Pylon: CPython for WASI plus its capability components",
    after_help = "Exit status: 0 success, 1 a cap failed or drifted, 2 usage or manifest error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Clone, pin and build every cap, then compare its artifact with the manifest.
    #[command(
        after_help = "Examples:\n  pylon caps-sync\n  CAPS_ONLY=zlib,zstd pylon caps-sync\n  CAPS_SKIP_BUILD=1 pylon caps-sync --json\n\nExit status: 0 all OK/SKIP, 1 any FAIL/MISMATCH, 2 usage or manifest error."
    )]
    CapsSync(SyncArgs),
    /// Make a reproducible startup snapshot of build/pylon.wasm to ship: CPython
    /// initialised, hash secret and randomness from --seed.
    Snapshot(snapshot_cmd::SnapshotArgs),
    /// Read-only: recompute the sha256 of every artifact and of build/pylon.wasm.
    #[command(
        after_help = "Exit status: 0 every pinned cap matches and pylon_sha256 is OK or a placeholder,\n1 something is missing or drifted, 2 usage or manifest error."
    )]
    Verify(VerifyArgs),
    /// Cross-build CPython for wasm32-wasip2 from the profile's pinned inputs with the
    /// caps' shims (cached by content), then compose it with the caps:
    /// build/<profile>/{python.wasm,stdlib.zip,pylon.wasm}, build/pylon.wasm.
    Build(build_cmd::BuildArgs),
    /// Inspect or rewrite caps-manifest.toml.
    #[command(subcommand)]
    Manifest(ManifestCommand),
    /// List the caps (found by looking) or create a new one.
    #[command(subcommand)]
    Cap(cap_cmd::CapCommand),
    /// Explain why two wasm artifacts differ: where (nested component, section,
    /// function, data range) and why (toolchain, embedded path, timestamp, …).
    #[command(after_help = "Exit status: 0 identical, 1 different, 2 could not compare.")]
    Diff(diff_cmd::DiffArgs),
    /// Build caps under varied conditions (path, HOME, TZ, locale, umask, jobs, clock…)
    /// and compare the bytes with a baseline build.
    #[command(name = "repro-check")]
    ReproCheck(repro_cmd::ReproArgs),
    /// Fetch the profile's pinned WASI C toolchain (.deb files, by sha256) and unpack
    /// it into the cache, without dpkg or root; print where and its digest.
    #[command(
        after_help = "Sources, in order: $PYLON_TOOLCHAIN_DEBS (a directory of .deb files),\n$PYLON_DEBIAN_MIRROR (base URLs), the Debian hosts of /etc/apt.\n\nExit status: 0 unpacked and clang runs, 1 unpacked but clang does not run here,\n2 usage error or the toolchain could not be fetched or unpacked."
    )]
    Toolchain(toolchain_cmd::ToolchainArgs),
    /// Check what the host must still provide (cc, make, git, python3, glibc, Rust
    /// targets, smoke tools) and name the command that installs what is missing.
    #[command(
        after_help = "Exit status: 0 the main job can run, 1 something it needs is missing."
    )]
    Doctor(toolchain_cmd::DoctorArgs),
}

#[derive(Subcommand)]
enum ManifestCommand {
    /// Rebuild caps from fresh sources and rewrite their `rev`, `sha256` and `size`.
    #[command(
        after_help = "Examples:\n  pylon manifest regen            # every cap\n  pylon manifest regen zlib --dry-run\n  pylon manifest regen mycap --ref mycap=v1.2.0\n\nExit status: 0 pins written (or shown), 1 a cap failed to build, 2 usage or manifest error."
    )]
    Regen(RegenArgs),
    /// Validate the manifest and report every problem with file:line:column.
    Check(CommonArgs),
}

#[derive(Args, Clone)]
pub(crate) struct CommonArgs {
    /// The manifest to read.
    #[arg(long, env = "PYLON_MANIFEST", default_value = "caps-manifest.toml")]
    pub(crate) manifest: PathBuf,
    /// Where git caps are cloned (`~/git` by default, the spec's flat layout).
    #[arg(long, env = "PYLON_CAPS_DIR")]
    pub(crate) caps_dir: Option<PathBuf>,
    /// Print a versioned JSON report on stdout instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Args)]
struct SyncArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Only these caps, comma-separated.
    #[arg(long, env = "CAPS_ONLY", value_delimiter = ',')]
    only: Vec<String>,
    /// Check out and compare existing artifacts without building (1/true/yes).
    #[arg(long, env = "CAPS_SKIP_BUILD", value_parser = parse_flag, default_value = "0", num_args = 0..=1, default_missing_value = "1")]
    skip_build: bool,
    /// Caps processed at once (each cargo build uses every core already).
    #[arg(short, long, env = "PYLON_JOBS")]
    jobs: Option<usize>,
    /// Directory of reference artifacts (`<DIR>/<artifact file name>`) to diff a
    /// MISMATCH against; by default the last artifact that matched its pin.
    #[arg(long, value_name = "DIR")]
    reference: Option<PathBuf>,
}

#[derive(Args)]
struct VerifyArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// The composed artifact to check against `pylon_sha256` (default: build/pylon.wasm
    /// next to the manifest).
    #[arg(long)]
    pylon_wasm: Option<PathBuf>,
    /// Directory of reference artifacts (`<DIR>/<artifact file name>`, `<DIR>/pylon.wasm`)
    /// to diff a drifted artifact against.
    #[arg(long, value_name = "DIR")]
    reference: Option<PathBuf>,
    /// CPython profile whose build outputs (build/<profile>/) are checked against
    /// profiles/expected/<profile>.toml (default: the name in profiles/default).
    #[arg(long, env = "PYLON_PROFILE")]
    profile: Option<String>,
}

#[derive(Args)]
#[command(
    after_help = "When a pin changes (or a new in-tree cap is added) and the tree has CPython profiles,\nregen syncs the caps to the new pins and rebuilds the default profile's product, then writes\nprofiles/expected/<profile>.toml and caps-manifest.toml (with pylon_sha256) together;\nany failure writes nothing."
)]
pub(crate) struct RegenArgs {
    #[command(flatten)]
    pub(crate) common: CommonArgs,
    /// Caps to re-pin (all when none are given).
    pub(crate) caps: Vec<String>,
    /// Git ref to pin for a git cap, as NAME=REF (default: the remote's HEAD).
    #[arg(long = "ref", value_name = "NAME=REF")]
    pub(crate) refs: Vec<String>,
    /// Show the new pins without writing anything (and without building the product).
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Pin the caps only: do not rebuild the product. pylon_sha256 becomes the
    /// placeholder when what is on disk cannot make the product the new pins describe.
    #[arg(long)]
    pub(crate) no_build: bool,
    /// Cache root of the product build (default ${XDG_CACHE_HOME:-~/.cache}/pylon).
    #[arg(long, env = "PYLON_CACHE_DIR")]
    pub(crate) cache_dir: Option<PathBuf>,
    /// Parallel make jobs of the product build (default: CPU count).
    #[arg(short, long, env = "PYLON_JOBS")]
    pub(crate) jobs: Option<usize>,
}

/// Environment flags as the spec uses them: `CAPS_SKIP_BUILD=1`.
fn parse_flag(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "no" | "off" => Ok(false),
        "1" | "true" | "yes" | "on" => Ok(true),
        other => Err(format!("expected 1 or 0, got {other:?}")),
    }
}

/// A failure the user must fix before anything can run: exit 2.
#[derive(Debug)]
struct UsageError(anyhow::Error);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}
impl std::error::Error for UsageError {}

pub(crate) fn usage(e: impl Into<anyhow::Error>) -> anyhow::Error {
    anyhow::Error::new(UsageError(e.into()))
}

impl Cli {
    /// The command's JSON name, when `--json` was asked for.
    fn json_command(&self) -> Option<&'static str> {
        match &self.command {
            Command::CapsSync(a) if a.common.json => Some("caps-sync"),
            Command::Verify(a) if a.common.json => Some("verify"),
            Command::Manifest(ManifestCommand::Regen(a)) if a.common.json => Some("manifest-regen"),
            Command::Manifest(ManifestCommand::Check(a)) if a.json => Some("manifest-check"),
            Command::Cap(c @ cap_cmd::CapCommand::List(_)) if c.json() => Some("cap-list"),
            Command::Cap(c @ cap_cmd::CapCommand::New(_)) if c.json() => Some("cap-new"),
            Command::Toolchain(a) if a.json => Some("toolchain"),
            Command::Doctor(a) if a.json => Some("doctor"),
            _ => None,
        }
    }
}

/// Variables read by clap; `VAR=` (empty) means "unset", as for make and the shell.
const ENV_VARS: &[&str] = &[
    "PYLON_MANIFEST",
    "PYLON_CAPS_DIR",
    "PYLON_JOBS",
    "CAPS_ONLY",
    "CAPS_SKIP_BUILD",
];

fn main() -> ExitCode {
    for var in ENV_VARS {
        if std::env::var_os(var).is_some_and(|v| v.is_empty()) {
            // Single-threaded here: nothing else reads the environment yet.
            std::env::remove_var(var);
        }
    }
    let cli = Cli::parse();
    let json_command = cli.json_command();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            let code = if e.downcast_ref::<UsageError>().is_some() {
                EXIT_USAGE
            } else {
                1
            };
            // CI parsing stdout gets a document even when the command could not run.
            if let Some(command) = json_command {
                render::print_json(
                    command,
                    &serde_json::json!({"error": format!("{e:#}"), "exit_code": code}),
                    false,
                );
            }
            ExitCode::from(code)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::CapsSync(args) => caps_sync(args),
        Command::Verify(args) => verify(args),
        Command::Manifest(ManifestCommand::Regen(args)) => regen_cmd::run(args),
        Command::Diff(args) => diff_cmd::run(args),
        // snapshot_cmd renders its own errors and JSON, like diff_cmd.
        Command::Snapshot(args) => snapshot_cmd::run(args),
        Command::Cap(cmd) => cap_cmd::run(cmd),
        // repro_cmd renders its own errors and JSON, like build_cmd.
        Command::ReproCheck(args) => repro_cmd::run(args),
        // build_cmd renders its own errors (JSON included) and returns the exit code.
        Command::Build(args) => build_cmd::run(args),
        Command::Toolchain(args) => toolchain_cmd::run(args),
        Command::Doctor(args) => toolchain_cmd::doctor(args),
        Command::Manifest(ManifestCommand::Check(args)) => {
            let manifest = load(&args.manifest)?;
            if args.json {
                render::print_json(
                    "manifest-check",
                    &serde_json::json!({"caps": manifest.caps.len()}),
                    true,
                );
            } else {
                println!(
                    "{}: OK ({} caps)",
                    args.manifest.display(),
                    manifest.caps.len()
                );
            }
            Ok(0)
        }
    }
}

fn load(path: &Path) -> anyhow::Result<Manifest> {
    read_manifest(path).map_err(usage)
}

fn caps_dir(arg: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = arg {
        return Ok(dir);
    }
    let home = std::env::var_os("HOME")
        .context("HOME is not set; pass --caps-dir or set PYLON_CAPS_DIR")?;
    Ok(PathBuf::from(home).join("git"))
}

/// The directory holding the manifest (the repository root, with `profiles/`).
pub(crate) fn manifest_root(manifest: &Path) -> PathBuf {
    manifest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

fn caps_sync(args: SyncArgs) -> anyhow::Result<u8> {
    let manifest = load(&args.common.manifest)?;
    let only: Vec<String> = args
        .only
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if jobs == 0 {
        return Err(usage(anyhow::anyhow!("--jobs must be at least 1")));
    }
    if !args.skip_build {
        toolchain_cmd::provide(
            &manifest_root(&args.common.manifest),
            None,
            args.common.json,
        )?;
    }
    let opts = SyncOptions {
        reference_dir: args.reference,
        caps_dir: caps_dir(args.common.caps_dir)?,
        only: (!only.is_empty()).then_some(only),
        skip_build: args.skip_build,
        jobs,
        host: HostPaths::detect(),
        current_rustc: current_rustc(),
    };
    let progress = progress::Progress::new(args.common.json);
    let report = sync_caps(&manifest, &opts, &|ev| progress.event(ev)).map_err(usage)?;
    progress.finish();
    let diagnoses =
        pylon_product::drift::for_sync(&report, &manifest, &opts.caps_dir, &compiled::crates());
    if args.common.json {
        render::print_json(
            "caps-sync",
            &render::sync_json(&report, &diagnoses),
            report.success(),
        );
    } else {
        render::print_sync(&report, &diagnoses);
    }
    Ok(if report.success() { 0 } else { 1 })
}

fn verify(args: VerifyArgs) -> anyhow::Result<u8> {
    let manifest = load(&args.common.manifest)?;
    let opts = VerifyOptions {
        reference_dir: args.reference,
        caps_dir: caps_dir(args.common.caps_dir)?,
        pylon_wasm: args
            .pylon_wasm
            .unwrap_or_else(|| manifest.root().join("build/pylon.wasm")),
    };
    let report = verify_artifacts(&manifest, &opts);
    let cpython =
        pylon_cpython::verify::verify_profile_outputs(manifest.root(), args.profile.as_deref())
            .map_err(usage)?;
    let diagnoses = pylon_product::drift::for_verify(
        &report,
        &manifest,
        &opts.caps_dir,
        cpython.as_ref(),
        &compiled::crates(),
    );
    let success = report.success()
        && cpython
            .as_ref()
            .is_none_or(|c| c.status != pylon_cpython::verify::CpythonStatus::Mismatch);
    if args.common.json {
        let mut body = render::verify_json(&report, &diagnoses);
        body["cpython"] = serde_json::json!(cpython);
        render::print_json("verify", &body, success);
    } else {
        render::print_verify(&report, &diagnoses, cpython.as_ref());
    }
    Ok(if success { 0 } else { 1 })
}
