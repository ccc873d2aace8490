//! A cap is one directory. Its parts are found by looking, never by lists in shared
//! files:
//!
//! ```text
//! <cap>/cap.toml          descriptor (pylon_manifest::descriptor)
//! <cap>/Cargo.toml …      the component project, wit/ included (what `rev` pins)
//! <cap>/python/           its Python side: overlay modules added to the stdlib zip
//! <cap>/smoke/            *_smoke.py (+ *_smoke_host.py) run inside pylon.wasm,
//!                         alloc_loop.py (its part of the leak check)
//! <cap>/wasmtime_test.rs  its component's test in wasmtime (crates/pylon-cap-tests)
//! ```
//!
//! The caps of a project are those of its manifest (at their checkouts: in-tree, or
//! `<caps_dir>/<name>` for git caps, which have the same shape) and every
//! `caps/<name>/cap.toml` in the tree that the manifest does not pin yet.

use std::path::{Path, PathBuf};

use pylon_manifest::{CapDescriptor, Manifest, ManifestError, DESCRIPTOR_FILE};

use crate::sync::checkout_dir;

/// The directory of in-tree caps, next to the manifest.
pub const IN_TREE_DIR: &str = "caps";
pub const PYTHON_DIR: &str = "python";
pub const SMOKE_DIR: &str = "smoke";
pub const WASMTIME_TEST: &str = "wasmtime_test.rs";

#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error(transparent)]
    Descriptor(#[from] ManifestError),
    #[error("{}: name = {found:?}, but the cap is {expected:?} (its directory or manifest entry)", path.display())]
    NameMismatch {
        path: PathBuf,
        found: String,
        expected: String,
    },
    #[error("reading {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One cap as found on this machine.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CapEntry {
    pub name: String,
    /// Its directory (checkout); may not exist yet for a git cap never synced.
    pub dir: PathBuf,
    /// Whether caps-manifest.toml has an entry for it.
    pub in_manifest: bool,
    /// Whether that entry pins a digest (a placeholder is not built into the product).
    pub pinned: bool,
    /// `cap.toml`, when the directory has one.
    pub descriptor: Option<CapDescriptor>,
    pub python_dir: Option<PathBuf>,
    pub smoke_dir: Option<PathBuf>,
    pub wasmtime_test: Option<PathBuf>,
}

impl CapEntry {
    fn at(name: &str, dir: PathBuf) -> Result<CapEntry, LayoutError> {
        let descriptor = read_descriptor_named(name, &dir)?;
        let part = |p: &str| Some(dir.join(p)).filter(|p| p.exists());
        Ok(CapEntry {
            name: name.to_string(),
            python_dir: part(PYTHON_DIR),
            smoke_dir: part(SMOKE_DIR),
            wasmtime_test: part(WASMTIME_TEST),
            dir,
            in_manifest: false,
            pinned: false,
            descriptor,
        })
    }
}

/// The descriptor of cap `name` in `dir`, if it has one, checked to name that cap.
pub fn read_descriptor_named(name: &str, dir: &Path) -> Result<Option<CapDescriptor>, LayoutError> {
    let path = dir.join(DESCRIPTOR_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let d = pylon_manifest::read_descriptor(dir)?;
    if d.name != name {
        return Err(LayoutError::NameMismatch {
            path,
            found: d.name,
            expected: name.to_string(),
        });
    }
    Ok(Some(d))
}

/// Every cap of the project: the manifest's, in its order, then the in-tree
/// directories with a descriptor that the manifest does not have yet, by name.
pub fn find_caps(manifest: &Manifest, caps_dir: &Path) -> Result<Vec<CapEntry>, LayoutError> {
    let mut out = Vec::new();
    for cap in &manifest.caps {
        let mut entry = CapEntry::at(&cap.name, checkout_dir(manifest, cap, caps_dir))?;
        entry.in_manifest = true;
        entry.pinned = !cap.is_placeholder();
        out.push(entry);
    }
    for (name, dir) in unpinned_in_tree(manifest)? {
        out.push(CapEntry::at(&name, dir)?);
    }
    Ok(out)
}

/// `caps/<name>/` directories with a `cap.toml` whose name the manifest lacks.
pub fn unpinned_in_tree(manifest: &Manifest) -> Result<Vec<(String, PathBuf)>, LayoutError> {
    let root = manifest.root().join(IN_TREE_DIR);
    let entries = match std::fs::read_dir(&root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(LayoutError::Io { path: root, source }),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| LayoutError::Io {
            path: root.clone(),
            source,
        })?;
        let dir = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if dir.join(DESCRIPTOR_FILE).is_file() && manifest.cap(&name).is_none() {
            out.push((name, dir));
        }
    }
    out.sort();
    Ok(out)
}
