//! The C-extension wiring point and the patch sets.
//!
//! `cpython-ext/<module>/` holds one extension module's C sources (and headers); an
//! optional `setup.flags` holds extra `Modules/Setup` tokens for it (`-I…`, `-l…`).
//! Each directory is copied into the CPython tree as `Modules/_pylon_ext/<module>/` and
//! gets one line in a generated `Modules/Setup.local`, so a later change adds a
//! cap-backed module by adding a directory, without touching this crate. Every file
//! of every module is part of the build's cache key.
//!
//! `profiles/patches/<version>/*.patch` are applied in name order with `patch -p1`
//! inside the tarball's top directory.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::profile::is_module_name;

/// Subdirectory of `Modules/` the extension sources are copied to.
pub const EXT_SUBDIR: &str = "_pylon_ext";

#[derive(Debug, thiserror::Error)]
pub enum ExtError {
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error("reading {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

/// One file of an input directory: its relative path and sha256.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InputFile {
    pub path: String,
    pub sha256: String,
}

/// A `cpython-ext/<name>/` module.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExtModule {
    pub name: String,
    #[serde(skip)]
    pub dir: PathBuf,
    pub files: Vec<InputFile>,
    /// Extra Setup tokens from `setup.flags`.
    pub flags: String,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ExtError {
    let path = path.to_path_buf();
    move |source| ExtError::Io { path, source }
}

/// Every regular file under `dir`, relative, sorted, with its digest. Hidden entries
/// (`.git`, editor files) are not inputs.
pub fn list_files(dir: &Path) -> Result<Vec<InputFile>, ExtError> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let abs = dir.join(&rel);
        for entry in fs::read_dir(&abs).map_err(io_err(&abs))? {
            let entry = entry.map_err(io_err(&abs))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let child = rel.join(&name);
            let ty = entry.file_type().map_err(io_err(&abs))?;
            if ty.is_dir() {
                stack.push(child);
            } else {
                let path = dir.join(&child);
                let bytes = fs::read(&path).map_err(io_err(&path))?;
                out.push(InputFile {
                    path: child.to_string_lossy().into_owned(),
                    sha256: pylon_util::digest::sha256_hex(&bytes),
                });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// The modules under `ext_dir` (absent directory = none), sorted by name.
pub fn scan_ext_modules(ext_dir: &Path) -> Result<Vec<ExtModule>, ExtError> {
    if !ext_dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in fs::read_dir(ext_dir).map_err(io_err(ext_dir))? {
        let entry = entry.map_err(io_err(ext_dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if name.starts_with('.') || !path.is_dir() {
            continue; // README and the like
        }
        if !is_module_name(&name) {
            return Err(ExtError::Invalid {
                path,
                message: "an extension directory is named after its module (letters, digits, '_')"
                    .into(),
            });
        }
        let files = list_files(&path)?;
        if !files.iter().any(|f| f.path.ends_with(".c")) {
            return Err(ExtError::Invalid {
                path,
                message: "no .c source in this extension module directory".into(),
            });
        }
        let flags_path = path.join("setup.flags");
        let flags = if flags_path.is_file() {
            let text = fs::read_to_string(&flags_path).map_err(io_err(&flags_path))?;
            let flags = text
                .lines()
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            if let Some(token) = flags.split_whitespace().find(|t| t.contains('=')) {
                // makesetup reads any Setup line holding a '=' as a Makefile variable
                // definition, so the module's whole line would be lost.
                return Err(ExtError::Invalid {
                    path: flags_path,
                    message: format!(
                        "setup.flags holds compiler/linker tokens (-I, -D, -l, -L, -Wl,…) \
                         without '=' (makesetup takes a line with '=' for a variable): \
                         {token:?}; write -DNAME, or -Wl,--option,value"
                    ),
                });
            }
            flags
        } else {
            String::new()
        };
        out.push(ExtModule {
            name,
            dir: path,
            files,
            flags,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The modules of several `cpython-ext/`-shaped directories, sorted by name. One module
/// name in two directories is an error naming both: it would be one `Setup.local` line.
pub fn scan_ext_dirs(dirs: &[PathBuf]) -> Result<Vec<ExtModule>, ExtError> {
    let mut out: Vec<ExtModule> = Vec::new();
    for dir in dirs {
        for m in scan_ext_modules(dir)? {
            if let Some(prev) = out.iter().find(|p| p.name == m.name) {
                return Err(ExtError::Invalid {
                    path: m.dir.clone(),
                    message: format!(
                        "extension module {} is also defined in {}",
                        m.name,
                        prev.dir.display()
                    ),
                });
            }
            out.push(m);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// A file added to the stdlib zip from an overlay directory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OverlayFile {
    /// Path inside the zip (`zlib.py`, `pylon/zstd.py`).
    pub path: String,
    pub sha256: String,
    #[serde(skip)]
    pub source: PathBuf,
}

/// The `.py` files of the overlay directories, by their path inside the zip. Two
/// overlays providing the same path is an error naming both; an overlay may replace a
/// stdlib file (that is how a cap serves a module whose C part is disabled).
pub fn list_overlays(dirs: &[PathBuf]) -> Result<Vec<OverlayFile>, ExtError> {
    let mut out: Vec<OverlayFile> = Vec::new();
    for dir in dirs {
        if !dir.is_dir() {
            return Err(ExtError::Invalid {
                path: dir.clone(),
                message: "overlay directory does not exist".into(),
            });
        }
        for f in list_files(dir)? {
            if !f.path.ends_with(".py") {
                continue; // READMEs and the like are not part of the stdlib
            }
            let source = dir.join(&f.path);
            if let Some(prev) = out.iter().find(|p| p.path == f.path) {
                return Err(ExtError::Invalid {
                    path: source,
                    message: format!("{} is also provided by {}", f.path, prev.source.display()),
                });
            }
            out.push(OverlayFile {
                path: f.path,
                sha256: f.sha256,
                source,
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// The `Modules/Setup.local` text for these modules. Static: WASI has no shared
/// libraries, so every module is linked into python.wasm.
pub fn setup_local(modules: &[ExtModule]) -> String {
    let mut s = String::from(
        "# Generated by `pylon build` from cpython-ext/ (see docs/build.md); do not edit.\n*static*\n",
    );
    for m in modules {
        let sources: Vec<String> = m
            .files
            .iter()
            .filter(|f| f.path.ends_with(".c"))
            .map(|f| format!("{EXT_SUBDIR}/{}/{}", m.name, f.path))
            .collect();
        s.push_str(&m.name);
        s.push(' ');
        s.push_str(&sources.join(" "));
        if !m.flags.is_empty() {
            s.push(' ');
            s.push_str(&m.flags);
        }
        s.push('\n');
    }
    s
}

/// Copies each module into `<tree>/Modules/_pylon_ext/<name>/`.
pub fn install_ext_modules(modules: &[ExtModule], tree: &Path) -> Result<(), ExtError> {
    for m in modules {
        let dest = tree.join("Modules").join(EXT_SUBDIR).join(&m.name);
        for f in &m.files {
            let from = m.dir.join(&f.path);
            let to = dest.join(&f.path);
            if let Some(parent) = to.parent() {
                fs::create_dir_all(parent).map_err(io_err(parent))?;
            }
            fs::copy(&from, &to).map_err(io_err(&from))?;
        }
    }
    Ok(())
}

/// Brings the modules' files in an already unpacked tree up to date, writing only
/// files whose bytes differ; returns the names of the modules that changed.
pub fn update_ext_modules(modules: &[ExtModule], tree: &Path) -> Result<Vec<String>, ExtError> {
    let mut changed = Vec::new();
    for m in modules {
        let dest = tree.join("Modules").join(EXT_SUBDIR).join(&m.name);
        let mut any = false;
        for f in &m.files {
            let from = m.dir.join(&f.path);
            let to = dest.join(&f.path);
            let new = fs::read(&from).map_err(io_err(&from))?;
            if fs::read(&to).ok().as_deref() == Some(new.as_slice()) {
                continue;
            }
            if let Some(parent) = to.parent() {
                fs::create_dir_all(parent).map_err(io_err(parent))?;
            }
            fs::write(&to, &new).map_err(io_err(&to))?;
            any = true;
        }
        if any {
            changed.push(m.name.clone());
        }
    }
    Ok(changed)
}

/// A patch of a profile's patch set.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Patch {
    pub name: String,
    #[serde(skip)]
    pub path: PathBuf,
    pub sha256: String,
}

/// `<patches_dir>/<version>/*.patch`, in name order (absent directory = none).
pub fn list_patches(patches_dir: &Path, version: &str) -> Result<Vec<Patch>, ExtError> {
    let dir = patches_dir.join(version);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in fs::read_dir(&dir).map_err(io_err(&dir))? {
        let entry = entry.map_err(io_err(&dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".patch") {
            continue;
        }
        // Absolute: `patch` runs inside the source tree.
        let path = fs::canonicalize(entry.path()).map_err(io_err(&entry.path()))?;
        let bytes = fs::read(&path).map_err(io_err(&path))?;
        out.push(Patch {
            name,
            path,
            sha256: pylon_util::digest::sha256_hex(&bytes),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
