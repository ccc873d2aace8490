//! sha256 of artifacts as report values ([`FileDigest`]); the hashing itself is
//! `pylon_util::digest`.

use std::io;
use std::path::Path;

use pylon_manifest::Sha256;

/// Digest and size of one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileDigest {
    pub sha256: Sha256Hex,
    pub size: u64,
}

/// Serializable sha256 (the manifest type stays free of serde).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Sha256Hex(pub String);

impl From<&Sha256> for Sha256Hex {
    fn from(d: &Sha256) -> Self {
        Sha256Hex(d.as_str().to_string())
    }
}

impl FileDigest {
    pub fn matches(&self, pinned: &Sha256) -> bool {
        self.sha256.0 == pinned.as_str()
    }
    pub fn to_sha256(&self) -> Sha256 {
        // Produced by our own hex encoding, so always valid.
        Sha256::parse(&self.sha256.0).expect("hex digest of 64 digits")
    }
}

/// Hashes a file in 1 MiB reads.
pub fn sha256_file(path: &Path) -> io::Result<FileDigest> {
    let (hex, size) = pylon_util::digest::sha256_file(path)?;
    Ok(FileDigest {
        sha256: Sha256Hex(hex),
        size,
    })
}

pub fn sha256_bytes(bytes: &[u8]) -> FileDigest {
    FileDigest {
        sha256: Sha256Hex(pylon_util::digest::sha256_hex(bytes)),
        size: bytes.len() as u64,
    }
}
