//! A deterministic, uncompressed ("stored") zip writer for the stdlib archive.
//!
//! Written here rather than taken from a zip crate because every byte must be a
//! function of the entry names and contents only: entries sorted by name, one fixed
//! timestamp, fixed permissions, no extra fields, no data descriptors. Stored rather
//! than deflated because zipimport then reads a module with one slice, and because
//! the archive's bytes do not depend on a compressor's version.

use std::collections::BTreeMap;
use std::io::{self, Write};

#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    #[error("zip entry name {0:?} is not a relative path of non-empty components")]
    BadName(String),
    #[error("{0} entries do not fit a zip without zip64 (at most 65535)")]
    TooManyEntries(usize),
    #[error("{what} exceeds 4 GiB, which needs zip64")]
    TooLarge { what: String },
    #[error("writing zip: {0}")]
    Io(#[from] io::Error),
}

/// Converts seconds since 1970 (UTC) to MS-DOS (time, date). Times before 1980 clamp
/// to 1980-01-01, the earliest the format records.
pub fn dos_datetime(epoch: u64) -> (u16, u16) {
    let epoch = epoch.max(315_532_800);
    let days = (epoch / 86_400) as i64;
    let secs = epoch % 86_400;
    let (y, m, d) = pylon_util::date::civil_from_days(days);
    let time = ((secs / 3600) << 11) | (((secs % 3600) / 60) << 5) | ((secs % 60) / 2);
    let date = (((y - 1980) as u64) << 9) | ((m as u64) << 5) | d as u64;
    (time as u16, date as u16)
}

/// Writes `files` (name → content) as a stored zip. Parent directories get their own
/// entries (`a/`, `a/b/`) so tools that expect them (`zipfile.Path`,
/// `importlib.resources`) see the tree; everything is sorted by name.
pub fn write_stored_zip<W: Write>(
    out: &mut W,
    files: &BTreeMap<String, Vec<u8>>,
    epoch: u64,
) -> Result<u64, ZipError> {
    let mut entries: BTreeMap<String, Option<&[u8]>> = BTreeMap::new();
    for (name, data) in files {
        let valid = !name.is_empty()
            && !name.starts_with('/')
            && !name.contains('\\')
            && name
                .split('/')
                .all(|c| !c.is_empty() && c != "." && c != "..");
        if !valid {
            return Err(ZipError::BadName(name.clone()));
        }
        let mut end = 0;
        while let Some(i) = name[end..].find('/') {
            end += i + 1;
            entries.entry(name[..end].to_string()).or_insert(None);
        }
        entries.insert(name.clone(), Some(data.as_slice()));
    }
    if entries.len() > 0xffff {
        return Err(ZipError::TooManyEntries(entries.len()));
    }
    let (time, date) = dos_datetime(epoch);
    let mut offset: u64 = 0;
    let mut central = Vec::new();
    for (name, data) in &entries {
        let data = data.unwrap_or(&[]);
        let is_dir = name.ends_with('/');
        let size =
            u32::try_from(data.len()).map_err(|_| ZipError::TooLarge { what: name.clone() })?;
        let crc = crc32fast::hash(data);
        let local_offset = u32::try_from(offset).map_err(|_| ZipError::TooLarge {
            what: "the archive".into(),
        })?;
        // Bit 11: the name is UTF-8; set only when needed, as Python's zipfile does.
        let flags: u16 = if name.is_ascii() { 0 } else { 0x0800 };
        let name_len = u16::try_from(name.len()).map_err(|_| ZipError::BadName(name.clone()))?;

        let mut local = Vec::with_capacity(30 + name.len());
        local.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        local.extend_from_slice(&10u16.to_le_bytes()); // version needed: 1.0 (stored)
        local.extend_from_slice(&flags.to_le_bytes());
        local.extend_from_slice(&0u16.to_le_bytes()); // method: stored
        local.extend_from_slice(&time.to_le_bytes());
        local.extend_from_slice(&date.to_le_bytes());
        local.extend_from_slice(&crc.to_le_bytes());
        local.extend_from_slice(&size.to_le_bytes());
        local.extend_from_slice(&size.to_le_bytes());
        local.extend_from_slice(&name_len.to_le_bytes());
        local.extend_from_slice(&0u16.to_le_bytes()); // no extra field
        local.extend_from_slice(name.as_bytes());
        out.write_all(&local)?;
        out.write_all(data)?;
        offset += local.len() as u64 + data.len() as u64;

        // Unix mode in the high half of the external attributes; 0x10 is MS-DOS's
        // directory bit. Fixed modes: the builder's umask must not show.
        let external: u32 = if is_dir {
            (0o040755 << 16) | 0x10
        } else {
            0o100644 << 16
        };
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&((3u16 << 8) | 20).to_le_bytes()); // made by: Unix, 2.0
        central.extend_from_slice(&10u16.to_le_bytes());
        central.extend_from_slice(&flags.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&time.to_le_bytes());
        central.extend_from_slice(&date.to_le_bytes());
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&name_len.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes()); // extra
        central.extend_from_slice(&0u16.to_le_bytes()); // comment
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&external.to_le_bytes());
        central.extend_from_slice(&local_offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = u32::try_from(offset).map_err(|_| ZipError::TooLarge {
        what: "the archive".into(),
    })?;
    let cd_size = u32::try_from(central.len()).map_err(|_| ZipError::TooLarge {
        what: "the central directory".into(),
    })?;
    out.write_all(&central)?;
    let count = entries.len() as u16;
    let mut end = Vec::with_capacity(22);
    end.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    end.extend_from_slice(&0u16.to_le_bytes());
    end.extend_from_slice(&0u16.to_le_bytes());
    end.extend_from_slice(&count.to_le_bytes());
    end.extend_from_slice(&count.to_le_bytes());
    end.extend_from_slice(&cd_size.to_le_bytes());
    end.extend_from_slice(&cd_offset.to_le_bytes());
    end.extend_from_slice(&0u16.to_le_bytes()); // comment length
    out.write_all(&end)?;
    Ok(offset + central.len() as u64 + end.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dos_time_of_known_instants() {
        // 1980-01-01 00:00:00
        assert_eq!(dos_datetime(315_532_800), (0, (1 << 5) | 1));
        // 2023-11-14 22:13:20 UTC
        let (t, d) = dos_datetime(1_700_000_000);
        assert_eq!(d >> 9, 43);
        assert_eq!((d >> 5) & 0xf, 11);
        assert_eq!(d & 0x1f, 14);
        assert_eq!(t >> 11, 22);
        assert_eq!((t >> 5) & 0x3f, 13);
        assert_eq!((t & 0x1f) * 2, 20);
    }

    #[test]
    fn rejects_escaping_names() {
        for bad in ["/abs", "a/../b", "a//b", ""] {
            let mut files = BTreeMap::new();
            files.insert(bad.to_string(), vec![]);
            assert!(matches!(
                write_stored_zip(&mut Vec::new(), &files, 0),
                Err(ZipError::BadName(_))
            ));
        }
    }
}
