//! Fetched inputs, verified by sha256 before use and cached by digest.
//!
//! `<cache>/inputs/<sha256>` holds exactly the bytes whose digest is its name: a file
//! enters the cache only after its digest was checked, by rename from a temporary file
//! in the same directory, so a killed download never leaves a trusted partial file and
//! a second build never downloads.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::apt::debian_archives;
use crate::profile::{Sha256, SourceLocation, SourceSpec};

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

/// The digest-addressed input cache.
#[derive(Debug, Clone)]
pub struct InputCache {
    pub dir: PathBuf,
}

impl InputCache {
    pub fn new(cache_root: &Path) -> InputCache {
        InputCache {
            dir: cache_root.join("inputs"),
        }
    }

    pub fn path_of(&self, digest: &Sha256) -> PathBuf {
        self.dir.join(digest.as_str())
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
        let target = self.path_of(&spec.sha256);
        let input = spec.tarball.clone();
        if let Some(local) = local {
            let actual = sha256_file(local).map_err(|source| FetchError::Io {
                what: "reading",
                path: local.to_path_buf(),
                source,
            })?;
            if actual != spec.sha256.as_str() {
                return Err(FetchError::DigestMismatch {
                    input,
                    origin: local.display().to_string(),
                    expected: spec.sha256.clone(),
                    actual,
                    deleted: false,
                });
            }
            if !target.is_file() {
                let tmp = self.temp_file()?;
                fs::copy(local, tmp.path()).map_err(|source| FetchError::Io {
                    what: "copying",
                    path: local.to_path_buf(),
                    source,
                })?;
                self.admit(tmp, &target)?;
            }
            return Ok(target);
        }
        if target.is_file() {
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
            let tmp = self.temp_file()?;
            if let Err(error) = curl(&url, tmp.path()) {
                on_event(FetchEvent::Failed {
                    url: &url,
                    error: &error,
                });
                tried.push((url, error));
                continue;
            }
            let actual = sha256_file(tmp.path()).map_err(|source| FetchError::Io {
                what: "hashing download",
                path: tmp.path().to_path_buf(),
                source,
            })?;
            if actual != spec.sha256.as_str() {
                // A wrong file from a pinned place is not a network hiccup: stop here
                // rather than look for a source that happens to agree.
                drop(tmp);
                return Err(FetchError::DigestMismatch {
                    input,
                    origin: url,
                    expected: spec.sha256.clone(),
                    actual,
                    deleted: true,
                });
            }
            self.admit(tmp, &target)?;
            return Ok(target);
        }
        Err(FetchError::Unavailable {
            input,
            expected: spec.sha256.clone(),
            tried,
        })
    }

    fn temp_file(&self) -> Result<tempfile::NamedTempFile, FetchError> {
        fs::create_dir_all(&self.dir).map_err(|source| FetchError::Io {
            what: "creating cache directory",
            path: self.dir.clone(),
            source,
        })?;
        tempfile::Builder::new()
            .prefix(".partial-")
            .tempfile_in(&self.dir)
            .map_err(|source| FetchError::Io {
                what: "creating temporary file in",
                path: self.dir.clone(),
                source,
            })
    }

    /// Moves a verified file to its digest name.
    fn admit(&self, tmp: tempfile::NamedTempFile, target: &Path) -> Result<(), FetchError> {
        tmp.persist(target).map_err(|e| FetchError::Io {
            what: "publishing into the input cache",
            path: target.to_path_buf(),
            source: e.error,
        })?;
        Ok(())
    }
}

/// Downloads with curl: it honours the machine's proxy settings and is everywhere the
/// toolchain script installs. Errors carry curl's own message.
fn curl(url: &str, out: &Path) -> Result<(), String> {
    let output = Command::new("curl")
        .args([
            "--fail",
            "--silent",
            "--show-error",
            "--location",
            "--retry",
            "2",
        ])
        .args(["--connect-timeout", "20"])
        // Loopback is never proxied (a machine's http_proxy must not capture it).
        .args(["--noproxy", "localhost,127.0.0.1,::1", "--output"])
        .arg(out)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run curl: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
    }
}
