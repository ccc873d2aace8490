//! Diagnoses for MISMATCH (caps-sync) and DRIFTED (verify) artifacts: reads the
//! files, this machine's toolchain and the caps' lockfiles, and asks
//! pylon-diagnose (pure functions over bytes); the sync and verify reports themselves
//! stay free of it.
//!
//! Also the one place that tells this machine's `[toolchain]` values
//! ([`current_toolchain`]), which `manifest regen` records. The versions of crates
//! compiled into the running binary (wasmtime, wac-graph) are the caller's to tell
//! ([`Compiled`]): only the binary knows what it was linked with.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use pylon_caps::build::{HostPaths, SOURCE_DATE_EPOCH};
use pylon_caps::sync::{checkout_dir, CapStatus, SyncReport};
use pylon_caps::toolchain::current_rustc;
use pylon_caps::verify::{ArtifactStatus, VerifyReport};
use pylon_cpython::verify::{CpythonCheck, CpythonStatus};
use pylon_diagnose::{
    diagnose_drift, ArtifactContext, ArtifactKind, Diagnosis, DriftContext, LockChange,
    LockfileCheck, ToolVersion,
};
use pylon_manifest::{Cap, Manifest, Toolchain, TOOLCHAIN_FIELDS};

/// Crates compiled into the running pylon, as `"<name> <version>"` (the binary reads
/// them from the workspace Cargo.lock at build time); `None` when it could not tell.
#[derive(Debug, Clone, Default)]
pub struct Compiled {
    pub wasmtime: Option<String>,
    pub wac_graph: Option<String>,
}

/// This machine's value of every `[toolchain]` field, in the format `manifest regen`
/// records; a field that cannot be told (no profile, no rustc) is `None`. The C
/// toolchain is the one the default CPython profile under `root/profiles` pins: pylon
/// builds with exactly those unpacked `.deb` files, whatever the machine has installed.
pub fn current_toolchain(root: &Path, compiled: &Compiled) -> Toolchain {
    let pins = pylon_cpython::load_profile(&root.join("profiles"), None)
        .map(|p| p.toolchain)
        .unwrap_or_default();
    let package = |prefix: &str| {
        pins.iter()
            .find(|p| p.name.starts_with(prefix))
            .map(|p| format!("{} {}", p.name, p.version))
    };
    Toolchain {
        rustc: current_rustc(),
        clang: package("clang"),
        wasi_libc: package("wasi-libc"),
        wasi_toolchain: (!pins.is_empty()).then(|| {
            format!(
                "sha256:{}",
                pylon_toolchain::toolchain_digest(&pylon_cpython::toolchain::deb_pins(&pins))
            )
        }),
        wasmtime: compiled.wasmtime.clone(),
        wac_graph: compiled.wac_graph.clone(),
    }
}

/// What the manifest and this machine tell about a drift, shared by every cap.
pub fn context(manifest: &Manifest, caps_dir: &Path, compiled: &Compiled) -> DriftContext {
    let host = HostPaths::detect();
    let mut prefixes: Vec<PathBuf> = vec![caps_dir.to_path_buf()];
    prefixes.extend(std::fs::canonicalize(manifest.root()).ok());
    prefixes.extend(host.cargo_home);
    prefixes.extend(host.rustup_home);
    prefixes.extend(std::env::var_os("HOME").map(PathBuf::from));
    let current = current_toolchain(manifest.root(), compiled);
    DriftContext {
        toolchain: TOOLCHAIN_FIELDS
            .iter()
            .map(|tool| ToolVersion {
                tool: tool.to_string(),
                recorded: manifest.toolchain.get(tool).map(str::to_string),
                current: current.get(tool).map(str::to_string),
            })
            .collect(),
        path_prefixes: prefixes
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .filter(|p| p.len() > 1)
            .collect(),
        source_date_epoch: SOURCE_DATE_EPOCH.parse().ok(),
    }
}

/// Packages added, removed or changed from `pinned` to `now`, by name.
pub fn lock_changes(pinned: &str, now: &str) -> Result<Vec<LockChange>, String> {
    let (old, new) = (
        pylon_util::lockfile::locked_packages(pinned)?,
        pylon_util::lockfile::locked_packages(now)?,
    );
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let versions = |set: Option<&BTreeSet<(String, String)>>| {
        set.map(|s| {
            s.iter()
                .map(|(v, _)| v.as_str())
                .collect::<Vec<_>>()
                .join("/")
        })
    };
    Ok(names
        .into_iter()
        .filter(|n| old.get(*n) != new.get(*n))
        .map(|n| {
            let (o, mut w) = (versions(old.get(n)), versions(new.get(n)));
            if o.is_some() && o == w {
                w = w.map(|v| format!("{v} (source changed)"));
            }
            LockChange {
                name: n.clone(),
                old: o,
                new: w,
            }
        })
        .collect())
}

/// The cap checkout's Cargo.lock against the pinned revision's, read with git in
/// the repository holding the rev (the clone for a git cap; for an in-tree cap
/// the project repository, where the rev is the cap directory's tree id).
/// `None` when there is nothing to compare: no pinned rev or no Cargo.lock.
pub fn lockfile_check(dir: &Path, rev: &str) -> Option<LockfileCheck> {
    let now = std::fs::read_to_string(dir.join("Cargo.lock")).ok()?;
    let rev_s = rev.to_string();
    if pylon_caps::git::git(dir, ["cat-file", "-e", rev]).is_err() {
        return Some(LockfileCheck::RevMissing { rev: rev_s });
    }
    let pinned = match pylon_caps::git::git(dir, ["cat-file", "blob", &format!("{rev}:Cargo.lock")])
    {
        Ok(text) => text,
        Err(_) => return Some(LockfileCheck::NotAtRev { rev: rev_s }),
    };
    Some(match lock_changes(&pinned, &now) {
        Ok(changes) if changes.is_empty() => LockfileCheck::AsPinned { rev: rev_s },
        Ok(changes) => LockfileCheck::Differs {
            rev: rev_s,
            dir: dir.display().to_string(),
            changes,
        },
        Err(reason) => LockfileCheck::Unreadable { rev: rev_s, reason },
    })
}

fn cap_context(manifest: &Manifest, cap: Option<&Cap>, caps_dir: &Path) -> ArtifactContext {
    let lockfile = cap.and_then(|cap| {
        let rev = cap.rev.pinned()?;
        lockfile_check(&checkout_dir(manifest, cap, caps_dir), &rev.to_string())
    });
    ArtifactContext {
        kind: ArtifactKind::Cap,
        lockfile,
    }
}

/// Bytes known to be what an artifact should be, and how they were found (a kept
/// file's path, or how they were made).
pub struct Reference {
    pub label: String,
    pub bytes: Vec<u8>,
}

impl Reference {
    fn read(path: &Path) -> Option<Reference> {
        std::fs::read(path).ok().map(|bytes| Reference {
            label: path.display().to_string(),
            bytes,
        })
    }
}

fn diagnose(
    reference: Option<Reference>,
    actual: &Path,
    ctx: &DriftContext,
    artifact: &ArtifactContext,
) -> Diagnosis {
    let actual_bytes = match std::fs::read(actual) {
        Ok(b) => b,
        Err(e) => {
            return Diagnosis::Unavailable {
                reason: format!("cannot read {}: {e}", actual.display()),
            }
        }
    };
    diagnose_drift(
        reference
            .as_ref()
            .map(|r| (r.label.as_str(), r.bytes.as_slice())),
        &actual_bytes,
        ctx,
        artifact,
    )
}

/// A reference for a drifted pylon.wasm that has no kept copy: when python.wasm
/// matches its recorded digest and every cap artifact its pin, composing them again
/// (in-process, deterministic, seconds) makes the bytes the product should have, so
/// the diagnosis can say where the drifted file differs. Writes nothing.
pub fn recomposed_product(
    manifest: &Manifest,
    caps_dir: &Path,
    report: &VerifyReport,
    cpython: Option<&CpythonCheck>,
) -> Option<Reference> {
    let cpython = cpython.filter(|c| c.status == CpythonStatus::Ok)?;
    let caps_ok = report.caps.iter().all(|c| {
        matches!(
            c.status,
            ArtifactStatus::Ok { .. } | ArtifactStatus::Placeholder
        )
    });
    if !caps_ok {
        return None;
    }
    let python = manifest
        .root()
        .join("build")
        .join(&cpython.profile)
        .join("python.wasm");
    let socket = std::fs::read(&python).ok()?;
    let composition = crate::compose_caps(manifest, caps_dir, socket).ok()?;
    Some(Reference {
        label: format!("{} composed again with the pinned caps", python.display()),
        bytes: composition.bytes,
    })
}

/// Diagnosis per cap name, for every MISMATCH of a sync. The machine is only
/// examined when something drifted.
pub fn for_sync(
    report: &SyncReport,
    manifest: &Manifest,
    caps_dir: &Path,
    compiled: &Compiled,
) -> BTreeMap<String, Diagnosis> {
    let mut ctx = None;
    report
        .caps
        .iter()
        .filter_map(|cap| match &cap.status {
            CapStatus::Mismatch { reference, .. } => {
                let ctx = ctx.get_or_insert_with(|| context(manifest, caps_dir, compiled));
                let artifact = cap_context(manifest, manifest.cap(&cap.name), caps_dir);
                Some((
                    cap.name.clone(),
                    diagnose(
                        reference.as_deref().and_then(Reference::read),
                        &cap.artifact,
                        ctx,
                        &artifact,
                    ),
                ))
            }
            _ => None,
        })
        .collect()
}

/// Diagnosis per artifact name (caps and `pylon`), for every DRIFTED one.
pub fn for_verify(
    report: &VerifyReport,
    manifest: &Manifest,
    caps_dir: &Path,
    cpython: Option<&CpythonCheck>,
    compiled: &Compiled,
) -> BTreeMap<String, Diagnosis> {
    let mut ctx = None;
    let pylon = std::iter::once((&report.pylon, true));
    report
        .caps
        .iter()
        .map(|c| (c, false))
        .chain(pylon)
        .filter_map(|(check, is_pylon)| match &check.status {
            ArtifactStatus::Drifted { reference, .. } => {
                let ctx = ctx.get_or_insert_with(|| context(manifest, caps_dir, compiled));
                let artifact = if is_pylon {
                    ArtifactContext {
                        kind: ArtifactKind::Pylon,
                        lockfile: None,
                    }
                } else {
                    cap_context(manifest, manifest.cap(&check.name), caps_dir)
                };
                let kept = reference.as_deref().and_then(Reference::read);
                let reference = match kept {
                    None if is_pylon => recomposed_product(manifest, caps_dir, report, cpython),
                    kept => kept,
                };
                Some((
                    check.name.clone(),
                    diagnose(reference, &check.path, ctx, &artifact),
                ))
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_changes_name_added_removed_and_bumped_packages() {
        let pinned = "version = 4\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n\n[[package]]\nname = \"b\"\nversion = \"0.1.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"gone\"\nversion = \"2.0.0\"\n";
        let now = "version = 4\n[[package]]\nname = \"a\"\nversion = \"1.1.0\"\n\n[[package]]\nname = \"b\"\nversion = \"0.1.0\"\nsource = \"git+https://example.org/b.git?rev=1#0123456789abcdef0123456789abcdef01234567\"\n\n[[package]]\nname = \"new\"\nversion = \"0.3.0\"\n";
        let changes: Vec<String> = lock_changes(pinned, now)
            .unwrap()
            .iter()
            .map(|c| format!("{} {:?} {:?}", c.name, c.old, c.new))
            .collect();
        assert_eq!(
            changes,
            [
                "a Some(\"1.0.0\") Some(\"1.1.0\")",
                "b Some(\"0.1.0\") Some(\"0.1.0 (source changed)\")",
                "gone Some(\"2.0.0\") None",
                "new None Some(\"0.3.0\")",
            ]
        );
        assert!(lock_changes(pinned, pinned).unwrap().is_empty());
        assert!(lock_changes("[[package]]\nversion = \"1\"\n", pinned).is_err());
    }
}
