//! CPython cross-built for `wasm32-wasip2` from sha256-pinned inputs, reproducibly,
//! with a content-digest cache.
//!
//! - [`profile`]: `profiles/<name>.toml`, every input pinned, strictly validated.
//! - [`fetch`] + [`apt`]: the source tarball, digest-checked before use and cached by
//!   digest; the Debian host comes from this machine's apt configuration.
//! - [`toolchain`]: the installed Debian packages checked against the profile's pins.
//! - [`ext`]: `cpython-ext/<module>/` → `Modules/Setup.local`; the patch sets.
//! - [`build`]: the stages, the cache key, publication under `build/<profile>/`.
//! - [`stdlib`] + [`zip`]: the deterministic stdlib zip.
//!
//! Like the other libraries of the workspace it prints nothing: progress goes out as
//! [`build::BuildEvent`]s and results come back as report values.

pub use pylon_toolchain::apt;
pub mod build;
pub mod ext;
pub mod fetch;
pub mod profile;
pub mod sqlite;
pub mod stdlib;
pub mod toolchain;
pub mod verify;
pub mod zip;

pub use build::{build, BuildError, BuildEvent, BuildOptions, BuildReport, Stage};
pub use profile::{load_profile, read_profile, Profile, ProfileError};

/// One line of `pylon build --explain-modules`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ModuleExplanation {
    pub name: String,
    /// `disabled` (by the profile), `cpython-ext` (wired from `cpython-ext/<name>/`) or
    /// `static` (a CPython module linked against a library the profile pins).
    pub state: &'static str,
    pub reason: String,
}

/// The C-extension modules the profile switches off (with why), then the ones wired
/// in from `cpython-ext/`. Every other module of CPython's `Modules/Setup.stdlib` is
/// built when configure finds what it needs (for WASI: the bundled sources only).
pub fn explain_modules(
    profile: &Profile,
    ext_modules: &[ext::ExtModule],
) -> Vec<ModuleExplanation> {
    let mut out: Vec<ModuleExplanation> = profile
        .disabled_modules
        .iter()
        .map(|m| ModuleExplanation {
            name: m.name.clone(),
            state: "disabled",
            reason: m.reason.clone(),
        })
        .collect();
    out.extend(ext_modules.iter().map(|m| ModuleExplanation {
        name: m.name.clone(),
        state: "cpython-ext",
        reason: format!(
            "built in from cpython-ext/{}/ ({} file{})",
            m.name,
            m.files.len(),
            if m.files.len() == 1 { "" } else { "s" }
        ),
    }));
    if let Some(sqlite) = &profile.sqlite {
        out.push(ModuleExplanation {
            name: "_sqlite3".to_string(),
            state: "static",
            reason: format!(
                "CPython's own module, linked against SQLite compiled from {} (sha256 {}) with {}",
                sqlite.source.tarball,
                sqlite.source.sha256,
                sqlite.cflags.join(" ")
            ),
        });
    }
    out
}
