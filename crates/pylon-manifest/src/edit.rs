//! Format-preserving edits: comments, key order and spacing survive a regen.

use std::path::{Path, PathBuf};

use toml_edit::{value, DocumentMut, Item};

use crate::types::{Pin, Rev, Sha256, Toolchain, TOOLCHAIN_FIELDS};
use crate::{parse_manifest, Manifest, ManifestError};

/// New pins for one cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapUpdate {
    pub rev: Rev,
    pub sha256: Sha256,
    pub size: u64,
}

/// What a cap's descriptor and WIT say about it, written into its `[[cap]]` entry:
/// how it is built and what it exports (the manifest is their lock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapDescribed {
    pub target: crate::Target,
    pub artifact: String,
    pub exports: Vec<String>,
}

/// Edits the text of a manifest that has already been validated.
pub struct ManifestEditor {
    path: PathBuf,
    doc: DocumentMut,
}

impl ManifestEditor {
    /// Reads and validates `path`, then opens it for editing.
    pub fn open(path: &Path) -> Result<(Self, Manifest), ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let manifest = parse_manifest(path, &text)?;
        // Validation succeeded, so the text parses.
        let doc: DocumentMut =
            text.parse()
                .map_err(|e: toml_edit::TomlError| ManifestError::Read {
                    path: path.to_path_buf(),
                    source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
                })?;
        Ok((
            ManifestEditor {
                path: path.to_path_buf(),
                doc,
            },
            manifest,
        ))
    }

    pub fn set_cap(&mut self, name: &str, update: &CapUpdate) -> Result<(), ManifestError> {
        let table = self.cap_table(name)?;
        set_preserving(table, "rev", update.rev.as_str().into());
        set_preserving(table, "sha256", update.sha256.as_str().into());
        set_preserving(table, "size", (update.size as i64).into());
        Ok(())
    }

    /// Appends a `[[cap]]` entry for an in-tree cap at `repo` (relative to the
    /// manifest), with placeholder pins for `set_cap` to fill.
    pub fn add_cap(
        &mut self,
        name: &str,
        repo: &str,
        described: &CapDescribed,
    ) -> Result<(), ManifestError> {
        let mut table = toml_edit::Table::new();
        table.insert("name", value(name));
        table.insert("repo", value(repo));
        table.insert("rev", value("0".repeat(40)));
        table.insert("target", value(described.target.as_str()));
        table.insert("artifact", value(described.artifact.as_str()));
        table.insert("sha256", value("0".repeat(64)));
        table.insert("exports", value(exports_array(&described.exports)));
        table.insert("size", value(0i64));
        let caps = self
            .doc
            .entry("cap")
            .or_insert_with(|| Item::ArrayOfTables(toml_edit::ArrayOfTables::new()));
        match caps.as_array_of_tables_mut() {
            Some(array) => {
                array.push(table);
                Ok(())
            }
            None => Err(ManifestError::Write {
                path: self.path.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "`cap` is not an array of [[cap]] tables",
                ),
            }),
        }
    }

    /// Writes a cap's `target`, `artifact` and `exports` from its descriptor and WIT.
    pub fn set_cap_described(
        &mut self,
        name: &str,
        described: &CapDescribed,
    ) -> Result<(), ManifestError> {
        let table = self.cap_table(name)?;
        set_preserving(table, "target", described.target.as_str().into());
        set_preserving(table, "artifact", described.artifact.as_str().into());
        set_preserving(table, "exports", exports_array(&described.exports));
        Ok(())
    }

    fn cap_table(&mut self, name: &str) -> Result<&mut toml_edit::Table, ManifestError> {
        self.doc
            .get_mut("cap")
            .and_then(Item::as_array_of_tables_mut)
            .and_then(|caps| {
                caps.iter_mut()
                    .find(|t| t.get("name").and_then(Item::as_str) == Some(name))
            })
            .ok_or_else(|| ManifestError::UnknownCap {
                path: self.path.clone(),
                name: name.to_string(),
            })
    }

    pub fn set_pylon_sha256(&mut self, digest: &Pin<Sha256>) {
        let text = match digest {
            Pin::Pinned(d) => d.as_str().to_string(),
            Pin::Placeholder => "0".repeat(64),
        };
        set_preserving(
            self.doc.as_table_mut(),
            "pylon_sha256",
            text.as_str().into(),
        );
    }

    pub fn set_toolchain_rustc(&mut self, rustc: &str) {
        // "rustc" is a known key: this cannot fail.
        let _ = self.set_toolchain("rustc", rustc);
    }

    /// Sets one `[toolchain]` key (see [`TOOLCHAIN_FIELDS`]), keeping the comments
    /// around an existing value; a new key is appended in the table.
    pub fn set_toolchain(&mut self, key: &str, version: &str) -> Result<(), ManifestError> {
        if !TOOLCHAIN_FIELDS.contains(&key) {
            return Err(ManifestError::Write {
                path: self.path.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "toolchain.{key}: unknown key (expected one of: {})",
                        TOOLCHAIN_FIELDS.join(", ")
                    ),
                ),
            });
        }
        let toolchain = self.doc.entry("toolchain").or_insert_with(toml_edit::table);
        if let Some(t) = toolchain.as_table_mut() {
            set_preserving(t, key, version.into());
        }
        Ok(())
    }

    /// Sets every value that `toolchain` has; absent ones are left as they are.
    pub fn set_toolchain_all(&mut self, toolchain: &Toolchain) {
        for (key, version) in toolchain.recorded() {
            // Keys from `recorded()` are all known.
            let _ = self.set_toolchain(key, version);
        }
    }

    /// The edited text, re-validated so an edit can never produce a manifest that
    /// the next run would reject.
    pub fn render(&self) -> Result<String, ManifestError> {
        let text = self.doc.to_string();
        parse_manifest(&self.path, &text)?;
        Ok(text)
    }

    /// Validates and writes the edited manifest atomically.
    pub fn save(&self) -> Result<(), ManifestError> {
        let text = self.render()?;
        write_atomic(&self.path, text.as_bytes()).map_err(|source| ManifestError::Write {
            path: self.path.clone(),
            source,
        })
    }
}

fn exports_array(exports: &[String]) -> toml_edit::Value {
    toml_edit::Value::Array(exports.iter().map(String::as_str).collect())
}

/// Replaces a value but keeps the comment/whitespace decoration around it.
fn set_preserving(table: &mut dyn toml_edit::TableLike, key: &str, new: toml_edit::Value) {
    match table.get_mut(key) {
        Some(Item::Value(old)) => {
            let decor = old.decor().clone();
            *old = new;
            *old.decor_mut() = decor;
        }
        _ => {
            table.insert(key, value(new));
        }
    }
}

pub use pylon_util::fs::write_atomic;
