//! The two halves joined: the caps' shims generated into the CPython build, and the
//! built CPython component composed with the caps into `build/<profile>/pylon.wasm`.
//!
//! Returns data (`ShimSet`, `ProductReport`) and prints nothing; the CLI's `pylon
//! build` and `manifest regen` render it. Each step only
//! calls a library: `pylon_shim` (WIT → CPython extension module), `pylon_cpython`
//! (the build), `pylon_compose` (wac-graph composition).

pub mod build;
pub mod drift;
pub mod regen;

use std::path::{Path, PathBuf};

use pylon_caps::digest::sha256_file;
use pylon_caps::layout::PYTHON_DIR;
use pylon_caps::sync::checkout_dir;
use pylon_compose::{CapInput, ComposeRequest, Composition};
use pylon_manifest::{Manifest, Pin};

/// Errors of the shim and compose steps, each naming the cap or file involved.
#[derive(Debug, thiserror::Error)]
pub enum ProductError {
    #[error("cap {cap}: no WIT package at {} (run `make caps-sync` first)", path.display())]
    MissingWit { cap: String, path: PathBuf },
    #[error("cap {cap}: generating its CPython shim: {source}")]
    Shim {
        cap: String,
        source: pylon_shim::ShimError,
    },
    #[error("cap {cap}: {} is missing (run `make caps-sync` first)", path.display())]
    MissingArtifact { cap: String, path: PathBuf },
    #[error("cap {cap}: {} has sha256 {actual}, but caps-manifest.toml pins {pinned} (run `make caps-sync`)", path.display())]
    UnpinnedArtifact {
        cap: String,
        path: PathBuf,
        actual: String,
        pinned: String,
    },
    #[error(transparent)]
    Layout(#[from] pylon_caps::layout::LayoutError),
    #[error(
        "cap {cap}: the Python modules in {} differ from the [[module]]s of {}: {detail}",
        python.display(),
        descriptor.display()
    )]
    UndeclaredModules {
        cap: String,
        python: PathBuf,
        descriptor: PathBuf,
        detail: String,
    },
    #[error(transparent)]
    Compose(#[from] pylon_compose::ComposeError),
    #[error(transparent)]
    Overlay(#[from] pylon_cpython::ext::ExtError),
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ProductError {
    let path = path.to_path_buf();
    move |source| ProductError::Io { what, path, source }
}

/// One cap as CPython sees it: the extension module generated from its WIT, the
/// Python overlay on top, and the interfaces the module imports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CapModule {
    pub cap: String,
    /// `_pylon_<cap>`, compiled into python.wasm.
    pub module: String,
    /// What the module imports (and the cap must export), e.g. `pylon:zlib/zlib@0.1.0`.
    pub imports: Vec<String>,
    /// Python modules the cap's overlay adds to the stdlib zip (`zlib`, `pylon.zstd`).
    pub python_modules: Vec<String>,
    /// The same modules with the reasons its descriptor gives (empty without one).
    #[serde(skip)]
    pub served: Vec<pylon_manifest::ServedModule>,
}

/// The generated shims of a build, in a temporary directory that lives as long as this
/// value: `ext/` is `cpython-ext/`-shaped, `python/` holds pylon-shim's Python runtime
/// (`_pylon_runtime`), the first of the overlay directories.
pub struct ShimSet {
    pub modules: Vec<CapModule>,
    scratch: tempfile::TempDir,
    pub overlay_dirs: Vec<PathBuf>,
}

impl ShimSet {
    /// The `cpython-ext/`-shaped directory of the generated modules.
    pub fn ext_dir(&self) -> PathBuf {
        self.scratch.path().join("ext")
    }
}

/// The caps that take part in the product: pinned ones, by name (placeholders are not
/// built by caps-sync, so there is nothing to compose).
fn product_caps(manifest: &Manifest) -> Vec<&pylon_manifest::Cap> {
    let mut caps: Vec<_> = manifest
        .caps
        .iter()
        .filter(|c| !c.is_placeholder())
        .collect();
    caps.sort_by(|a, b| a.name.cmp(&b.name));
    caps
}

/// Generates every cap's shim into a temporary directory under `scratch_parent`, and
/// finds the caps' Python sides: `<checkout>/python/`, whose modules must be exactly
/// the `[[module]]`s of the cap's descriptor (`<checkout>/cap.toml`) when it has one.
pub fn generate_shims(
    manifest: &Manifest,
    caps_dir: &Path,
    scratch_parent: &Path,
) -> Result<ShimSet, ProductError> {
    std::fs::create_dir_all(scratch_parent).map_err(io("creating", scratch_parent))?;
    let scratch = tempfile::Builder::new()
        .prefix(".shims-")
        .tempdir_in(scratch_parent)
        .map_err(io("creating a directory in", scratch_parent))?;
    let ext_dir = scratch.path().join("ext");
    let runtime_dir = scratch.path().join("python");
    pylon_shim::python_runtime::write_to(&runtime_dir)
        .map_err(io("writing the Python runtime into", &runtime_dir))?;
    let mut modules = Vec::new();
    let mut overlay_dirs = vec![runtime_dir];
    for cap in product_caps(manifest) {
        let checkout = checkout_dir(manifest, cap, caps_dir);
        let wit = checkout.join("wit");
        if !wit.is_dir() {
            return Err(ProductError::MissingWit {
                cap: cap.name.clone(),
                path: wit,
            });
        }
        let shim = pylon_shim::generate_shim(&cap.name, &wit, None).map_err(|source| {
            ProductError::Shim {
                cap: cap.name.clone(),
                source,
            }
        })?;
        shim.write_to(&ext_dir)
            .map_err(|source| ProductError::Shim {
                cap: cap.name.clone(),
                source,
            })?;
        let (python_modules, served) = cap_python_side(&cap.name, &checkout)?;
        if !python_modules.is_empty() {
            overlay_dirs.push(checkout.join(PYTHON_DIR));
        }
        modules.push(CapModule {
            cap: cap.name.clone(),
            module: shim.module_name().to_string(),
            imports: shim.imports().to_vec(),
            python_modules,
            served,
        });
    }
    Ok(ShimSet {
        modules,
        scratch,
        overlay_dirs,
    })
}

/// The Python modules of a cap's `python/` directory, checked against its descriptor's
/// `[[module]]` list when the cap has a descriptor (a module shipped but not declared,
/// or declared but not shipped, is an error naming both files); with the descriptor's
/// entries, in its order.
pub fn cap_python_side(
    cap: &str,
    checkout: &Path,
) -> Result<(Vec<String>, Vec<pylon_manifest::ServedModule>), ProductError> {
    let python = checkout.join(PYTHON_DIR);
    let shipped = if python.is_dir() {
        python_modules_in(&python)?
    } else {
        Vec::new()
    };
    let Some(descriptor) = pylon_caps::layout::read_descriptor_named(cap, checkout)? else {
        return Ok((shipped, Vec::new()));
    };
    let mut declared: Vec<String> = descriptor.modules.iter().map(|m| m.name.clone()).collect();
    declared.sort();
    if declared != shipped {
        let missing: Vec<_> = declared.iter().filter(|m| !shipped.contains(m)).collect();
        let extra: Vec<_> = shipped.iter().filter(|m| !declared.contains(m)).collect();
        let mut detail = Vec::new();
        if !extra.is_empty() {
            detail.push(format!("not declared as [[module]]: {extra:?}"));
        }
        if !missing.is_empty() {
            detail.push(format!("declared but no file: {missing:?}"));
        }
        return Err(ProductError::UndeclaredModules {
            cap: cap.to_string(),
            python,
            descriptor: checkout.join(pylon_manifest::DESCRIPTOR_FILE),
            detail: detail.join("; "),
        });
    }
    Ok((shipped, descriptor.modules))
}

/// Dotted names of the Python modules an overlay directory adds to the stdlib zip
/// (`pylon/zstd.py` → `pylon.zstd`, `pkg/__init__.py` → `pkg`), sorted; the files are
/// listed exactly as the build lists them.
fn python_modules_in(dir: &Path) -> Result<Vec<String>, ProductError> {
    let files = pylon_cpython::ext::list_overlays(&[dir.to_path_buf()])?;
    let mut out: Vec<String> = files
        .iter()
        .map(|f| {
            let module = f.path.strip_suffix(".py").unwrap_or(&f.path);
            let module = module.strip_suffix("/__init__").unwrap_or(module);
            module.replace('/', ".")
        })
        .collect();
    out.sort();
    Ok(out)
}

/// What composing the product gave.
#[derive(Debug, serde::Serialize)]
pub struct ProductReport {
    /// `build/<profile>/pylon.wasm`.
    pub path: PathBuf,
    /// The link `build/pylon.wasm` pointing at it.
    pub link: PathBuf,
    pub sha256: String,
    pub size: u64,
    pub composition: Composition,
    /// The manifest's `pylon_sha256` check.
    pub pin_status: PinStatus,
    pub pinned: Option<String>,
}

/// The composed artifact against `pylon_sha256` (serialized as `OK`, `MISMATCH`,
/// `PLACEHOLDER`, `NOT CHECKED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum PinStatus {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "MISMATCH")]
    Mismatch,
    #[serde(rename = "PLACEHOLDER")]
    Placeholder,
    /// pylon_sha256 pins the default profile only.
    #[serde(rename = "NOT CHECKED")]
    NotChecked,
}

impl ProductReport {
    pub fn success(&self) -> bool {
        self.pin_status != PinStatus::Mismatch
    }
}

/// Composes the CPython component `socket` with every pinned cap of the manifest, after
/// checking each cap artifact against its pin. Writes nothing.
pub fn compose_caps(
    manifest: &Manifest,
    caps_dir: &Path,
    socket: Vec<u8>,
) -> Result<Composition, ProductError> {
    let mut caps = Vec::new();
    for cap in product_caps(manifest) {
        let path = checkout_dir(manifest, cap, caps_dir).join(&cap.artifact);
        if !path.is_file() {
            return Err(ProductError::MissingArtifact {
                cap: cap.name.clone(),
                path,
            });
        }
        let bytes = std::fs::read(&path).map_err(io("reading", &path))?;
        let actual = pylon_caps::digest::sha256_bytes(&bytes).sha256.0;
        if let Pin::Pinned(pinned) = &cap.sha256 {
            if actual != pinned.as_str() {
                return Err(ProductError::UnpinnedArtifact {
                    cap: cap.name.clone(),
                    path,
                    actual,
                    pinned: pinned.as_str().to_string(),
                });
            }
        }
        caps.push(CapInput {
            name: cap.name.clone(),
            bytes,
            declared_exports: cap.exports.clone(),
        });
    }
    Ok(pylon_compose::compose(&ComposeRequest {
        socket_name: "cpython".into(),
        socket,
        caps,
    })?)
}

/// [`compose_caps`] over `<out_dir>/python.wasm`, published as `<out_dir>/pylon.wasm`
/// (atomically) with `link` pointing at it. `check_pin`: whether this profile's
/// artifact is the one `pylon_sha256` pins.
pub fn compose_product(
    manifest: &Manifest,
    caps_dir: &Path,
    out_dir: &Path,
    link: &Path,
    check_pin: bool,
) -> Result<ProductReport, ProductError> {
    let socket_path = out_dir.join("python.wasm");
    let socket = std::fs::read(&socket_path).map_err(io("reading", &socket_path))?;
    let composition = compose_caps(manifest, caps_dir, socket)?;
    let path = pylon_compose::write_composition(&composition.bytes, out_dir, link)?;
    let digest = sha256_file(&path).map_err(io("hashing", &path))?;
    let (pin_status, pinned) = match (&manifest.pylon_sha256, check_pin) {
        (_, false) => (PinStatus::NotChecked, None),
        (Pin::Placeholder, true) => (PinStatus::Placeholder, None),
        (Pin::Pinned(p), true) if p.as_str() == digest.sha256.0 => {
            (PinStatus::Ok, Some(p.as_str().to_string()))
        }
        (Pin::Pinned(p), true) => (PinStatus::Mismatch, Some(p.as_str().to_string())),
    };
    Ok(ProductReport {
        path,
        link: link.to_path_buf(),
        sha256: digest.sha256.0,
        size: digest.size,
        composition,
        pin_status,
        pinned,
    })
}

/// What `pylon manifest regen` can say about `pylon_sha256`.
#[derive(Debug, serde::Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum PylonPin {
    /// Composed from `python` and the caps' (pinned) artifacts.
    Composed { sha256: String, python: PathBuf },
    /// Nothing to compose from yet.
    NotBuilt { python: PathBuf },
    /// What is on disk cannot make the product these pins describe: a cap's artifact
    /// is not (yet) the newly pinned one, or python.wasm was built without a cap's
    /// shim. `pylon_sha256` becomes the placeholder until the product is rebuilt.
    Stale { python: PathBuf, reason: String },
}

/// The digest `pylon_sha256` should hold: the composition of the default profile's
/// `build/<profile>/python.wasm` with the manifest's caps, as `pylon build` makes it.
pub fn pylon_pin(
    manifest: &Manifest,
    caps_dir: &Path,
    profile_out_dir: &Path,
) -> Result<PylonPin, ProductError> {
    let python = profile_out_dir.join("python.wasm");
    if !python.is_file() {
        return Ok(PylonPin::NotBuilt { python });
    }
    let socket = std::fs::read(&python).map_err(io("reading", &python))?;
    let composition = match compose_caps(manifest, caps_dir, socket) {
        Ok(c) => c,
        Err(e @ (ProductError::MissingArtifact { .. } | ProductError::UnpinnedArtifact { .. })) => {
            return Ok(PylonPin::Stale {
                python,
                reason: e.to_string(),
            })
        }
        Err(e) => return Err(e),
    };
    if !composition.unused_caps.is_empty() {
        return Ok(PylonPin::Stale {
            reason: format!(
                "{} was built without the shim of cap(s) {} (run `make build`)",
                python.display(),
                composition.unused_caps.join(", ")
            ),
            python,
        });
    }
    Ok(PylonPin::Composed {
        sha256: pylon_caps::digest::sha256_bytes(&composition.bytes)
            .sha256
            .0,
        python,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap_dir(modules: &[&str], files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let mut desc = String::from(
            "name = \"demo\"\ntarget = \"wasm32-wasip2\"\nartifact = \"a.wasm\"\nworld = \"w\"\n",
        );
        for m in modules {
            desc.push_str(&format!("[[module]]\nname = \"{m}\"\nreason = \"r\"\n"));
        }
        std::fs::write(dir.path().join("cap.toml"), desc).unwrap();
        for f in files {
            let p = dir.path().join("python").join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x = 1\n").unwrap();
        }
        dir
    }

    #[test]
    fn python_side_must_match_the_declared_modules() {
        let ok = cap_dir(
            &["demo", "pkg", "pkg.sub"],
            &["demo.py", "pkg/__init__.py", "pkg/sub.py"],
        );
        let (modules, served) = cap_python_side("demo", ok.path()).unwrap();
        assert_eq!(modules, ["demo", "pkg", "pkg.sub"]);
        assert_eq!(served.len(), 3);

        let bad = cap_dir(&["demo", "gone"], &["demo.py", "extra.py"]);
        let e = cap_python_side("demo", bad.path()).unwrap_err().to_string();
        assert!(e.contains("not declared as [[module]]: [\"extra\"]"), "{e}");
        assert!(e.contains("declared but no file: [\"gone\"]"), "{e}");

        let other = cap_dir(&[], &[]);
        let e = cap_python_side("zlib", other.path())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("name = \"demo\"") && e.contains("\"zlib\""),
            "{e}"
        );
    }
}
