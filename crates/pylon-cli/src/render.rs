//! Rendering reports: the spec's human lines, and versioned JSON for CI.
//! Only this crate knows how reports look; the libraries return plain data.

use std::path::Path;

use pylon_caps::digest::{FileDigest, Sha256Hex};
use pylon_caps::regen::{RegenOutcome, RegenReport};
use pylon_caps::sync::{CapStatus, SyncReport};
use pylon_caps::verify::{ArtifactStatus, VerifyReport};
use pylon_diagnose::Diagnosis;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Version of every JSON document `pylon` prints; bumped on incompatible change.
pub const JSON_FORMAT_VERSION: u32 = 1;

pub fn print_json<B: serde::Serialize>(command: &str, body: &B, success: bool) {
    let doc = Envelope {
        format_version: JSON_FORMAT_VERSION,
        command,
        success,
        body,
    };
    match serde_json::to_string(&doc) {
        Ok(text) => println!("{text}"),
        // Only a body that is not a map can fail here: a bug, said as a document.
        Err(e) => println!(
            "{}",
            json!({"format_version": JSON_FORMAT_VERSION, "command": command,
                   "success": false, "error": format!("rendering the report: {e}")})
        ),
    }
}

/// The one JSON document every command prints with `--json`: the envelope's fields,
/// then the command's own (a map).
#[derive(serde::Serialize)]
struct Envelope<'a, B: serde::Serialize> {
    format_version: u32,
    command: &'a str,
    success: bool,
    #[serde(flatten)]
    body: &'a B,
}

/// Adds `"diagnosis"` to the entries (by `name`) that have one.
fn with_diagnoses(mut entries: Value, diagnoses: &BTreeMap<String, Diagnosis>) -> Value {
    if let Some(list) = entries.as_array_mut() {
        for entry in list {
            let name = entry["name"].as_str().unwrap_or_default().to_string();
            if let (Some(d), Some(obj)) = (diagnoses.get(&name), entry.as_object_mut()) {
                obj.insert("diagnosis".into(), json!(d));
            }
        }
    }
    entries
}

pub fn sync_json(report: &SyncReport, diagnoses: &BTreeMap<String, Diagnosis>) -> Value {
    json!({
        "caps": with_diagnoses(json!(report.caps), diagnoses),
        "counts": report.counts(),
    })
}

pub fn verify_json(report: &VerifyReport, diagnoses: &BTreeMap<String, Diagnosis>) -> Value {
    let mut pylon = json!([report.pylon]);
    pylon = with_diagnoses(pylon, diagnoses);
    json!({
        "caps": with_diagnoses(json!(report.caps), diagnoses),
        "counts": report.counts(),
        "pylon": pylon[0],
        "pylon_sha256_status": report.pylon_label(),
    })
}

fn print_digests(expected: &Sha256Hex, expected_size: Option<u64>, actual: &FileDigest) {
    let pinned_size = expected_size
        .map(|s| format!(" ({})", size(s)))
        .unwrap_or_default();
    println!("{:22}expected sha256 {}{pinned_size}", "", expected.0);
    println!(
        "{:22}actual   sha256 {} ({})",
        "",
        actual.sha256.0,
        size(actual.size)
    );
}

/// The diagnosis under a MISMATCH/DRIFTED line, ending with the next step.
fn print_diagnosis(diagnosis: Option<&Diagnosis>) {
    let Some(d) = diagnosis else { return };
    for line in d.lines() {
        println!("{:22}diagnosis: {line}", "");
    }
    if let Some(next) = d.next_step() {
        println!("{:22}next: {next}", "");
    }
}

fn size(bytes: u64) -> String {
    format!("{bytes} bytes")
}

pub fn print_sync(report: &SyncReport, diagnoses: &BTreeMap<String, Diagnosis>) {
    for cap in &report.caps {
        let label = cap.status.label();
        match &cap.status {
            CapStatus::Ok { digest } => println!(
                "{label:<9} {:<12} sha256 {} ({}{})",
                cap.name,
                digest.sha256.0,
                size(digest.size),
                if cap.built { ", built" } else { ", not built" }
            ),
            CapStatus::Skip { reason } => println!("{label:<9} {:<12} {reason}", cap.name),
            CapStatus::Fail {
                step,
                message,
                log,
                log_tail,
            } => {
                println!(
                    "{label:<9} {:<12} {} failed: {message}",
                    cap.name,
                    step.as_str()
                );
                if !log_tail.is_empty() {
                    println!("{:22}--- last lines of the build log ---", "");
                    for line in log_tail {
                        println!("{:22}| {line}", "");
                    }
                }
                if let Some(log) = log {
                    println!("{:22}full log: {}", "", log.display());
                }
            }
            CapStatus::Mismatch {
                expected,
                expected_size,
                actual,
                hints,
                reference: _,
            } => {
                println!(
                    "{label:<9} {:<12} artifact {}",
                    cap.name,
                    cap.artifact.display()
                );
                print_digests(expected, *expected_size, actual);
                for hint in hints {
                    println!("{:22}hint: {hint}", "");
                }
                print_diagnosis(diagnoses.get(&cap.name));
            }
        }
    }
    let c = report.counts();
    println!(
        "caps-sync: {} OK, {} SKIP, {} FAIL, {} MISMATCH",
        c.ok, c.skip, c.fail, c.mismatch
    );
}

pub fn print_verify(
    report: &VerifyReport,
    diagnoses: &BTreeMap<String, Diagnosis>,
    cpython: Option<&pylon_cpython::verify::CpythonCheck>,
) {
    if let Some(c) = cpython {
        println!("cpython {}: {} — {}", c.profile, c.status, c.detail);
        if let Some(t) = &c.toolchain {
            if t.matches() {
                println!("  built with the pinned WASI toolchain {}", t.pinned);
            } else {
                println!(
                    "  built with WASI toolchain {}, the profile now pins {} (run `make build`)",
                    if t.recorded.is_empty() {
                        "unrecorded"
                    } else {
                        &t.recorded
                    },
                    t.pinned
                );
            }
        }
        for lib in &c.static_libraries {
            println!("  linked in: {lib}");
        }
    }
    for check in report.caps.iter().chain(std::iter::once(&report.pylon)) {
        match &check.status {
            ArtifactStatus::Drifted {
                expected,
                expected_size,
                actual,
                reference: _,
            } => {
                println!("DRIFTED  {:<12} {}", check.name, check.path.display());
                print_digests(expected, *expected_size, actual);
                print_diagnosis(diagnoses.get(&check.name));
            }
            ArtifactStatus::Missing { reason } => {
                println!(
                    "MISSING  {:<12} {}: {reason}",
                    check.name,
                    check.path.display()
                );
            }
            ArtifactStatus::Ok { .. } | ArtifactStatus::Placeholder => {}
        }
    }
    let c = report.counts();
    println!("caps OK: {}", c.ok);
    println!("caps placeholder: {}", c.placeholder);
    println!("caps missing: {}", c.missing);
    println!("caps drifted: {}", c.drifted);
    println!();
    println!("pylon_sha256 status: {}", report.pylon_label());
}

pub fn print_regen(report: &RegenReport, manifest: &Path, written: bool) {
    for outcome in &report.caps {
        match outcome {
            RegenOutcome::Ok(change) => {
                if change.changed() {
                    println!(
                        "{:<12} rev    {} -> {}",
                        change.name,
                        change.old_rev.as_deref().unwrap_or("placeholder"),
                        change.new_rev
                    );
                    println!(
                        "{:<12} sha256 {} -> {}",
                        "",
                        change.old_sha256.as_deref().unwrap_or("placeholder"),
                        change.new_sha256
                    );
                    println!("{:<12} size   {}", "", size(change.size));
                } else {
                    println!(
                        "{:<12} unchanged (rev {}, sha256 {})",
                        change.name, change.new_rev, change.new_sha256
                    );
                }
            }
            RegenOutcome::Fail {
                name,
                step,
                message,
                log_tail,
            } => {
                println!("{name:<12} FAIL {} failed: {message}", step.as_str());
                for line in log_tail {
                    println!("{:12} | {line}", "");
                }
            }
        }
    }
    if written {
        println!("wrote {}", manifest.display());
    } else if report.success() {
        println!("dry run: {} not written", manifest.display());
    } else {
        println!("some caps failed: {} not written", manifest.display());
    }
}
