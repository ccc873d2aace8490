//! The product build as one operation, called by `pylon build` and by `manifest regen`:
//! the caps' shims generated from their WIT, CPython built for wasm32-wasip2 with them
//! and the caps' Python sides (`pylon_cpython::build`, cached by its inputs' key), and
//! the result composed with the caps into `<out_dir>/pylon.wasm`.
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
}

/// Progress of [`build_product`].
#[derive(Debug)]
pub enum ProductEvent<'a> {
    Cpython(BuildEvent<'a>),
    ComposeStart,
    ComposeDone(Duration),
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
}

impl ProductBuild {
    /// Built, and matching every pin that applies: `profiles/expected/` and
    /// `pylon_sha256`.
    pub fn success(&self) -> bool {
        self.build.success() && self.pylon.as_ref().is_none_or(ProductReport::success)
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
        }
    }

    /// The last lines of the failing stage's log, when there is one.
    pub fn log_tail(&self) -> &[String] {
        match self {
            ProductBuildError::Cpython(e) => e.log_tail(),
            ProductBuildError::Caps(_) => &[],
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
    let opts = BuildOptions {
        layout: Layout::debian(&req.profile.build.host_triple),
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
    Ok(ProductBuild { build, caps, pylon })
}
