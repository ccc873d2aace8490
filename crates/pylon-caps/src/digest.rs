//! sha256 of artifacts. `sha2` picks the SHA-NI instructions at run time where the
//! CPU has them, which keeps `verify` within reach of `openssl dgst`.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use pylon_manifest::Sha256;
use sha2::Digest;

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
    let mut file = File::open(path)?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok(FileDigest {
        sha256: Sha256Hex(hex::encode(hasher.finalize())),
        size,
    })
}

pub fn sha256_bytes(bytes: &[u8]) -> FileDigest {
    FileDigest {
        sha256: Sha256Hex(hex::encode(sha2::Sha256::digest(bytes))),
        size: bytes.len() as u64,
    }
}
