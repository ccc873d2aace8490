//! `manifest regen` as one operation: new in-tree caps get their entries, the chosen
//! caps are built from fresh sources and re-pinned (`pylon_caps::regen`), and the
//! product is rebuilt with them (cached by content: seconds when nothing changed) so
//! `pylon_sha256` and `profiles/expected/<profile>.toml` describe it — also after a
//! change on the CPython side alone (cpython-ext/, the profile, its patches). Everything is staged in memory and
//! written once at the end: any failure writes nothing.

use std::path::{Path, PathBuf};

use pylon_caps::build::HostPaths;
use pylon_caps::regen::{apply_regen, regen_pins, stage_new_caps, RegenOptions, RegenReport};
use pylon_caps::sync::{sync_caps, CapOutcome, SyncEvent, SyncOptions};
use pylon_manifest::{Manifest, ManifestEditor, Pin, Sha256, Toolchain};

use crate::build::{build_product, ProductEvent, ProductRequest};
use crate::{pylon_pin, PylonPin};

/// What `manifest regen` is asked to do.
pub struct RegenRequest {
    pub manifest_path: PathBuf,
    pub caps: RegenOptions,
    /// This machine's `[toolchain]` values, recorded with the pins.
    pub toolchain: Toolchain,
    /// How to rebuild the product; `None` (`--no-build`) composes what is on disk and leaves
    /// `pylon_sha256` as the placeholder when what is on disk cannot make the product.
    pub product: Option<ProductSettings>,
    /// Compute and report, write nothing (and build no product).
    pub dry_run: bool,
}

/// Settings of the product build regen runs.
pub struct ProductSettings {
    pub cache_root: PathBuf,
    pub jobs: usize,
    pub host: HostPaths,
}

/// Progress of [`regen`].
#[derive(Debug)]
pub enum RegenEvent<'a> {
    /// A cap is being built from fresh sources (`new`: its entry was just added).
    Cap {
        name: &'a str,
        new: bool,
    },
    /// The caps are being synced to the new pins for the product build.
    Sync(SyncEvent<'a>),
    Product(ProductEvent<'a>),
}

/// How `pylon_sha256` came to its new value.
#[derive(Debug, serde::Serialize)]
#[serde(tag = "how", rename_all = "kebab-case")]
pub enum ProductPin {
    /// Rebuilt with the new caps; `profiles/expected/<profile>.toml` updated too.
    Built {
        sha256: String,
        profile: String,
        python_wasm: String,
        stdlib_zip: String,
        expected: PathBuf,
        cached: bool,
        /// The seeded startup snapshot's digest, when the profile pins a seed.
        #[serde(skip_serializing_if = "Option::is_none")]
        snapshot_sha256: Option<String>,
    },
    /// Composed from what is on disk (`--no-build`, `--dry-run`).
    #[serde(untagged)]
    OnDisk(PylonPin),
}

/// The result: the caps' report, the product's pin, and what was written.
#[derive(Debug, serde::Serialize)]
pub struct RegenResult {
    pub caps: RegenReport,
    /// Caps whose entries this run added.
    pub added: Vec<String>,
    /// `None` when the manifest's tree has no CPython profiles (a caps-only tree) or a
    /// cap failed.
    pub pylon_sha256: Option<ProductPin>,
    /// Files written, in order (empty for a dry run or a failure).
    pub written: Vec<PathBuf>,
}

impl RegenResult {
    pub fn success(&self) -> bool {
        self.caps.success()
    }
}

/// Why regen stopped without writing anything.
#[derive(Debug, thiserror::Error)]
pub enum RegenError {
    /// The manifest, a descriptor or a cap selection is wrong: for the user to fix.
    #[error(transparent)]
    Manifest(#[from] pylon_manifest::ManifestError),
    #[error(transparent)]
    Describe(#[from] pylon_caps::regen::DescribeError),
    #[error(transparent)]
    Select(#[from] pylon_caps::sync::SyncError),
    #[error(transparent)]
    Profile(#[from] pylon_cpython::ProfileError),
    #[error("{0}: nothing was written")]
    Compose(#[source] crate::ProductError),
    #[error("syncing the caps to their new pins for the product build failed ({}); nothing was written", failed.join("; "))]
    Sync { failed: Vec<String> },
    #[error("building the product with the new pins: {source}; nothing was written (`--no-build` pins the caps alone)")]
    Product {
        #[source]
        source: crate::build::ProductBuildError,
    },
    #[error("recording the product's digests: {0}; nothing was written")]
    Expected(#[source] pylon_cpython::BuildError),
    #[error("writing {}: {source}", paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    Write {
        paths: Vec<PathBuf>,
        #[source]
        source: std::io::Error,
    },
}

impl RegenError {
    /// 2 for input the user must fix, 1 for a build or write that failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            RegenError::Manifest(_)
            | RegenError::Describe(_)
            | RegenError::Select(_)
            | RegenError::Profile(_) => 2,
            RegenError::Product { source } => source.exit_code(),
            _ => 1,
        }
    }

    pub fn log_tail(&self) -> &[String] {
        match self {
            RegenError::Product { source } => source.log_tail(),
            _ => &[],
        }
    }
}

/// Runs `manifest regen`.
pub fn regen(
    req: &RegenRequest,
    on_event: &(dyn Fn(RegenEvent<'_>) + Sync),
) -> Result<RegenResult, RegenError> {
    let (mut editor, on_disk) = ManifestEditor::open(&req.manifest_path)?;
    let only = req.caps.only.as_deref();
    let added = stage_new_caps(&mut editor, &on_disk, only)?;
    let with_new = pylon_manifest::parse_manifest(&req.manifest_path, &editor.render()?)?;
    let caps = regen_pins(&with_new, &req.caps, &|name| {
        on_event(RegenEvent::Cap {
            name,
            new: added.iter().any(|a| a == name),
        })
    })?;
    let mut result = RegenResult {
        caps,
        added,
        pylon_sha256: None,
        written: Vec::new(),
    };
    if !result.caps.success() {
        return Ok(result);
    }
    apply_regen(
        &mut editor,
        &req.manifest_path,
        &result.caps,
        &req.toolchain,
    )?;
    let staged = pylon_manifest::parse_manifest(&req.manifest_path, &editor.render()?)?;

    let profiles = staged.root().join("profiles");
    let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    if profiles.is_dir() {
        // Rebuilt even when no cap pin changed: the CPython side (cpython-ext/, the
        // profile, its patches) may have, and its expected digests are pinned here too.
        // The build is cached by content, so an unchanged product costs seconds.
        let pin = match &req.product {
            Some(settings) if !req.dry_run => {
                let (pin, expected) = rebuild_product(req, settings, &staged, on_event)?;
                files.push(expected);
                pin
            }
            _ => ProductPin::OnDisk(on_disk_pin(req, &staged, &profiles)?),
        };
        match &pin {
            ProductPin::Built { sha256, .. }
            | ProductPin::OnDisk(PylonPin::Composed { sha256, .. }) => {
                let digest = Sha256::parse(sha256).map_err(|e| RegenError::Write {
                    paths: vec![req.manifest_path.clone()],
                    source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
                })?;
                editor.set_pylon_sha256(&Pin::Pinned(digest));
            }
            ProductPin::OnDisk(PylonPin::Stale { .. }) => {
                editor.set_pylon_sha256(&Pin::Placeholder);
            }
            ProductPin::OnDisk(PylonPin::NotBuilt { .. }) => {}
        }
        result.pylon_sha256 = Some(pin);
    }
    if req.dry_run {
        return Ok(result);
    }
    // The manifest last: it is what makes the new expected digests authoritative.
    files.push((req.manifest_path.clone(), editor.render()?.into_bytes()));
    pylon_util::fs::write_atomic_all(&files).map_err(|source| RegenError::Write {
        paths: files.iter().map(|(p, _)| p.clone()).collect(),
        source,
    })?;
    result.written = files.into_iter().map(|(p, _)| p).collect();
    Ok(result)
}

/// `pylon_sha256` from the default profile's python.wasm on disk and the caps' artifacts.
fn on_disk_pin(
    req: &RegenRequest,
    staged: &Manifest,
    profiles: &Path,
) -> Result<PylonPin, RegenError> {
    let profile = pylon_cpython::load_profile(profiles, None)?;
    let out_dir = staged.root().join("build").join(&profile.name);
    pylon_pin(staged, &req.caps.caps_dir, &out_dir).map_err(RegenError::Compose)
}

/// Syncs the caps to the staged pins, builds the default profile's product with them
/// (not checked against the old expected digests: they are what is being replaced) and
/// returns its pin and the new `profiles/expected/<profile>.toml`.
fn rebuild_product(
    req: &RegenRequest,
    settings: &ProductSettings,
    staged: &Manifest,
    on_event: &(dyn Fn(RegenEvent<'_>) + Sync),
) -> Result<(ProductPin, (PathBuf, Vec<u8>)), RegenError> {
    let sync = sync_caps(
        staged,
        &SyncOptions {
            caps_dir: req.caps.caps_dir.clone(),
            only: None,
            skip_build: false,
            jobs: 1,
            host: settings.host.clone(),
            current_rustc: req.toolchain.rustc.clone(),
            reference_dir: None,
        },
        &|ev| on_event(RegenEvent::Sync(ev)),
    )?;
    if !sync.success() {
        let failed = sync
            .caps
            .iter()
            .filter(|c| c.status.is_failure())
            .map(describe_failure)
            .collect();
        return Err(RegenError::Sync { failed });
    }

    let root = staged.root().to_path_buf();
    let profiles = root.join("profiles");
    let profile = pylon_cpython::load_profile(&profiles, None)?;
    let out_dir = root.join("build").join(&profile.name);
    // A profile that pins a seeded snapshot gets its digest recorded too.
    let seeded_snapshot = pylon_cpython::build::expected_digests(&profiles, &profile.name)
        .map_err(RegenError::Expected)?
        .is_some_and(|e| e.snapshot.is_some());
    let request = ProductRequest {
        link: root.join("build").join("pylon.wasm"),
        repo_root: root,
        profile,
        manifest: Some(staged),
        caps_dir: req.caps.caps_dir.clone(),
        cache_root: settings.cache_root.clone(),
        out_dir,
        check_pin: true,
        local_tarball: None,
        jobs: settings.jobs,
        force: false,
        seeded_snapshot,
    };
    let built = build_product(&request, &|ev| on_event(RegenEvent::Product(ev)))
        .map_err(|source| RegenError::Product { source })?;
    // A request with a manifest always composes; an empty digest would fail to parse.
    let sha256 = built
        .pylon
        .as_ref()
        .map_or_else(String::new, |p| p.sha256.clone());
    let snapshot = built
        .snapshot
        .as_ref()
        .map(|s| pylon_cpython::build::FileRecord {
            sha256: s.sha256.clone(),
            size: s.size,
        });
    let (expected, text) = pylon_cpython::build::render_expected(
        &profiles,
        &built.build.profile,
        &built.build.python_wasm,
        &built.build.stdlib_zip,
        snapshot.as_ref(),
    )
    .map_err(RegenError::Expected)?;
    Ok((
        ProductPin::Built {
            sha256,
            profile: built.build.profile.clone(),
            python_wasm: built.build.python_wasm.sha256.clone(),
            stdlib_zip: built.build.stdlib_zip.sha256.clone(),
            expected: expected.clone(),
            cached: built.build.cached,
            snapshot_sha256: snapshot.map(|s| s.sha256),
        },
        (expected, text.into_bytes()),
    ))
}

fn describe_failure(c: &CapOutcome) -> String {
    match &c.status {
        pylon_caps::sync::CapStatus::Fail { step, message, .. } => {
            format!("{}: FAIL at {}: {message}", c.name, step.as_str())
        }
        pylon_caps::sync::CapStatus::Mismatch { expected, actual, .. } => format!(
            "{}: MISMATCH: built {} but the new pin is {} (run `pylon caps-sync {}` for a diagnosis)",
            c.name, actual.sha256.0, expected.0, c.name
        ),
        other => format!("{}: {}", c.name, other.label()),
    }
}
