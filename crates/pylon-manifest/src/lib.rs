//! `caps-manifest.toml`: the schema, its strict validation, and format-preserving edits.
//!
//! The manifest is the authority over what Pylon ships: which caps, from which
//! repository, pinned at which revision, and the sha256 of every artifact. This crate
//! only reads and writes that file; it never spawns a process, touches a checkout or
//! hashes an artifact.
//!
//! Validation reports every problem at once, each with `file:line:column` and the
//! field it is about, so a user fixes a broken manifest in one pass. `Diagnostic`,
//! `Diagnostics` and `Sha256` are shared with the other TOML files Pylon reads
//! (the CPython build profiles).

pub mod descriptor;
mod edit;
mod parse;
pub mod strict;
mod types;

pub use descriptor::{read_descriptor, CapDescriptor, ServedModule, DESCRIPTOR_FILE};
pub use edit::{write_atomic, CapDescribed, CapUpdate, ManifestEditor};
pub use parse::{parse_manifest, read_manifest};
pub use types::*;

use std::fmt;
use std::path::PathBuf;

/// One problem found in a manifest, located in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// 1-based line, 0 when the position is unknown.
    pub line: usize,
    /// 1-based column, 0 when the position is unknown.
    pub column: usize,
    /// The field the problem is about, e.g. `cap "zlib".sha256` or `schema`.
    pub field: String,
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic at byte `offset` of `text`, with 1-based line and column: the one
    /// place that turns a toml_edit span into a position, for every TOML file we read.
    pub fn at(
        text: &str,
        offset: usize,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Diagnostic {
        let offset = offset.min(text.len());
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        Diagnostic {
            line,
            column,
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every diagnostic of one file, rendered one per line as `file:line:col: field: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics {
    pub path: PathBuf,
    pub items: Vec<Diagnostic>,
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.items.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(
                f,
                "{}:{}:{}: {}: {}",
                self.path.display(),
                d.line,
                d.column,
                d.field,
                d.message
            )?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid manifest ({} problem{}):\n{diagnostics}", diagnostics.items.len(), if diagnostics.items.len() == 1 { "" } else { "s" })]
    Invalid { diagnostics: Diagnostics },
    #[error("invalid cap descriptor ({} problem{}):\n{diagnostics}", diagnostics.items.len(), if diagnostics.items.len() == 1 { "" } else { "s" })]
    InvalidDescriptor { diagnostics: Diagnostics },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: no cap named {name:?} in the manifest", path.display())]
    UnknownCap { path: PathBuf, name: String },
}
