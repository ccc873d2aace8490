//! Strict reading of `caps-manifest.toml`: unknown keys, wrong types, malformed
//! digests and duplicate names are all collected, each with its position.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml_edit::{Document, Item, Table};

use crate::strict::{span_of, value_span, StrictToml};
use crate::types::*;
use crate::{Diagnostics, ManifestError};

const TOP_KEYS: &[&str] = &["schema", "pylon_sha256", "toolchain", "cap"];
const TOOLCHAIN_KEYS: &[&str] = TOOLCHAIN_FIELDS;
const CAP_KEYS: &[&str] = &[
    "name",
    "repo",
    "rev",
    "local_dir",
    "target",
    "artifact",
    "sha256",
    "size",
    "exports",
];

/// Reads and validates a manifest file.
pub fn read_manifest(path: &Path) -> Result<Manifest, ManifestError> {
    let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_manifest(path, &text)
}

/// Validates manifest text; `path` is used for messages and to anchor in-tree caps.
pub fn parse_manifest(path: &Path, text: &str) -> Result<Manifest, ManifestError> {
    let mut cx = Checker {
        toml: StrictToml::new(text),
    };
    let manifest = match Document::parse(text) {
        Ok(doc) => cx.manifest(path, doc.as_table()),
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            cx.report(span, "toml", e.message().trim());
            None
        }
    };
    cx.diagnostics.sort_by_key(|d| (d.line, d.column));
    match manifest {
        Some(m) if cx.diagnostics.is_empty() => Ok(m),
        _ => Err(ManifestError::Invalid {
            diagnostics: Diagnostics {
                path: path.to_path_buf(),
                items: cx.toml.diagnostics,
            },
        }),
    }
}

/// The manifest's rules over the shared strict checker.
struct Checker<'a> {
    toml: StrictToml<'a>,
}

impl<'a> std::ops::Deref for Checker<'a> {
    type Target = StrictToml<'a>;
    fn deref(&self) -> &StrictToml<'a> {
        &self.toml
    }
}

impl std::ops::DerefMut for Checker<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.toml
    }
}

impl Checker<'_> {
    fn manifest(&mut self, path: &Path, root: &Table) -> Option<Manifest> {
        self.unknown_keys(StrictToml::table_keys(root), TOP_KEYS, "");
        let whole = 0..0;

        let schema = match root.get("schema") {
            None => {
                self.report(whole.clone(), "schema", "missing (expected `schema = 1`)");
                None
            }
            Some(item) => match item.as_integer() {
                Some(SCHEMA_VERSION) => Some(SCHEMA_VERSION),
                Some(other) => {
                    self.report(
                        span_of(item),
                        "schema",
                        format!("unsupported schema version {other} (this pylon reads {SCHEMA_VERSION})"),
                    );
                    None
                }
                None => {
                    self.report(span_of(item), "schema", "expected an integer");
                    None
                }
            },
        };

        let pylon_sha256 = self.digest(root, "pylon_sha256", "pylon_sha256", whole.clone());
        let toolchain = self.toolchain(root);

        let mut caps = Vec::new();
        match root.get("cap") {
            None => {}
            Some(Item::ArrayOfTables(array)) => {
                let mut seen: HashMap<String, usize> = HashMap::new();
                let mut dirs: HashMap<String, (String, usize)> = HashMap::new();
                for (index, table) in array.iter().enumerate() {
                    // Duplicates are checked on the raw name so they are reported
                    // even when the entry has other problems.
                    if let Some(name_item) = table.get("name") {
                        if let Some(name) = name_item.as_str() {
                            let (line, _) = self.position(table.span().unwrap_or(0..0).start);
                            if let Some(first_line) = seen.get(name) {
                                self.report(
                                    span_of(name_item),
                                    &format!("cap {name:?}.name"),
                                    format!(
                                        "duplicate cap name (first defined by the [[cap]] at line {first_line})"
                                    ),
                                );
                            } else {
                                seen.insert(name.to_string(), line);
                            }
                        }
                    }
                    self.check_dir_name(table, &mut dirs);
                    if let Some(cap) = self.cap(index, table) {
                        caps.push(cap);
                    }
                }
            }
            Some(item) => self.report(
                span_of(item),
                "cap",
                "expected an array of tables ([[cap]] entries)",
            ),
        }

        Some(Manifest {
            path: path.to_path_buf(),
            schema: schema?,
            pylon_sha256: pylon_sha256?,
            toolchain: toolchain?,
            caps,
        })
    }

    /// Two caps checked out into one directory would build each other's source: every
    /// cap's directory name (`local_dir`, else its name) must be its own. Same-name caps
    /// are left to the duplicate-name check.
    fn check_dir_name(&mut self, table: &Table, dirs: &mut HashMap<String, (String, usize)>) {
        let Some(name) = table.get("name").and_then(|i| i.as_str()) else {
            return;
        };
        let (dir, item) = match table.get("local_dir") {
            Some(item) => match item.as_str() {
                Some(d) => (d, item),
                None => return,
            },
            None => match table.get("name") {
                Some(item) => (name, item),
                None => return,
            },
        };
        let (line, _) = self.position(table.span().unwrap_or(0..0).start);
        match dirs.get(dir) {
            Some((other, first_line)) if other != name => {
                let field = if table.contains_key("local_dir") {
                    "local_dir"
                } else {
                    "name"
                };
                self.report(
                    span_of(item),
                    &format!("cap {name:?}.{field}"),
                    format!(
                        "checkout directory {dir:?} is already cap {other:?}'s (the [[cap]] at \
                         line {first_line}); give one of them a distinct `local_dir`"
                    ),
                );
            }
            Some(_) => {}
            None => {
                dirs.insert(dir.to_string(), (name.to_string(), line));
            }
        }
    }

    fn toolchain(&mut self, root: &Table) -> Option<Toolchain> {
        match root.get("toolchain") {
            None => Some(Toolchain::default()),
            Some(Item::Table(table)) => {
                self.unknown_keys(StrictToml::table_keys(table), TOOLCHAIN_KEYS, "toolchain");
                let mut toolchain = Toolchain::default();
                let mut ok = true;
                for key in TOOLCHAIN_KEYS {
                    let Some(item) = table.get(key) else { continue };
                    match item.as_str() {
                        Some(s) => {
                            toolchain.set(key, Some(s.to_string()));
                        }
                        None => {
                            self.report(
                                span_of(item),
                                &format!("toolchain.{key}"),
                                format!("expected a string, found {}", item.type_name()),
                            );
                            ok = false;
                        }
                    }
                }
                ok.then_some(toolchain)
            }
            Some(item) => {
                self.report(span_of(item), "toolchain", "expected a table");
                None
            }
        }
    }

    /// A required 64-hex digest where all zeros means placeholder.
    fn digest(
        &mut self,
        table: &Table,
        key: &str,
        field: &str,
        missing_span: Range<usize>,
    ) -> Option<Pin<Sha256>> {
        let item = match table.get(key) {
            Some(item) => item,
            None => {
                self.report(
                    missing_span,
                    field,
                    "missing (64 hex digits, or 64 zeros as a placeholder)",
                );
                return None;
            }
        };
        let s = self.string(item, field)?;
        match Sha256::parse(s) {
            Ok(d) if d.as_str().bytes().all(|b| b == b'0') => Some(Pin::Placeholder),
            Ok(d) => Some(Pin::Pinned(d)),
            Err(why) => {
                self.report(span_of(item), field, format!("invalid sha256: {why}"));
                None
            }
        }
    }

    fn cap(&mut self, index: usize, table: &Table) -> Option<Cap> {
        let header = table.span().unwrap_or(0..0);
        let (line, _) = self.position(header.start);
        // Until the name is known, refer to the cap by position.
        let mut owner = format!("cap[{index}]");

        let name = self
            .required(table, "name", &owner)
            .and_then(|item| self.cap_name(item, &owner));
        if let Some(n) = &name {
            owner = format!("cap {n:?}");
        }
        self.unknown_keys(StrictToml::table_keys(table), CAP_KEYS, &owner);

        let repo_spec = self
            .required(table, "repo", &owner)
            .and_then(|item| self.cap_repo(item, &owner));

        let rev = self
            .required(table, "rev", &owner)
            .and_then(|item| self.cap_rev(item, &owner));

        let local_dir = self.cap_local_dir(table, &owner);

        let target = self
            .required(table, "target", &owner)
            .and_then(|item| self.cap_target(item, &owner));

        let artifact = self
            .required(table, "artifact", &owner)
            .and_then(|item| self.cap_artifact(item, &owner));

        let missing = header.clone();
        let sha256 = self.digest(table, "sha256", &format!("{owner}.sha256"), missing);

        let size = self.cap_size(table, &owner);

        let exports = self
            .required(table, "exports", &owner)
            .and_then(|item| self.cap_exports(item, &owner));

        let repo_spec = repo_spec?;
        Some(Cap {
            name: name?,
            repo: Repo::classify(&repo_spec),
            repo_spec,
            rev: rev?,
            local_dir: local_dir?,
            target: target?,
            artifact: artifact?,
            sha256: sha256?,
            size: size?,
            exports: exports?,
            line,
        })
    }

    fn cap_name(&mut self, item: &Item, owner: &str) -> Option<String> {
        let s = self.string(item, &format!("{owner}.name"))?;
        let valid = !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
            && !s.starts_with('.');
        if !valid {
            self.report(
                span_of(item),
                &format!("{owner}.name"),
                "a cap name is letters, digits, '-', '_' and '.', not starting with '.'",
            );
            return None;
        }
        Some(s.to_string())
    }

    fn cap_repo(&mut self, item: &Item, owner: &str) -> Option<String> {
        let s = self.string(item, &format!("{owner}.repo"))?;
        if s.trim().is_empty() {
            self.report(span_of(item), &format!("{owner}.repo"), "must not be empty");
            return None;
        }
        // git would read it as an option (`--upload-pack=…`), whatever we pass first.
        if s.starts_with('-') {
            self.report(
                span_of(item),
                &format!("{owner}.repo"),
                "must not start with '-' (git would take it as an option)",
            );
            return None;
        }
        Some(s.to_string())
    }

    fn cap_rev(&mut self, item: &Item, owner: &str) -> Option<Pin<Rev>> {
        let field = format!("{owner}.rev");
        let s = self.string(item, &field)?;
        match Rev::parse(s) {
            Ok(r) if r.as_str().bytes().all(|b| b == b'0') => Some(Pin::Placeholder),
            Ok(r) => Some(Pin::Pinned(r)),
            Err(why) => {
                self.report(
                    span_of(item),
                    &field,
                    format!("invalid git revision: {why} (a full 40-hex commit or tree id)"),
                );
                None
            }
        }
    }

    fn cap_target(&mut self, item: &Item, owner: &str) -> Option<Target> {
        let field = format!("{owner}.target");
        let s = self.string(item, &field)?;
        match Target::parse(s) {
            Some(t) => Some(t),
            None => {
                self.report(
                    span_of(item),
                    &field,
                    format!("unknown target {s:?} (expected \"wasm32-wasip1\", \"wasm32-wasip2\", or \"\" to run make)"),
                );
                None
            }
        }
    }

    fn cap_artifact(&mut self, item: &Item, owner: &str) -> Option<PathBuf> {
        let field = format!("{owner}.artifact");
        let s = self.string(item, &field)?;
        let p = PathBuf::from(s);
        let escapes = p
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)));
        if s.is_empty() || escapes {
            self.report(
                span_of(item),
                &field,
                "must be a relative path inside the cap's checkout (no '..', no leading '/')",
            );
            None
        } else {
            Some(p)
        }
    }

    fn cap_exports(&mut self, item: &Item, owner: &str) -> Option<Vec<String>> {
        let field = format!("{owner}.exports");
        let Some(array) = item.as_array() else {
            self.report(
                span_of(item),
                &field,
                "expected an array of WIT interface names",
            );
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for value in array.iter() {
            match value.as_str() {
                Some(s) if is_interface_name(s) => out.push(s.to_string()),
                _ => {
                    ok = false;
                    self.report(
                        value_span(value),
                        &field,
                        format!(
                            "{} is not a WIT interface name like \"pylon:zlib/zlib@0.1.0\"",
                            value.to_string().trim()
                        ),
                    );
                }
            }
        }
        ok.then_some(out)
    }

    fn cap_local_dir(&mut self, table: &Table, owner: &str) -> Option<Option<String>> {
        match table.get("local_dir") {
            None => Some(None),
            Some(item) => {
                let field = format!("{owner}.local_dir");
                self.string(item, &field).and_then(|s| {
                    if s.is_empty() || s.contains('/') || s.contains('\\') || s.starts_with('.') {
                        // A leading '.' would also name pylon's own `.pylon-*` directories
                        // beside the checkouts.
                        self.report(
                            span_of(item),
                            &field,
                            "must be a single directory name, not starting with '.'",
                        );
                        None
                    } else {
                        Some(Some(s.to_string()))
                    }
                })
            }
        }
    }

    fn cap_size(&mut self, table: &Table, owner: &str) -> Option<Option<u64>> {
        match table.get("size") {
            None => Some(None),
            Some(item) => match item.as_integer() {
                Some(n) if n >= 0 => Some(Some(n as u64)),
                _ => {
                    self.report(
                        span_of(item),
                        &format!("{owner}.size"),
                        "expected a non-negative integer (bytes)",
                    );
                    None
                }
            },
        }
    }
}

/// `namespace:package/interface` with an optional `@version`.
fn is_interface_name(s: &str) -> bool {
    let (path, version) = match s.split_once('@') {
        Some((p, v)) => (p, Some(v)),
        None => (s, None),
    };
    let Some((package, interface)) = path.split_once('/') else {
        return false;
    };
    let Some((namespace, name)) = package.split_once(':') else {
        return false;
    };
    let ident =
        |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ident(namespace)
        && ident(name)
        && ident(interface)
        && version.is_none_or(|v| !v.is_empty() && !v.contains(char::is_whitespace))
}
