//! The pinned WASI C toolchain, without dpkg, apt or root.
//!
//! A profile pins clang, lld, llvm, compiler-rt for wasm32, wasi-libc and the shared
//! libraries they load as exact Debian `.deb` files (name, version, sha256, pool path).
//! [`ensure`] fetches each file into the digest-addressed input cache
//! ([`download`]), unpacks every `data.tar` into one staging directory ([`deb`]),
//! replaces the `usr/bin` entry points with small wrappers that run the real binary
//! with the toolchain's own libraries, and publishes the tree by rename as
//! `<cache>/toolchain/<digest>/`: the digest of the pins names the directory, so a
//! directory there is either absent or complete, never half-unpacked.
//!
//! - [`apt`]: the Debian archive hosts of this machine's apt configuration.
//! - [`deb`]: the `ar` container and its `data.tar.*` member.
//! - [`download`]: the input cache, shared with the CPython tarball.
//!
//! The host still provides glibc and libstdc++ (the bookworm binaries need glibc
//! 2.36, for libLLVM's `arc4random`, and GLIBCXX_3.4.30), and `/bin/sh` for the
//! wrappers.

pub mod apt;
pub mod deb;
pub mod download;

use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use download::{InputDir, Refused, Tried};

/// One pinned `.deb`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DebPin {
    pub name: String,
    pub version: String,
    /// sha256 of the `.deb` file (hex).
    pub sha256: String,
    /// Its path in the Debian archive (`pool/main/l/llvm-toolchain-19/…_amd64.deb`).
    pub pool: Option<String>,
}

/// Where the `.deb` files may come from, in order.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// A directory of `.deb` files the user provides (any file names; a file is used
    /// when its sha256 is a pinned one): `PYLON_TOOLCHAIN_DEBS`.
    pub local_debs: Option<PathBuf>,
    /// Archive base URLs (`http://host/debian`) a pin's pool path is fetched under: the
    /// mirror the user names first, then the hosts of the machine's apt configuration.
    pub archives: Vec<String>,
    /// Why no archive could be read from the machine's configuration, when none was.
    pub archives_error: Option<String>,
}

impl Sources {
    /// `PYLON_TOOLCHAIN_DEBS`, `PYLON_DEBIAN_MIRROR` (space-separated base URLs) and the
    /// Debian hosts of the apt configuration under `apt_root` (normally `/etc/apt`).
    pub fn from_environment(apt_root: &Path) -> Sources {
        let local_debs = std::env::var_os("PYLON_TOOLCHAIN_DEBS")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let mut archives: Vec<String> = std::env::var("PYLON_DEBIAN_MIRROR")
            .unwrap_or_default()
            .split_whitespace()
            .map(|u| u.trim_end_matches('/').to_string())
            .collect();
        let mut archives_error = None;
        match apt::debian_archives(apt_root) {
            Ok(hosts) => {
                for h in hosts {
                    if !archives.contains(&h) {
                        archives.push(h);
                    }
                }
            }
            Err(e) => archives_error = Some(e.to_string()),
        }
        Sources {
            local_debs,
            archives,
            archives_error,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ToolchainError {
    /// `package` is `NAME VERSION`.
    #[error("{package}: sha256 mismatch for {origin}: expected {expected}, got {actual} (the file was not used)")]
    Digest {
        package: String,
        origin: String,
        expected: String,
        actual: String,
    },
    #[error("{package} (sha256 {sha256}) could not be fetched:\n{}\nName a Debian mirror that has it with PYLON_DEBIAN_MIRROR=http://host/debian, or put the file ({file}, from any mirror or snapshot.debian.org) in a directory and set PYLON_TOOLCHAIN_DEBS to it; its sha256 is checked either way.", tried.iter().map(|(u, e)| format!("  {u}: {e}")).collect::<Vec<_>>().join("\n"))]
    Unavailable {
        package: String,
        sha256: String,
        tried: Tried,
        /// The `.deb`'s file name in the archive.
        file: String,
    },
    #[error(transparent)]
    Deb(#[from] deb::DebError),
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("{}: {message}", path.display())]
    Untrusted { path: PathBuf, message: String },
}

fn io_err<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> ToolchainError + 'a {
    move |source| ToolchainError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// Progress of [`ensure`], for the caller to print.
#[derive(Debug, Clone)]
pub enum ToolchainEvent<'a> {
    /// The toolchain was already unpacked here.
    Ready {
        root: &'a Path,
    },
    Downloading {
        package: &'a str,
        url: &'a str,
    },
    DownloadFailed {
        url: &'a str,
        error: &'a str,
    },
    Unpacking {
        package: &'a str,
    },
    Published {
        root: &'a Path,
    },
}

/// The unpacked toolchain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unpacked {
    /// `<cache>/toolchain/<digest>`: a tree shaped like `/` (`usr/bin/clang-19`, …).
    pub root: PathBuf,
    /// [`toolchain_digest`] of the pins.
    pub digest: String,
}

impl Unpacked {
    /// A program of the toolchain by its Debian name (`clang-19`, `llvm-ar-19`).
    pub fn program(&self, name: &str) -> PathBuf {
        self.root.join("usr/bin").join(name)
    }

    /// A path of the unpacked tree, for an absolute path of a Debian install
    /// (`/usr/lib/llvm-19` → `<root>/usr/lib/llvm-19`).
    pub fn path(&self, debian_path: &str) -> PathBuf {
        self.root.join(debian_path.trim_start_matches('/'))
    }
}

/// The file recording what a published toolchain directory holds; its presence is
/// also what makes the directory complete.
pub const RECORD: &str = ".pylon-toolchain.json";

/// The toolchain's name: sha256 over every pin's `name version sha256` line, sorted,
/// so the order of pins in a profile does not matter and any changed file does.
pub fn toolchain_digest(pins: &[DebPin]) -> String {
    let mut lines: Vec<String> = pins
        .iter()
        .map(|p| format!("{} {} {}\n", p.name, p.version, p.sha256))
        .collect();
    lines.sort();
    pylon_util::digest::sha256_hex(lines.concat().as_bytes())
}

/// `<cache_root>/toolchain/<digest>` for these pins (whether it exists or not).
pub fn root_for(cache_root: &Path, pins: &[DebPin]) -> PathBuf {
    cache_root.join("toolchain").join(toolchain_digest(pins))
}

/// The unpacked toolchain for `pins`, fetching and unpacking it first when the cache
/// does not hold it yet. Concurrent runs each unpack into their own staging directory;
/// the first rename wins and the others use its result.
pub fn ensure(
    cache_root: &Path,
    pins: &[DebPin],
    sources: &Sources,
    on_event: &dyn Fn(ToolchainEvent<'_>),
) -> Result<Unpacked, ToolchainError> {
    let digest = toolchain_digest(pins);
    let parent = cache_root.join("toolchain");
    let root = parent.join(&digest);
    if let Some(unpacked) = published(&root, &digest)? {
        on_event(ToolchainEvent::Ready { root: &root });
        return Ok(unpacked);
    }
    let inputs = InputDir::new(cache_root);
    let mut debs = Vec::new();
    for pin in pins {
        debs.push(fetch(&inputs, pin, sources, on_event)?);
    }
    fs::create_dir_all(&parent).map_err(io_err("creating", &parent))?;
    sweep_stale_staging(&parent);
    let staging = tempfile::Builder::new()
        .prefix(&format!(".tmp-{digest}-"))
        .tempdir_in(&parent)
        .map_err(io_err("creating a staging directory in", &parent))?;
    for (pin, deb) in pins.iter().zip(&debs) {
        on_event(ToolchainEvent::Unpacking { package: &pin.name });
        deb::unpack_data(deb, staging.path())?;
    }
    wrap_entry_points(staging.path(), &root)?;
    let record = serde_json::json!({
        "format_version": 1,
        "digest": digest,
        "packages": pins,
    });
    let record_path = staging.path().join(RECORD);
    fs::write(
        &record_path,
        serde_json::to_vec_pretty(&record).unwrap_or_default(),
    )
    .map_err(io_err("writing", &record_path))?;
    // The staging directory is 0700 (tempfile); the toolchain is read by the builds'
    // own processes only, but keep it readable like any installed compiler.
    fs::set_permissions(staging.path(), fs::Permissions::from_mode(0o755))
        .map_err(io_err("setting the mode of", staging.path()))?;
    let staged = staging.keep();
    match fs::rename(&staged, &root) {
        Ok(()) => {}
        Err(e) => {
            // Another run published first: use its tree when it is complete.
            let _ = fs::remove_dir_all(&staged);
            if published(&root, &digest)?.is_none() {
                return Err(ToolchainError::Io {
                    what: "publishing the toolchain at",
                    path: root,
                    source: e,
                });
            }
        }
    }
    on_event(ToolchainEvent::Published { root: &root });
    Ok(Unpacked { root, digest })
}

/// The environment variable naming an unpacked toolchain (its root) for this process
/// and the processes it starts: set by `pylon` once it has made sure of the toolchain,
/// so a child build (repro-check's varied builds, whose HOME differs) uses the same
/// tree instead of unpacking another. Checked like any published tree.
pub const ENV_ROOT: &str = "PYLON_WASI_TOOLCHAIN";

/// The unpacked toolchain for `pins`: the one `PYLON_WASI_TOOLCHAIN` names when set
/// (it must be a published tree of exactly these pins), else [`ensure`] in
/// `cache_root` with the sources of this machine's environment.
pub fn resolve(
    cache_root: &Path,
    pins: &[DebPin],
    on_event: &dyn Fn(ToolchainEvent<'_>),
) -> Result<Unpacked, ToolchainError> {
    if let Some(root) = std::env::var_os(ENV_ROOT).filter(|v| !v.is_empty()) {
        let root = PathBuf::from(root);
        let digest = toolchain_digest(pins);
        return match published(&root, &digest)? {
            Some(u) => {
                on_event(ToolchainEvent::Ready { root: &root });
                Ok(u)
            }
            None => Err(ToolchainError::Untrusted {
                path: root,
                message: format!("named by {ENV_ROOT} but does not exist"),
            }),
        };
    }
    ensure(
        cache_root,
        pins,
        &Sources::from_environment(Path::new("/etc/apt")),
        on_event,
    )
}

/// The published toolchain at `root`, or `None` when there is none. A directory that
/// exists but is not a complete one of this user's is an error naming it: pylon never
/// runs compilers from a tree someone else could have written.
pub fn published(root: &Path, digest: &str) -> Result<Option<Unpacked>, ToolchainError> {
    let meta = match fs::symlink_metadata(root) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err("reading", root)(e)),
    };
    let untrusted = |message: String| ToolchainError::Untrusted {
        path: root.to_path_buf(),
        message,
    };
    if !meta.is_dir() {
        return Err(untrusted("not a directory; remove it".into()));
    }
    if let Some(reason) = pylon_util::fs::not_owner_only(&meta) {
        return Err(untrusted(format!(
            "{reason}; a toolchain directory must be this user's and writable by no one else; remove it"
        )));
    }
    let record = root.join(RECORD);
    let text = match fs::read_to_string(&record) {
        Ok(t) => t,
        Err(_) => {
            return Err(untrusted(format!(
                "has no {RECORD}: not a toolchain pylon published; remove it"
            )))
        }
    };
    let recorded = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("digest").and_then(|d| d.as_str()).map(str::to_string));
    if recorded.as_deref() != Some(digest) {
        return Err(untrusted(format!(
            "{RECORD} names another toolchain ({}); remove the directory",
            recorded.as_deref().unwrap_or("unreadable")
        )));
    }
    Ok(Some(Unpacked {
        root: root.to_path_buf(),
        digest: digest.to_string(),
    }))
}

/// Removes staging directories of killed runs (older than a day: a live run's is
/// minutes old).
fn sweep_stale_staging(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(".tmp-") {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > Duration::from_secs(24 * 3600));
        if old {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Gets one pinned `.deb` into the input cache: already there, from the local
/// directory, or from each archive in turn.
fn fetch(
    inputs: &InputDir,
    pin: &DebPin,
    sources: &Sources,
    on_event: &dyn Fn(ToolchainEvent<'_>),
) -> Result<PathBuf, ToolchainError> {
    if let Some(p) = inputs.cached(&pin.sha256) {
        return Ok(p);
    }
    let refused = |origin: String, r: Refused| match r {
        Refused::Digest { actual } => ToolchainError::Digest {
            package: format!("{} {}", pin.name, pin.version),
            origin,
            expected: pin.sha256.clone(),
            actual,
        },
        Refused::Io { what, path, source } => ToolchainError::Io { what, path, source },
    };
    let mut tried: Tried = Vec::new();
    if let Some(dir) = &sources.local_debs {
        match local_candidate(dir, pin) {
            Ok(Some(file)) => {
                return inputs
                    .admit_local(&file, &pin.sha256)
                    .map_err(|r| refused(file.display().to_string(), r))
            }
            Ok(None) => tried.push((
                format!("PYLON_TOOLCHAIN_DEBS={}", dir.display()),
                "no file there has this sha256".into(),
            )),
            Err(e) => tried.push((format!("PYLON_TOOLCHAIN_DEBS={}", dir.display()), e)),
        }
    }
    match &pin.pool {
        Some(pool) => {
            if sources.archives.is_empty() {
                tried.push((
                    pool.clone(),
                    sources
                        .archives_error
                        .clone()
                        .unwrap_or_else(|| "no Debian archive configured".into()),
                ));
            }
            for base in &sources.archives {
                let url = format!("{}/{pool}", base.trim_end_matches('/'));
                on_event(ToolchainEvent::Downloading {
                    package: &pin.name,
                    url: &url,
                });
                match inputs.download(&url, &pin.sha256) {
                    Ok(Ok(path)) => return Ok(path),
                    Ok(Err(error)) => {
                        on_event(ToolchainEvent::DownloadFailed {
                            url: &url,
                            error: &error,
                        });
                        tried.push((url, error));
                    }
                    // Other bytes at a pinned place are not a network hiccup: stop
                    // rather than look for a source that happens to agree.
                    Err(r) => return Err(refused(url, r)),
                }
            }
        }
        None => tried.push((
            "pool".into(),
            "the profile gives no pool path for this package".into(),
        )),
    }
    let file = pin
        .pool
        .as_deref()
        .and_then(|p| p.rsplit('/').next())
        .unwrap_or(&pin.name)
        .to_string();
    Err(ToolchainError::Unavailable {
        package: format!("{} {}", pin.name, pin.version),
        sha256: pin.sha256.clone(),
        tried,
        file,
    })
}

/// The file in `dir` whose sha256 is the pin's: the pool file name is tried first,
/// then every `.deb` there.
fn local_candidate(dir: &Path, pin: &DebPin) -> Result<Option<PathBuf>, String> {
    let mut candidates = Vec::new();
    if let Some(name) = pin.pool.as_deref().and_then(|p| p.rsplit('/').next()) {
        candidates.push(dir.join(name));
    }
    let entries = fs::read_dir(dir).map_err(|e| e.to_string())?;
    let mut rest: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "deb"))
        .collect();
    rest.sort();
    candidates.extend(rest);
    for c in candidates {
        if !c.is_file() {
            continue;
        }
        if let Ok((hex, _)) = pylon_util::digest::sha256_file(&c) {
            if hex == pin.sha256 {
                return Ok(Some(c));
            }
        }
    }
    Ok(None)
}

/// Replaces each `usr/bin` entry that leads to an executable of the tree with a
/// wrapper running it with the tree's own shared libraries first on the search path
/// (`LD_LIBRARY_PATH`, set for that process and the ones it starts, not for the
/// build): the host's libraries beyond glibc and libstdc++ are not mixed in. `root`
/// is where the tree will be published; the wrappers name it.
fn wrap_entry_points(staging: &Path, root: &Path) -> Result<(), ToolchainError> {
    let lib_dirs = library_dirs(staging)?;
    let library_path = lib_dirs
        .iter()
        .map(|d| root.join(d).display().to_string())
        .collect::<Vec<_>>()
        .join(":");
    let bin = staging.join("usr/bin");
    let Ok(entries) = fs::read_dir(&bin) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let link = entry.path();
        let Ok(target) = fs::read_link(&link) else {
            continue; // a regular file: left as it is
        };
        // The link's own target, not its final resolution: `clang++-19` must run as
        // `clang++` (clang picks its mode from its name).
        let in_tree = link.parent().unwrap_or(&bin).join(&target);
        let meta = match fs::metadata(&in_tree) {
            Ok(m) => m,
            Err(_) => continue, // dangling: a file of a package not pinned
        };
        if !meta.is_file() || meta.mode() & 0o111 == 0 {
            continue;
        }
        // `in_tree` is under `staging` by construction (the link is, and unpacking
        // made every target relative and confined).
        let Ok(rel) = in_tree.strip_prefix(staging) else {
            continue;
        };
        let exec = root.join(normalize(rel));
        let script = format!(
            "#!/bin/sh\n# Written by pylon: runs the unpacked toolchain's {name} with the toolchain's own libraries.\nLD_LIBRARY_PATH={lp}\nexport LD_LIBRARY_PATH\nexec {exec} \"$@\"\n",
            name = entry.file_name().to_string_lossy(),
            lp = shell_quote(&library_path),
            exec = shell_quote(&exec.display().to_string()),
        );
        fs::remove_file(&link).map_err(io_err("replacing", &link))?;
        fs::write(&link, script).map_err(io_err("writing", &link))?;
        fs::set_permissions(&link, fs::Permissions::from_mode(0o755))
            .map_err(io_err("setting the mode of", &link))?;
    }
    Ok(())
}

/// Directories of the tree holding shared libraries (`lib*.so*`), sorted.
fn library_dirs(staging: &Path) -> Result<Vec<PathBuf>, ToolchainError> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let abs = staging.join(&rel);
        let mut has_lib = false;
        for entry in fs::read_dir(&abs)
            .map_err(io_err("reading", &abs))?
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            let ft = entry.file_type().map_err(io_err("reading", &abs))?;
            if ft.is_dir() {
                stack.push(rel.join(&name));
            } else if name.starts_with("lib") && name.contains(".so") {
                has_lib = true;
            }
        }
        if has_lib {
            out.push(rel);
        }
    }
    out.sort();
    Ok(out)
}

/// `a/b/../c` → `a/c` (the tree's own symlinks are relative and stay inside it).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::Normal(p) => out.push(p),
            _ => {}
        }
    }
    out
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}
