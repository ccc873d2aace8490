//! Reading a Debian binary package without dpkg: the `ar` container, and its
//! `data.tar.*` member unpacked under a directory.
//!
//! A `.deb` reaches this module only after its sha256 matched the pin, so the content
//! is the archive's own; the checks here are about a file that is not a package at all
//! (a truncated or foreign file in a local directory) and about never writing outside
//! the destination, whatever a member's path or link target says.

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum DebError {
    #[error("{}: not a Debian package: {message}", path.display())]
    Format { path: PathBuf, message: String },
    #[error("{}: unpacking {member}: {source}", path.display())]
    Unpack {
        path: PathBuf,
        member: String,
        source: io::Error,
    },
    #[error("{}: member {member} would be written outside the destination ({entry})", path.display())]
    Escapes {
        path: PathBuf,
        member: String,
        entry: String,
    },
}

/// One member of an `ar` archive: its name, and where its bytes lie in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub offset: u64,
    pub size: u64,
}

const AR_MAGIC: &[u8; 8] = b"!<arch>\n";
const AR_HEADER_LEN: usize = 60;

/// The members of the `ar` archive at `path` (a `.deb` is one: `debian-binary`,
/// `control.tar.*`, `data.tar.*`).
pub fn members(path: &Path) -> Result<Vec<Member>, DebError> {
    let format = |message: String| DebError::Format {
        path: path.to_path_buf(),
        message,
    };
    let mut file = File::open(path).map_err(|e| format(e.to_string()))?;
    let len = file.metadata().map_err(|e| format(e.to_string()))?.len();
    let mut magic = [0u8; 8];
    file.read_exact(&mut magic)
        .map_err(|_| format("shorter than an ar header".into()))?;
    if &magic != AR_MAGIC {
        return Err(format("no `!<arch>` magic".into()));
    }
    let mut out = Vec::new();
    let mut pos = AR_MAGIC.len() as u64;
    while pos < len {
        let mut header = [0u8; AR_HEADER_LEN];
        file.read_exact(&mut header)
            .map_err(|_| format(format!("truncated member header at byte {pos}")))?;
        if &header[58..60] != b"`\n" {
            return Err(format(format!("bad member header at byte {pos}")));
        }
        let name = String::from_utf8_lossy(&header[..16])
            .trim_end()
            .trim_end_matches('/')
            .to_string();
        let size: u64 = std::str::from_utf8(&header[48..58])
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| format(format!("bad size of member {name}")))?;
        let offset = pos + AR_HEADER_LEN as u64;
        if offset + size > len {
            return Err(format(format!(
                "member {name} needs {size} bytes at {offset}, the file has {len} (truncated?)"
            )));
        }
        out.push(Member { name, offset, size });
        // Members are 2-byte aligned.
        pos = offset + size + (size & 1);
        file.seek(SeekFrom::Start(pos))
            .map_err(|e| format(e.to_string()))?;
    }
    Ok(out)
}

/// Unpacks the package's files (its `data.tar.*` member) under `dest`, as dpkg would
/// put them under `/`. Absolute symlink targets are rewritten relative to the link, so
/// the tree under `dest` is self-contained. Returns the number of entries written.
pub fn unpack_data(path: &Path, dest: &Path) -> Result<usize, DebError> {
    let all = members(path)?;
    let data = all
        .iter()
        .find(|m| m.name.starts_with("data.tar"))
        .ok_or_else(|| DebError::Format {
            path: path.to_path_buf(),
            message: format!(
                "no data.tar member (members: {})",
                all.iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?;
    let unpack_err = |source: io::Error| DebError::Unpack {
        path: path.to_path_buf(),
        member: data.name.clone(),
        source,
    };
    let mut file = File::open(path).map_err(unpack_err)?;
    file.seek(SeekFrom::Start(data.offset))
        .map_err(unpack_err)?;
    let raw = BufReader::new(file.take(data.size));
    let reader: Box<dyn Read> = match data.name.as_str() {
        "data.tar" => Box::new(raw),
        "data.tar.xz" => Box::new(liblzma::read::XzDecoder::new(raw)),
        "data.tar.zst" => {
            Box::new(zstd::stream::read::Decoder::with_buffer(raw).map_err(unpack_err)?)
        }
        "data.tar.gz" => Box::new(flate2::read::GzDecoder::new(raw)),
        other => {
            return Err(DebError::Format {
                path: path.to_path_buf(),
                message: format!("unsupported compression of {other}"),
            })
        }
    };
    let mut archive = tar::Archive::new(reader);
    archive.set_preserve_permissions(true);
    archive.set_preserve_mtime(true);
    archive.set_unpack_xattrs(false);
    let mut count = 0;
    for entry in archive.entries().map_err(unpack_err)? {
        let mut entry = entry.map_err(unpack_err)?;
        let rel = entry.path().map_err(unpack_err)?.into_owned();
        let escapes = |entry: String| DebError::Escapes {
            path: path.to_path_buf(),
            member: data.name.clone(),
            entry,
        };
        let rel = confined(&rel).ok_or_else(|| escapes(rel.display().to_string()))?;
        if rel.as_os_str().is_empty() {
            continue; // `./` itself
        }
        let target = dest.join(&rel);
        match entry.header().entry_type() {
            tar::EntryType::Symlink => {
                let link = entry
                    .link_name()
                    .map_err(unpack_err)?
                    .ok_or_else(|| escapes(format!("{} (symlink without target)", rel.display())))?
                    .into_owned();
                let link = relative_link(&rel, &link)
                    .ok_or_else(|| escapes(format!("{} -> {}", rel.display(), link.display())))?;
                if let Some(parent) = target.parent() {
                    fs::create_dir_all(parent).map_err(unpack_err)?;
                }
                if target.symlink_metadata().is_ok() {
                    fs::remove_file(&target).map_err(unpack_err)?;
                }
                std::os::unix::fs::symlink(&link, &target).map_err(unpack_err)?;
            }
            tar::EntryType::Link => {
                let link = entry
                    .link_name()
                    .map_err(unpack_err)?
                    .ok_or_else(|| {
                        escapes(format!("{} (hard link without target)", rel.display()))
                    })?
                    .into_owned();
                let source = confined(&link)
                    .ok_or_else(|| escapes(format!("{} => {}", rel.display(), link.display())))?;
                if let Some(parent) = target.parent() {
                    fs::create_dir_all(parent).map_err(unpack_err)?;
                }
                fs::hard_link(dest.join(source), &target).map_err(unpack_err)?;
            }
            tar::EntryType::Regular | tar::EntryType::Directory => {
                if let Some(parent) = target.parent() {
                    fs::create_dir_all(parent).map_err(unpack_err)?;
                }
                entry.unpack(&target).map_err(unpack_err)?;
            }
            // Device nodes, fifos: nothing a compiler package needs.
            _ => continue,
        }
        count += 1;
    }
    Ok(count)
}

/// A member path as a plain relative path (`./usr/bin/x` → `usr/bin/x`); `None` when it
/// leaves the root (`..`).
fn confined(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// The target a symlink at `link_path` (relative to the root) gets in the unpacked
/// tree: an absolute target (`/usr/lib/x`) becomes the relative path to that place
/// under the same root; a relative one is kept when it stays inside the root.
fn relative_link(link_path: &Path, target: &Path) -> Option<PathBuf> {
    let parent: Vec<_> = link_path
        .parent()
        .map(|p| p.components().collect())
        .unwrap_or_default();
    if target.is_absolute() {
        let target = confined(target)?;
        let mut out = PathBuf::new();
        for _ in &parent {
            out.push("..");
        }
        out.push(target);
        return Some(out);
    }
    // Resolve lexically from the link's directory; it must not climb above the root.
    let mut depth = parent.len() as i64;
    for c in target.components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            _ => return None,
        }
        if depth < 0 {
            return None;
        }
    }
    Some(target.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_link_targets_become_relative_to_the_link() {
        assert_eq!(
            relative_link(
                Path::new("usr/bin/clang-19"),
                Path::new("/usr/lib/llvm-19/bin/clang")
            ),
            Some(PathBuf::from("../../usr/lib/llvm-19/bin/clang"))
        );
        assert_eq!(
            relative_link(
                Path::new("usr/bin/clang-19"),
                Path::new("../lib/llvm-19/bin/clang")
            ),
            Some(PathBuf::from("../lib/llvm-19/bin/clang"))
        );
        assert_eq!(
            relative_link(Path::new("usr/bin/x"), Path::new("../../../etc/passwd")),
            None
        );
        assert_eq!(confined(Path::new("./usr/../../x")), None);
        assert_eq!(
            confined(Path::new("./usr/bin")),
            Some(PathBuf::from("usr/bin"))
        );
    }
}
