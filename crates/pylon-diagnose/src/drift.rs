//! The diagnosis printed next to a MISMATCH (caps-sync) or DRIFTED (verify) line.
//!
//! With a reference artifact (the previously published file, or one given with
//! `--reference DIR`) the two are diffed and the causes named. Without one, only
//! what is known besides the artifact, and what it shows on its own, can be said:
//!
//! - the toolchain: every `[toolchain]` version the manifest records (rustc, clang,
//!   wasi-libc, the wasi-toolchain digest, wasmtime, wac-graph) against this machine's. Which tools matter
//!   depends on the artifact ([`ArtifactKind::relevant_tools`]): a cap is built by
//!   cargo, so rustc (cross-checked with the rustc its producers section names);
//!   `pylon` (build/pylon.wasm) is python.wasm built with clang against wasi-libc,
//!   composed with wac-graph, with caps built by rustc. A tool outside that set is
//!   still named when its version differs (a `make` cap may call clang), but only
//!   the relevant ones are summarised as "as recorded";
//! - for a cap, whether its checkout's `Cargo.lock` is the one of the pinned
//!   revision ([`LockfileCheck`], read by the caller);
//! - machine paths or unpinned timestamps embedded in the artifact.
//!
//! Either way the diagnosis ends with the next thing to try ([`Diagnosis::next_step`]),
//! chosen from the most specific finding: a changed lockfile, then a relevant
//! toolchain difference, then embedded paths, then timestamps.

use serde::Serialize;

use crate::{diff_wasm, scan_artifact_with, CauseSummary, Findings, ScanOptions};

/// One `[toolchain]` tool: what the manifest recorded and what this machine has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolVersion {
    /// `rustc`, `clang`, `wasi-libc`, `wasi-toolchain`, `wasmtime` or `wac-graph`.
    pub tool: String,
    /// The manifest's value, e.g. `clang-19 1:19.1.7-3~deb12u1`.
    pub recorded: Option<String>,
    /// This machine's value in the same format; `None` when it cannot be told.
    pub current: Option<String>,
}

impl ToolVersion {
    /// Recorded, and this machine has something else (or nothing).
    pub fn differs(&self) -> bool {
        self.recorded.is_some() && self.recorded != self.current
    }
}

/// What kind of artifact drifted: decides which tools bear on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArtifactKind {
    /// A capability component, built by cargo (or the cap's `make`).
    #[default]
    Cap,
    /// build/pylon.wasm: python.wasm (clang, wasi-libc) composed with the caps
    /// (rustc) by wac-graph.
    Pylon,
}

impl ArtifactKind {
    pub fn relevant_tools(self) -> &'static [&'static str] {
        match self {
            // A cap's C code (ring in tls, liblzma in lzma) is compiled by the WASI
            // toolchain; a difference there is still named (see the module docs).
            ArtifactKind::Cap => &["rustc"],
            ArtifactKind::Pylon => &["clang", "wasi-libc", "wasi-toolchain", "wac-graph", "rustc"],
        }
    }
}

/// One package of a `Cargo.lock` that differs between the pinned revision and the
/// checkout: `old` absent = added, `new` absent = removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockChange {
    pub name: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl LockChange {
    fn describe(&self) -> String {
        match (&self.old, &self.new) {
            (Some(old), Some(new)) => format!("{} {old} -> {new}", self.name),
            (None, Some(new)) => format!("{} {new} added", self.name),
            (Some(old), None) => format!("{} {old} removed", self.name),
            (None, None) => self.name.clone(),
        }
    }
}

/// The cap checkout's `Cargo.lock` against the one at the pinned revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum LockfileCheck {
    /// Same packages at the same versions and sources.
    AsPinned { rev: String },
    Differs {
        rev: String,
        /// The checkout holding the changed lockfile.
        dir: String,
        changes: Vec<LockChange>,
    },
    /// The pinned revision is not in the repository holding the checkout.
    RevMissing { rev: String },
    /// The pinned revision has no `Cargo.lock` while the checkout has one.
    NotAtRev { rev: String },
    /// One of the two could not be read or parsed.
    Unreadable { rev: String, reason: String },
}

/// Changes listed before "and N more".
const MAX_LOCK_CHANGES: usize = 5;

fn short(rev: &str) -> &str {
    rev.get(..12).unwrap_or(rev)
}

impl LockfileCheck {
    pub fn line(&self) -> String {
        match self {
            LockfileCheck::AsPinned { rev } => {
                format!("Cargo.lock: as pinned at {}", short(rev))
            }
            LockfileCheck::Differs { rev, changes, .. } => {
                let mut parts: Vec<String> = changes
                    .iter()
                    .take(MAX_LOCK_CHANGES)
                    .map(LockChange::describe)
                    .collect();
                if changes.len() > MAX_LOCK_CHANGES {
                    parts.push(format!("and {} more", changes.len() - MAX_LOCK_CHANGES));
                }
                format!(
                    "Cargo.lock differs from the pinned rev {}: {}",
                    short(rev),
                    parts.join(", ")
                )
            }
            LockfileCheck::RevMissing { rev } => format!(
                "Cargo.lock: pinned rev {} not in the repository, cannot compare",
                short(rev)
            ),
            LockfileCheck::NotAtRev { rev } => format!(
                "Cargo.lock: the pinned rev {} has none, the checkout has one",
                short(rev)
            ),
            LockfileCheck::Unreadable { rev, reason } => format!(
                "Cargo.lock: cannot compare with the pinned rev {}: {reason}",
                short(rev)
            ),
        }
    }

    fn next_step(&self) -> Option<String> {
        match self {
            LockfileCheck::Differs { rev, dir, .. } => Some(format!(
                "restore the pinned Cargo.lock (`git show {rev}:Cargo.lock > Cargo.lock` in {dir}) \
                 and build with --locked (`pylon caps-sync` does); if the new dependencies are \
                 intended, commit them and re-pin with `pylon manifest regen`"
            )),
            _ => None,
        }
    }
}

/// What is known about the build besides the two artifacts, shared by every
/// artifact of a run.
#[derive(Debug, Clone, Default)]
pub struct DriftContext {
    /// Every `[toolchain]` tool, recorded and current, in manifest order.
    pub toolchain: Vec<ToolVersion>,
    /// Directories of this machine that must not appear in an artifact.
    pub path_prefixes: Vec<String>,
    /// The SOURCE_DATE_EPOCH the build ran with: equal timestamps are pinned.
    pub source_date_epoch: Option<u64>,
}

impl DriftContext {
    fn tool(&self, name: &str) -> Option<&ToolVersion> {
        self.toolchain.iter().find(|t| t.tool == name)
    }
}

/// What is known about one drifted artifact.
#[derive(Debug, Clone, Default)]
pub struct ArtifactContext {
    pub kind: ArtifactKind,
    /// For a cap with a Cargo.lock: its checkout's lockfile against the pinned rev's.
    pub lockfile: Option<LockfileCheck>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Diagnosis {
    /// Compared with a reference artifact.
    Diff {
        reference: String,
        causes: Vec<CauseSummary>,
        /// Tools whose recorded version differs from this machine's.
        toolchain: Vec<ToolVersion>,
        lockfile: Option<LockfileCheck>,
    },
    /// No reference: what the artifact shows alone.
    Scan {
        lines: Vec<String>,
        findings: Findings,
        /// The relevant tools, and any other whose recorded version differs.
        toolchain: Vec<ToolVersion>,
        lockfile: Option<LockfileCheck>,
        /// The next thing to try.
        next: String,
    },
    /// The reference or the artifact could not be compared.
    Unavailable { reason: String },
}

impl Diagnosis {
    /// Lines to print under the digests, most explanatory first; the next step
    /// ([`Diagnosis::next_step`]) goes after them.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Diagnosis::Diff {
                reference,
                causes,
                toolchain,
                lockfile,
            } => {
                let mut out = vec![format!("compared with {reference}:")];
                out.extend(causes.iter().map(|c| c.line.clone()));
                out.extend(toolchain.iter().filter(|t| t.differs()).map(tool_line));
                out.extend(lockfile.iter().map(LockfileCheck::line));
                out
            }
            Diagnosis::Scan { lines, .. } => lines.clone(),
            Diagnosis::Unavailable { reason } => vec![format!("no diagnosis: {reason}")],
        }
    }

    /// The next thing to try, from the most explanatory cause.
    pub fn next_step(&self) -> Option<String> {
        match self {
            Diagnosis::Diff {
                causes, lockfile, ..
            } => lockfile
                .as_ref()
                .and_then(LockfileCheck::next_step)
                .or_else(|| causes.first().map(|c| c.advice.clone())),
            Diagnosis::Scan { next, .. } => Some(next.clone()),
            Diagnosis::Unavailable { .. } => None,
        }
    }
}

fn tool_line(t: &ToolVersion) -> String {
    let recorded = t.recorded.as_deref().unwrap_or("nothing");
    match &t.current {
        Some(current) => format!(
            "toolchain: {} recorded `{recorded}`, this machine has `{current}`",
            t.tool
        ),
        None => format!(
            "toolchain: {} recorded `{recorded}`, this machine has none that pylon can find",
            t.tool
        ),
    }
}

/// How to get the recorded version of a tool back.
fn install_hint(t: &ToolVersion) -> String {
    let recorded = t.recorded.as_deref().unwrap_or_default();
    let get_back = match t.tool.as_str() {
        "rustc" => {
            let version = recorded.split_whitespace().nth(1).unwrap_or(recorded);
            format!(
                "install `{recorded}` (`rustup toolchain install {version}` and `rustup default {version}`)"
            )
        }
        // pylon builds with exactly the profile's pinned .deb files, unpacked by itself:
        // another value means the profile's pins changed, not the machine.
        "clang" | "wasi-libc" | "wasi-toolchain" => format!(
            "build with the profile pins that recorded `{recorded}` (profiles/<profile>.toml \
             [toolchain] of that commit; pylon fetches and unpacks them itself)"
        ),
        _ => format!(
            "install `{recorded}` (a pylon built with it: the workspace Cargo.lock of the commit that recorded it)"
        ),
    };
    format!(
        "{get_back}, or regenerate the pins with `pylon manifest regen` if the new toolchain is \
         intended"
    )
}

/// Where the bytes differ, when the two cannot be compared as WebAssembly (one is cut
/// short, has bytes appended, or is not wasm at all): still a location.
fn byte_location(reference: &[u8], actual: &[u8]) -> String {
    let (r, a) = (reference.len(), actual.len());
    if a > r && actual.starts_with(reference) {
        format!(
            "the file is the reference followed by {} extra byte(s), from byte {r}",
            a - r
        )
    } else if r > a && reference.starts_with(actual) {
        format!(
            "the file is the reference cut short at byte {a} ({} byte(s) missing)",
            r - a
        )
    } else {
        let first = reference
            .iter()
            .zip(actual)
            .position(|(x, y)| x != y)
            .unwrap_or(r.min(a));
        format!("first differing byte at offset {first} ({a} bytes, the reference {r})")
    }
}

/// Diagnoses a drifted artifact. `reference` is `(label, bytes)` of the artifact
/// that matched the pin, when one is available.
pub fn diagnose_drift(
    reference: Option<(&str, &[u8])>,
    actual: &[u8],
    ctx: &DriftContext,
    artifact: &ArtifactContext,
) -> Diagnosis {
    let relevant = artifact.kind.relevant_tools();
    let toolchain = toolchain_shown(ctx, relevant);
    match reference {
        Some((label, reference)) => {
            diff_with_reference(label, reference, actual, toolchain, artifact)
        }
        None => scan_alone(actual, ctx, artifact, relevant, toolchain),
    }
}

/// Relevant tools first (in their order), then any other that differs.
fn toolchain_shown(ctx: &DriftContext, relevant: &[&str]) -> Vec<ToolVersion> {
    let mut toolchain: Vec<ToolVersion> = relevant
        .iter()
        .filter_map(|name| ctx.tool(name).cloned())
        .collect();
    toolchain.extend(
        ctx.toolchain
            .iter()
            .filter(|t| !relevant.contains(&t.tool.as_str()) && t.differs())
            .cloned(),
    );
    toolchain
}

/// The causes `diff_wasm` names against the reference, or where the bytes differ
/// when the two cannot be compared as WebAssembly.
fn diff_with_reference(
    label: &str,
    reference: &[u8],
    actual: &[u8],
    toolchain: Vec<ToolVersion>,
    artifact: &ArtifactContext,
) -> Diagnosis {
    match diff_wasm(reference, actual) {
        Ok(report) => Diagnosis::Diff {
            reference: label.to_string(),
            causes: report.causes,
            toolchain: toolchain.into_iter().filter(ToolVersion::differs).collect(),
            lockfile: artifact.lockfile.clone(),
        },
        Err(e) => Diagnosis::Unavailable {
            reason: format!(
                "{}; not comparable as WebAssembly with {label}: {e}",
                byte_location(reference, actual)
            ),
        },
    }
}

/// No reference: the toolchain, the lockfile, and what the artifact shows on its own.
fn scan_alone(
    actual: &[u8],
    ctx: &DriftContext,
    artifact: &ArtifactContext,
    relevant: &[&str],
    toolchain: Vec<ToolVersion>,
) -> Diagnosis {
    let findings = scan_artifact_with(
        actual,
        &ScanOptions {
            extra_path_prefixes: ctx.path_prefixes.clone(),
            source_date_epoch: ctx.source_date_epoch,
        },
    );
    let mut lines = vec!["no reference artifact to compare with (keep the previous one, or pass --reference DIR); what is known:".to_string()];

    let differing: Vec<&ToolVersion> = toolchain.iter().filter(|t| t.differs()).collect();
    lines.extend(toolchain_lines(&toolchain, &differing, relevant));
    let (built_with, producer_mismatch) = producer_check(ctx, &findings);
    lines.extend(built_with);

    if let Some(lock) = &artifact.lockfile {
        lines.push(lock.line());
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
    let timestamps: Vec<_> = findings.unpinned_timestamps().collect();
    for t in &timestamps {
        lines.push(format!("timestamp: {:?} in {}", t.text, t.location));
    }

    let next = next_step_alone(
        artifact,
        relevant,
        &differing,
        producer_mismatch,
        &findings,
        !timestamps.is_empty(),
    );
    Diagnosis::Scan {
        lines,
        findings,
        toolchain,
        lockfile: artifact.lockfile.clone(),
        next,
    }
}

/// Toolchain: one line per tool that differs, else one summary line.
fn toolchain_lines(
    toolchain: &[ToolVersion],
    differing: &[&ToolVersion],
    relevant: &[&str],
) -> Vec<String> {
    let mut lines: Vec<String> = differing.iter().map(|t| tool_line(t)).collect();
    let matching: Vec<String> = toolchain
        .iter()
        .filter(|t| relevant.contains(&t.tool.as_str()) && !t.differs())
        .filter_map(|t| t.recorded.as_ref().map(|r| format!("{} `{r}`", t.tool)))
        .collect();
    if differing.is_empty() {
        if matching.is_empty() {
            lines.push(format!(
                "toolchain: the manifest records no version of {} to compare with",
                relevant.join(", ")
            ));
        } else {
            lines.push(format!("toolchain: as recorded ({})", matching.join(", ")));
        }
    }
    lines
}

/// What the artifact says it was built with (caps: rustc in producers) against the
/// recorded rustc: the line saying so, and the recorded rustc when they differ.
fn producer_check<'c>(
    ctx: &'c DriftContext,
    findings: &Findings,
) -> (Option<String>, Option<&'c ToolVersion>) {
    let Some((rustc, recorded)) = ctx
        .tool("rustc")
        .and_then(|t| t.recorded.as_ref().map(|r| (t, r)))
    else {
        return (None, None);
    };
    let built_with: Vec<String> = findings
        .tools()
        .into_iter()
        .filter(|(name, _)| name == "rustc")
        .map(|(_, version)| format!("rustc {version}"))
        .collect();
    match built_with.first() {
        Some(found) if found != recorded => (
            Some(format!(
                "toolchain: built with `{found}`, the manifest's digests were made with `{recorded}`"
            )),
            Some(rustc),
        ),
        Some(found) => (
            Some(format!("toolchain: built with `{found}`, as recorded")),
            None,
        ),
        None => (None, None),
    }
}

/// The next thing to try without a reference, from the most specific finding: a
/// changed lockfile, a relevant toolchain difference, the rustc the artifact names,
/// embedded paths, timestamps, then any other tool that differs.
fn next_step_alone(
    artifact: &ArtifactContext,
    relevant: &[&str],
    differing: &[&ToolVersion],
    producer_mismatch: Option<&ToolVersion>,
    findings: &Findings,
    has_timestamps: bool,
) -> String {
    let relevant_differing = differing
        .iter()
        .find(|t| relevant.contains(&t.tool.as_str()));
    if let Some(step) = artifact
        .lockfile
        .as_ref()
        .and_then(LockfileCheck::next_step)
    {
        step
    } else if let Some(t) = relevant_differing {
        install_hint(t)
    } else if let Some(rustc) = producer_mismatch {
        install_hint(rustc)
    } else if !findings.paths.is_empty() {
        format!(
            "remap the leaked prefix: find the env!/file!/__FILE__ or build script that embeds {}, \
             or add a --remap-path-prefix for it",
            findings.paths[0].text
        )
    } else if has_timestamps {
        "the build embeds the time: make it honour SOURCE_DATE_EPOCH (or drop the timestamp) in \
         the build script or C macro that writes it"
            .to_string()
    } else if let Some(t) = differing.first() {
        install_hint(t)
    } else {
        "nothing explains it on this side: the difference is likely in the inputs (source \
         revision, flags); keep the old artifact and run `pylon diff OLD NEW`"
            .to_string()
    }
}
