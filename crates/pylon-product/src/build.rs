//! The product build as one operation, called by `pylon build` and by `manifest regen`:
//! the caps' shims generated from their WIT, CPython built for wasm32-wasip2 with them
//! and the caps' Python sides (`pylon_cpython::build`, cached by its inputs' key), and
//! the result composed with the caps into `<out_dir>/pylon.wasm`; on request, the
//! seeded startup snapshot the profile pins made of it (`pylon_launch::snapshot`).
//!
//! Prints nothing: progress goes to the caller's `on_event`, the result is returned.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pylon_cpython::build::BuildReport;
use pylon_cpython::toolchain::Layout;
use pylon_cpython::{BuildEvent, BuildOptions, Profile};
use pylon_manifest::Manifest;

use crate::{compose_product, generate_shims, CapModule, ProductError, ProductReport};

/// What to build: a profile, where its inputs and outputs live, and (unless the bare
/// interpreter is asked for) the manifest whose caps are wired in and composed.
pub struct ProductRequest<'a> {
    /// The repository: `profiles/`, `cpython-ext/`; the shims' scratch directory is
    /// made under its `build/`.
    pub repo_root: PathBuf,
    pub profile: Profile,
    /// `None`: the bare interpreter (no shims, no overlays, no composition).
    pub manifest: Option<&'a Manifest>,
    /// Where git caps are checked out.
    pub caps_dir: PathBuf,
    pub cache_root: PathBuf,
    /// `build/<profile>/`.
    pub out_dir: PathBuf,
    /// `build/pylon.wasm` for the default out dir.
    pub link: PathBuf,
    /// Whether this profile's pylon.wasm is the one `pylon_sha256` pins.
    pub check_pin: bool,
    pub local_tarball: Option<PathBuf>,
    pub jobs: usize,
    pub force: bool,
    /// Also make the seeded startup snapshot `profiles/expected/<profile>.toml` pins
    /// (`snapshot_seed`) into `<out_dir>/pylon-snapshot-seed<N>.wasm` and check it.
    pub seeded_snapshot: bool,
}

/// Progress of [`build_product`].
#[derive(Debug)]
pub enum ProductEvent<'a> {
    /// Making sure of the unpacked WASI toolchain (fetch and unpack on first use).
    Toolchain(pylon_toolchain::ToolchainEvent<'a>),
    Cpython(BuildEvent<'a>),
    ComposeStart,
    ComposeDone(Duration),
    SnapshotStart {
        seed: u32,
    },
    SnapshotDone(Duration),
}

/// The seeded startup snapshot a build made, against its pin.
#[derive(Debug, serde::Serialize)]
pub struct SnapshotReport {
    /// `<out_dir>/pylon-snapshot-seed<N>.wasm`.
    pub path: PathBuf,
    pub seed: u32,
    pub sha256: String,
    pub size: u64,
    /// `snapshot_sha256` (`None`: the profile has a seed but no digest yet).
    pub pinned: Option<String>,
}

impl SnapshotReport {
    /// Equal to its pin, or nothing pinned yet.
    pub fn matches(&self) -> bool {
        self.pinned.as_ref().is_none_or(|p| *p == self.sha256)
    }
}

/// What one product build gave.
#[derive(Debug, serde::Serialize)]
pub struct ProductBuild {
    /// The CPython half, with its check against `profiles/expected/<profile>.toml`.
    pub build: BuildReport,
    /// The caps as CPython sees them (empty for the bare interpreter).
    pub caps: Vec<CapModule>,
    /// The composition (`None` for the bare interpreter).
    pub pylon: Option<ProductReport>,
    /// The seeded snapshot (`None` unless asked for).
    pub snapshot: Option<SnapshotReport>,
}

impl ProductBuild {
    /// Built, and matching every pin that applies: `profiles/expected/` (the snapshot's
    /// included) and `pylon_sha256`.
    pub fn success(&self) -> bool {
        self.build.success()
            && self.pylon.as_ref().is_none_or(ProductReport::success)
            && self.snapshot.as_ref().is_none_or(SnapshotReport::matches)
    }
}

/// Why the product could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ProductBuildError {
    /// The caps' side: a missing WIT, an undeclared Python module (before the build),
    /// or an artifact that is not its pin (at composition).
    #[error(transparent)]
    Caps(#[from] ProductError),
    #[error(transparent)]
    Cpython(#[from] pylon_cpython::BuildError),
    /// The pinned WASI toolchain could not be fetched or unpacked.
    #[error("the WASI toolchain: {0}")]
    Toolchain(#[from] pylon_toolchain::ToolchainError),
    /// The seeded snapshot was asked for and could not be made (or is not pinned).
    #[error("the seeded startup snapshot: {0}")]
    Snapshot(String),
}

impl ProductBuildError {
    /// 2 for what must be fixed before anything builds (a cap's layout, the
    /// toolchain), 1 for a build that failed or caps that are not their pins.
    pub fn exit_code(&self) -> u8 {
        match self {
            ProductBuildError::Caps(
                ProductError::MissingArtifact { .. }
                | ProductError::UnpinnedArtifact { .. }
                | ProductError::Compose(_),
            ) => 1,
            ProductBuildError::Caps(_) => 2,
            ProductBuildError::Cpython(e) => e.exit_code(),
            ProductBuildError::Snapshot(_) => 1,
            ProductBuildError::Toolchain(_) => 2,
        }
    }

    /// The last lines of the failing stage's log, when there is one.
    pub fn log_tail(&self) -> &[String] {
        match self {
            ProductBuildError::Cpython(e) => e.log_tail(),
            ProductBuildError::Caps(_)
            | ProductBuildError::Snapshot(_)
            | ProductBuildError::Toolchain(_) => &[],
        }
    }
}

/// The caps' shims and Python sides, without building: what `--explain-modules`
/// shows. Empty for the bare interpreter.
pub fn cap_modules(
    manifest: Option<&Manifest>,
    caps_dir: &Path,
    repo_root: &Path,
) -> Result<Vec<CapModule>, ProductError> {
    match manifest {
        None => Ok(Vec::new()),
        Some(m) => Ok(generate_shims(m, caps_dir, &repo_root.join("build"))?.modules),
    }
}

/// Builds the product: shims, CPython (cached by its inputs), composition.
pub fn build_product(
    req: &ProductRequest<'_>,
    on_event: &dyn Fn(ProductEvent<'_>),
) -> Result<ProductBuild, ProductBuildError> {
    // The shims live in a temporary directory under build/ until the CPython build has
    // copied them into its tree.
    let shims = match req.manifest {
        None => None,
        Some(m) => Some(generate_shims(
            m,
            &req.caps_dir,
            &req.repo_root.join("build"),
        )?),
    };
    let toolchain = pylon_toolchain::resolve(
        &req.cache_root,
        &pylon_cpython::toolchain::deb_pins(&req.profile.toolchain),
        &|e| on_event(ProductEvent::Toolchain(e)),
    )?;
    let opts = BuildOptions {
        layout: Layout::unpacked(&toolchain, &req.profile.build.host_triple),
        repo_root: req.repo_root.clone(),
        profile: req.profile.clone(),
        cache_root: req.cache_root.clone(),
        out_dir: req.out_dir.clone(),
        local_tarball: req.local_tarball.clone(),
        apt_root: PathBuf::from("/etc/apt"),
        jobs: req.jobs,
        force: req.force,
        extra_ext_dirs: shims
            .as_ref()
            .map(|s| vec![s.ext_dir()])
            .unwrap_or_default(),
        overlay_dirs: shims
            .as_ref()
            .map(|s| s.overlay_dirs.clone())
            .unwrap_or_default(),
    };
    let build = pylon_cpython::build(&opts, &|ev| on_event(ProductEvent::Cpython(ev)))?;
    let caps = shims.map_or(Vec::new(), |s| s.modules);

    let pylon = match req.manifest {
        None => None,
        Some(m) => {
            let t = Instant::now();
            on_event(ProductEvent::ComposeStart);
            let p = compose_product(m, &req.caps_dir, &req.out_dir, &req.link, req.check_pin)?;
            on_event(ProductEvent::ComposeDone(t.elapsed()));
            Some(p)
        }
    };
    let snapshot = match (&pylon, req.seeded_snapshot) {
        (Some(p), true) => Some(seeded_snapshot(req, &p.path, on_event)?),
        (None, true) => {
            return Err(ProductBuildError::Snapshot(
                "the bare interpreter (--no-caps) has no pylon.wasm to snapshot".into(),
            ))
        }
        (_, false) => None,
    };
    Ok(ProductBuild {
        build,
        caps,
        pylon,
        snapshot,
    })
}

/// Makes `pylon snapshot --seed N`'s snapshot of the composed `pylon_wasm` (no imports)
/// into the out dir, N being the profile's `snapshot_seed`, and checks it against
/// `snapshot_sha256`. Seeded randomness and fixed clocks make it a function of
/// pylon.wasm and N alone, so it is pinned like the rest of the product.
fn seeded_snapshot(
    req: &ProductRequest<'_>,
    pylon_wasm: &Path,
    on_event: &dyn Fn(ProductEvent<'_>),
) -> Result<SnapshotReport, ProductBuildError> {
    let profiles = req.repo_root.join("profiles");
    let expected_file = profiles
        .join("expected")
        .join(format!("{}.toml", req.profile.name));
    let pin = pylon_cpython::build::expected_digests(&profiles, &req.profile.name)?
        .and_then(|e| e.snapshot)
        .ok_or_else(|| {
            ProductBuildError::Snapshot(format!(
                "{} has no `snapshot_seed`: add `snapshot_seed = N` to pin one",
                expected_file.display()
            ))
        })?;
    let t = Instant::now();
    on_event(ProductEvent::SnapshotStart { seed: pin.seed });
    let spec = pylon_launch::snapshot::SnapshotSpec {
        imports: Vec::new(),
        entropy: pylon_launch::snapshot::Entropy::Seeded(pin.seed),
    };
    let made = pylon_launch::snapshot::make_from_file(pylon_wasm, &spec)
        .map_err(|e| ProductBuildError::Snapshot(e.to_string()))?;
    let path = req.out_dir.join(pin.file_name());
    pylon_util::fs::write_atomic(&path, &made.bytes)
        .map_err(|e| ProductBuildError::Snapshot(format!("writing {}: {e}", path.display())))?;
    on_event(ProductEvent::SnapshotDone(t.elapsed()));
    Ok(SnapshotReport {
        path,
        seed: pin.seed,
        sha256: pylon_util::digest::sha256_hex(&made.bytes),
        size: made.bytes.len() as u64,
        pinned: pin.sha256,
    })
}
