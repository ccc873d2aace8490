//! Reading what a built component exports, to check it against the manifest.

use wasmparser::{Parser, Payload};

#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("not a WebAssembly component: {0}")]
    NotAComponent(String),
    #[error("malformed component: {0}")]
    Malformed(String),
}

/// Names exported by the outermost component (nested components and modules are
/// skipped: their exports are internal plumbing).
pub fn component_exports(bytes: &[u8]) -> Result<Vec<String>, InspectError> {
    let mut names = Vec::new();
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| InspectError::Malformed(e.to_string()))?;
        match payload {
            Payload::Version { encoding, .. } => {
                if depth == 0 && encoding != wasmparser::Encoding::Component {
                    return Err(InspectError::NotAComponent(
                        "this is a core module; caps must be components".into(),
                    ));
                }
                depth += 1;
            }
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentExportSection(section) if depth == 1 => {
                for export in section {
                    let export = export.map_err(|e| InspectError::Malformed(e.to_string()))?;
                    names.push(export.name.full_name().into_owned());
                }
            }
            _ => {}
        }
    }
    Ok(names)
}

/// Declared interfaces the component does not export.
pub fn missing_exports(bytes: &[u8], declared: &[String]) -> Result<Vec<String>, InspectError> {
    let exported = component_exports(bytes)?;
    Ok(declared
        .iter()
        .filter(|d| !exported.contains(d))
        .cloned()
        .collect())
}
