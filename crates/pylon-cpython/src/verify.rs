//! `pylon verify` for the CPython outputs: what `build/<profile>/` holds against the
//! digests the repository records. Read-only.

use std::path::Path;

use crate::build::verify_outputs;
use crate::profile::{load_profile, ProfileError};

/// The CPython build outputs of a profile against their recorded digests.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CpythonCheck {
    pub profile: String,
    pub status: CpythonStatus,
    pub detail: String,
    /// The C libraries linked into python.wasm from pinned sources, as the profile pins
    /// them (`_sqlite3: SQLite from sqlite3_3.53.4.orig.tar.xz sha256 …`).
    pub static_libraries: Vec<String>,
    /// The WASI toolchain the published outputs were built with, by digest (from
    /// `build/<profile>/record.json`), and whether that is the one the profile pins
    /// now; `None` when there is no record.
    pub toolchain: Option<ToolchainUsed>,
}

/// python.wasm and stdlib.zip against `profiles/expected/<profile>.toml` (serialized as
/// `OK`, `MISMATCH`, `NOT BUILT`, `NOT RECORDED`; an unreadable or malformed expected
/// file is a `MISMATCH`: nothing counts as verified that was not compared).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum CpythonStatus {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "MISMATCH")]
    Mismatch,
    #[serde(rename = "NOT BUILT")]
    NotBuilt,
    #[serde(rename = "NOT RECORDED")]
    NotRecorded,
}

impl std::fmt::Display for CpythonStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CpythonStatus::Ok => "OK",
            CpythonStatus::Mismatch => "MISMATCH",
            CpythonStatus::NotBuilt => "NOT BUILT",
            CpythonStatus::NotRecorded => "NOT RECORDED",
        })
    }
}

/// Which unpacked toolchain built the outputs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ToolchainUsed {
    /// `sha256:<digest>` as the build record names it (empty in records older than the
    /// unpacked toolchain).
    pub recorded: String,
    /// `sha256:<digest>` of the profile's pins now.
    pub pinned: String,
}

impl ToolchainUsed {
    pub fn matches(&self) -> bool {
        self.recorded == self.pinned
    }
}

/// `pylon verify`'s CPython half, read-only: the default (or named) profile's
/// `build/<profile>/` outputs against `profiles/expected/<profile>.toml`. `None` when
/// `root` has no `profiles/` (a caps-only tree); an unknown profile is an error.
pub fn verify_profile_outputs(
    root: &Path,
    profile: Option<&str>,
) -> Result<Option<CpythonCheck>, ProfileError> {
    let profiles_dir = root.join("profiles");
    if !profiles_dir.is_dir() {
        return Ok(None);
    }
    let profile = load_profile(&profiles_dir, profile)?;
    let out_dir = root.join("build").join(&profile.name);
    let (status, detail) = if !out_dir.join("python.wasm").is_file() {
        (
            CpythonStatus::NotBuilt,
            format!(
                "{} has no python.wasm (run `make build`)",
                out_dir.display()
            ),
        )
    } else {
        match verify_outputs(&profiles_dir, &profile.name, &out_dir) {
            Ok(Some(check)) if check.matches => (
                CpythonStatus::Ok,
                format!("python.wasm and stdlib.zip match {}", check.path.display()),
            ),
            Ok(Some(check)) => (
                CpythonStatus::Mismatch,
                format!(
                    "{} differs from {} (expected python.wasm {}, stdlib.zip {})",
                    out_dir.display(),
                    check.path.display(),
                    check.python_wasm.as_deref().unwrap_or("-"),
                    check.stdlib_zip.as_deref().unwrap_or("-")
                ),
            ),
            Ok(None) => (
                CpythonStatus::NotRecorded,
                format!("no profiles/expected/{}.toml", profile.name),
            ),
            Err(e) => (CpythonStatus::Mismatch, e.to_string()),
        }
    };
    let static_libraries = profile
        .sqlite
        .iter()
        .map(|s| {
            format!(
                "_sqlite3: SQLite from {} sha256 {}",
                s.source.tarball, s.source.sha256
            )
        })
        .collect();
    let pinned = format!(
        "sha256:{}",
        pylon_toolchain::toolchain_digest(&crate::toolchain::deb_pins(&profile.toolchain))
    );
    let toolchain = std::fs::read(out_dir.join("record.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .map(|record| {
            let digest = record["inputs"]["toolchain_digest"].as_str().unwrap_or("");
            ToolchainUsed {
                recorded: if digest.is_empty() {
                    String::new()
                } else {
                    format!("sha256:{digest}")
                },
                pinned: pinned.clone(),
            }
        });
    Ok(Some(CpythonCheck {
        profile: profile.name,
        status,
        detail,
        static_libraries,
        toolchain,
    }))
}
