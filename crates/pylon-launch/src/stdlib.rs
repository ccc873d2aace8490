//! Finding the stdlib zip a CPython component expects at a fixed guest path.
//!
//! Convention: next to the (symlink-resolved) wasm file, `record.json` names the guest
//! path in its string field `stdlib_zip_guest_path` (e.g. `/usr/local/lib/python313.zip`)
//! and `lib/` holds the zip under that base name. `lib/` (or `--stdlib DIR`) is preopened
//! read-only at the guest path's directory. No `record.json`: no stdlib is mapped.

use std::path::{Path, PathBuf};

use crate::LaunchError;

/// A host directory to preopen read-only at `guest_dir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mount {
    pub host_dir: PathBuf,
    pub guest_dir: String,
}

pub(crate) fn locate(
    wasm: &Path,
    override_dir: Option<&Path>,
) -> Result<Option<Mount>, LaunchError> {
    let base = wasm.parent().unwrap_or(Path::new("."));
    let record = base.join("record.json");
    let text = match std::fs::read_to_string(&record) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = override_dir {
                return Err(LaunchError::Record {
                    path: record,
                    reason: format!(
                        "--stdlib {} given, but there is no record.json next to the wasm \
                         file to name the guest path",
                        dir.display()
                    ),
                });
            }
            return Ok(None);
        }
        Err(e) => {
            return Err(LaunchError::Record {
                path: record,
                reason: e.to_string(),
            })
        }
    };
    let bad = |reason: String| LaunchError::Record {
        path: record.clone(),
        reason,
    };
    // The one field of pylon-cpython's BuildRecord this crate needs (it stands alone,
    // so it reads the published format, not the type).
    #[derive(serde::Deserialize)]
    struct StdlibRecord {
        stdlib_zip_guest_path: String,
    }
    let parsed: StdlibRecord =
        serde_json::from_str(&text).map_err(|e| bad(format!("not a build record: {e}")))?;
    let guest = parsed.stdlib_zip_guest_path.as_str();
    let (guest_dir, name) = split_guest_path(guest).ok_or_else(|| {
        bad(format!(
            "`stdlib_zip_guest_path` {guest:?} is not an absolute path to a file"
        ))
    })?;
    let host_dir = match override_dir {
        Some(dir) => dir.to_path_buf(),
        None => base.join("lib"),
    };
    let zip = host_dir.join(name);
    match std::fs::metadata(&zip) {
        Ok(m) if m.is_file() => {}
        Ok(_) => {
            return Err(LaunchError::StdlibMissing {
                zip,
                guest: guest.to_owned(),
                record,
                source: std::io::Error::other("not a regular file"),
            })
        }
        Err(source) => {
            return Err(LaunchError::StdlibMissing {
                zip,
                guest: guest.to_owned(),
                record,
                source,
            })
        }
    }
    Ok(Some(Mount {
        host_dir,
        guest_dir: guest_dir.to_owned(),
    }))
}

/// `/usr/local/lib/python313.zip` → (`/usr/local/lib`, `python313.zip`); `/x.zip` → (`/`, `x.zip`).
fn split_guest_path(guest: &str) -> Option<(&str, &str)> {
    if !guest.starts_with('/') {
        return None;
    }
    let (dir, name) = guest.rsplit_once('/')?;
    if name.is_empty() || name == "." || name == ".." {
        return None;
    }
    Some((if dir.is_empty() { "/" } else { dir }, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_paths() {
        assert_eq!(
            split_guest_path("/usr/local/lib/python313.zip"),
            Some(("/usr/local/lib", "python313.zip"))
        );
        assert_eq!(split_guest_path("/x.zip"), Some(("/", "x.zip")));
        assert_eq!(split_guest_path("x.zip"), None);
        assert_eq!(split_guest_path("/usr/"), None);
    }

    #[test]
    fn record_lookup() {
        let dir = tempfile::tempdir().unwrap();
        let wasm = dir.path().join("python.wasm");
        std::fs::write(&wasm, b"").unwrap();
        assert_eq!(locate(&wasm, None).unwrap(), None);
        std::fs::write(
            dir.path().join("record.json"),
            r#"{"stdlib_zip_guest_path": "/usr/local/lib/python313.zip"}"#,
        )
        .unwrap();
        let err = locate(&wasm, None).unwrap_err().to_string();
        assert!(err.contains("python313.zip") && err.contains("/usr/local/lib/python313.zip"));
        std::fs::create_dir(dir.path().join("lib")).unwrap();
        std::fs::write(dir.path().join("lib/python313.zip"), b"PK").unwrap();
        let mount = locate(&wasm, None).unwrap().unwrap();
        assert_eq!(mount.guest_dir, "/usr/local/lib");
        assert_eq!(mount.host_dir, dir.path().join("lib"));
    }
}
