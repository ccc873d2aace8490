//! Fetched inputs, verified by sha256 before use and cached by digest.
//!
//! `<cache>/inputs/<sha256>` holds exactly the bytes whose digest is its name: a file
//! enters the cache only after its digest was checked, by rename from a temporary file
//! in the same directory, so a killed download never leaves a trusted partial file and
//! a second build never downloads.

use std::io;
use std::path::{Path, PathBuf};

use crate::profile::{Sha256, SourceLocation, SourceSpec};
use pylon_toolchain::apt::debian_archives;
use pylon_toolchain::download::{InputDir, Refused};

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{input}: sha256 mismatch for {}: expected {expected}, got {actual}{}", origin, if *deleted { " (the download was deleted)" } else { "" })]
    DigestMismatch {
        input: String,
        origin: String,
        expected: Sha256,
        actual: String,
        deleted: bool,
    },
    #[error("{input} is not cached and could not be fetched (no network, or no source serves it):\n{}\n(or pass --cpython-tarball PATH / PYLON_CPYTHON_TARBALL: a local file whose sha256 is {expected})", tried.iter().map(|(u, e)| format!("  {u}: {e}")).collect::<Vec<_>>().join("\n"))]
    Unavailable {
        input: String,
        expected: Sha256,
        tried: Vec<(String, String)>,
    },
    #[error("{input} is not cached and the profile lists no source for it; pass --cpython-tarball PATH (or PYLON_CPYTHON_TARBALL) with a file whose sha256 is {expected}")]
    NoSource { input: String, expected: Sha256 },
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

/// Where pylon caches things: `$PYLON_CACHE_DIR`, else `${XDG_CACHE_HOME:-~/.cache}/pylon`.
pub fn default_cache_root() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PYLON_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("pylon"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/pylon"))
}

/// sha256 of a file, streamed (hex).
pub fn sha256_file(path: &Path) -> io::Result<String> {
    pylon_util::digest::sha256_file(path).map(|(hex, _)| hex)
}

/// What happened while getting an input, for progress lines.
#[derive(Debug, Clone)]
pub enum FetchEvent<'a> {
    Cached { path: &'a Path },
    Downloading { url: &'a str },
    Failed { url: &'a str, error: &'a str },
}

/// The digest-addressed input cache (`pylon_toolchain::download::InputDir`, which the
/// toolchain's `.deb` files share).
#[derive(Debug, Clone)]
pub struct InputCache {
    pub dir: PathBuf,
    inputs: InputDir,
}

impl InputCache {
    pub fn new(cache_root: &Path) -> InputCache {
        let inputs = InputDir::new(cache_root);
        InputCache {
            dir: inputs.dir.clone(),
            inputs,
        }
    }

    pub fn path_of(&self, digest: &Sha256) -> PathBuf {
        self.inputs.path_of(digest.as_str())
    }

    /// Returns the cached file for `spec`, fetching it first if needed. A `local` file
    /// (from `--cpython-tarball`) is checked and copied in; it is never deleted.
    pub fn tarball(
        &self,
        spec: &SourceSpec,
        local: Option<&Path>,
        apt_root: &Path,
        on_event: &dyn Fn(FetchEvent<'_>),
    ) -> Result<PathBuf, FetchError> {
        let input = spec.tarball.clone();
        let refused = |origin: String, deleted: bool, r: Refused| match r {
            Refused::Digest { actual } => FetchError::DigestMismatch {
                input: input.clone(),
                origin,
                expected: spec.sha256.clone(),
                actual,
                deleted,
            },
            Refused::Io { what, path, source } => FetchError::Io { what, path, source },
        };
        if let Some(local) = local {
            return self
                .inputs
                .admit_local(local, spec.sha256.as_str())
                .map_err(|r| refused(local.display().to_string(), false, r));
        }
        if let Some(target) = self.inputs.cached(spec.sha256.as_str()) {
            on_event(FetchEvent::Cached { path: &target });
            return Ok(target);
        }

        let mut urls = Vec::new();
        let mut tried = Vec::new();
        for source in &spec.sources {
            match source {
                SourceLocation::Url(u) => urls.push(u.clone()),
                SourceLocation::DebianPool(path) => match debian_archives(apt_root) {
                    Ok(archives) => urls.extend(archives.iter().map(|a| format!("{a}/{path}"))),
                    Err(e) => tried.push((format!("debian-pool:{path}"), e.to_string())),
                },
            }
        }
        if urls.is_empty() && tried.is_empty() {
            return Err(FetchError::NoSource {
                input,
                expected: spec.sha256.clone(),
            });
        }
        for url in urls {
            on_event(FetchEvent::Downloading { url: &url });
            match self.inputs.download(&url, spec.sha256.as_str()) {
                Ok(Ok(target)) => return Ok(target),
                Ok(Err(error)) => {
                    on_event(FetchEvent::Failed {
                        url: &url,
                        error: &error,
                    });
                    tried.push((url, error));
                }
                // A wrong file from a pinned place is not a network hiccup: stop here
                // rather than look for a source that happens to agree.
                Err(r) => return Err(refused(url, true, r)),
            }
        }
        Err(FetchError::Unavailable {
            input,
            expected: spec.sha256.clone(),
            tried,
        })
    }
}
