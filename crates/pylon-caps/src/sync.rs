//! `caps-sync`: for every cap, get the pinned source, build it, and compare the
//! artifact's sha256 with the manifest. One cap failing never stops the others.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pylon_manifest::{Cap, Manifest, Repo, Rev};

use crate::build::{build_cap, BuildRequest, HostPaths};
use crate::digest::{sha256_file, FileDigest, Sha256Hex};
use crate::git::{self, GitError};
use crate::inspect::missing_exports;
use crate::lock::{lock_checkout, CheckoutLock};
use crate::toolchain::mismatch_hints;

/// What a sync run should do.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Where git caps are cloned (`~/git` by default).
    pub caps_dir: PathBuf,
    /// Only these caps (CAPS_ONLY); all when `None`.
    pub only: Option<Vec<String>>,
    /// Check out and compare, but build nothing (CAPS_SKIP_BUILD=1).
    pub skip_build: bool,
    /// Caps processed at once.
    pub jobs: usize,
    pub host: HostPaths,
    /// `rustc -V` of this machine, for MISMATCH hints.
    pub current_rustc: Option<String>,
    /// Reference artifacts for diagnosing a MISMATCH: `<dir>/<artifact file name>`
    /// (`--reference DIR`); otherwise the last artifact that matched the pin.
    pub reference_dir: Option<PathBuf>,
}

/// The step a cap was at; named in FAIL lines and progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    Lock,
    Clone,
    Fetch,
    Checkout,
    Pin,
    Build,
    Digest,
    Exports,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Lock => "lock",
            Step::Clone => "clone",
            Step::Fetch => "fetch",
            Step::Checkout => "checkout",
            Step::Pin => "pin",
            Step::Build => "build",
            Step::Digest => "digest",
            Step::Exports => "exports",
        }
    }
}

/// The per-cap verdict, in the spec's words.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CapStatus {
    /// The artifact's sha256 matches the manifest.
    Ok { digest: FileDigest },
    /// Placeholder rev or digest in the manifest: nothing was done.
    Skip { reason: String },
    /// Clone, checkout, pinning or build failed.
    Fail {
        step: Step,
        message: String,
        log: Option<PathBuf>,
        log_tail: Vec<String>,
    },
    /// Built, but the bytes differ from the pinned digest.
    Mismatch {
        expected: Sha256Hex,
        expected_size: Option<u64>,
        actual: FileDigest,
        hints: Vec<String>,
        /// An artifact that matched the pin, to diff the new one against.
        reference: Option<PathBuf>,
    },
}

impl CapStatus {
    pub fn label(&self) -> &'static str {
        match self {
            CapStatus::Ok { .. } => "OK",
            CapStatus::Skip { .. } => "SKIP",
            CapStatus::Fail { .. } => "FAIL",
            CapStatus::Mismatch { .. } => "MISMATCH",
        }
    }
    pub fn is_failure(&self) -> bool {
        matches!(self, CapStatus::Fail { .. } | CapStatus::Mismatch { .. })
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct CapOutcome {
    pub name: String,
    #[serde(flatten)]
    pub status: CapStatus,
    pub checkout: PathBuf,
    pub artifact: PathBuf,
    /// Whether a build ran (false with CAPS_SKIP_BUILD or for SKIP/early FAIL).
    pub built: bool,
    #[serde(serialize_with = "seconds")]
    pub elapsed: Duration,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

/// Result of a sync run, caps in manifest order.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SyncReport {
    pub caps: Vec<CapOutcome>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SyncCounts {
    pub ok: usize,
    pub skip: usize,
    pub fail: usize,
    pub mismatch: usize,
}

impl SyncReport {
    pub fn counts(&self) -> SyncCounts {
        let mut c = SyncCounts::default();
        for cap in &self.caps {
            match cap.status {
                CapStatus::Ok { .. } => c.ok += 1,
                CapStatus::Skip { .. } => c.skip += 1,
                CapStatus::Fail { .. } => c.fail += 1,
                CapStatus::Mismatch { .. } => c.mismatch += 1,
            }
        }
        c
    }
    /// True when every cap is OK or SKIP.
    pub fn success(&self) -> bool {
        !self.caps.iter().any(|c| c.status.is_failure())
    }
}

/// Progress notifications, for the CLI's display.
#[derive(Debug, Clone)]
pub enum SyncEvent<'a> {
    Step { cap: &'a str, step: Step },
    WaitingForLock { cap: &'a str, lock: &'a Path },
    Finished(&'a CapOutcome),
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("CAPS_ONLY names {name:?}, which is not in the manifest (caps: {known})")]
    UnknownCap { name: String, known: String },
}

/// Selects the caps named in `only` (all when `None`), in manifest order.
pub fn select_caps<'m>(
    manifest: &'m Manifest,
    only: Option<&[String]>,
) -> Result<Vec<&'m Cap>, SyncError> {
    let Some(only) = only else {
        return Ok(manifest.caps.iter().collect());
    };
    for name in only {
        if manifest.cap(name).is_none() {
            return Err(SyncError::UnknownCap {
                name: name.clone(),
                known: manifest
                    .caps
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    Ok(manifest
        .caps
        .iter()
        .filter(|c| only.contains(&c.name))
        .collect())
}

/// Where a cap's source lives on this machine.
pub fn checkout_dir(manifest: &Manifest, cap: &Cap, caps_dir: &Path) -> PathBuf {
    match &cap.repo {
        Repo::InTree(rel) => manifest.root().join(rel),
        Repo::Git(_) => caps_dir.join(cap.dir_name()),
    }
}

/// Runs caps-sync over the selected caps, `opts.jobs` at a time.
pub fn sync_caps(
    manifest: &Manifest,
    opts: &SyncOptions,
    on_event: &(dyn Fn(SyncEvent<'_>) + Sync),
) -> Result<SyncReport, SyncError> {
    let caps = select_caps(manifest, opts.only.as_deref())?;
    let results: Mutex<Vec<Option<CapOutcome>>> = Mutex::new(vec![None; caps.len()]);
    let next = AtomicUsize::new(0);
    let workers = opts.jobs.clamp(1, caps.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(cap) = caps.get(i) else { break };
                let outcome = sync_one(manifest, cap, opts, on_event);
                on_event(SyncEvent::Finished(&outcome));
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(outcome);
            });
        }
    });
    let caps = results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect();
    Ok(SyncReport { caps })
}

struct Failure {
    step: Step,
    message: String,
    log: Option<PathBuf>,
    log_tail: Vec<String>,
}

impl Failure {
    fn new(step: Step, message: impl Into<String>) -> Self {
        Failure {
            step,
            message: message.into(),
            log: None,
            log_tail: Vec::new(),
        }
    }
    fn git(step: Step, e: GitError) -> Self {
        Failure::new(step, e.to_string())
    }
}

fn sync_one(
    manifest: &Manifest,
    cap: &Cap,
    opts: &SyncOptions,
    on_event: &(dyn Fn(SyncEvent<'_>) + Sync),
) -> CapOutcome {
    let start = Instant::now();
    let checkout = checkout_dir(manifest, cap, &opts.caps_dir);
    let artifact = checkout.join(&cap.artifact);
    let mut built = false;
    let status = if cap.is_placeholder() {
        let what = if cap.rev.is_placeholder() {
            "rev"
        } else {
            "sha256"
        };
        CapStatus::Skip {
            reason: format!("placeholder {what} in manifest: clone, rev-parse and pin it (`pylon manifest regen {}`)", cap.name),
        }
    } else {
        match sync_pinned(
            manifest, cap, opts, &checkout, &artifact, &mut built, on_event,
        ) {
            Ok(status) => status,
            Err(f) => CapStatus::Fail {
                step: f.step,
                message: f.message,
                log: f.log,
                log_tail: f.log_tail,
            },
        }
    };
    CapOutcome {
        name: cap.name.clone(),
        status,
        checkout,
        artifact,
        built,
        elapsed: start.elapsed(),
    }
}

#[allow(clippy::too_many_arguments)]
fn sync_pinned(
    manifest: &Manifest,
    cap: &Cap,
    opts: &SyncOptions,
    checkout: &Path,
    artifact: &Path,
    built: &mut bool,
    on_event: &(dyn Fn(SyncEvent<'_>) + Sync),
) -> Result<CapStatus, Failure> {
    let name = cap.name.as_str();
    let step = |s: Step| on_event(SyncEvent::Step { cap: name, step: s });
    // Both are pinned: placeholders were turned into SKIP by the caller.
    let (Some(rev), Some(expected)) = (cap.rev.pinned(), cap.sha256.pinned()) else {
        return Err(Failure::new(Step::Pin, "placeholder pin"));
    };

    step(Step::Lock);
    let _lock = lock_cap(cap, opts, checkout, on_event)?;
    match &cap.repo {
        Repo::InTree(rel) => {
            step(Step::Pin);
            check_in_tree_pin(checkout, rel, rev, name)?;
        }
        Repo::Git(url) => check_out_pinned_rev(manifest, cap, url, opts, checkout, rev, &step)?,
    }
    if !opts.skip_build {
        // The build replaces the artifact: keep the one that matched the pin, so a
        // MISMATCH can be diffed against it.
        keep_reference(artifact, expected);
        refuse_unpinned_inputs(cap, checkout, artifact)?;
        step(Step::Build);
        *built = true;
        build_artifact(cap, opts, checkout, artifact)?;
    }

    step(Step::Digest);
    let actual = digest_artifact(artifact, opts.skip_build)?;
    if !actual.matches(expected) {
        return Ok(CapStatus::Mismatch {
            expected: expected.into(),
            expected_size: cap.size,
            hints: mismatch_hints(manifest, cap, opts.current_rustc.as_deref(), actual.size),
            actual,
            reference: find_reference(artifact, expected, opts.reference_dir.as_deref()),
        });
    }

    step(Step::Exports);
    check_exports(cap, artifact)?;
    Ok(CapStatus::Ok { digest: actual })
}

/// Takes the cap's checkout lock: in-tree caps lock under their own `target/`, git
/// caps under the caps dir.
fn lock_cap(
    cap: &Cap,
    opts: &SyncOptions,
    checkout: &Path,
    on_event: &(dyn Fn(SyncEvent<'_>) + Sync),
) -> Result<CheckoutLock, Failure> {
    let lock_path = match &cap.repo {
        Repo::InTree(_) => checkout.join("target/pylon/sync.lock"),
        Repo::Git(_) => opts
            .caps_dir
            .join(".pylon-locks")
            .join(format!("{}.lock", cap.dir_name())),
    };
    lock_checkout(&lock_path, || {
        on_event(SyncEvent::WaitingForLock {
            cap: &cap.name,
            lock: &lock_path,
        })
    })
    .map_err(|e| {
        Failure::new(
            Step::Lock,
            format!("cannot lock {}: {e}", lock_path.display()),
        )
    })
}

/// An in-tree cap is built from the working directory as it is: its git tree id must
/// be the pinned one.
fn check_in_tree_pin(checkout: &Path, rel: &Path, rev: &Rev, name: &str) -> Result<(), Failure> {
    if !checkout.is_dir() {
        return Err(Failure::new(
            Step::Pin,
            format!(
                "in-tree cap directory {} does not exist",
                checkout.display()
            ),
        ));
    }
    let tree = git::in_tree_rev(checkout).map_err(|e| Failure::git(Step::Pin, e))?;
    if tree != rev.as_str() {
        return Err(Failure::new(
            Step::Pin,
            format!(
                "source drift: {} now has git tree {tree}, the manifest pins {rev}; \
                 the cap was edited without re-pinning (run `pylon manifest regen {name}`)",
                rel.display()
            ),
        ));
    }
    Ok(())
}

/// Brings a git cap's checkout to the pinned commit (cloning it the first time) and
/// refuses one with local modifications.
fn check_out_pinned_rev(
    manifest: &Manifest,
    cap: &Cap,
    url: &str,
    opts: &SyncOptions,
    checkout: &Path,
    rev: &Rev,
    step: &dyn Fn(Step),
) -> Result<(), Failure> {
    let url = resolve_url(manifest, url);
    let scratch = clone_scratch(&opts.caps_dir, cap.dir_name());
    // Under the lock: what is left there was left by a run that died.
    let _ = std::fs::remove_dir_all(&scratch);
    if checkout.join(".git").exists() {
        check_origin(checkout, &url, &cap.name)?;
        fetch_if_missing(checkout, rev.as_str(), &url, step)?;
        step(Step::Checkout);
        git::checkout_commit(checkout, rev.as_str())
            .map_err(|e| Failure::git(Step::Checkout, e))?;
    } else {
        step(Step::Clone);
        clone_checked_out(&url, checkout, &scratch, rev.as_str(), step)?;
    }
    let dirty = git::git(checkout, ["status", "--porcelain", "--untracked-files=no"])
        .map_err(|e| Failure::git(Step::Checkout, e))?;
    if !dirty.is_empty() {
        return Err(Failure::new(
            Step::Checkout,
            format!(
                "{} has local modifications, so it is not the pinned source: {}",
                checkout.display(),
                dirty.lines().take(5).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    Ok(())
}

/// Builds the cap into `artifact`, its log under the checkout's `target/pylon/`.
fn build_artifact(
    cap: &Cap,
    opts: &SyncOptions,
    checkout: &Path,
    artifact: &Path,
) -> Result<(), Failure> {
    let log = checkout.join("target/pylon/build.log");
    let req = BuildRequest {
        name: cap.name.clone(),
        checkout: checkout.to_path_buf(),
        target: cap.target,
        output: artifact.to_path_buf(),
        target_dir: None,
        log: log.clone(),
    };
    build_cap(&req, &opts.host).map_err(|e| Failure {
        step: Step::Build,
        message: e.to_string(),
        log: Some(log.clone()),
        log_tail: e.log_tail().to_vec(),
    })?;
    Ok(())
}

/// The artifact's digest; a missing one fails the cap.
fn digest_artifact(artifact: &Path, skip_build: bool) -> Result<FileDigest, Failure> {
    if !artifact.is_file() {
        let why = if skip_build {
            " (CAPS_SKIP_BUILD=1: nothing was built; run caps-sync without it)"
        } else {
            ""
        };
        return Err(Failure::new(
            Step::Digest,
            format!("artifact {} is missing{why}", artifact.display()),
        ));
    }
    sha256_file(artifact).map_err(|e| {
        Failure::new(
            Step::Digest,
            format!("cannot read {}: {e}", artifact.display()),
        )
    })
}

/// The component must export everything the manifest's `exports` declares.
fn check_exports(cap: &Cap, artifact: &Path) -> Result<(), Failure> {
    let bytes = std::fs::read(artifact).map_err(|e| {
        Failure::new(
            Step::Exports,
            format!("cannot read {}: {e}", artifact.display()),
        )
    })?;
    let missing = missing_exports(&bytes, &cap.exports)
        .map_err(|e| Failure::new(Step::Exports, format!("{}: {e}", artifact.display())))?;
    if !missing.is_empty() {
        return Err(Failure::new(
            Step::Exports,
            format!(
                "the component does not export {} declared in the manifest's `exports`",
                missing.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Where the last artifact that matched its pin is kept, next to the build log.
pub fn reference_path(artifact: &Path) -> Option<PathBuf> {
    let file = artifact.file_name()?;
    let component_dir = artifact.parent()?;
    Some(component_dir.join(".pylon-reference").join(file))
}

/// Copies the artifact aside when it matches the pin (best effort: a failure only
/// costs the diagnosis, never the sync).
fn keep_reference(artifact: &Path, pinned: &pylon_manifest::Sha256) {
    let Some(dest) = reference_path(artifact) else {
        return;
    };
    if !sha256_file(artifact).is_ok_and(|d| d.matches(pinned)) {
        return;
    }
    if sha256_file(&dest).is_ok_and(|d| d.matches(pinned)) {
        return;
    }
    if let Ok(bytes) = std::fs::read(artifact) {
        let _ = dest
            .parent()
            .map(std::fs::create_dir_all)
            .transpose()
            .map(|_| pylon_manifest::write_atomic(&dest, &bytes));
    }
}

/// A reference artifact for a drifted one: `--reference DIR` first, then the kept
/// copy — either only if its digest really is the pinned one.
pub fn find_reference(
    artifact: &Path,
    pinned: &pylon_manifest::Sha256,
    reference_dir: Option<&Path>,
) -> Option<PathBuf> {
    let given = reference_dir.and_then(|d| artifact.file_name().map(|f| d.join(f)));
    given
        .into_iter()
        .chain(reference_path(artifact))
        .find(|p| sha256_file(p).is_ok_and(|d| d.matches(pinned)))
}

/// A git cap's `repo` as git is given it: a URL or absolute path as written, a relative
/// path resolved against the manifest's directory. The one place this rule lives
/// (caps-sync, regen and repro-check all clone through it).
pub fn resolve_url(manifest: &Manifest, url: &str) -> String {
    if url.contains("://") || pylon_manifest::is_scp_like(url) || Path::new(url).is_absolute() {
        url.to_string()
    } else {
        manifest.root().join(url).to_string_lossy().into_owned()
    }
}

/// Where a git cap's first clone is assembled before it is published:
/// `<caps dir>/.pylon-tmp/<dir name>/`, one per cap so that a run holding the cap's
/// lock may delete whatever a killed run left there.
fn clone_scratch(caps_dir: &Path, dir_name: &str) -> PathBuf {
    caps_dir.join(".pylon-tmp").join(dir_name)
}

/// Clones, fetches the pinned commit if the default fetch lacks it, and checks it
/// out, all in `scratch`; only a finished checkout is renamed to `dest`. A run killed
/// at any point leaves `dest` absent (so the next run starts over), never a clone
/// with a stale `index.lock` or a half-written work tree that a later run would trust.
fn clone_checked_out(
    url: &str,
    dest: &Path,
    scratch: &Path,
    rev: &str,
    step: &dyn Fn(Step),
) -> Result<(), Failure> {
    let io = |what: String| Failure::new(Step::Clone, what);
    std::fs::create_dir_all(scratch)
        .map_err(|e| io(format!("creating {}: {e}", scratch.display())))?;
    let into = scratch.join("repo");
    git::clone_no_checkout(scratch, url, &into).map_err(|e| Failure::git(Step::Clone, e))?;
    fetch_if_missing(&into, rev, url, step)?;
    step(Step::Checkout);
    git::checkout_commit(&into, rev).map_err(|e| Failure::git(Step::Checkout, e))?;
    std::fs::rename(&into, dest)
        .map_err(|e| io(format!("moving the clone into {}: {e}", dest.display())))?;
    let _ = std::fs::remove_dir_all(scratch);
    Ok(())
}

/// Makes sure the commit is in the repository at `dir`: the remote's branches first,
/// then the commit by id (for servers that allow it).
fn fetch_if_missing(dir: &Path, rev: &str, url: &str, step: &dyn Fn(Step)) -> Result<(), Failure> {
    if git::has_commit(dir, rev) {
        return Ok(());
    }
    step(Step::Fetch);
    let _ = git::git(dir, ["fetch", "--quiet", "origin"]);
    if git::has_commit(dir, rev) {
        return Ok(());
    }
    let direct = git::git(dir, ["fetch", "--quiet", "origin", "--", rev]);
    if git::has_commit(dir, rev) {
        return Ok(());
    }
    let why = direct.err().map(|e| e.message).unwrap_or_default();
    Err(Failure::new(
        Step::Fetch,
        format!("commit {rev} not found in {url} after fetching: {why}"),
    ))
}

/// An existing checkout is ours to detach and build only if it is a clone of the
/// manifest's repo: a user's own working copy that happens to sit at the same path
/// (on a feature branch, with local work) is refused, not rewritten.
fn check_origin(checkout: &Path, url: &str, cap: &str) -> Result<(), Failure> {
    let origin = git::origin_url(checkout);
    if origin.as_deref().is_some_and(|o| same_remote(o, url)) {
        return Ok(());
    }
    let found = origin.map_or_else(
        || "no `origin` remote".to_string(),
        |o| format!("origin {o}"),
    );
    Err(Failure::new(
        Step::Checkout,
        format!(
            "{} is not a checkout of cap {cap}'s repo {url} ({found}): caps-sync will not \
             detach and build into it; move it away, or point `--caps-dir`/PYLON_CAPS_DIR \
             (or the cap's `local_dir`) elsewhere",
            checkout.display()
        ),
    ))
}

/// Two spellings of one remote: equal strings, or local paths naming one directory
/// (git records a relative path's absolute form as the origin).
fn same_remote(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let local = |s: &str| {
        let path = s.strip_prefix("file://").unwrap_or(s);
        (!path.contains("://") && !pylon_manifest::is_scp_like(path))
            .then(|| std::fs::canonicalize(path).ok())
            .flatten()
    };
    matches!((local(a), local(b)), (Some(x), Some(y)) if x == y)
}

/// "Nothing is built from unpinned source": a file the pin does not cover but the
/// build would read (an untracked `build.rs` or `GNUmakefile`, a `.cargo/config.toml`
/// or `rust-toolchain.toml` in the checkout or above it) fails the cap, naming the
/// file. Outputs of the build itself (`target/`, the artifact and its kept reference)
/// and Python's `__pycache__` are not source. A git cap built by `make` owns its
/// checkout, which is reset to the pinned tree instead: make's outputs land anywhere.
fn refuse_unpinned_inputs(cap: &Cap, checkout: &Path, artifact: &Path) -> Result<(), Failure> {
    let fail = |m: String| Failure::new(Step::Pin, m);
    let untracked = match (&cap.repo, cap.target.rust_triple()) {
        (Repo::Git(_), None) => git::git(
            checkout,
            [
                "clean",
                "-ffdxq",
                "-e",
                ".pylon-reference",
                "-e",
                "/target/pylon/",
            ],
        )
        .map(|_| Vec::new()),
        // Untracked files that are not ignored are part of an in-tree cap's tree id;
        // ignored ones are not.
        (Repo::InTree(_), _) => git::untracked(checkout, true),
        (Repo::Git(_), _) => git::untracked(checkout, false),
    }
    .map_err(|e| Failure::git(Step::Pin, e))?;
    let artifact_rel = artifact.strip_prefix(checkout).ok();
    let unpinned: Vec<_> = untracked
        .into_iter()
        .filter(|rel| {
            let s = rel.to_string_lossy();
            let is_output = s.starts_with("target/")
                || artifact_rel.is_some_and(|a| a == rel.as_path())
                || rel
                    .components()
                    .any(|c| c.as_os_str() == ".pylon-reference" || c.as_os_str() == "__pycache__");
            !is_output
        })
        .collect();
    if !unpinned.is_empty() {
        let shown: Vec<_> = unpinned
            .iter()
            .take(5)
            .map(|p| checkout.join(p).display().to_string())
            .collect();
        return Err(fail(format!(
            "{} not part of the pinned source but would be seen by the build: {}{}; \
             remove {}, or commit it and re-pin (`pylon manifest regen {}`)",
            if unpinned.len() == 1 {
                "a file is"
            } else {
                "files are"
            },
            shown.join(", "),
            if unpinned.len() > 5 {
                format!(" (and {} more)", unpinned.len() - 5)
            } else {
                String::new()
            },
            if unpinned.len() == 1 { "it" } else { "them" },
            cap.name
        )));
    }
    if cap.target.rust_triple().is_some() {
        if let Some(found) = crate::build::foreign_cargo_settings(checkout) {
            return Err(fail(found));
        }
    }
    Ok(())
}
