//! `verify`: read-only comparison of the artifacts on disk with the manifest.
//! Never builds, never writes, never touches git.

use std::path::{Path, PathBuf};

use pylon_manifest::{Manifest, Pin};

use crate::digest::{sha256_file, FileDigest, Sha256Hex};
use crate::sync::{checkout_dir, find_reference};

#[derive(Debug, Clone)]
pub struct VerifyOptions {
    pub caps_dir: PathBuf,
    /// The composed artifact checked against `pylon_sha256`.
    pub pylon_wasm: PathBuf,
    /// Reference artifacts for diagnosing drift (`--reference DIR`).
    pub reference_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ArtifactStatus {
    Ok {
        digest: FileDigest,
    },
    /// All-zero digest in the manifest: nothing to compare against.
    Placeholder,
    /// The file is not on disk (or not readable).
    Missing {
        reason: String,
    },
    /// On disk, but with another sha256.
    Drifted {
        expected: Sha256Hex,
        expected_size: Option<u64>,
        actual: FileDigest,
        /// An artifact with the pinned digest, to diff the drifted one against.
        reference: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ArtifactCheck {
    /// Cap name, or `pylon` for the composed artifact.
    pub name: String,
    pub path: PathBuf,
    #[serde(flatten)]
    pub status: ArtifactStatus,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifyReport {
    pub caps: Vec<ArtifactCheck>,
    pub pylon: ArtifactCheck,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct VerifyCounts {
    pub ok: usize,
    pub placeholder: usize,
    pub missing: usize,
    pub drifted: usize,
}

impl VerifyReport {
    pub fn counts(&self) -> VerifyCounts {
        let mut c = VerifyCounts::default();
        for cap in &self.caps {
            match cap.status {
                ArtifactStatus::Ok { .. } => c.ok += 1,
                ArtifactStatus::Placeholder => c.placeholder += 1,
                ArtifactStatus::Missing { .. } => c.missing += 1,
                ArtifactStatus::Drifted { .. } => c.drifted += 1,
            }
        }
        c
    }

    /// The spec's `pylon_sha256 status:` word.
    pub fn pylon_label(&self) -> &'static str {
        match self.pylon.status {
            ArtifactStatus::Ok { .. } => "OK",
            ArtifactStatus::Placeholder => "PLACEHOLDER",
            ArtifactStatus::Missing { .. } => "MISSING",
            ArtifactStatus::Drifted { .. } => "MISMATCH",
        }
    }

    /// Every non-placeholder cap matches, and pylon_sha256 is OK or a placeholder.
    pub fn success(&self) -> bool {
        let c = self.counts();
        c.missing == 0
            && c.drifted == 0
            && matches!(
                self.pylon.status,
                ArtifactStatus::Ok { .. } | ArtifactStatus::Placeholder
            )
    }
}

/// Hashes every artifact the manifest pins (in parallel) and compares.
pub fn verify_artifacts(manifest: &Manifest, opts: &VerifyOptions) -> VerifyReport {
    let mut jobs: Vec<(String, PathBuf, Pin<pylon_manifest::Sha256>, Option<u64>)> = manifest
        .caps
        .iter()
        .map(|cap| {
            let path = checkout_dir(manifest, cap, &opts.caps_dir).join(&cap.artifact);
            (cap.name.clone(), path, cap.sha256.clone(), cap.size)
        })
        .collect();
    jobs.push((
        "pylon".to_string(),
        opts.pylon_wasm.clone(),
        manifest.pylon_sha256.clone(),
        None,
    ));
    let mut checks: Vec<ArtifactCheck> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|(name, path, pin, size)| {
                let reference_dir = opts.reference_dir.as_deref();
                scope.spawn(move || ArtifactCheck {
                    name: name.clone(),
                    path: path.clone(),
                    status: check_artifact(path, pin, *size, reference_dir),
                })
            })
            .collect();
        handles
            .into_iter()
            .zip(&jobs)
            .map(|(h, (name, path, _, _))| {
                h.join().unwrap_or_else(|_| ArtifactCheck {
                    name: name.clone(),
                    path: path.clone(),
                    status: ArtifactStatus::Missing {
                        reason: "hashing thread panicked".into(),
                    },
                })
            })
            .collect()
    });
    let pylon = checks.pop().expect("pylon check was queued last");
    VerifyReport {
        caps: checks,
        pylon,
    }
}

fn check_artifact(
    path: &Path,
    pin: &Pin<pylon_manifest::Sha256>,
    size: Option<u64>,
    reference_dir: Option<&Path>,
) -> ArtifactStatus {
    let Pin::Pinned(expected) = pin else {
        return ArtifactStatus::Placeholder;
    };
    match sha256_file(path) {
        Ok(actual) if actual.matches(expected) => ArtifactStatus::Ok { digest: actual },
        Ok(actual) => ArtifactStatus::Drifted {
            expected: expected.into(),
            expected_size: size,
            actual,
            reference: find_reference(path, expected, reference_dir),
        },
        Err(e) => ArtifactStatus::Missing {
            reason: e.to_string(),
        },
    }
}
