//! Downloads into pylon's digest-addressed input cache.
//!
//! `<cache>/inputs/<sha256>` holds exactly the bytes whose digest is its name: a file
//! enters only after its digest was checked, by rename from a temporary file in the
//! same directory, so a killed or truncated download never leaves a trusted partial
//! file, and a second run never downloads. The CPython source tarball and the
//! toolchain's `.deb` files share this cache.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where an input could not come from, and why (for the error that lists them all).
pub type Tried = Vec<(String, String)>;

/// What went wrong with one candidate file.
#[derive(Debug)]
pub enum Refused {
    /// The bytes are not the pinned ones (the file was deleted).
    Digest { actual: String },
    /// Reading, writing or renaming in the cache failed.
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

/// The digest-addressed directory of inputs.
#[derive(Debug, Clone)]
pub struct InputDir {
    pub dir: PathBuf,
}

impl InputDir {
    pub fn new(cache_root: &Path) -> InputDir {
        InputDir {
            dir: cache_root.join("inputs"),
        }
    }

    /// The cached file for `sha256` (it may not exist yet).
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        self.dir.join(sha256)
    }

    /// The cached file for `sha256`, when present.
    pub fn cached(&self, sha256: &str) -> Option<PathBuf> {
        let p = self.path_of(sha256);
        p.is_file().then_some(p)
    }

    /// Copies a local file in when its digest is `sha256`.
    pub fn admit_local(&self, local: &Path, sha256: &str) -> Result<PathBuf, Refused> {
        check_digest(local, sha256, "reading")?;
        let target = self.path_of(sha256);
        if !target.is_file() {
            let tmp = self.temp_file()?;
            fs::copy(local, tmp.path()).map_err(|source| Refused::Io {
                what: "copying",
                path: local.to_path_buf(),
                source,
            })?;
            self.publish(tmp, &target)?;
        }
        Ok(target)
    }

    /// Downloads `url` and admits it when its digest is `sha256`. `Ok(Err(message))`
    /// is a download that failed (the next source may have it); `Err` is a file with
    /// other bytes or a cache that cannot be written.
    pub fn download(&self, url: &str, sha256: &str) -> Result<Result<PathBuf, String>, Refused> {
        let tmp = self.temp_file()?;
        if let Err(message) = curl(url, tmp.path()) {
            return Ok(Err(message));
        }
        check_digest(tmp.path(), sha256, "hashing download")?;
        let target = self.path_of(sha256);
        self.publish(tmp, &target)?;
        Ok(Ok(target))
    }

    fn temp_file(&self) -> Result<tempfile::NamedTempFile, Refused> {
        fs::create_dir_all(&self.dir).map_err(|source| Refused::Io {
            what: "creating cache directory",
            path: self.dir.clone(),
            source,
        })?;
        tempfile::Builder::new()
            .prefix(".partial-")
            .tempfile_in(&self.dir)
            .map_err(|source| Refused::Io {
                what: "creating temporary file in",
                path: self.dir.clone(),
                source,
            })
    }

    fn publish(&self, tmp: tempfile::NamedTempFile, target: &Path) -> Result<(), Refused> {
        tmp.persist(target).map_err(|e| Refused::Io {
            what: "publishing into the input cache",
            path: target.to_path_buf(),
            source: e.error,
        })?;
        Ok(())
    }
}

/// `Ok` when the file at `path` has the digest `sha256`.
fn check_digest(path: &Path, sha256: &str, what: &'static str) -> Result<(), Refused> {
    let (actual, _) = pylon_util::digest::sha256_file(path).map_err(|source| Refused::Io {
        what,
        path: path.to_path_buf(),
        source,
    })?;
    if actual != sha256 {
        return Err(Refused::Digest { actual });
    }
    Ok(())
}

/// Downloads with curl: it honours the machine's proxy settings and is on every
/// machine that builds pylon. Errors carry curl's own message.
pub fn curl(url: &str, out: &Path) -> Result<(), String> {
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
