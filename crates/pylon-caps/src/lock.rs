//! One advisory lock per cap checkout, so two `caps-sync` runs never clone, check
//! out or build the same checkout at once. The lock is an OS file lock: it is
//! released when the process exits, even when it is killed.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

/// Held for as long as the value lives.
#[derive(Debug)]
pub struct CheckoutLock {
    _file: File,
    pub path: PathBuf,
}

/// Takes the lock at `path`, calling `on_wait` once if another process holds it.
pub fn lock_checkout(path: &Path, on_wait: impl FnOnce()) -> std::io::Result<CheckoutLock> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            on_wait();
            file.lock()?;
        }
        Err(fs::TryLockError::Error(e)) => return Err(e),
    }
    Ok(CheckoutLock {
        _file: file,
        path: path.to_path_buf(),
    })
}
