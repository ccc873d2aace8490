//! `manifest regen`: build the chosen caps from fresh sources and compute new pins.
//!
//! Fresh means: a new clone for git caps (at the remote's HEAD, or a ref given per
//! cap), the current content of the directory for in-tree caps, and in both cases a
//! new, empty cargo target directory, so no earlier build state can leak in.
//! Computing pins (`regen_pins`) and writing them (`apply_regen`) are separate, so a
//! dry run shows exactly what would be written.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use pylon_manifest::{
    CapDescribed, CapUpdate, Manifest, ManifestEditor, ManifestError, Repo, Rev, Sha256, Toolchain,
};

use crate::build::{build_cap, BuildRequest, HostPaths};
use crate::digest::sha256_file;
use crate::git;
use crate::sync::{checkout_dir, select_caps, Step, SyncError};

#[derive(Debug, Clone)]
pub struct RegenOptions {
    pub caps_dir: PathBuf,
    pub only: Option<Vec<String>>,
    /// Git ref to pin per cap (git caps only); the remote's HEAD otherwise.
    pub refs: HashMap<String, String>,
    pub host: HostPaths,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RegenChange {
    pub name: String,
    pub old_rev: Option<String>,
    pub new_rev: String,
    pub old_sha256: Option<String>,
    pub new_sha256: String,
    pub size: u64,
    /// What its descriptor and WIT say (`None` for a cap without `cap.toml`): written
    /// into its entry with the pins.
    #[serde(skip)]
    pub described: Option<CapDescribed>,
    /// The exports read from its WIT world, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exports: Option<Vec<String>>,
}

impl RegenChange {
    pub fn changed(&self) -> bool {
        self.old_rev.as_deref() != Some(&self.new_rev)
            || self.old_sha256.as_deref() != Some(&self.new_sha256)
    }
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RegenOutcome {
    Ok(RegenChange),
    Fail {
        name: String,
        step: Step,
        message: String,
        log_tail: Vec<String>,
    },
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RegenReport {
    pub caps: Vec<RegenOutcome>,
}

impl RegenReport {
    pub fn success(&self) -> bool {
        self.caps.iter().all(|c| matches!(c, RegenOutcome::Ok(_)))
    }
}

/// Builds each selected cap from fresh sources (one at a time: each build already
/// uses every core) and reports its new pins.
pub fn regen_pins(
    manifest: &Manifest,
    opts: &RegenOptions,
    on_cap: &dyn Fn(&str),
) -> Result<RegenReport, SyncError> {
    let caps = select_caps(manifest, opts.only.as_deref())?;
    let mut out = Vec::new();
    for cap in caps {
        on_cap(&cap.name);
        let result = regen_one(manifest, cap, opts);
        out.push(match result {
            Ok(change) => RegenOutcome::Ok(change),
            Err((step, message, log_tail)) => RegenOutcome::Fail {
                name: cap.name.clone(),
                step,
                message,
                log_tail,
            },
        });
    }
    Ok(RegenReport { caps: out })
}

type RegenFailure = (Step, String, Vec<String>);

/// Why a cap's descriptor could not be turned into its manifest entry.
#[derive(Debug, thiserror::Error)]
pub enum DescribeError {
    #[error(transparent)]
    Layout(#[from] crate::layout::LayoutError),
    #[error(transparent)]
    Wit(#[from] crate::wit::WitError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

/// A cap directory's descriptor with the exports of the world it names, as its
/// manifest entry records them; `None` when the directory has no `cap.toml`.
pub fn describe(name: &str, dir: &Path) -> Result<Option<CapDescribed>, DescribeError> {
    let Some(d) = crate::layout::read_descriptor_named(name, dir)? else {
        return Ok(None);
    };
    let exports = crate::wit::world_exports(&dir.join("wit"), &d.world)?;
    Ok(Some(CapDescribed {
        target: d.target,
        artifact: d.artifact,
        exports,
    }))
}

/// Adds a `[[cap]]` entry (placeholder pins) to `editor` for every in-tree
/// `caps/<name>/cap.toml` the manifest lacks (only those named in `only`, when
/// given); returns their names. `regen_pins` over the re-read manifest then pins them.
pub fn stage_new_caps(
    editor: &mut ManifestEditor,
    manifest: &Manifest,
    only: Option<&[String]>,
) -> Result<Vec<String>, DescribeError> {
    let mut added = Vec::new();
    for (name, dir) in crate::layout::unpinned_in_tree(manifest)? {
        if only.is_some_and(|o| !o.contains(&name)) {
            continue;
        }
        // unpinned_in_tree lists only directories that have a descriptor.
        if let Some(described) = describe(&name, &dir)? {
            let repo = format!("{}/{name}", crate::layout::IN_TREE_DIR);
            editor.add_cap(&name, &repo, &described)?;
            added.push(name);
        }
    }
    Ok(added)
}

fn regen_one(
    manifest: &Manifest,
    cap: &pylon_manifest::Cap,
    opts: &RegenOptions,
) -> Result<RegenChange, RegenFailure> {
    let fail = |step: Step| move |e: String| (step, e, Vec::new());
    let scratch = tempfile::Builder::new()
        .prefix("pylon-regen-")
        .tempdir()
        .map_err(|e| {
            (
                Step::Clone,
                format!("cannot create a scratch directory: {e}"),
                Vec::new(),
            )
        })?;

    let (source, new_rev) = match &cap.repo {
        Repo::InTree(_) => {
            let dir = checkout_dir(manifest, cap, &opts.caps_dir);
            let tree = git::in_tree_rev(&dir).map_err(|e| fail(Step::Pin)(e.to_string()))?;
            (dir, tree)
        }
        Repo::Git(url) => {
            let url = crate::sync::resolve_url(manifest, url);
            let src = scratch.path().join("src");
            git::clone_no_checkout(scratch.path(), &url, &src)
                .map_err(|e| fail(Step::Clone)(e.to_string()))?;
            let wanted = opts
                .refs
                .get(&cap.name)
                .cloned()
                .unwrap_or_else(|| "HEAD".into());
            let resolve = |name: String| {
                git::git(
                    &src,
                    [
                        "rev-parse",
                        "--verify",
                        "--end-of-options",
                        &format!("{name}^{{commit}}"),
                    ],
                )
            };
            let commit = resolve(wanted.clone())
                .or_else(|_| resolve(format!("origin/{wanted}")))
                .map_err(|e| fail(Step::Fetch)(format!("ref {wanted:?}: {e}")))?;
            git::checkout_commit(&src, &commit).map_err(|e| fail(Step::Checkout)(e.to_string()))?;
            (src, commit)
        }
    };

    // The descriptor, when the cap has one, says how it is built now.
    let described = describe(&cap.name, &source).map_err(|e| fail(Step::Pin)(e.to_string()))?;
    let (target, artifact) = match &described {
        Some(d) => (d.target, Path::new(&d.artifact)),
        None => (cap.target, cap.artifact.as_path()),
    };
    // Cargo caps are published into the scratch dir; a `make` cap writes its artifact
    // where its Makefile puts it, inside the fresh checkout.
    let output = match target.rust_triple() {
        Some(_) => scratch.path().join("artifact.wasm"),
        None => source.join(artifact),
    };
    let req = BuildRequest {
        name: cap.name.clone(),
        checkout: source,
        target,
        output: output.clone(),
        target_dir: Some(scratch.path().join("target")),
        log: scratch.path().join("build.log"),
    };
    build_cap(&req, &opts.host).map_err(|e| (Step::Build, e.to_string(), e.log_tail().to_vec()))?;
    let built = output;
    let digest =
        sha256_file(&built).map_err(|e| fail(Step::Digest)(format!("{}: {e}", built.display())))?;
    Ok(RegenChange {
        name: cap.name.clone(),
        old_rev: cap.rev.pinned().map(|r| r.to_string()),
        new_rev,
        old_sha256: cap.sha256.pinned().map(|s| s.to_string()),
        new_sha256: digest.sha256.0.clone(),
        size: digest.size,
        exports: described.as_ref().map(|d| d.exports.clone()),
        described,
    })
}

/// Stages the successful pins (and the toolchain they were made with) in `editor`,
/// which preserves the manifest's comments and layout; the caller saves once, after
/// staging anything else that must change with them (`pylon_sha256`). Every
/// `[toolchain]` field `toolchain` has is written; one it lacks (the tool could not
/// be found on this machine) keeps its recorded value.
pub fn apply_regen(
    editor: &mut ManifestEditor,
    path: &Path,
    report: &RegenReport,
    toolchain: &Toolchain,
) -> Result<(), ManifestError> {
    for outcome in &report.caps {
        if let RegenOutcome::Ok(change) = outcome {
            let invalid = |field: &str, why: String| ManifestError::Write {
                path: path.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: {field}: {why}", change.name),
                ),
            };
            editor.set_cap(
                &change.name,
                &CapUpdate {
                    rev: Rev::parse(&change.new_rev).map_err(|e| invalid("rev", e))?,
                    sha256: Sha256::parse(&change.new_sha256).map_err(|e| invalid("sha256", e))?,
                    size: change.size,
                },
            )?;
            if let Some(described) = &change.described {
                editor.set_cap_described(&change.name, described)?;
            }
        }
    }
    editor.set_toolchain_all(toolchain);
    Ok(())
}
