//! The diagnosis printed next to a MISMATCH (caps-sync) or DRIFTED (verify) line.
//!
//! With a reference artifact (the previously published file, or one given with
//! `--reference DIR`) the two are diffed and the causes named. Without one, only
//! what the new artifact shows on its own can be said: the toolchain recorded in
//! the manifest against the one that made it, and machine paths or timestamps
//! embedded in it. Either way the last line is the next thing to try.

use serde::Serialize;

use crate::{diff_wasm, scan_artifact_with, CauseSummary, Findings, ScanOptions};

/// What is known about the build besides the two artifacts.
#[derive(Debug, Clone, Default)]
pub struct DriftContext {
    /// `[toolchain] rustc` of the manifest, e.g. `rustc 1.95.0 (59807616e 2026-04-14)`.
    pub recorded_rustc: Option<String>,
    /// Directories of this machine that must not appear in an artifact.
    pub path_prefixes: Vec<String>,
    /// The SOURCE_DATE_EPOCH the build ran with: equal timestamps are pinned.
    pub source_date_epoch: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Diagnosis {
    /// Compared with a reference artifact.
    Diff {
        reference: String,
        causes: Vec<CauseSummary>,
    },
    /// No reference: what the artifact shows alone.
    Scan {
        lines: Vec<String>,
        findings: Findings,
    },
    /// The reference or the artifact could not be compared.
    Unavailable { reason: String },
}

impl Diagnosis {
    /// Lines to print under the digests, most explanatory first.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Diagnosis::Diff { reference, causes } => {
                let mut out = vec![format!("compared with {reference}:")];
                out.extend(causes.iter().map(|c| c.line.clone()));
                out
            }
            Diagnosis::Scan { lines, .. } => lines.clone(),
            Diagnosis::Unavailable { reason } => vec![format!("no diagnosis: {reason}")],
        }
    }

    /// The next thing to try, from the most explanatory cause.
    pub fn next_step(&self) -> Option<String> {
        match self {
            Diagnosis::Diff { causes, .. } => causes.first().map(|c| c.advice.clone()),
            _ => None,
        }
    }
}

/// Diagnoses a drifted artifact. `reference` is `(label, bytes)` of the artifact
/// that matched the pin, when one is available.
pub fn diagnose_drift(
    reference: Option<(&str, &[u8])>,
    actual: &[u8],
    ctx: &DriftContext,
) -> Diagnosis {
    if let Some((label, reference)) = reference {
        return match diff_wasm(reference, actual) {
            Ok(report) => Diagnosis::Diff {
                reference: label.to_string(),
                causes: report.causes,
            },
            Err(e) => Diagnosis::Unavailable {
                reason: format!("cannot compare with {label}: {e}"),
            },
        };
    }
    let findings = scan_artifact_with(
        actual,
        &ScanOptions {
            extra_path_prefixes: ctx.path_prefixes.clone(),
            source_date_epoch: ctx.source_date_epoch,
        },
    );
    let mut lines = vec!["no reference artifact to compare with (keep the previous one, or pass --reference DIR); on its own the artifact shows:".to_string()];
    if let Some(recorded) = &ctx.recorded_rustc {
        let built_with: Vec<String> = findings
            .tools()
            .into_iter()
            .filter(|(name, _)| name == "rustc")
            .map(|(_, version)| format!("rustc {version}"))
            .collect();
        match built_with.first() {
            Some(found) if found != recorded => lines.push(format!(
                "toolchain: built with `{found}`, the manifest's digests were made with `{recorded}`"
            )),
            Some(found) => lines.push(format!("toolchain: built with `{found}`, as recorded")),
            None => {}
        }
    }
    for p in &findings.paths {
        lines.push(format!(
            "embedded path: {} in {} ({}×)",
            p.text, p.location, p.occurrences
        ));
    }
    if findings.more_paths > 0 {
        lines.push(format!("… and {} more paths", findings.more_paths));
    }
    for t in findings.unpinned_timestamps() {
        lines.push(format!("timestamp: {:?} in {}", t.text, t.location));
    }
    if lines.len() == 1 {
        lines.push(
            "no machine paths or unpinned timestamps: the difference is likely in the inputs \
             (source revision, Cargo.lock, flags); keep the old artifact and run `pylon diff`"
                .to_string(),
        );
    }
    Diagnosis::Scan { lines, findings }
}
