//! `repro-check`: build a cap, or the whole product, under varied conditions and
//! compare the bytes.
//!
//! For each selected cap: its source (the working directory's git-listed files for
//! an in-tree cap, a clone at the pinned rev for a git cap) is copied into a fresh
//! directory and built with [`build_cap`] — the code caps-sync runs — once as the
//! *baseline*, then again under [`Variation`]s, each build in a fresh directory with
//! a fresh cargo target directory. Artifacts are compared byte for byte and every
//! difference is explained with [`diff_wasm`](pylon_diagnose::diff_wasm).
//!
//! **Where the variations are applied.** `build_cap` pins the environment it gives
//! cargo (`SOURCE_DATE_EPOCH`, `TZ`, `LC_ALL`, remapped paths…), and that pinning is
//! exactly what is under test: a user on another machine differs in the environment,
//! umask and clock of the process that *calls* `build_cap`, not in what `build_cap`
//! then sets. So each build runs in a child process (the `pylon` binary, through
//! [`ReproOptions::child`]) whose own environment is varied: `HOME`, `TZ`, locale, extra
//! variables and `SOURCE_DATE_EPOCH` as environment variables, the umask through
//! `sh -c 'umask …; exec …'`, the clock by wrapping the child in `faketime`. The child
//! resolves `HostPaths` itself and runs `build_cap` with whatever it inherited, so
//! anything `build_cap` forgets to pin (a variable it does not override, the umask,
//! the wall clock) reaches cargo, build scripts and rustc as it would on that machine.
//! An env override passed *into* `build_cap` would instead test a code path no user runs.
//!
//! **The product** ([`ProductSpec`]) goes through the same machinery: the project's
//! git-listed files (plus the in-tree caps' pinned artifacts, which `pylon build`
//! composes) are copied into the fresh directory, and the child is `pylon build` run
//! there with a fresh cache root inside it — so the native build python, the
//! configured CPython tree and every object are rebuilt at the varied path — and the
//! outputs compared are python.wasm, stdlib.zip and pylon.wasm.
//!
//! Default mode puts every variation into one second build (two cold builds per cap);
//! when that build differs, a control build (no variation) and one build per variation
//! attribute the difference. `each` always builds once per variation.
//!
//! This crate is the orchestration (it builds, spawns processes and writes files, in its
//! scratch directory only); the explaining of a difference is `pylon-diagnose`'s pure
//! functions over bytes. It prints nothing: progress goes to a callback and the result
//! is a [`ReproReport`].

use std::collections::hash_map::RandomState;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use pylon_caps::build::{build_cap, BuildRequest, HostPaths, SOURCE_DATE_EPOCH};
use pylon_caps::digest::sha256_bytes;
use pylon_caps::git;
use pylon_manifest::{Cap, Manifest, Repo, Target};
use pylon_util::log::tail_lines;
use serde::{Deserialize, Serialize};

use pylon_diagnose::{diff_wasm, scan_artifact_with, Cause, CauseSummary, Finding, ScanOptions};

/// One condition that differs between the baseline and a varied build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variation {
    /// The source and target directories at another absolute path, at another depth.
    BuildPath,
    /// `HOME` a fresh directory elsewhere (`CARGO_HOME`/`RUSTUP_HOME` keep pointing at
    /// the installed toolchain, as they would for a user who set them).
    Home,
    /// `TZ` another time zone (one with a 45-minute offset).
    Tz,
    /// `LC_ALL` and `LANG` another locale.
    Locale,
    /// Another umask (077, or 002 when the caller's is already 077).
    Umask,
    /// `CARGO_BUILD_JOBS=1` and `PYLON_JOBS=1` (make) against the default of one job
    /// per CPU.
    Jobs,
    /// `SOURCE_DATE_EPOCH` set to another value in the caller's environment (unset in
    /// the baseline): build_cap must override it.
    SourceDateEpoch,
    /// Unrelated variables with random values (`FOO`, `PYLON_REPRO_NOISE`).
    ExtraEnv,
    /// Source files created in reverse order, so directory listings come back in
    /// another order on filesystems that list by creation (tmpfs); not available on
    /// those that list by name hash (ext4).
    ListingOrder,
    /// The wall clock moved 400 days ahead with `faketime`; not available without it.
    Clock,
}

impl Variation {
    pub const ALL: [Variation; 10] = [
        Variation::BuildPath,
        Variation::Home,
        Variation::Tz,
        Variation::Locale,
        Variation::Umask,
        Variation::Jobs,
        Variation::SourceDateEpoch,
        Variation::ExtraEnv,
        Variation::ListingOrder,
        Variation::Clock,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Variation::BuildPath => "build-path",
            Variation::Home => "home",
            Variation::Tz => "tz",
            Variation::Locale => "locale",
            Variation::Umask => "umask",
            Variation::Jobs => "jobs",
            Variation::SourceDateEpoch => "source-date-epoch",
            Variation::ExtraEnv => "extra-env",
            Variation::ListingOrder => "listing-order",
            Variation::Clock => "clock",
        }
    }

    /// One line for help texts and docs.
    pub fn describe(self) -> &'static str {
        match self {
            Variation::BuildPath => "source and target dir at another absolute path and depth",
            Variation::Home => "HOME a fresh directory elsewhere",
            Variation::Tz => "TZ another time zone",
            Variation::Locale => "LC_ALL/LANG another locale",
            Variation::Umask => "another umask",
            Variation::Jobs => "CARGO_BUILD_JOBS=1 and PYLON_JOBS=1 instead of one job per CPU",
            Variation::SourceDateEpoch => "SOURCE_DATE_EPOCH set in the caller's environment",
            Variation::ExtraEnv => "extra environment variables with random values",
            Variation::ListingOrder => "source files created in reverse order",
            Variation::Clock => "wall clock 400 days ahead (faketime)",
        }
    }

    pub fn parse(s: &str) -> Option<Variation> {
        Variation::ALL.into_iter().find(|v| v.name() == s)
    }

    /// A comma-separated list (`tz,umask`); `all` means every variation.
    pub fn parse_list(list: &str) -> Result<Vec<Variation>, ReproError> {
        let mut out = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if item == "all" {
                out.extend(Variation::ALL);
                continue;
            }
            let v = Variation::parse(item).ok_or_else(|| ReproError::UnknownVariation {
                name: item.to_string(),
                known: Variation::ALL.map(Variation::name).join(", "),
            })?;
            out.push(v);
        }
        out.sort();
        out.dedup();
        if out.is_empty() {
            return Err(ReproError::NoVariations);
        }
        Ok(out)
    }
}

/// Failures that stop the whole run before any cap is built (exit 2 in the CLI).
#[derive(Debug, thiserror::Error)]
pub enum ReproError {
    #[error("no cap named {name:?} in the manifest (caps: {known})")]
    UnknownCap { name: String, known: String },
    #[error("unknown variation {name:?} (variations: {known}, or all)")]
    UnknownVariation { name: String, known: String },
    #[error("no variation selected")]
    NoVariations,
    #[error("the manifest has no caps")]
    NoCaps,
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("build request {}: {message}", path.display())]
    Request { path: PathBuf, message: String },
    #[error("{0}")]
    Build(String),
}

/// What the varied builds are compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Against {
    /// A baseline built here first, under this machine's own conditions: two builds
    /// per subject at least. For diagnosing a drift, or a subject with no pin yet.
    Baseline,
    /// The digests the maintainer committed (the manifest's `sha256`, the profile's
    /// expected digests, `pylon_sha256`): no baseline build, one varied build per
    /// subject when it matches. The pin was made elsewhere (another machine, path and
    /// clock), so matching it is the stronger proof, at half the cost.
    Pins,
}

impl Against {
    pub fn name(self) -> &'static str {
        match self {
            Against::Baseline => "baseline",
            Against::Pins => "pins",
        }
    }

    pub fn parse(s: &str) -> Option<Against> {
        [Against::Baseline, Against::Pins]
            .into_iter()
            .find(|a| a.name() == s)
    }
}

/// How the child process that runs one build is started: `program args… REQUEST`.
#[derive(Debug, Clone)]
pub struct ChildCommand {
    pub program: PathBuf,
    pub args: Vec<OsString>,
}

/// The whole product as a subject: how the child `pylon build` is run and what it
/// produces. Assembled by the caller, which knows the profile and its pins.
#[derive(Debug, Clone)]
pub struct ProductSpec {
    /// The name in the report and progress, e.g. `pylon (cp313)`.
    pub name: String,
    /// The child's arguments after the program, e.g. `build --caps-dir DIR
    /// --profile cp313`; each build appends `--out-dir` and `--cache-dir`.
    pub build_args: Vec<OsString>,
    /// The out dir, relative to the copied project: `build/cp313`.
    pub out_dir: PathBuf,
    /// Files copied into every copy of the project besides the git-listed ones,
    /// relative to the manifest's directory (the in-tree caps' built artifacts).
    pub extra_files: Vec<PathBuf>,
    /// Variables set for every build, baseline included (e.g. the tarball's path).
    pub env: Vec<(String, OsString)>,
    /// Variables removed for every build (the caller's PYLON_CACHE_DIR, …), so the
    /// arguments above decide.
    pub env_remove: Vec<String>,
    /// The outputs compared, in the out dir, most fundamental first (the first that
    /// differs is the one diagnosed).
    pub outputs: Vec<ProductOutput>,
}

/// One file the product build publishes, and its pin.
#[derive(Debug, Clone)]
pub struct ProductOutput {
    pub file: String,
    pub pinned: Option<String>,
    /// A local copy that may hold the pinned bytes (`build/<profile>/<file>`): used to
    /// diagnose a difference from the pin when its digest is the pin.
    pub reference: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct ReproOptions {
    /// Whether to check caps at all (false for `--product` alone).
    pub caps: bool,
    /// What the varied builds are compared with.
    pub against: Against,
    /// With [`Against::Pins`]: after a cap's build differs from its pin, build each
    /// variation alone and a control build to say which one is to blame.
    pub attribute_caps: bool,
    /// The same for the product (minutes per build: off unless asked for).
    pub attribute_product: bool,
    /// Where git caps are checked out (for the pinned artifacts caps-sync published,
    /// the references of [`Against::Pins`]).
    pub caps_dir: Option<PathBuf>,
    /// Caps to check (all when `None`), in manifest order.
    pub only: Option<Vec<String>>,
    /// The product, checked after the caps.
    pub product: Option<ProductSpec>,
    pub variations: Vec<Variation>,
    /// One build per variation, even when the combined build is identical.
    pub each: bool,
    /// Keep the scratch directory (sources, target dirs, artifacts, logs).
    pub keep: bool,
    /// Parent of the scratch directory (the system temp dir when `None`).
    pub scratch_parent: Option<PathBuf>,
    /// Runs one build request; see [`run_child_build`].
    pub child: ChildCommand,
    /// A build still running after this long is killed and reported as failed.
    pub build_timeout: Duration,
}

/// The outcome of comparing one build with the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Identical,
    Differs,
    /// The variation could not be applied on this machine (reason in `detail`).
    NotAvailable,
    /// The varied build failed.
    Failed,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Identical => "identical",
            Verdict::Differs => "differs",
            Verdict::NotAvailable => "not available",
            Verdict::Failed => "build failed",
        }
    }
}

/// What a row of the table is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RowKind {
    /// Every available variation at once.
    Combined { variations: Vec<Variation> },
    /// One variation; `alone` false when judged from an identical combined build.
    Variation { variation: Variation, alone: bool },
    /// The baseline's conditions again: a difference here is non-determinism, not a
    /// variation's effect.
    Control,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    #[serde(flatten)]
    pub kind: RowKind,
    /// `home`, `combined`, `control`.
    pub label: String,
    pub verdict: Verdict,
    /// What was varied (`TZ=Pacific/Chatham (baseline: unset)`), or why it was not
    /// available, or the build error.
    pub detail: String,
    /// One line per cause (diff_wasm's summaries), for `differs`.
    pub causes: Vec<CauseSummary>,
    /// The first root cause's summary line, for `differs`.
    pub diagnosis: Option<String>,
    pub sha256: Option<String>,
    pub size: Option<u64>,
    /// The build log, for a failed build.
    pub log: Option<PathBuf>,
    pub log_tail: Vec<String>,
    /// Every output compared (one for a cap; python.wasm, stdlib.zip, pylon.wasm for
    /// the product).
    pub outputs: Vec<OutputDigest>,
}

/// One output of a build, and whether it equals the baseline's (or, in the
/// baseline, the pin).
#[derive(Debug, Clone, Serialize)]
pub struct OutputDigest {
    pub file: String,
    pub sha256: String,
    pub size: u64,
    /// Varied builds: equal to the baseline's. Baseline: equal to the pin (`None`
    /// when nothing pins it).
    pub matches: Option<bool>,
}

impl Row {
    fn new(kind: RowKind, label: String, verdict: Verdict, detail: String) -> Row {
        Row {
            kind,
            label,
            verdict,
            detail,
            causes: Vec::new(),
            diagnosis: None,
            sha256: None,
            size: None,
            log: None,
            log_tail: Vec::new(),
            outputs: Vec::new(),
        }
    }

    /// The variation this row judges, if any.
    pub fn variation(&self) -> Option<Variation> {
        match self.kind {
            RowKind::Variation { variation, .. } => Some(variation),
            _ => None,
        }
    }
}

/// Where the cap's source came from.
#[derive(Debug, Clone, Serialize)]
pub struct SourceInfo {
    /// `caps/zlib` or the git URL.
    pub repo: String,
    /// The tree id of the in-tree directory's content, or the checked-out commit.
    pub rev: Option<String>,
    /// Whether `rev` equals the manifest's pin (`None` for a placeholder pin).
    pub matches_pin: Option<bool>,
    pub files: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct BaselineInfo {
    /// The last output's (the cap's artifact; pylon.wasm for the product).
    pub sha256: String,
    pub size: u64,
    /// Whether every pinned output equals its pin (`None` when nothing is pinned).
    pub matches_pin: Option<bool>,
    pub outputs: Vec<OutputDigest>,
}

/// The pinned digests a [`Against::Pins`] check compares with, and the local copies
/// of the pinned bytes found for a diagnosis.
#[derive(Debug, Clone, Serialize)]
pub struct PinsInfo {
    pub outputs: Vec<PinnedOutput>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PinnedOutput {
    pub file: String,
    pub sha256: String,
    /// A file on this machine whose digest is the pin (the artifact caps-sync
    /// published, the kept reference, `build/<profile>/…`), diffed against a build
    /// that differs; `None` when there is none (then the build is scanned alone, or
    /// diffed against a build of this run that matched).
    pub reference: Option<PathBuf>,
}

/// A failure before anything could be compared (source or baseline build).
#[derive(Debug, Clone, Serialize)]
pub struct CapFailure {
    /// `source` or `baseline`.
    pub step: String,
    pub message: String,
    pub log: Option<PathBuf>,
    pub log_tail: Vec<String>,
}

/// What a [`SubjectRepro`] checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SubjectKind {
    Cap,
    Product,
}

/// The check of one cap, or of the product.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectRepro {
    pub name: String,
    pub kind: SubjectKind,
    pub source: Option<SourceInfo>,
    /// The baseline build ([`Against::Baseline`]).
    pub baseline: Option<BaselineInfo>,
    /// The pins compared with ([`Against::Pins`]).
    pub pins: Option<PinsInfo>,
    pub rows: Vec<Row>,
    pub error: Option<CapFailure>,
    /// Builds run for this cap, baseline included.
    pub builds: usize,
    #[serde(serialize_with = "seconds")]
    pub elapsed: Duration,
}

impl SubjectRepro {
    /// Every compared build identical and nothing failed.
    pub fn success(&self) -> bool {
        self.error.is_none()
            && self
                .rows
                .iter()
                .all(|r| matches!(r.verdict, Verdict::Identical | Verdict::NotAvailable))
    }
}

/// The values one variation takes in this run, fixed before the first build.
#[derive(Debug, Clone, Serialize)]
pub struct VariationPlan {
    pub variation: Variation,
    pub available: bool,
    /// What changes, or why it is not available.
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReproReport {
    /// `combined` or `each`.
    pub mode: &'static str,
    /// `baseline` or `pins`.
    pub against: Against,
    pub variations: Vec<VariationPlan>,
    pub caps: Vec<SubjectRepro>,
    pub product: Option<SubjectRepro>,
    /// The scratch directory, when kept.
    pub kept: Option<PathBuf>,
    #[serde(serialize_with = "seconds")]
    pub elapsed: Duration,
}

impl ReproReport {
    pub fn success(&self) -> bool {
        self.caps
            .iter()
            .chain(self.product.as_ref())
            .all(SubjectRepro::success)
    }
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

/// Progress, for the CLI's display.
#[derive(Debug, Clone)]
pub enum ReproEvent<'a> {
    /// Getting the source (copying the in-tree directory or cloning).
    Source { cap: &'a str },
    /// A build starts; `label` is `baseline`, `combined`, `control` or a variation.
    Build { cap: &'a str, label: &'a str },
    /// A build and its comparison finished.
    Built {
        cap: &'a str,
        label: &'a str,
        verdict: Option<Verdict>,
        elapsed: Duration,
    },
}

/// Runs the check over the selected caps, one build at a time, and the product's
/// builds beside them: the varied builds run with one job (the `jobs` variation) and a
/// cap's final crate compiles on one core anyway, so the two sequences share the
/// machine's cores instead of taking turns.
pub fn repro_check(
    manifest: &Manifest,
    opts: &ReproOptions,
    on_event: &(dyn Fn(ReproEvent<'_>) + Sync),
) -> Result<ReproReport, ReproError> {
    let start = Instant::now();
    let caps = if opts.caps {
        select(manifest, opts.only.as_deref())?
    } else {
        Vec::new()
    };
    if opts.variations.is_empty() {
        return Err(ReproError::NoVariations);
    }
    let mut builder = tempfile::Builder::new();
    builder.prefix("pylon-repro-");
    let scratch = match &opts.scratch_parent {
        Some(dir) => builder.tempdir_in(dir),
        None => builder.tempdir(),
    }
    .map_err(|source| ReproError::Io {
        what: "creating the scratch directory in",
        path: opts
            .scratch_parent
            .clone()
            .unwrap_or_else(std::env::temp_dir),
        source,
    })?;
    let root = fs::canonicalize(scratch.path()).unwrap_or_else(|_| scratch.path().to_path_buf());
    let env = Environment::plan(&root, &opts.variations)?;

    let check = |subject: Subject<'_>| {
        let subject_start = Instant::now();
        let mut result = SubjectRepro {
            name: subject.name().to_string(),
            kind: subject.kind(),
            source: None,
            baseline: None,
            pins: None,
            rows: Vec::new(),
            error: None,
            builds: 0,
            elapsed: Duration::ZERO,
        };
        check_subject(manifest, subject, opts, &env, &root, on_event, &mut result);
        result.elapsed = subject_start.elapsed();
        result
    };
    let (out, product) = std::thread::scope(|s| {
        let product = opts
            .product
            .as_ref()
            .map(|p| s.spawn(|| check(Subject::Product(p))));
        let out: Vec<SubjectRepro> = caps.into_iter().map(|c| check(Subject::Cap(c))).collect();
        (out, product.map(|h| h.join()))
    });
    let product = match product {
        Some(Ok(p)) => Some(p),
        Some(Err(panic)) => std::panic::resume_unwind(panic),
        None => None,
    };
    let kept = if opts.keep {
        Some(scratch.keep())
    } else {
        drop(scratch);
        None
    };
    Ok(ReproReport {
        mode: if opts.each { "each" } else { "combined" },
        against: opts.against,
        variations: env.plans.clone(),
        caps: out,
        product,
        kept,
        elapsed: start.elapsed(),
    })
}

fn select<'m>(manifest: &'m Manifest, only: Option<&[String]>) -> Result<Vec<&'m Cap>, ReproError> {
    if manifest.caps.is_empty() {
        return Err(ReproError::NoCaps);
    }
    // The same selection as caps-sync (CAPS_ONLY), with this command's error.
    pylon_caps::sync::select_caps(manifest, only).map_err(|e| match e {
        pylon_caps::sync::SyncError::UnknownCap { name, known } => {
            ReproError::UnknownCap { name, known }
        }
    })
}

// ---------------------------------------------------------------------------
// The caller environments.

/// Changes to this process's environment for one child build.
#[derive(Debug, Clone, Default)]
struct ChildEnv {
    set: Vec<(String, OsString)>,
    remove: Vec<String>,
    umask: Option<u32>,
    faketime: Option<PathBuf>,
    /// The rustc cargo runs (the build ignores a `RUSTC` in its environment).
    rustc: Option<PathBuf>,
}

/// The baseline's environment and each variation's change, decided once per run.
struct Environment {
    baseline: ChildEnv,
    plans: Vec<VariationPlan>,
    /// Per available variation: how to apply it.
    changes: Vec<(Variation, ChildEnv)>,
}

/// How far faketime moves the clock.
const FAKETIME_OFFSET: &str = "+400d";
/// The caller's SOURCE_DATE_EPOCH in the variation (2023-11-14), anything but the pinned one.
const CALLER_SOURCE_DATE_EPOCH: &str = "1700000000";

impl Environment {
    fn plan(scratch: &Path, selected: &[Variation]) -> Result<Environment, ReproError> {
        let host = HostPaths::detect();
        let (baseline, base_umask) = baseline_env(&host);
        let mut plans = Vec::new();
        let mut changes = Vec::new();
        for &v in selected {
            match plan_variation(v, scratch, base_umask)? {
                Planned::Available { change, detail } => {
                    plans.push(VariationPlan {
                        variation: v,
                        available: true,
                        detail,
                    });
                    changes.push((v, change));
                }
                Planned::Unavailable(reason) => plans.push(VariationPlan {
                    variation: v,
                    available: false,
                    detail: reason,
                }),
            }
        }
        Ok(Environment {
            baseline,
            plans,
            changes,
        })
    }

    fn available(&self) -> Vec<Variation> {
        self.changes.iter().map(|(v, _)| *v).collect()
    }

    fn detail(&self, v: Variation) -> String {
        self.plans
            .iter()
            .find(|p| p.variation == v)
            .map(|p| p.detail.clone())
            .unwrap_or_default()
    }

    /// The baseline with the given variations applied.
    fn with(&self, variations: &[Variation]) -> ChildEnv {
        let mut env = self.baseline.clone();
        for (v, change) in &self.changes {
            if !variations.contains(v) {
                continue;
            }
            for (k, val) in &change.set {
                env.remove.retain(|r| r != k);
                env.set.retain(|(s, _)| s != k);
                env.set.push((k.clone(), val.clone()));
            }
            if change.umask.is_some() {
                env.umask = change.umask;
            }
            if change.faketime.is_some() {
                env.faketime = change.faketime.clone();
            }
            if change.rustc.is_some() {
                env.rustc = change.rustc.clone();
            }
        }
        env
    }
}

/// The baseline is this process's environment (what caps-sync would run with here),
/// with the variables the variations set made definite. Returned with the umask the
/// umask variation moves away from.
fn baseline_env(host: &HostPaths) -> (ChildEnv, u32) {
    let mut baseline = ChildEnv::default();
    // Toolchain homes stay put in every build: they are where cargo and rustup
    // are installed, whatever HOME says.
    if let Some(p) = &host.cargo_home {
        baseline.set.push(("CARGO_HOME".into(), p.clone().into()));
    }
    if let Some(p) = &host.rustup_home {
        baseline.set.push(("RUSTUP_HOME".into(), p.clone().into()));
    }
    for k in [
        "SOURCE_DATE_EPOCH",
        "CARGO_BUILD_JOBS",
        "PYLON_JOBS",
        "FOO",
        "PYLON_REPRO_NOISE",
    ] {
        baseline.remove.push(k.into());
    }
    let current_umask = read_umask();
    if current_umask.is_none() {
        baseline.umask = Some(0o022);
    }
    (baseline, current_umask.unwrap_or(0o022))
}

/// One variation as this run applies it, or why this machine cannot.
enum Planned {
    Available { change: ChildEnv, detail: String },
    Unavailable(String),
}

impl Planned {
    /// Available, changing only environment variables.
    fn setting(vars: &[(&str, &str)], detail: String) -> Planned {
        Planned::Available {
            change: ChildEnv {
                set: vars
                    .iter()
                    .map(|&(k, v)| (k.to_string(), OsString::from(v)))
                    .collect(),
                ..ChildEnv::default()
            },
            detail,
        }
    }
}

/// Fixes one variation's values for this run; the home and clock variations create
/// what they need in the scratch directory.
fn plan_variation(v: Variation, scratch: &Path, base_umask: u32) -> Result<Planned, ReproError> {
    let var = |k: &str| std::env::var_os(k);
    Ok(match v {
        Variation::BuildPath => Planned::Available {
            change: ChildEnv::default(),
            detail: "another absolute path, 4 directories deeper (elsewhere/a/much/deeper/\
                     build-directory/<cap>-checkout instead of b/<cap>)"
                .to_string(),
        },
        Variation::Home => {
            let home = scratch.join("home-elsewhere");
            fs::create_dir_all(&home).map_err(|source| ReproError::Io {
                what: "creating",
                path: home.clone(),
                source,
            })?;
            let detail = format!(
                "HOME={} (baseline: {})",
                home.display(),
                shown_value(var("HOME"))
            );
            Planned::Available {
                change: ChildEnv {
                    set: vec![("HOME".into(), home.into())],
                    ..ChildEnv::default()
                },
                detail,
            }
        }
        Variation::Tz => {
            let current = var("TZ");
            let tz = pick(&["Pacific/Chatham", "America/St_Johns"], current.as_deref());
            let detail = format!("TZ={tz} (baseline: {})", shown_value(current));
            Planned::setting(&[("TZ", tz)], detail)
        }
        Variation::Locale => {
            let current = var("LC_ALL").or_else(|| var("LANG"));
            let loc = pick(&["C.UTF-8", "POSIX"], current.as_deref());
            let detail = format!("LC_ALL=LANG={loc} (baseline: {})", shown_value(current));
            Planned::setting(&[("LC_ALL", loc), ("LANG", loc)], detail)
        }
        Variation::Umask => {
            let mask = if base_umask == 0o077 { 0o002 } else { 0o077 };
            Planned::Available {
                change: ChildEnv {
                    umask: Some(mask),
                    ..ChildEnv::default()
                },
                detail: format!("umask {mask:03o} (baseline: {base_umask:03o})"),
            }
        }
        Variation::Jobs => {
            let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
            if cpus < 2 {
                Planned::Unavailable(
                    "one CPU: cargo's default is already one job, nothing to vary".to_string(),
                )
            } else {
                Planned::setting(
                    &[("CARGO_BUILD_JOBS", "1"), ("PYLON_JOBS", "1")],
                    format!("CARGO_BUILD_JOBS=1 PYLON_JOBS=1 (baseline: unset, {cpus} jobs)"),
                )
            }
        }
        Variation::SourceDateEpoch => Planned::setting(
            &[("SOURCE_DATE_EPOCH", CALLER_SOURCE_DATE_EPOCH)],
            format!(
                "SOURCE_DATE_EPOCH={CALLER_SOURCE_DATE_EPOCH} in the caller's \
                 environment (baseline: unset; build_cap pins {SOURCE_DATE_EPOCH})"
            ),
        ),
        Variation::ExtraEnv => {
            let (a, b) = (random_hex(), random_hex());
            let detail = format!("FOO={a} PYLON_REPRO_NOISE={b} (baseline: unset)");
            Planned::setting(
                &[("FOO", a.as_str()), ("PYLON_REPRO_NOISE", b.as_str())],
                detail,
            )
        }
        Variation::ListingOrder => {
            if listing_follows_creation(scratch)? {
                Planned::Available {
                    change: ChildEnv::default(),
                    detail: "source files created in reverse order (baseline: sorted)".to_string(),
                }
            } else {
                Planned::Unavailable(format!(
                    "the filesystem of {} lists a directory in the same order whatever \
                     the creation order (ext4 lists by name hash); point TMPDIR at a \
                     tmpfs to shuffle",
                    scratch.display()
                ))
            }
        }
        Variation::Clock => plan_clock(scratch)?,
    })
}

/// The clock variation: `faketime` around the child, with rustc run through a wrapper
/// that takes libfaketime out again ([`rustc_without_faketime`]).
fn plan_clock(scratch: &Path) -> Result<Planned, ReproError> {
    let Some(faketime) = find_on_path("faketime") else {
        return Ok(Planned::Unavailable(
            "faketime is not installed (Debian package `faketime`)".to_string(),
        ));
    };
    let wrapper = rustc_without_faketime(scratch)?;
    let detail = format!(
        "clock moved {FAKETIME_OFFSET} with {} -f {FAKETIME_OFFSET} \
         (cargo, build scripts, componentize; rustc itself runs with \
         the real clock through RUSTC={})",
        faketime.display(),
        wrapper.display()
    );
    Ok(Planned::Available {
        change: ChildEnv {
            faketime: Some(faketime),
            rustc: Some(wrapper),
            ..ChildEnv::default()
        },
        detail,
    })
}

/// A variable's value as the report shows it.
fn shown_value(v: Option<OsString>) -> String {
    v.map_or_else(|| "unset".to_string(), |v| v.to_string_lossy().into_owned())
}

/// The first candidate that differs from the current value.
fn pick<'a>(candidates: &[&'a str], current: Option<&OsStr>) -> &'a str {
    candidates
        .iter()
        .find(|c| current != Some(OsStr::new(c)))
        .copied()
        .unwrap_or(candidates[0])
}

/// This process's umask, from /proc (std has no getter; setting it to read it would
/// race with other threads).
fn read_umask() -> Option<u32> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Umask:"))?;
    u32::from_str_radix(line.trim_start_matches("Umask:").trim(), 8).ok()
}

fn random_hex() -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| {
            use std::os::unix::fs::PermissionsExt;
            fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// A `RUSTC` that takes libfaketime out of rustc's environment. rustc's jemalloc
/// deadlocks (or overflows its stack) when libfaketime is preloaded
/// (wolfcw/libfaketime#130 and #402, rust-lang/rust#60461), so under `faketime` the
/// moved clock reaches cargo, build scripts (where wall-clock leaks usually come from)
/// and the componentize step, but not rustc or the proc macros it runs.
fn rustc_without_faketime(scratch: &Path) -> Result<PathBuf, ReproError> {
    use std::os::unix::fs::PermissionsExt;
    // The compiler every cap build runs (a caller's RUSTC never reaches a build).
    let real = "rustc";
    let path = scratch.join("rustc-real-clock");
    let script = format!(
        "#!/bin/sh\n# rustc deadlocks under libfaketime: run it with the real clock.\n\
         unset LD_PRELOAD FAKETIME\nexec {} \"$@\"\n",
        shell_quote(real)
    );
    let io_err = |source| ReproError::Io {
        what: "writing",
        path: path.clone(),
        source,
    };
    fs::write(&path, script).map_err(io_err)?;
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).map_err(io_err)?;
    Ok(path)
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Whether creating the same names in another order changes how this filesystem
/// lists them (tmpfs: yes, newest first; ext4: no, hash order).
fn listing_follows_creation(scratch: &Path) -> Result<bool, ReproError> {
    let names = ["a", "b", "c", "d", "e", "f", "g", "h"];
    let probe = scratch.join("listing-probe");
    let mut orders = Vec::new();
    for (i, reversed) in [false, true].into_iter().enumerate() {
        let dir = probe.join(i.to_string());
        let io_err = |source| ReproError::Io {
            what: "probing directory order in",
            path: dir.clone(),
            source,
        };
        fs::create_dir_all(&dir).map_err(io_err)?;
        let mut list: Vec<&str> = names.to_vec();
        if reversed {
            list.reverse();
        }
        for n in list {
            fs::write(dir.join(n), b"").map_err(io_err)?;
        }
        orders.push(listing(&dir).map_err(io_err)?);
    }
    let _ = fs::remove_dir_all(&probe);
    Ok(orders[0] != orders[1])
}

fn listing(dir: &Path) -> io::Result<Vec<OsString>> {
    fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name()))
        .collect()
}

// ---------------------------------------------------------------------------
// One subject: a cap or the product.

/// What one check builds.
#[derive(Clone, Copy)]
enum Subject<'a> {
    Cap(&'a Cap),
    Product(&'a ProductSpec),
}

impl Subject<'_> {
    fn name(&self) -> &str {
        match self {
            Subject::Cap(cap) => &cap.name,
            Subject::Product(p) => &p.name,
        }
    }

    fn kind(&self) -> SubjectKind {
        match self {
            Subject::Cap(_) => SubjectKind::Cap,
            Subject::Product(_) => SubjectKind::Product,
        }
    }

    /// The scratch subdirectory's name (a cap name, or `product`).
    fn dir_name(&self) -> &str {
        match self {
            Subject::Cap(cap) => &cap.name,
            Subject::Product(_) => "product",
        }
    }
}

struct SourceFile {
    rel: PathBuf,
    bytes: Vec<u8>,
    mode: u32,
}

/// One output file of a successful build.
struct Output {
    file: String,
    bytes: Vec<u8>,
    sha256: String,
    size: u64,
}

/// The outputs of one successful build; the last is the one the report's `sha256`
/// names (the cap's artifact, pylon.wasm).
struct Built {
    outputs: Vec<Output>,
}

impl Built {
    fn primary(&self) -> Option<&Output> {
        self.outputs.last()
    }
}

struct BuildFailed {
    message: String,
    log: Option<PathBuf>,
    log_tail: Vec<String>,
}

struct SubjectContext<'a> {
    subject: Subject<'a>,
    files: Vec<SourceFile>,
    dir: PathBuf,
    env: &'a Environment,
    opts: &'a ReproOptions,
    on_event: &'a dyn Fn(ReproEvent<'_>),
}

fn check_subject(
    manifest: &Manifest,
    subject: Subject<'_>,
    opts: &ReproOptions,
    env: &Environment,
    scratch: &Path,
    on_event: &dyn Fn(ReproEvent<'_>),
    result: &mut SubjectRepro,
) {
    on_event(ReproEvent::Source {
        cap: subject.name(),
    });
    let dir = scratch.join(subject.dir_name());
    let source = match subject {
        Subject::Cap(cap) => cap_source(manifest, cap, &dir),
        Subject::Product(spec) => product_source(manifest, spec, &dir),
    };
    let (files, info) = match source {
        Ok(s) => s,
        Err(message) => {
            result.error = Some(CapFailure::new("source", message));
            return;
        }
    };
    result.source = Some(info);
    let ctx = SubjectContext {
        subject,
        files,
        dir,
        env,
        opts,
        on_event,
    };
    let Some(mut expected) = ctx.expected(manifest, result) else {
        return;
    };
    let rows = ctx.compare_variations(&expected, result);
    result.rows = ctx.diagnosed_rows(rows, &mut expected);
}

impl CapFailure {
    fn new(step: &str, message: String) -> CapFailure {
        CapFailure {
            step: step.into(),
            message,
            log: None,
            log_tail: Vec::new(),
        }
    }
}

/// What the builds of one subject are compared with: per output, the digest it must
/// have and, when known, those bytes (for a diagnosis of a build that differs).
struct Expected {
    outputs: Vec<ExpectedOutput>,
}

struct ExpectedOutput {
    file: String,
    sha256: String,
    /// The expected bytes, once known: the baseline's, a local copy of the pinned
    /// file, or a build of this run that matched the pin.
    bytes: Option<Vec<u8>>,
    /// Where the pinned bytes were found on this machine ([`Against::Pins`]).
    reference: Option<PathBuf>,
}

impl Expected {
    fn from_build(built: Built) -> Expected {
        Expected {
            outputs: built
                .outputs
                .into_iter()
                .map(|o| ExpectedOutput {
                    file: o.file,
                    sha256: o.sha256,
                    bytes: Some(o.bytes),
                    reference: None,
                })
                .collect(),
        }
    }

    /// One pinned output; the first candidate file whose digest is the pin is its
    /// reference.
    fn pinned(file: String, sha256: String, candidates: &[PathBuf]) -> ExpectedOutput {
        let found = candidates.iter().find_map(|p| {
            let bytes = fs::read(p).ok()?;
            (sha256_bytes(&bytes).sha256.0 == sha256).then(|| (p.clone(), bytes))
        });
        let (reference, bytes) = found.map_or((None, None), |(p, b)| (Some(p), Some(b)));
        ExpectedOutput {
            file,
            sha256,
            bytes,
            reference,
        }
    }

    fn get(&self, file: &str) -> Option<&ExpectedOutput> {
        self.outputs.iter().find(|o| o.file == file)
    }

    /// Takes a built output's bytes as the expected ones where they match the digest
    /// and no bytes are known yet.
    fn learn_references(&mut self, built: &Built) {
        for out in &built.outputs {
            if let Some(e) = self
                .outputs
                .iter_mut()
                .find(|e| e.file == out.file && e.bytes.is_none() && e.sha256 == out.sha256)
            {
                e.bytes = Some(out.bytes.clone());
            }
        }
    }

    fn info(&self) -> PinsInfo {
        PinsInfo {
            outputs: self
                .outputs
                .iter()
                .map(|o| PinnedOutput {
                    file: o.file.clone(),
                    sha256: o.sha256.clone(),
                    reference: o.reference.clone(),
                })
                .collect(),
        }
    }
}

impl SubjectContext<'_> {
    fn name(&self) -> &str {
        self.subject.name()
    }

    /// What every build is compared with: a baseline built now, or the pins. `None`
    /// when there is nothing to compare with (the failure is in `result`).
    fn expected(&self, manifest: &Manifest, result: &mut SubjectRepro) -> Option<Expected> {
        match self.opts.against {
            Against::Baseline => {
                let built = self.build("baseline", &[]);
                result.builds += 1;
                match built {
                    Ok(b) => {
                        result.baseline = Some(self.baseline_info(&b));
                        Some(Expected::from_build(b))
                    }
                    Err(f) => {
                        result.error = Some(CapFailure {
                            step: "baseline".into(),
                            message: f.message,
                            log: f.log,
                            log_tail: f.log_tail,
                        });
                        None
                    }
                }
            }
            Against::Pins => match self.pinned(manifest) {
                Ok(e) => {
                    result.pins = Some(e.info());
                    Some(e)
                }
                Err(message) => {
                    result.error = Some(CapFailure::new("pins", message));
                    None
                }
            },
        }
    }

    /// The varied builds, compared with `expected`: every available variation in one
    /// build, then one build per variation (with `each`, or to attribute a combined
    /// build that differs). Rows in build order, each with its build for the diagnoses.
    fn compare_variations(
        &self,
        expected: &Expected,
        result: &mut SubjectRepro,
    ) -> Vec<(Row, Option<Built>)> {
        let available = self.env.available();
        let mut rows: Vec<(Row, Option<Built>)> = Vec::new();
        let mut alone = self.opts.each;
        if !self.opts.each && !available.is_empty() {
            alone = self.compare_combined(expected, &available, &mut rows, result);
        }
        if alone {
            self.compare_each_alone(expected, &available, &mut rows, result);
        }
        rows
    }

    /// One build with every available variation; when it is identical, so is each
    /// variation. Returns whether the variations are to be built one by one.
    fn compare_combined(
        &self,
        expected: &Expected,
        available: &[Variation],
        rows: &mut Vec<(Row, Option<Built>)>,
        result: &mut SubjectRepro,
    ) -> bool {
        let names = available
            .iter()
            .map(|v| v.name())
            .collect::<Vec<_>>()
            .join(", ");
        let (combined, built) = self.compare(
            expected,
            RowKind::Combined {
                variations: available.to_vec(),
            },
            "combined",
            available,
            names,
        );
        result.builds += 1;
        let identical = combined.verdict == Verdict::Identical;
        let attribute = match self.subject {
            Subject::Cap(_) => self.opts.attribute_caps,
            Subject::Product(_) => self.opts.attribute_product,
        };
        let alone = !identical && (self.opts.against == Against::Baseline || attribute);
        if identical {
            for &v in available {
                let mut row = Row::new(
                    RowKind::Variation {
                        variation: v,
                        alone: false,
                    },
                    v.name().to_string(),
                    Verdict::Identical,
                    self.env.detail(v),
                );
                row.sha256 = combined.sha256.clone();
                row.size = combined.size;
                row.outputs = combined.outputs.clone();
                rows.push((row, None));
            }
        }
        rows.insert(0, (combined, built));
        alone
    }

    /// One build per available variation, then a control build if any row differs.
    fn compare_each_alone(
        &self,
        expected: &Expected,
        available: &[Variation],
        rows: &mut Vec<(Row, Option<Built>)>,
        result: &mut SubjectRepro,
    ) {
        for &v in available {
            rows.push(self.compare(
                expected,
                RowKind::Variation {
                    variation: v,
                    alone: true,
                },
                v.name(),
                &[v],
                self.env.detail(v),
            ));
            result.builds += 1;
        }
        // Something differs: was it the variation, or does the build differ anyway?
        if rows.iter().any(|(r, _)| r.verdict == Verdict::Differs) {
            let detail = match self.opts.against {
                Against::Baseline => "the baseline's conditions again",
                Against::Pins => "this machine's own conditions, no variation",
            };
            rows.push(self.compare(
                expected,
                RowKind::Control,
                "control",
                &[],
                detail.to_string(),
            ));
            result.builds += 1;
        }
    }

    /// The table: the rows of the builds, those that differ explained, plus a row per
    /// variation not available here, in table order.
    fn diagnosed_rows(&self, rows: Vec<(Row, Option<Built>)>, expected: &mut Expected) -> Vec<Row> {
        // Diagnoses last: a build of this run that matched a pin is a reference for the
        // ones that did not, when this machine held no copy of the pinned bytes.
        for (_, built) in &rows {
            if let Some(b) = built {
                expected.learn_references(b);
            }
        }
        let mut rows: Vec<Row> = rows
            .into_iter()
            .map(|(mut row, built)| {
                if let (Verdict::Differs, Some(b)) = (row.verdict, &built) {
                    self.explain(&mut row, expected, b);
                }
                row
            })
            .collect();
        for plan in self.env.plans.iter().filter(|p| !p.available) {
            rows.push(Row::new(
                RowKind::Variation {
                    variation: plan.variation,
                    alone: true,
                },
                plan.variation.name().to_string(),
                Verdict::NotAvailable,
                plan.detail.clone(),
            ));
        }
        // Table order: combined, the variations in their canonical order, control.
        rows.sort_by_key(|r| match r.kind {
            RowKind::Combined { .. } => (0, None),
            RowKind::Variation { variation, .. } => (1, Some(variation)),
            RowKind::Control => (2, None),
        });
        rows
    }

    /// The subject's pins, each with the local file that holds the pinned bytes if
    /// there is one; an error naming what is not pinned.
    fn pinned(&self, manifest: &Manifest) -> Result<Expected, String> {
        match self.subject {
            Subject::Cap(cap) => {
                let Some(pin) = cap.sha256.pinned() else {
                    return Err(format!(
                        "cap {} has a placeholder sha256: there is no pin to compare with \
                         (pin it with `pylon manifest regen {}`, or compare two builds with \
                         --against baseline)",
                        cap.name, cap.name
                    ));
                };
                let mut candidates = Vec::new();
                if let Some(caps_dir) = &self.opts.caps_dir {
                    let artifact =
                        pylon_caps::sync::checkout_dir(manifest, cap, caps_dir).join(&cap.artifact);
                    candidates.extend(pylon_caps::sync::reference_path(&artifact));
                    candidates.push(artifact);
                }
                Ok(Expected {
                    outputs: vec![Expected::pinned(
                        cap_output_file(cap),
                        pin.as_str().to_string(),
                        &candidates,
                    )],
                })
            }
            Subject::Product(spec) => {
                let mut outputs = Vec::new();
                for o in &spec.outputs {
                    let Some(pin) = &o.pinned else {
                        return Err(format!(
                            "{}: {} has no pinned digest to compare with (pin it with \
                             `pylon manifest regen`, or compare two builds with --against \
                             baseline)",
                            spec.name, o.file
                        ));
                    };
                    let candidates: Vec<PathBuf> = o.reference.iter().cloned().collect();
                    outputs.push(Expected::pinned(o.file.clone(), pin.clone(), &candidates));
                }
                Ok(Expected { outputs })
            }
        }
    }

    /// The baseline's digests against the pins.
    fn baseline_info(&self, baseline: &Built) -> BaselineInfo {
        let pin_of = |file: &str| -> Option<String> {
            match self.subject {
                Subject::Cap(cap) => cap.sha256.pinned().map(|p| p.as_str().to_string()),
                Subject::Product(spec) => spec
                    .outputs
                    .iter()
                    .find(|o| o.file == file)
                    .and_then(|o| o.pinned.clone()),
            }
        };
        let outputs: Vec<OutputDigest> = baseline
            .outputs
            .iter()
            .map(|o| OutputDigest {
                file: o.file.clone(),
                sha256: o.sha256.clone(),
                size: o.size,
                matches: pin_of(&o.file).map(|p| p == o.sha256),
            })
            .collect();
        let pinned: Vec<bool> = outputs.iter().filter_map(|o| o.matches).collect();
        let primary = baseline.primary();
        BaselineInfo {
            sha256: primary.map(|o| o.sha256.clone()).unwrap_or_default(),
            size: primary.map_or(0, |o| o.size),
            matches_pin: (!pinned.is_empty()).then(|| pinned.iter().all(|m| *m)),
            outputs,
        }
    }

    /// Builds with `variations` and compares every output with what is expected; the
    /// row's diagnosis is filled in later ([`Self::explain`]), so the build is returned
    /// when it differs.
    fn compare(
        &self,
        expected: &Expected,
        kind: RowKind,
        label: &str,
        variations: &[Variation],
        detail: String,
    ) -> (Row, Option<Built>) {
        let start = Instant::now();
        let built = self.build(label, variations);
        let mut row = Row::new(kind, label.to_string(), Verdict::Identical, detail);
        let mut kept = None;
        match built {
            Err(f) => {
                row.verdict = Verdict::Failed;
                row.detail = f.message;
                row.log = f.log;
                row.log_tail = f.log_tail;
            }
            Ok(b) => {
                if let Some(primary) = b.primary() {
                    row.sha256 = Some(primary.sha256.clone());
                    row.size = Some(primary.size);
                }
                for out in &b.outputs {
                    let same = expected
                        .get(&out.file)
                        .is_some_and(|e| e.sha256 == out.sha256);
                    if !same {
                        row.verdict = Verdict::Differs;
                    }
                    row.outputs.push(OutputDigest {
                        file: out.file.clone(),
                        sha256: out.sha256.clone(),
                        size: out.size,
                        matches: Some(same),
                    });
                }
                // Kept either way: a build that matches a pin is a reference.
                kept = Some(b);
            }
        }
        (self.on_event)(ReproEvent::Built {
            cap: self.name(),
            label,
            verdict: Some(row.verdict),
            elapsed: start.elapsed(),
        });
        (row, kept)
    }

    /// Fills the row's causes and diagnosis from the first output that differs: a diff
    /// against the expected bytes when they are known, else a scan of the build alone.
    fn explain(&self, row: &mut Row, expected: &Expected, built: &Built) {
        let Some((exp, out)) = built
            .outputs
            .iter()
            .find_map(|o| match expected.get(&o.file) {
                Some(e) if e.sha256 == o.sha256 => None,
                e => Some((e, o)),
            })
        else {
            return;
        };
        let prefix = if built.outputs.len() > 1 {
            format!("{}: ", out.file)
        } else {
            String::new()
        };
        let Some(exp) = exp else {
            row.diagnosis = Some(format!("{prefix}not produced by the baseline"));
            return;
        };
        let Some(base) = &exp.bytes else {
            self.explain_alone(row, &prefix, out);
            return;
        };
        if out.file.ends_with(".zip") {
            row.diagnosis = Some(format!("{prefix}{}", zip_difference(base, &out.bytes)));
            return;
        }
        match diff_wasm(base, &out.bytes) {
            Ok(report) => {
                row.diagnosis = report
                    .causes
                    .iter()
                    .find(|c| !c.knock_on)
                    .or(report.causes.first())
                    .map(|c| format!("{prefix}{}", c.line));
                row.causes = report.causes;
            }
            Err(e) => row.diagnosis = Some(format!("{prefix}cannot diagnose: {e}")),
        }
    }

    /// No copy of the pinned bytes anywhere: what the build shows by itself (paths of
    /// this run's scratch directory or of the machine, timestamps other than the
    /// pinned SOURCE_DATE_EPOCH).
    fn explain_alone(&self, row: &mut Row, prefix: &str, out: &Output) {
        let no_reference = "no copy of the pinned bytes on this machine to diff with \
                            (`pylon caps-sync` keeps the last artifact that matched)";
        if out.file.ends_with(".zip") {
            row.diagnosis = Some(format!("{prefix}differs from the pin; {no_reference}"));
            return;
        }
        let opts = ScanOptions {
            extra_path_prefixes: vec![self.dir.display().to_string()],
            source_date_epoch: SOURCE_DATE_EPOCH.parse().ok(),
        };
        let findings = scan_artifact_with(&out.bytes, &opts);
        let summary = |cause: Cause, what: &str, f: &[&Finding]| {
            let first = f[0];
            let more = if f.len() > 1 {
                format!(" (+{} more)", f.len() - 1)
            } else {
                String::new()
            };
            CauseSummary {
                cause,
                count: f.len(),
                knock_on: false,
                line: format!("{what}: {} in {}{more}", first.text, first.location),
                advice: format!("found by scanning the build alone: {no_reference}"),
            }
        };
        let paths: Vec<&Finding> = findings.paths.iter().collect();
        let stamps: Vec<&Finding> = findings.unpinned_timestamps().collect();
        if !paths.is_empty() {
            row.causes
                .push(summary(Cause::EmbeddedPath, "embedded path", &paths));
        }
        if !stamps.is_empty() {
            row.causes
                .push(summary(Cause::Timestamp, "timestamp", &stamps));
        }
        row.diagnosis = Some(match row.causes.first() {
            Some(c) => format!("{prefix}{}", c.line),
            None => format!(
                "{prefix}differs from the pin, and the build shows no machine path or \
                 timestamp by itself; {no_reference}"
            ),
        });
    }
    /// One build in a fresh directory: copy the source, run the child, collect the
    /// outputs, then keep or remove the directory.
    fn build(&self, label: &str, variations: &[Variation]) -> Result<Built, BuildFailed> {
        let start = Instant::now();
        (self.on_event)(ReproEvent::Build {
            cap: self.name(),
            label,
        });
        let result = self.build_inner(label, variations);
        if label == "baseline" {
            (self.on_event)(ReproEvent::Built {
                cap: self.name(),
                label,
                verdict: None,
                elapsed: start.elapsed(),
            });
        }
        result
    }

    fn build_inner(&self, label: &str, variations: &[Variation]) -> Result<Built, BuildFailed> {
        let checkout = self.fresh_checkout(variations)?;
        let artifacts = self.dir.join("artifacts").join(label);
        let logs = self.dir.join("logs");
        for d in [&artifacts, &logs] {
            fs::create_dir_all(d).map_err(|e| BuildFailed::io("creating", d, e))?;
        }
        let dirs = BuildDirs {
            log: logs.join(format!("{label}.log")),
            checkout,
            artifacts,
        };
        let env = self.env.with(variations);
        let built = match self.subject {
            Subject::Cap(cap) => self.run_cap_build(cap, label, &dirs, &env),
            Subject::Product(spec) => self.run_product_build(spec, &dirs, &env),
        };
        self.dispose_checkout(&dirs.checkout, label);
        built
    }

    /// A fresh copy of the source for one build, at the path the variations call for.
    fn fresh_checkout(&self, variations: &[Variation]) -> Result<PathBuf, BuildFailed> {
        let name = self.subject.dir_name();
        // Every build without build-path variation runs at the same path, so a
        // path-dependent build is blamed on build-path alone; the other one is
        // deeper and longer.
        let checkout = if variations.contains(&Variation::BuildPath) {
            self.dir
                .join("elsewhere/a/much/deeper/build-directory")
                .join(format!("{name}-checkout"))
        } else {
            self.dir.join("b").join(name)
        };
        if checkout.exists() {
            fs::remove_dir_all(&checkout).map_err(|e| BuildFailed::io("removing", &checkout, e))?;
        }
        let reversed = variations.contains(&Variation::ListingOrder);
        write_tree(&checkout, &self.files, reversed)
            .map_err(|e| BuildFailed::io("copying the source into", &checkout, e))?;
        Ok(checkout)
    }

    /// Runs the cap's child build and reads the artifact it published.
    fn run_cap_build(
        &self,
        cap: &Cap,
        label: &str,
        dirs: &BuildDirs,
        env: &ChildEnv,
    ) -> Result<Built, BuildFailed> {
        let output = dirs.artifacts.join(format!("{}.wasm", cap.name));
        let request = ChildRequest {
            name: cap.name.clone(),
            checkout: dirs.checkout.clone(),
            target: cap.target.as_str().to_string(),
            output: output.clone(),
            // Fresh with the directory: caps-sync's default, `<checkout>/target`.
            target_dir: None,
            log: dirs.log.clone(),
            result: self.dir.join(format!("{label}.result.json")),
            rustc: env.rustc.clone(),
        };
        run_cap_child(
            &self.opts.child,
            &request,
            env,
            &self.dir,
            self.opts.build_timeout,
        )?;
        // make caps publish inside their checkout.
        if cap.target.rust_triple().is_none() {
            let inside = dirs.checkout.join(&cap.artifact);
            fs::copy(&inside, &output).map_err(|e| BuildFailed::io("copying", &inside, e))?;
        }
        Ok(Built {
            outputs: vec![read_output(cap_output_file(cap), &output).map_err(BuildFailed::new)?],
        })
    }

    /// Runs `pylon build` in the checkout and copies its outputs into the artifacts
    /// directory.
    fn run_product_build(
        &self,
        spec: &ProductSpec,
        dirs: &BuildDirs,
        env: &ChildEnv,
    ) -> Result<Built, BuildFailed> {
        let out_dir = dirs.checkout.join(&spec.out_dir);
        let mut args = spec.build_args.clone();
        args.push("--out-dir".into());
        args.push(out_dir.clone().into());
        args.push("--cache-dir".into());
        // Inside the copy, so the CPython work tree moves with the build path.
        args.push(dirs.checkout.join(".pylon-cache").into());
        let env = product_env(spec, env);
        let run = ChildRun {
            program: &self.opts.child.program,
            args,
            cwd: Some(&dirs.checkout),
            stdout: dirs.log.clone(),
            stderr: dirs.log.clone(),
            failure_file: None,
        };
        run_child(&run, &env, self.opts.build_timeout, &dirs.log)?;
        let mut outputs = Vec::new();
        for o in &spec.outputs {
            let produced = out_dir.join(&o.file);
            let keep = dirs.artifacts.join(&o.file);
            fs::copy(&produced, &keep).map_err(|e| BuildFailed::io("copying", &produced, e))?;
            outputs.push(read_output(o.file.clone(), &keep).map_err(BuildFailed::new)?);
        }
        Ok(Built { outputs })
    }

    /// Keeps the whole build directory only when asked; the outputs and log stay
    /// in the scratch directory either way (removed with it unless kept).
    fn dispose_checkout(&self, checkout: &Path, label: &str) {
        if self.opts.keep {
            let kept = self.dir.join("kept").join(label);
            let _ = fs::create_dir_all(self.dir.join("kept"));
            let _ = fs::rename(checkout, &kept);
        } else {
            let _ = fs::remove_dir_all(checkout);
        }
    }
}

/// Where one build runs and what it leaves.
struct BuildDirs {
    /// The fresh copy of the source the build runs in.
    checkout: PathBuf,
    /// Where the outputs are copied, to outlive the checkout.
    artifacts: PathBuf,
    log: PathBuf,
}

impl BuildFailed {
    fn new(message: String) -> BuildFailed {
        BuildFailed {
            message,
            log: None,
            log_tail: Vec::new(),
        }
    }

    fn io(what: &str, path: &Path, e: io::Error) -> BuildFailed {
        BuildFailed::new(format!("{what} {}: {e}", path.display()))
    }

    /// A failure of the build that wrote `log`, with the log's last lines.
    fn with_log(log: &Path, message: String) -> BuildFailed {
        BuildFailed {
            message,
            log: Some(log.to_path_buf()),
            log_tail: tail_lines(log, 20),
        }
    }
}

/// The product build's environment: the spec's variables over the varied ones.
fn product_env(spec: &ProductSpec, varied: &ChildEnv) -> ChildEnv {
    let mut env = varied.clone();
    for k in &spec.env_remove {
        env.set.retain(|(s, _)| s != k);
        env.remove.push(k.clone());
    }
    for (k, v) in &spec.env {
        env.remove.retain(|r| r != k);
        env.set.push((k.clone(), v.clone()));
    }
    product_rustc(&mut env);
    env
}

/// The product's `pylon build` asks `rustc` for its version and sysroot; under the
/// clock variation that must be the real-clock wrapper too (rustc deadlocks under
/// libfaketime). It reads `RUSTC` as cargo does. Caps get the wrapper through their
/// child request instead, since `RUSTC` in a cap build's environment would change
/// what cargo records.
fn product_rustc(env: &mut ChildEnv) {
    if let Some(wrapper) = &env.rustc {
        env.remove.retain(|r| r != "RUSTC");
        env.set.retain(|(k, _)| k != "RUSTC");
        env.set.push(("RUSTC".into(), wrapper.clone().into()));
    }
}

/// The name a cap's one output goes by in the report: its artifact's file name.
fn cap_output_file(cap: &Cap) -> String {
    cap.artifact.file_name().map_or_else(
        || format!("{}.wasm", cap.name),
        |f| f.to_string_lossy().into_owned(),
    )
}

fn read_output(file: String, path: &Path) -> Result<Output, String> {
    let bytes = fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    // The bytes are kept for a diagnosis anyway: hash them rather than read the file again.
    let digest = sha256_bytes(&bytes);
    Ok(Output {
        file,
        bytes,
        sha256: digest.sha256.0,
        size: digest.size,
    })
}

/// Where two zip archives first differ, named by the entry whose local header
/// precedes that offset in the first (a stored stdlib.zip: the member's name).
fn zip_difference(a: &[u8], b: &[u8]) -> String {
    let Some(offset) = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or_else(|| (a.len() != b.len()).then(|| a.len().min(b.len())))
    else {
        return "identical bytes".to_string();
    };
    const LOCAL_HEADER: &[u8] = b"PK\x03\x04";
    let entry = a[..offset.min(a.len())]
        .windows(LOCAL_HEADER.len())
        .rposition(|w| w == LOCAL_HEADER)
        .and_then(|at| {
            let header = a.get(at..at + 30)?;
            let name_len = u16::from_le_bytes([header[26], header[27]]) as usize;
            let name = a.get(at + 30..at + 30 + name_len)?;
            Some(String::from_utf8_lossy(name).into_owned())
        });
    let sizes = if a.len() == b.len() {
        format!("both {} bytes", a.len())
    } else {
        format!("{} vs {} bytes", a.len(), b.len())
    };
    match entry {
        Some(name) => format!("first difference at byte {offset}, in member {name} ({sizes})"),
        None => format!("first difference at byte {offset} ({sizes})"),
    }
}

/// Writes the source files, in sorted order or its reverse (directories are created
/// as their first file needs them, so their order follows too).
fn write_tree(root: &Path, files: &[SourceFile], reversed: bool) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::create_dir_all(root)?;
    let mut order: Vec<&SourceFile> = files.iter().collect();
    order.sort_by(|a, b| a.rel.cmp(&b.rel));
    if reversed {
        order.reverse();
    }
    for f in order {
        let path = root.join(&f.rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&path, &f.bytes)?;
        if f.mode & 0o111 != 0 {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755))?;
        }
    }
    Ok(())
}

/// The cap's source files: the in-tree directory's working copy (the files git lists
/// for it, tracked or untracked but not ignored, as its pinned tree id covers), or a
/// clone of a git cap at its pinned rev.
fn cap_source(
    manifest: &Manifest,
    cap: &Cap,
    scratch: &Path,
) -> Result<(Vec<SourceFile>, SourceInfo), String> {
    fs::create_dir_all(scratch).map_err(|e| format!("creating {}: {e}", scratch.display()))?;
    let pinned = cap.rev.pinned().map(|r| r.as_str().to_string());
    let (dir, rev, list_args): (PathBuf, Option<String>, &[&str]) = match &cap.repo {
        Repo::InTree(rel) => {
            let dir = manifest.root().join(rel);
            if !dir.is_dir() {
                return Err(format!(
                    "in-tree cap directory {} does not exist",
                    dir.display()
                ));
            }
            let tree = git::in_tree_rev(&dir).ok();
            (dir, tree, &["ls-files", "-z", "-co", "--exclude-standard"])
        }
        Repo::Git(url) => {
            let Some(rev) = pinned.clone() else {
                return Err(format!(
                    "placeholder rev: there is no pinned source to check (pin it with \
                     `pylon manifest regen {}`)",
                    cap.name
                ));
            };
            let url = pylon_caps::sync::resolve_url(manifest, url);
            let src = scratch.join("source");
            git::clone_no_checkout(scratch, &url, &src).map_err(|e| e.to_string())?;
            if !git::has_commit(&src, &rev) {
                let _ = git::git(&src, ["fetch", "--quiet", "origin", "--", rev.as_str()]);
            }
            git::checkout_commit(&src, &rev).map_err(|e| e.to_string())?;
            (src, Some(rev), &["ls-files", "-z"])
        }
    };
    let listed = git::git(&dir, list_args).map_err(|e| e.to_string())?;
    let rels: Vec<PathBuf> = listed
        .split('\0')
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .collect();
    let files = read_files(&dir, &rels)?;
    let info = SourceInfo {
        repo: cap.repo_spec.clone(),
        matches_pin: pinned.as_ref().zip(rev.as_ref()).map(|(p, r)| p == r),
        rev,
        files: files.len(),
    };
    Ok((files, info))
}

/// The project's files for a product build: what git lists under the manifest's
/// directory (tracked, or untracked but not ignored), plus the spec's extra files
/// (the in-tree caps' artifacts, which are built, hence ignored).
fn product_source(
    manifest: &Manifest,
    spec: &ProductSpec,
    scratch: &Path,
) -> Result<(Vec<SourceFile>, SourceInfo), String> {
    fs::create_dir_all(scratch).map_err(|e| format!("creating {}: {e}", scratch.display()))?;
    let root = manifest.root();
    let listed = git::git(root, ["ls-files", "-z", "-co", "--exclude-standard"])
        .map_err(|e| e.to_string())?;
    let mut rels: Vec<PathBuf> = listed
        .split('\0')
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .collect();
    for extra in &spec.extra_files {
        if !root.join(extra).is_file() {
            return Err(format!(
                "{} does not exist: build the caps first (`pylon caps-sync`)",
                root.join(extra).display()
            ));
        }
        rels.push(extra.clone());
    }
    let files = read_files(root, &rels)?;
    let head = git::git(root, ["rev-parse", "HEAD"])
        .ok()
        .map(|s| s.trim().to_string());
    let dirty = git::git(root, ["status", "--porcelain", "--untracked-files=no"])
        .map(|s| !s.trim().is_empty())
        .unwrap_or(false);
    let info = SourceInfo {
        repo: root.display().to_string(),
        rev: head.map(|h| if dirty { format!("{h}+changes") } else { h }),
        matches_pin: None,
        files: files.len(),
    };
    Ok((files, info))
}

/// Reads the listed regular files under `dir` (listed but deleted, symlinks and
/// submodules are skipped), sorted and without duplicates.
fn read_files(dir: &Path, rels: &[PathBuf]) -> Result<Vec<SourceFile>, String> {
    use std::os::unix::fs::PermissionsExt;
    let mut files = Vec::new();
    for rel in rels {
        let path = dir.join(rel);
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let bytes = fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        files.push(SourceFile {
            rel: rel.clone(),
            bytes,
            mode: meta.permissions().mode(),
        });
    }
    files.sort_by(|a, b| a.rel.cmp(&b.rel));
    files.dedup_by(|a, b| a.rel == b.rel);
    if files.is_empty() {
        return Err(format!("git lists no files in {}", dir.display()));
    }
    Ok(files)
}

// ---------------------------------------------------------------------------
// The child process.

/// What the child process builds: a [`BuildRequest`] plus where to report a failure.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChildRequest {
    pub name: String,
    pub checkout: PathBuf,
    pub target: String,
    pub output: PathBuf,
    pub target_dir: Option<PathBuf>,
    pub log: PathBuf,
    /// Written by the child when the build fails: a [`ChildFailure`] as JSON.
    pub result: PathBuf,
    /// The rustc for cargo to run, when not `rustc` on PATH.
    #[serde(default)]
    pub rustc: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChildFailure {
    pub message: String,
    pub log_tail: Vec<String>,
}

/// The child's side: runs `build_cap` for the request in `path` with this process's
/// own environment (`HostPaths` detected here, under the varied `HOME` etc.).
pub fn run_child_build(path: &Path) -> Result<(), ReproError> {
    let text = fs::read_to_string(path).map_err(|source| ReproError::Io {
        what: "reading build request",
        path: path.to_path_buf(),
        source,
    })?;
    let req: ChildRequest = serde_json::from_str(&text).map_err(|e| ReproError::Request {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let target = Target::parse(&req.target).ok_or_else(|| ReproError::Request {
        path: path.to_path_buf(),
        message: format!("unknown target {:?}", req.target),
    })?;
    let build = BuildRequest {
        name: req.name.clone(),
        checkout: req.checkout.clone(),
        target,
        output: req.output.clone(),
        target_dir: req.target_dir.clone(),
        log: req.log.clone(),
    };
    let host = HostPaths {
        rustc: req.rustc.clone(),
        ..HostPaths::detect()
    };
    build_cap(&build, &host).map_err(|e| {
        let failure = ChildFailure {
            message: e.to_string(),
            log_tail: e.log_tail().to_vec(),
        };
        if let Ok(json) = serde_json::to_string(&failure) {
            let _ = fs::write(&req.result, json);
        }
        ReproError::Build(e.to_string())
    })?;
    Ok(())
}

/// One child process: `program args…`, in `cwd`, output to files.
struct ChildRun<'a> {
    program: &'a Path,
    args: Vec<OsString>,
    cwd: Option<&'a Path>,
    stdout: PathBuf,
    stderr: PathBuf,
    /// Where the child writes a [`ChildFailure`] when it fails, if it does.
    failure_file: Option<PathBuf>,
}

/// Writes the cap's build request and runs `child` on it (the varied
/// `pylon repro-check --internal-build REQUEST`).
fn run_cap_child(
    child: &ChildCommand,
    req: &ChildRequest,
    env: &ChildEnv,
    dir: &Path,
    timeout: Duration,
) -> Result<(), BuildFailed> {
    let fail = |message: String| BuildFailed::with_log(&req.log, message);
    let req_path = dir.join(format!(
        "{}.request.json",
        req.result
            .file_name()
            .and_then(|s| s.to_str())
            .and_then(|s| s.strip_suffix(".result.json"))
            .unwrap_or("build")
    ));
    let json = serde_json::to_string_pretty(req).map_err(|e| fail(e.to_string()))?;
    fs::write(&req_path, json).map_err(|e| fail(format!("writing {}: {e}", req_path.display())))?;
    let _ = fs::remove_file(&req.result);
    let mut args = child.args.clone();
    args.push(req_path.into());
    let run = ChildRun {
        program: &child.program,
        args,
        cwd: None,
        stdout: PathBuf::from("/dev/null"),
        stderr: req.result.with_extension("stderr"),
        failure_file: Some(req.result.clone()),
    };
    run_child(&run, env, timeout, &req.log)
}

/// Starts the child with `env` applied: variables set/removed on the command, the
/// umask by `sh`, the clock by `faketime`, which the child and everything it starts
/// (cargo, build scripts, rustc, make, clang) inherit. `log` is the build log named
/// in a failure.
fn run_child(
    run: &ChildRun<'_>,
    env: &ChildEnv,
    timeout: Duration,
    log: &Path,
) -> Result<(), BuildFailed> {
    let fail = |message: String| BuildFailed::with_log(log, message);
    let (mut cmd, program) = child_command(run, env);
    let stdout = open_output(&run.stdout, false).map_err(fail)?;
    // The same file for both (the product's log) must not be truncated twice.
    let stderr = open_output(&run.stderr, run.stderr == run.stdout).map_err(fail)?;
    // Its own process group, so a hung build (cargo, rustc, make, clang) can be
    // killed as a whole.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr));
    let mut proc = cmd
        .spawn()
        .map_err(|e| fail(format!("cannot start {}: {e}", program.to_string_lossy())))?;
    let status = wait_or_kill(&mut proc, timeout).map_err(fail)?;
    if status.success() {
        return Ok(());
    }
    Err(child_failure(run, log, status))
}

/// The command for `run` with `env` applied, and the program it starts first
/// (`faketime` under the clock variation) for error messages.
fn child_command(run: &ChildRun<'_>, env: &ChildEnv) -> (Command, OsString) {
    let mut argv: Vec<OsString> = Vec::new();
    if let Some(faketime) = &env.faketime {
        argv.push(faketime.clone().into());
        argv.push("-f".into());
        argv.push(FAKETIME_OFFSET.into());
    }
    argv.push(run.program.into());
    argv.extend(run.args.iter().cloned());
    let mut cmd = match env.umask {
        Some(mask) => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(format!("umask {mask:03o} && exec \"$@\""))
                .arg("sh")
                .args(&argv);
            c
        }
        None => {
            let mut c = Command::new(&argv[0]);
            c.args(&argv[1..]);
            c
        }
    };
    if let Some(cwd) = run.cwd {
        cmd.current_dir(cwd);
    }
    for k in &env.remove {
        cmd.env_remove(k);
    }
    for (k, v) in &env.set {
        cmd.env(k, v);
    }
    let program = argv.swap_remove(0);
    (cmd, program)
}

/// Creates (or, with `append`, opens to append to) a file the child writes.
fn open_output(path: &Path, append: bool) -> Result<fs::File, String> {
    fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(path)
        .map_err(|e| format!("creating {}: {e}", path.display()))
}

/// Waits for the child; one still running after `timeout` is killed with its whole
/// process group.
fn wait_or_kill(proc: &mut Child, timeout: Duration) -> Result<ExitStatus, String> {
    let start = Instant::now();
    loop {
        match proc.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if start.elapsed() > timeout => {
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", proc.id())])
                    .status();
                let _ = proc.wait();
                return Err(format!(
                    "the build did not finish within {} s and was killed",
                    timeout.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => return Err(format!("waiting for the build process: {e}")),
        }
    }
}

/// Why a child that exited with `status` failed: what it reported itself, else the
/// last line of its stderr.
fn child_failure(run: &ChildRun<'_>, log: &Path, status: ExitStatus) -> BuildFailed {
    if let Some(f) = run
        .failure_file
        .as_ref()
        .and_then(|p| fs::read_to_string(p).ok())
        .and_then(|t| serde_json::from_str::<ChildFailure>(&t).ok())
    {
        return BuildFailed {
            message: f.message,
            log: Some(log.to_path_buf()),
            log_tail: f.log_tail,
        };
    }
    let stderr = fs::read_to_string(&run.stderr).unwrap_or_default();
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    BuildFailed::with_log(log, format!("build process {status}: {last}"))
}

/// Root causes of a row, for callers that test or summarise (`embedded-path`, …).
pub fn root_causes(row: &Row) -> Vec<Cause> {
    row.causes
        .iter()
        .filter(|c| !c.knock_on)
        .map(|c| c.cause)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{product_rustc, zip_difference, Environment, Variation};

    #[test]
    fn the_product_build_under_the_clock_variation_runs_rustc_with_the_real_clock() {
        let scratch = tempfile::tempdir().unwrap();
        let Ok(env) = Environment::plan(scratch.path(), &[Variation::Clock]) else {
            panic!("planning the clock variation failed");
        };
        let mut varied = env.with(&[Variation::Clock]);
        product_rustc(&mut varied);
        if varied.faketime.is_none() {
            // No faketime on this machine: the variation is unavailable, nothing moves.
            assert!(!varied.set.iter().any(|(k, _)| k == "RUSTC"));
            return;
        }
        let rustc = varied
            .set
            .iter()
            .find(|(k, _)| k == "RUSTC")
            .map(|(_, v)| std::path::PathBuf::from(v))
            .expect("RUSTC set for the product's pylon build");
        let script = std::fs::read_to_string(&rustc).unwrap();
        assert!(script.contains("unset LD_PRELOAD FAKETIME"), "{script}");
        // Run as the product build would: under faketime, through the wrapper. rustc
        // itself under libfaketime hangs in a futex wait, so a hang is the failure.
        let mut child = std::process::Command::new(varied.faketime.as_ref().unwrap())
            .args(["-f", "+400d"])
            .arg(&rustc)
            .arg("-vV")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > std::time::Duration::from_secs(120) {
                let _ = child.kill();
                panic!("rustc -vV through the wrapper did not finish under faketime");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        assert!(status.success());

        // The baseline (no clock variation) leaves RUSTC alone.
        let mut baseline = env.with(&[]);
        product_rustc(&mut baseline);
        assert!(!baseline.set.iter().any(|(k, _)| k == "RUSTC"));
    }

    /// A stored zip's local entries (header, name, data), enough for the scan.
    fn stored(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, data) in entries {
            out.extend_from_slice(b"PK\x03\x04");
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
            out.extend_from_slice(&[0; 4]); // crc, unused here
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
        }
        out
    }

    #[test]
    fn zip_difference_names_the_member_whose_bytes_differ() {
        let a = stored(&[
            ("a.py", b"x = 1\n"),
            ("pkg/b.py", b"y = 2\n"),
            ("c.py", b""),
        ]);
        let b = stored(&[
            ("a.py", b"x = 1\n"),
            ("pkg/b.py", b"y = 3\n"),
            ("c.py", b""),
        ]);
        let line = zip_difference(&a, &b);
        assert!(line.contains("in member pkg/b.py"), "{line}");
        assert!(line.contains(&format!("both {} bytes", a.len())), "{line}");
    }

    #[test]
    fn zip_difference_of_a_longer_archive_points_at_its_end() {
        let a = stored(&[("a.py", b"x = 1\n")]);
        let b = stored(&[("a.py", b"x = 1\n"), ("extra.py", b"")]);
        let line = zip_difference(&a, &b);
        assert!(line.contains(&format!("at byte {}", a.len())), "{line}");
        assert!(
            line.contains(&format!("{} vs {} bytes", a.len(), b.len())),
            "{line}"
        );
        assert_eq!(zip_difference(&a, &a), "identical bytes");
    }
}
