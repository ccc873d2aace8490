//! `cap.toml`, the descriptor at the root of a cap's directory: what Pylon needs to
//! know about a cap that its cargo project and WIT do not say. The manifest's
//! `[[cap]]` entry is the lock written from it (plus the pins); exports are not
//! listed here, they are read from the WIT world named here.
//!
//! ```toml
//! name = "zlib"
//! target = "wasm32-wasip2"
//! artifact = "target/component/zlib.wasm"
//! world = "zlib-cap"
//!
//! [[module]]
//! name = "zlib"
//! reason = "CPython's zlib API over the cap"
//! ```

use std::path::{Path, PathBuf};

use toml_edit::{Document, Item, Table};

use crate::strict::{span_of, StrictToml};
use crate::types::{valid_cap_name, Target};
use crate::{Diagnostics, ManifestError};

/// The descriptor's file name inside a cap directory.
pub const DESCRIPTOR_FILE: &str = "cap.toml";

const TOP_KEYS: &[&str] = &["name", "target", "artifact", "world", "module"];
const MODULE_KEYS: &[&str] = &["name", "reason"];

/// A cap's descriptor (`caps/<name>/cap.toml`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CapDescriptor {
    pub name: String,
    pub target: Target,
    /// The component the build produces, relative to the cap directory.
    pub artifact: String,
    /// The WIT world (in `wit/`) whose exports the component provides.
    pub world: String,
    /// The Python modules the cap serves (its overlays in `python/`), with why.
    pub modules: Vec<ServedModule>,
}

/// One Python module a cap serves.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServedModule {
    pub name: String,
    pub reason: String,
}

/// Reads and validates `<cap_dir>/cap.toml`.
pub fn read_descriptor(cap_dir: &Path) -> Result<CapDescriptor, ManifestError> {
    let path = cap_dir.join(DESCRIPTOR_FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| ManifestError::Read {
        path: path.clone(),
        source,
    })?;
    parse_descriptor(&path, &text)
}

/// Validates descriptor text; `path` is used in messages.
pub fn parse_descriptor(path: &Path, text: &str) -> Result<CapDescriptor, ManifestError> {
    let mut toml = StrictToml::new(text);
    let descriptor = match Document::parse(text) {
        Ok(doc) => check(&mut toml, doc.as_table()),
        Err(e) => {
            toml.report(e.span().unwrap_or(0..0), "toml", e.message().trim());
            None
        }
    };
    toml.diagnostics.sort_by_key(|d| (d.line, d.column));
    match descriptor {
        Some(d) if toml.diagnostics.is_empty() => Ok(d),
        _ => Err(ManifestError::InvalidDescriptor {
            diagnostics: Diagnostics {
                path: PathBuf::from(path),
                items: toml.diagnostics,
            },
        }),
    }
}

fn check(toml: &mut StrictToml<'_>, top: &Table) -> Option<CapDescriptor> {
    toml.unknown_keys(StrictToml::table_keys(top), TOP_KEYS, "");
    let name = required_string(toml, top, "name", "");
    if let Some((name, span)) = &name {
        if !valid_cap_name(name) {
            toml.report(
                span.clone(),
                "name",
                "a cap name is lowercase ASCII letters, digits, '-' and '_', starting with a letter",
            );
        }
    }
    let target = required_string(toml, top, "target", "").and_then(|(t, span)| {
        let parsed = Target::parse(&t);
        if parsed.is_none() {
            let known: Vec<String> = Target::ALL
                .iter()
                .map(|t| format!("{:?}", t.as_str()))
                .collect();
            toml.report(
                span,
                "target",
                format!("expected one of {}", known.join(", ")),
            );
        }
        parsed
    });
    let artifact = required_string(toml, top, "artifact", "");
    if let Some((a, span)) = &artifact {
        if a.is_empty() || Path::new(a).is_absolute() || a.split('/').any(|c| c == "..") {
            toml.report(
                span.clone(),
                "artifact",
                "a relative path inside the cap directory, without '..'",
            );
        }
    }
    let world = required_string(toml, top, "world", "");
    let modules = modules(toml, top.get("module"));
    Some(CapDescriptor {
        name: name?.0,
        target: target?,
        artifact: artifact?.0,
        world: world?.0,
        modules: modules?,
    })
}

fn required_string(
    toml: &mut StrictToml<'_>,
    table: &Table,
    key: &str,
    owner: &str,
) -> Option<(String, std::ops::Range<usize>)> {
    let field = if owner.is_empty() {
        key.to_string()
    } else {
        format!("{owner}.{key}")
    };
    let item = match table.get(key) {
        Some(item) => item,
        None => {
            toml.report(
                table.span().unwrap_or(0..0),
                &field,
                "missing required field",
            );
            return None;
        }
    };
    toml.string(item, &field)
        .map(|s| (s.to_string(), span_of(item)))
}

/// `[[module]]` entries: optional (a cap may serve only its generated module).
fn modules(toml: &mut StrictToml<'_>, item: Option<&Item>) -> Option<Vec<ServedModule>> {
    let Some(item) = item else {
        return Some(Vec::new());
    };
    let Some(tables) = item.as_array_of_tables() else {
        toml.report(span_of(item), "module", "expected [[module]] tables");
        return None;
    };
    let mut out = Vec::new();
    let mut ok = true;
    for (i, t) in tables.iter().enumerate() {
        let owner = format!("module[{i}]");
        toml.unknown_keys(StrictToml::table_keys(t), MODULE_KEYS, &owner);
        let name = required_string(toml, t, "name", &owner);
        let reason = required_string(toml, t, "reason", &owner);
        match (name, reason) {
            (Some((name, span)), Some((reason, _))) => {
                if out.iter().any(|m: &ServedModule| m.name == name) {
                    toml.report(span, &format!("{owner}.name"), "listed twice");
                    ok = false;
                }
                out.push(ServedModule { name, reason });
            }
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "zlib"
target = "wasm32-wasip2"
artifact = "target/component/zlib.wasm"
world = "zlib-cap"

[[module]]
name = "zlib"
reason = "CPython's zlib API"
"#;

    #[test]
    fn a_complete_descriptor_is_read() {
        let d = parse_descriptor(Path::new("cap.toml"), GOOD).unwrap();
        assert_eq!(d.name, "zlib");
        assert_eq!(d.target, Target::Wasip2);
        assert_eq!(d.world, "zlib-cap");
        assert_eq!(d.modules.len(), 1);
        assert_eq!(d.modules[0].name, "zlib");
    }

    fn problems(text: &str) -> String {
        match parse_descriptor(Path::new("caps/x/cap.toml"), text) {
            Ok(d) => panic!("accepted: {d:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_misspelled_key_is_an_error_naming_it() {
        let e = problems(&GOOD.replace("world =", "wrold ="));
        assert!(e.contains("caps/x/cap.toml:5:1: wrold: unknown key"), "{e}");
        assert!(e.contains("world: missing required field"), "{e}");
    }

    #[test]
    fn bad_values_are_each_reported_with_their_field() {
        let e = problems(
            &GOOD
                .replace("wasm32-wasip2", "wasm64")
                .replace("target/component/zlib.wasm", "../zlib.wasm")
                .replace("reason = ", "why = "),
        );
        assert!(e.contains("target: expected one of"), "{e}");
        assert!(e.contains("artifact: a relative path"), "{e}");
        assert!(e.contains("module[0].why: unknown key"), "{e}");
        assert!(
            e.contains("module[0].reason: missing required field"),
            "{e}"
        );
    }

    #[test]
    fn malformed_toml_is_located() {
        let e = problems("name = \"zlib\"\ntarget = \n");
        assert!(e.contains("caps/x/cap.toml:2:"), "{e}");
    }
}
