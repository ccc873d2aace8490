//! Writes that readers never see torn: a temporary file in the target's directory,
//! synced, then renamed over it.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` through a temporary file in the same directory and a
/// rename, so readers see the old content or the new, never a torn file. A file that
/// is replaced keeps its permissions; a new one is 0644.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    stage(path, bytes)?.commit()
}

/// Writes several files all or nothing as far as a filesystem allows: every new content
/// is written and synced to a temporary file beside its target first (a full disk or a
/// missing directory fails here, before any target changed), then the renames run in
/// the given order. Put the file that makes the set authoritative last.
pub fn write_atomic_all(files: &[(PathBuf, Vec<u8>)]) -> std::io::Result<()> {
    let staged = files
        .iter()
        .map(|(path, bytes)| stage(path, bytes))
        .collect::<std::io::Result<Vec<_>>>()?;
    for s in staged {
        s.commit()?;
    }
    Ok(())
}

/// A synced temporary file waiting to be renamed over `path`; dropped, it is removed.
struct Staged {
    tmp: tempfile::NamedTempFile,
    path: PathBuf,
}

impl Staged {
    fn commit(self) -> std::io::Result<()> {
        self.tmp.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
}

fn stage(path: &Path, bytes: &[u8]) -> std::io::Result<Staged> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".pylon-tmp-")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    // Keep the permissions of the file we replace (tempfile creates 0600).
    match std::fs::metadata(path) {
        Ok(meta) => std::fs::set_permissions(tmp.path(), meta.permissions())?,
        Err(_) => set_default_permissions(tmp.path())?,
    }
    Ok(Staged {
        tmp,
        path: path.to_path_buf(),
    })
}

#[cfg(unix)]
fn set_default_permissions(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_default_permissions(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Why a cache directory or file with this metadata cannot be trusted, if it cannot:
/// it is someone else's, or someone else can write it. pylon runs code from its caches
/// (compiled modules, unpacked compilers), so only the user's own, unshared entries
/// count.
#[cfg(unix)]
pub fn not_owner_only(meta: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    extern "C" {
        fn geteuid() -> u32;
    }
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    let me = unsafe { geteuid() };
    if meta.uid() != me {
        return Some(format!(
            "owned by uid {}, not by the user running pylon (uid {me})",
            meta.uid()
        ));
    }
    let writable_by = match (meta.mode() & 0o020 != 0, meta.mode() & 0o002 != 0) {
        (true, true) => "group and others",
        (true, false) => "its group",
        (false, true) => "others",
        (false, false) => return None,
    };
    Some(format!(
        "writable by {writable_by} (mode {:o})",
        meta.mode() & 0o7777
    ))
}

#[cfg(not(unix))]
pub fn not_owner_only(_meta: &std::fs::Metadata) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_with_one_unwritable_target_changes_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.toml");
        std::fs::write(&a, b"old").unwrap();
        let missing = dir.path().join("no-such-dir/b.toml");
        let err = write_atomic_all(&[(a.clone(), b"new".to_vec()), (missing, b"x".to_vec())]);
        assert!(err.is_err());
        assert_eq!(std::fs::read(&a).unwrap(), b"old");
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [std::ffi::OsString::from("a.toml")]);

        let b = dir.path().join("b.toml");
        write_atomic_all(&[(a.clone(), b"new".to_vec()), (b.clone(), b"bee".to_vec())]).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), b"new");
        assert_eq!(std::fs::read(&b).unwrap(), b"bee");
    }
}
