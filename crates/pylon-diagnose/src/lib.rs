//! Explaining why two WebAssembly artifacts differ.
//!
//! `diff_wasm` walks two modules or components with wasmparser, descending into
//! nested components and core modules only where their bytes differ, and
//! reports each difference at the deepest level that explains it (which nested
//! unit, which section, which function bodies or data ranges), classified by
//! [`Cause`]. `scan_artifact` says what one artifact reveals on its own (build
//! paths, timestamps, tool versions) when there is nothing to compare with.
//!
//! Like the other libraries of this workspace it returns data and prints
//! nothing; `pylon-cli` renders it.

mod diff;
mod drift;
mod names;
mod producers;
mod report;
mod scan;
mod text;
mod walk;

pub use drift::{
    diagnose_drift, ArtifactContext, ArtifactKind, Diagnosis, DriftContext, LockChange,
    LockfileCheck, ToolVersion,
};
pub use producers::Producer;
pub use report::*;
pub use scan::{scan_artifact, scan_artifact_with, Finding, Findings, ScanOptions, UnitProducers};

/// Which of the two inputs an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Side {
    A,
    B,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::A => "A",
            Side::B => "B",
        })
    }
}

/// Why two inputs could not be compared (the diff's exit status 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiffError {
    #[error(
        "{side}: not a WebAssembly binary ({len} bytes, starting {head:?}; expected \"\\0asm\")"
    )]
    NotWasm { side: Side, len: u64, head: String },
    #[error("{side}: malformed WebAssembly at byte {offset}: {message}")]
    Malformed {
        side: Side,
        offset: u64,
        message: String,
    },
}

impl DiffError {
    pub fn side(&self) -> Side {
        match self {
            DiffError::NotWasm { side, .. } | DiffError::Malformed { side, .. } => *side,
        }
    }

    /// The message without the side, for callers that name the file themselves.
    pub fn reason(&self) -> String {
        match self {
            DiffError::NotWasm { len, head, .. } => {
                format!("not a WebAssembly binary ({len} bytes, starting {head:?}; expected \"\\0asm\")")
            }
            DiffError::Malformed {
                offset, message, ..
            } => {
                format!("malformed WebAssembly at byte {offset}: {message}")
            }
        }
    }
}

pub(crate) fn walk_error(side: Side, e: wasmparser::BinaryReaderError) -> DiffError {
    DiffError::Malformed {
        side,
        offset: e.offset(),
        message: e.message().to_string(),
    }
}

/// Compares two wasm binaries and explains every difference.
///
/// Identical bytes give an identical report without parsing past the headers.
/// Either input that is not wasm, or whose structure is cut short, is an error:
/// a diagnosis of half a file would name the wrong cause.
pub fn diff_wasm(a: &[u8], b: &[u8]) -> Result<DiffReport, DiffError> {
    walk::check_magic(Side::A, a)?;
    walk::check_magic(Side::B, b)?;
    if a == b {
        // Still check the framing once, so a truncated file is not "identical".
        walk::parse_unit(Side::A, a, 0..a.len())?;
        return Ok(DiffReport::new(a, b, Vec::new()));
    }
    let differences = diff::diff(a, b)?;
    Ok(DiffReport::new(a, b, differences))
}
