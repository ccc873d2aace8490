//! Diagnoses for MISMATCH (caps-sync) and DRIFTED (verify) artifacts: reads the
//! files and asks pylon-diagnose; the reports themselves stay free of it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pylon_caps::build::{HostPaths, SOURCE_DATE_EPOCH};
use pylon_caps::sync::{CapStatus, SyncReport};
use pylon_caps::verify::{ArtifactStatus, VerifyReport};
use pylon_diagnose::{diagnose_drift, Diagnosis, DriftContext};
use pylon_manifest::Manifest;

/// What the manifest and this machine tell about a drift, shared by every cap.
pub fn context(manifest: &Manifest, caps_dir: &Path) -> DriftContext {
    let host = HostPaths::detect();
    let mut prefixes: Vec<PathBuf> = vec![caps_dir.to_path_buf()];
    prefixes.extend(std::fs::canonicalize(manifest.root()).ok());
    prefixes.extend(host.cargo_home);
    prefixes.extend(host.rustup_home);
    prefixes.extend(std::env::var_os("HOME").map(PathBuf::from));
    DriftContext {
        recorded_rustc: manifest.toolchain.rustc.clone(),
        path_prefixes: prefixes
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .filter(|p| p.len() > 1)
            .collect(),
        source_date_epoch: SOURCE_DATE_EPOCH.parse().ok(),
    }
}

fn diagnose(reference: Option<&Path>, actual: &Path, ctx: &DriftContext) -> Diagnosis {
    let actual_bytes = match std::fs::read(actual) {
        Ok(b) => b,
        Err(e) => {
            return Diagnosis::Unavailable {
                reason: format!("cannot read {}: {e}", actual.display()),
            }
        }
    };
    let reference_bytes = reference.and_then(|p| std::fs::read(p).ok().map(|b| (p, b)));
    let label = reference_bytes
        .as_ref()
        .map(|(p, _)| p.display().to_string());
    diagnose_drift(
        label
            .as_deref()
            .zip(reference_bytes.as_ref().map(|(_, b)| b.as_slice())),
        &actual_bytes,
        ctx,
    )
}

/// Diagnosis per cap name, for every MISMATCH of a sync.
pub fn for_sync(report: &SyncReport, ctx: &DriftContext) -> BTreeMap<String, Diagnosis> {
    report
        .caps
        .iter()
        .filter_map(|cap| match &cap.status {
            CapStatus::Mismatch { reference, .. } => Some((
                cap.name.clone(),
                diagnose(reference.as_deref(), &cap.artifact, ctx),
            )),
            _ => None,
        })
        .collect()
}

/// Diagnosis per artifact name (caps and `pylon`), for every DRIFTED one.
pub fn for_verify(report: &VerifyReport, ctx: &DriftContext) -> BTreeMap<String, Diagnosis> {
    report
        .caps
        .iter()
        .chain(std::iter::once(&report.pylon))
        .filter_map(|check| match &check.status {
            ArtifactStatus::Drifted { reference, .. } => Some((
                check.name.clone(),
                diagnose(reference.as_deref(), &check.path, ctx),
            )),
            _ => None,
        })
        .collect()
}
