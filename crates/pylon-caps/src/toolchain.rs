//! The host toolchain as it bears on reproducibility, and the hints a MISMATCH
//! gets from comparing it with what the manifest recorded.

use std::process::{Command, Stdio};

use pylon_manifest::{Cap, Manifest};

/// `rustc -V` of the rustc cargo would use here, if there is one.
pub fn current_rustc() -> Option<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc)
        .arg("-V")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Likely causes of a digest mismatch, most specific first; the last hint is the
/// next thing to try, as in the spec's troubleshooting section.
pub fn mismatch_hints(
    manifest: &Manifest,
    cap: &Cap,
    current_rustc: Option<&str>,
    actual_size: u64,
) -> Vec<String> {
    let mut hints = Vec::new();
    match (manifest.toolchain.rustc.as_deref(), current_rustc) {
        (Some(pinned), Some(here)) if pinned != here => hints.push(format!(
            "your rustc differs: the digests were made with `{pinned}`, this machine has `{here}`; \
             build output is reproducible per rustc version, not across"
        )),
        (Some(_), None) => {
            hints.push("no rustc found on PATH to compare with the manifest's".into())
        }
        _ => {}
    }
    if let Some(size) = cap.size {
        if size == actual_size {
            hints.push(format!(
                "same size ({size} bytes), different bytes: typical of an embedded timestamp or path \
                 (check `strings` of the artifact for dates and absolute paths)"
            ));
        } else {
            hints.push(format!(
                "size changed from {size} to {actual_size} bytes: different code or dependencies \
                 (does the cap's Cargo.lock at the pinned rev match what was pinned?)"
            ));
        }
    }
    hints.push(format!(
        "if the change is intended, re-pin it from a fresh build: `pylon manifest regen {}`",
        cap.name
    ));
    hints
}
