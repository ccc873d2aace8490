//! Build profiles (`profiles/<name>.toml`): every input of a CPython build, pinned.
//!
//! Reading is strict in the style of `pylon-manifest`: unknown keys, wrong types,
//! malformed digests and flags that the build itself owns are all collected and
//! reported together, each with `file:line:column` and the field.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml_edit::{Document, Item, Table};

/// The profile schema this code reads.
pub const SCHEMA_VERSION: i64 = 1;

/// Guest prefix of the interpreter. Fixed, not a profile field: the stdlib zip's guest
/// path (`<prefix>/lib/python3NN.zip`) and the `sysconfigdata` depend on it.
pub const PREFIX: &str = "/usr/local";

use pylon_manifest::strict::{span_of, value_span, StrictToml};
/// Digests and diagnostics are the manifest's types: one definition of "a sha256"
/// and of "file:line:column: field: message" for every TOML file Pylon reads.
pub use pylon_manifest::{Diagnostic, Diagnostics, Sha256};

/// Where the CPython source tarball can be fetched from, tried in order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "location", rename_all = "kebab-case")]
pub enum SourceLocation {
    /// A path under the Debian archive host taken from this machine's apt
    /// configuration (`debian-pool:pool/main/...`).
    DebianPool(String),
    /// A plain mirror URL (`url:https://...`).
    Url(String),
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceSpec {
    pub tarball: String,
    pub sha256: Sha256,
    pub size: Option<u64>,
    /// Top directory inside the tarball, e.g. `Python-3.13.15`.
    pub top_dir: String,
    pub sources: Vec<SourceLocation>,
}

/// One Debian package of the WASI toolchain, pinned by exact version and .deb digest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PackagePin {
    pub name: String,
    pub version: String,
    pub sha256: Sha256,
    /// Where the `.deb` lies in the Debian archive (`pool/main/…/NAME_VERSION_ARCH.deb`):
    /// pylon fetches it from there under each archive host (required; `Some` for every
    /// pin of a validated profile).
    pub pool: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BuildSpec {
    pub host_triple: String,
    pub source_date_epoch: u64,
    /// Extra `configure` arguments for the WASI build.
    pub configure_flags: Vec<String>,
    /// Extra CFLAGS for the WASI build (the path maps are added by the build).
    pub cflags: Vec<String>,
    /// LDFLAGS for the WASI link (e.g. `-Wl,--strip-debug`).
    pub ldflags: Vec<String>,
}

/// A C-extension module switched off, and why (printed by `--explain-modules`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DisabledModule {
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StdlibSpec {
    /// Put `test`, `tests` and `idle_test` packages into the zip.
    pub include_tests: bool,
    /// Top-level stdlib entries left out of the zip (`"idlelib"`, `"turtle.py"`).
    pub exclude: Vec<String>,
}

/// A validated profile.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Profile {
    /// The profile's name: its file stem (`cp313`).
    pub name: String,
    pub path: PathBuf,
    /// The file's exact text; it is part of the build's cache key.
    #[serde(skip)]
    pub text: String,
    /// `3.13.15`.
    pub version: String,
    pub source: SourceSpec,
    pub toolchain: Vec<PackagePin>,
    pub build: BuildSpec,
    pub disabled_modules: Vec<DisabledModule>,
    pub stdlib: StdlibSpec,
    /// `[sqlite]`: SQLite compiled from a pinned source and linked into python.wasm for
    /// the stdlib's `_sqlite3` (absent: `_sqlite3` must be listed as disabled).
    pub sqlite: Option<SqliteSpec>,
}

/// The SQLite library `_sqlite3` is built against: its pinned source (SQLite's full
/// source tree; the build makes the amalgamation from it) and its compile options.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SqliteSpec {
    pub source: SourceSpec,
    /// Options for compiling the amalgamation (`-O2`, `-DSQLITE_…`); the target, the
    /// sysroot and the path maps are the build's own.
    pub cflags: Vec<String>,
}

impl Profile {
    /// `3.13` for `3.13.15`.
    pub fn major_minor(&self) -> &str {
        let mut dots = self.version.match_indices('.');
        let _ = dots.next();
        match dots.next() {
            Some((i, _)) => &self.version[..i],
            None => &self.version,
        }
    }

    /// `313` for `3.13.15`: the suffix of `python313.zip`.
    pub fn nodot(&self) -> String {
        self.major_minor().replace('.', "")
    }

    /// The guest path at which CPython looks for its zipped stdlib by default.
    pub fn stdlib_zip_guest_path(&self) -> String {
        format!("{PREFIX}/lib/python{}.zip", self.nodot())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("unknown profile {name:?} (profiles in {}: {})", dir.display(), if known.is_empty() { "none".to_string() } else { known.join(", ") })]
    Unknown {
        name: String,
        dir: PathBuf,
        known: Vec<String>,
    },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid profile ({} problem{}):\n{diagnostics}", diagnostics.items.len(), if diagnostics.items.len() == 1 { "" } else { "s" })]
    Invalid { diagnostics: Diagnostics },
}

/// Name of the file in the profiles directory that names the default profile.
pub const DEFAULT_FILE: &str = "default";

/// Resolves a profile name (or `None` for the default) to its file and reads it.
///
/// The default is the single name written in `<dir>/default`, so changing which
/// profile `make build` builds is a one-line change that shows in review. A value
/// containing `/` or ending in `.toml` is taken as a path.
pub fn load_profile(dir: &Path, name: Option<&str>) -> Result<Profile, ProfileError> {
    let name = match name {
        Some(n) => n.trim().to_string(),
        None => {
            let path = dir.join(DEFAULT_FILE);
            let text = std::fs::read_to_string(&path)
                .map_err(|source| ProfileError::Read { path, source })?;
            // First non-comment line.
            text.lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with('#'))
                .unwrap_or_default()
                .to_string()
        }
    };
    let path = if name.contains('/') || name.ends_with(".toml") {
        PathBuf::from(&name)
    } else {
        dir.join(format!("{name}.toml"))
    };
    let valid_name = !name.is_empty()
        && (name.contains('/')
            || name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'));
    if !valid_name || !path.is_file() {
        return Err(ProfileError::Unknown {
            name,
            dir: dir.to_path_buf(),
            known: list_profiles(dir),
        });
    }
    read_profile(&path)
}

/// Names of the profiles in `dir` (`*.toml` stems), sorted.
pub fn list_profiles(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".toml").map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

pub fn read_profile(path: &Path) -> Result<Profile, ProfileError> {
    let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_profile(path, &text)
}

/// Validates profile text; `path` names the file in messages, its stem names the profile.
pub fn parse_profile(path: &Path, text: &str) -> Result<Profile, ProfileError> {
    let mut cx = Checker {
        toml: StrictToml::new(text),
    };
    let profile = match Document::parse(text) {
        Ok(doc) => cx.profile(path, text, doc.as_table()),
        Err(e) => {
            cx.report(e.span().unwrap_or(0..0), "toml", e.message().trim());
            None
        }
    };
    cx.toml.diagnostics.sort_by_key(|d| (d.line, d.column));
    match profile {
        Some(p) if cx.toml.diagnostics.is_empty() => Ok(p),
        _ => Err(ProfileError::Invalid {
            diagnostics: Diagnostics {
                path: path.to_path_buf(),
                items: cx.toml.diagnostics,
            },
        }),
    }
}

const TOP_KEYS: &[&str] = &[
    "schema",
    "cpython",
    "source",
    "toolchain",
    "build",
    "modules",
    "stdlib",
    "sqlite",
];
const CPYTHON_KEYS: &[&str] = &["version"];
const SOURCE_KEYS: &[&str] = &["tarball", "sha256", "size", "top_dir", "sources"];
const SQLITE_KEYS: &[&str] = &["tarball", "sha256", "size", "top_dir", "sources", "cflags"];
const TOOLCHAIN_KEYS: &[&str] = &["packages"];
/// A `.deb`'s path in a Debian archive, as written into a URL and a shell command by
/// the toolchain installer: under `pool/`, one plain file name, nothing to escape.
fn is_pool_path(p: &str) -> bool {
    p.starts_with("pool/")
        && p.ends_with(".deb")
        && !p
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._+~-".contains(c))
}

const PACKAGE_KEYS: &[&str] = &["name", "version", "sha256", "pool"];
const BUILD_KEYS: &[&str] = &[
    "host_triple",
    "source_date_epoch",
    "configure_flags",
    "cflags",
    "ldflags",
];
const MODULES_KEYS: &[&str] = &["disabled"];
const DISABLED_KEYS: &[&str] = &["name", "reason"];
const STDLIB_KEYS: &[&str] = &["include_tests", "exclude"];

/// Host triples this code knows how to build for.
pub const SUPPORTED_HOSTS: &[&str] = &["wasm32-wasip2"];

/// Packages every profile must pin: the build calls each of them.
pub const REQUIRED_PACKAGES: &[&str] = &[
    "clang-19",
    "lld-19",
    "llvm-19",
    "libclang-rt-19-dev-wasm32",
    "wasi-libc",
];

/// Configure arguments the build sets itself; a profile that sets them would make the
/// recorded recipe lie.
const OWNED_CONFIGURE_FLAGS: &[&str] = &[
    "--host",
    "--build",
    "--with-build-python",
    "--prefix",
    "--exec-prefix",
    "CC=",
    "CFLAGS=",
    "LDFLAGS=",
    "CONFIG_SITE=",
];

/// The profile's rules over the manifest's strict checker.
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
    /// A required sub-table; reports a missing or mistyped one.
    fn section<'t>(&mut self, root: &'t Table, key: &str) -> Option<&'t Table> {
        match root.get(key) {
            None => {
                self.report(0..0, key, format!("missing section [{key}]"));
                None
            }
            Some(Item::Table(t)) => Some(t),
            Some(item) => {
                self.report(span_of(item), key, "expected a table");
                None
            }
        }
    }

    fn string(&mut self, item: &Item, field: &str) -> Option<String> {
        self.toml.string(item, field).map(str::to_string)
    }

    fn nonempty_string(&mut self, table: &Table, key: &str, owner: &str) -> Option<String> {
        let item = self.required(table, key, owner)?;
        let field = format!("{owner}.{key}");
        let s = self.string(item, &field)?;
        if s.trim().is_empty() {
            self.report(span_of(item), &field, "must not be empty");
            return None;
        }
        Some(s)
    }

    fn digest_value(&mut self, s: Option<&str>, span: Range<usize>, field: &str) -> Option<Sha256> {
        let Some(s) = s else {
            self.report(span, field, "expected a string of 64 hex digits");
            return None;
        };
        match Sha256::parse(s) {
            Ok(d) => Some(d),
            Err(why) => {
                self.report(span, field, format!("invalid sha256: {why}"));
                None
            }
        }
    }

    fn string_array(&mut self, item: &Item, field: &str) -> Option<Vec<(String, Range<usize>)>> {
        let Some(array) = item.as_array() else {
            self.report(span_of(item), field, "expected an array of strings");
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for v in array.iter() {
            match v.as_str() {
                Some(s) => out.push((s.to_string(), value_span(v))),
                None => {
                    ok = false;
                    self.report(value_span(v), field, "expected a string");
                }
            }
        }
        ok.then_some(out)
    }

    fn profile(&mut self, path: &Path, text: &str, root: &Table) -> Option<Profile> {
        self.unknown_keys(StrictToml::table_keys(root), TOP_KEYS, "");
        let schema = match root.get("schema") {
            None => {
                self.report(0..0, "schema", "missing (expected `schema = 1`)");
                None
            }
            Some(item) => match item.as_integer() {
                Some(SCHEMA_VERSION) => Some(()),
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
        let version = self.section(root, "cpython").and_then(|t| {
            self.unknown_keys(StrictToml::table_keys(t), CPYTHON_KEYS, "cpython");
            let item = self.required(t, "version", "cpython")?;
            let v = self.string(item, "cpython.version")?;
            let parts: Vec<&str> = v.split('.').collect();
            if parts.len() != 3
                || parts
                    .iter()
                    .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
                || parts[0] != "3"
            {
                self.report(
                    span_of(item),
                    "cpython.version",
                    format!("{v:?} is not a CPython release like \"3.13.15\""),
                );
                return None;
            }
            Some(v)
        });
        let source = self
            .section(root, "source")
            .and_then(|t| self.source(t, "source", SOURCE_KEYS));
        let sqlite = match root.get("sqlite") {
            None => Some(None),
            Some(Item::Table(t)) => self.sqlite(t).map(Some),
            Some(item) => {
                self.report(span_of(item), "sqlite", "expected a table");
                None
            }
        };
        let toolchain = self
            .section(root, "toolchain")
            .and_then(|t| self.toolchain(t));
        let build = self.section(root, "build").and_then(|t| self.build(t));
        let disabled = match root.get("modules") {
            None => Some(Vec::new()),
            Some(Item::Table(t)) => self.modules(t),
            Some(item) => {
                self.report(span_of(item), "modules", "expected a table");
                None
            }
        };
        let stdlib = match root.get("stdlib") {
            None => Some(StdlibSpec {
                include_tests: false,
                exclude: Vec::new(),
            }),
            Some(Item::Table(t)) => self.stdlib(t),
            Some(item) => {
                self.report(span_of(item), "stdlib", "expected a table");
                None
            }
        };

        // The tarball and its top directory must belong to the declared version, or a
        // copy-edited profile would build one version under another's name.
        if let (Some(v), Some(s)) = (&version, &source) {
            if !s.top_dir.ends_with(v.as_str()) {
                let span = root
                    .get("source")
                    .and_then(|t| t.get("top_dir"))
                    .map(span_of)
                    .unwrap_or(0..0);
                self.report(
                    span,
                    "source.top_dir",
                    format!("{:?} does not name CPython {v}", s.top_dir),
                );
            }
        }

        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        schema?;
        Some(Profile {
            name,
            path: path.to_path_buf(),
            text: text.to_string(),
            version: version?,
            source: source?,
            toolchain: toolchain?,
            build: build?,
            disabled_modules: disabled?,
            stdlib: stdlib?,
            sqlite: sqlite?,
        })
    }

    /// A pinned source tarball: `[source]` (CPython's) or the source part of `[sqlite]`;
    /// `owner` names the section in diagnostics, `keys` are all the keys it may hold.
    fn source(&mut self, t: &Table, owner: &str, keys: &[&str]) -> Option<SourceSpec> {
        self.unknown_keys(StrictToml::table_keys(t), keys, owner);
        let tarball = self.nonempty_string(t, "tarball", owner).and_then(|s| {
            if s.contains('/') || s.starts_with('.') {
                let span = t.get("tarball").map(span_of).unwrap_or(0..0);
                self.report(
                    span,
                    &format!("{owner}.tarball"),
                    "must be a plain file name",
                );
                None
            } else {
                Some(s)
            }
        });
        let sha256 = self.required(t, "sha256", owner).and_then(|item| {
            self.digest_value(item.as_str(), span_of(item), &format!("{owner}.sha256"))
        });
        let size = match t.get("size") {
            None => Some(None),
            Some(item) => match item.as_integer() {
                Some(n) if n > 0 => Some(Some(n as u64)),
                _ => {
                    self.report(
                        span_of(item),
                        &format!("{owner}.size"),
                        "expected a positive integer (bytes)",
                    );
                    None
                }
            },
        };
        let top_dir = self.nonempty_string(t, "top_dir", owner).and_then(|s| {
            if s.contains('/') || s.starts_with('.') {
                let span = t.get("top_dir").map(span_of).unwrap_or(0..0);
                self.report(
                    span,
                    &format!("{owner}.top_dir"),
                    "must be a single directory name",
                );
                None
            } else {
                Some(s)
            }
        });
        let sources = match t.get("sources") {
            // A profile may have no remote source: then only a local tarball builds it.
            None => Some(Vec::new()),
            Some(item) => {
                self.string_array(item, &format!("{owner}.sources"))
                    .and_then(|list| {
                        let mut out = Vec::new();
                        let mut ok = true;
                        for (s, span) in list {
                            if let Some(p) = s.strip_prefix("debian-pool:") {
                                if p.starts_with("pool/") && !p.contains("..") && !p.contains("://")
                                {
                                    out.push(SourceLocation::DebianPool(p.to_string()));
                                    continue;
                                }
                            } else if let Some(u) = s.strip_prefix("url:") {
                                if u.starts_with("https://") || u.starts_with("http://") {
                                    out.push(SourceLocation::Url(u.to_string()));
                                    continue;
                                }
                            }
                            ok = false;
                            self.report(
                        span,
                        &format!("{owner}.sources"),
                        format!("{s:?}: expected \"debian-pool:pool/...\" or \"url:https://...\""),
                    );
                        }
                        ok.then_some(out)
                    })
            }
        };
        Some(SourceSpec {
            tarball: tarball?,
            sha256: sha256?,
            size: size?,
            top_dir: top_dir?,
            sources: sources?,
        })
    }

    /// An optional array of strings at `t[key]` (absent: empty), each checked by
    /// `refuse`, which returns why a value is refused; every refusal is reported.
    fn checked_strings(
        &mut self,
        t: &Table,
        key: &str,
        field: &str,
        refuse: impl Fn(&str) -> Option<String>,
    ) -> Option<Vec<String>> {
        let Some(item) = t.get(key) else {
            return Some(Vec::new());
        };
        let list = self.string_array(item, field)?;
        let mut ok = true;
        for (value, span) in &list {
            if let Some(why) = refuse(value) {
                ok = false;
                self.report(span.clone(), field, why);
            }
        }
        ok.then(|| list.into_iter().map(|(s, _)| s).collect())
    }

    fn sqlite(&mut self, t: &Table) -> Option<SqliteSpec> {
        let source = self.source(t, "sqlite", SQLITE_KEYS);
        // The build owns the output, the target and the `fcntl` rename its compilation
        // unit (sqlite/pylon_sqlite.c) depends on.
        let cflags = self.checked_strings(t, "cflags", "sqlite.cflags", |flag| {
            let owned = flag == "-o"
                || flag == "-c"
                || flag.starts_with("--target")
                || flag.starts_with("-Dfcntl");
            owned.then(|| format!("{flag:?} is set by the build itself"))
        });
        Some(SqliteSpec {
            source: source?,
            cflags: cflags?,
        })
    }

    fn toolchain(&mut self, t: &Table) -> Option<Vec<PackagePin>> {
        self.unknown_keys(StrictToml::table_keys(t), TOOLCHAIN_KEYS, "toolchain");
        let item = self.required(t, "packages", "toolchain")?;
        let Some(array) = item.as_array() else {
            self.report(
                span_of(item),
                "toolchain.packages",
                "expected an array of { name, version, sha256 } tables",
            );
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (i, v) in array.iter().enumerate() {
            let Some(pkg) = v.as_inline_table() else {
                ok = false;
                self.report(
                    value_span(v),
                    &format!("toolchain.packages[{i}]"),
                    "expected an inline table { name = ..., version = ..., sha256 = ... }",
                );
                continue;
            };
            let keys: Vec<(&str, Range<usize>)> = pkg
                .iter()
                .map(|(k, _)| (k, pkg.key(k).and_then(|k| k.span()).unwrap_or(0..0)))
                .collect();
            let owner = format!("toolchain.packages[{i}]");
            self.unknown_keys(keys, PACKAGE_KEYS, &owner);
            let span = value_span(v);
            let field = |cx: &mut Self, key: &str| -> Option<(String, Range<usize>)> {
                match pkg.get(key) {
                    None => {
                        cx.report(
                            span.clone(),
                            &format!("{owner}.{key}"),
                            "missing required field",
                        );
                        None
                    }
                    Some(val) => match val.as_str() {
                        Some(s) if !s.trim().is_empty() => Some((s.to_string(), value_span(val))),
                        _ => {
                            cx.report(
                                value_span(val),
                                &format!("{owner}.{key}"),
                                "expected a non-empty string",
                            );
                            None
                        }
                    },
                }
            };
            let name = field(self, "name");
            let version = field(self, "version");
            let digest = field(self, "sha256").and_then(|(s, span)| {
                self.digest_value(Some(&s), span, &format!("{owner}.sha256"))
            });
            let pool = match pkg.get("pool") {
                None => {
                    self.report(
                        span_of(item),
                        &format!("{owner}.pool"),
                        "missing: pylon fetches every package from its path in the Debian archive (\"pool/…/NAME_VERSION_ARCH.deb\")",
                    );
                    Err(())
                }
                Some(val) => match val.as_str().filter(|p| is_pool_path(p)) {
                    Some(p) => Ok(Some(p.to_string())),
                    None => {
                        self.report(
                            value_span(val),
                            &format!("{owner}.pool"),
                            "expected a path in the Debian archive: \"pool/…/NAME_VERSION_ARCH.deb\" (no `..`, no spaces)",
                        );
                        Err(())
                    }
                },
            };
            match (name, version, digest, pool) {
                (Some((name, name_span)), Some((version, _)), Some(sha256), Ok(pool)) => {
                    if out.iter().any(|p: &PackagePin| p.name == name) {
                        ok = false;
                        self.report(
                            name_span,
                            &format!("{owner}.name"),
                            format!("{name} is pinned twice"),
                        );
                    }
                    out.push(PackagePin {
                        name,
                        version,
                        sha256,
                        pool,
                    })
                }
                _ => ok = false,
            }
        }
        if ok {
            for required in REQUIRED_PACKAGES {
                if !out.iter().any(|p| p.name == *required) {
                    ok = false;
                    self.report(
                        span_of(item),
                        "toolchain.packages",
                        format!(
                            "no pin for {required} (the build needs every one of: {})",
                            REQUIRED_PACKAGES.join(", ")
                        ),
                    );
                }
            }
        }
        ok.then_some(out)
    }

    fn build(&mut self, t: &Table) -> Option<BuildSpec> {
        let owner = "build";
        self.unknown_keys(StrictToml::table_keys(t), BUILD_KEYS, owner);
        let host_triple = self.nonempty_string(t, "host_triple", owner).and_then(|s| {
            if SUPPORTED_HOSTS.contains(&s.as_str()) {
                Some(s)
            } else {
                let span = t.get("host_triple").map(span_of).unwrap_or(0..0);
                self.report(
                    span,
                    "build.host_triple",
                    format!(
                        "unsupported host triple {s:?} (supported: {})",
                        SUPPORTED_HOSTS.join(", ")
                    ),
                );
                None
            }
        });
        let epoch = self.required(t, "source_date_epoch", owner).and_then(|item| {
            // The zip format cannot record times before 1980-01-01.
            match item.as_integer() {
                Some(n) if n >= 315_532_800 => Some(n as u64),
                _ => {
                    self.report(
                        span_of(item),
                        "build.source_date_epoch",
                        "expected an integer number of seconds since 1970, at least 315532800 (1980-01-01, the earliest zip time)",
                    );
                    None
                }
            }
        });
        let configure_flags = match t.get("configure_flags") {
            None => Some(Vec::new()),
            Some(item) => self
                .string_array(item, "build.configure_flags")
                .and_then(|list| {
                    let mut ok = true;
                    for (flag, span) in &list {
                        if let Some(owned) = OWNED_CONFIGURE_FLAGS.iter().find(|o| {
                            flag == *o || flag.starts_with(&format!("{}=", o.trim_end_matches('=')))
                        }) {
                            ok = false;
                            self.report(
                                span.clone(),
                                "build.configure_flags",
                                format!(
                                    "{flag:?}: {} is set by the build itself",
                                    owned.trim_end_matches('=')
                                ),
                            );
                        }
                    }
                    ok.then(|| list.into_iter().map(|(s, _)| s).collect())
                }),
        };
        let cflags = match t.get("cflags") {
            None => Some(Vec::new()),
            Some(item) => self
                .string_array(item, "build.cflags")
                .map(|l| l.into_iter().map(|(s, _)| s).collect()),
        };
        let ldflags = match t.get("ldflags") {
            None => Some(Vec::new()),
            Some(item) => self
                .string_array(item, "build.ldflags")
                .map(|l| l.into_iter().map(|(s, _)| s).collect()),
        };
        Some(BuildSpec {
            host_triple: host_triple?,
            source_date_epoch: epoch?,
            configure_flags: configure_flags?,
            cflags: cflags?,
            ldflags: ldflags?,
        })
    }

    fn modules(&mut self, t: &Table) -> Option<Vec<DisabledModule>> {
        self.unknown_keys(StrictToml::table_keys(t), MODULES_KEYS, "modules");
        let Some(item) = t.get("disabled") else {
            return Some(Vec::new());
        };
        let Some(array) = item.as_array() else {
            self.report(
                span_of(item),
                "modules.disabled",
                "expected an array of { name, reason } tables",
            );
            return None;
        };
        let mut out: Vec<DisabledModule> = Vec::new();
        let mut ok = true;
        for (i, v) in array.iter().enumerate() {
            let owner = format!("modules.disabled[{i}]");
            let Some(m) = v.as_inline_table() else {
                ok = false;
                self.report(
                    value_span(v),
                    &owner,
                    "expected an inline table { name = ..., reason = ... }",
                );
                continue;
            };
            let keys: Vec<(&str, Range<usize>)> = m
                .iter()
                .map(|(k, _)| (k, m.key(k).and_then(|k| k.span()).unwrap_or(0..0)))
                .collect();
            self.unknown_keys(keys, DISABLED_KEYS, &owner);
            let name = m
                .get("name")
                .and_then(|n| n.as_str().map(|s| (s.to_string(), value_span(n))));
            let reason = m.get("reason").and_then(|r| r.as_str()).map(str::to_string);
            match (name, reason) {
                (Some((name, span)), Some(reason))
                    if is_module_name(&name) && !reason.trim().is_empty() =>
                {
                    if out.iter().any(|d| d.name == name) {
                        ok = false;
                        self.report(
                            span,
                            &format!("{owner}.name"),
                            format!("{name} is listed twice"),
                        );
                    } else {
                        out.push(DisabledModule { name, reason });
                    }
                }
                (Some((name, span)), _) if !is_module_name(&name) => {
                    ok = false;
                    self.report(
                        span,
                        &format!("{owner}.name"),
                        format!("{name:?} is not a module name"),
                    );
                }
                _ => {
                    ok = false;
                    self.report(
                        value_span(v),
                        &owner,
                        "needs a module `name` and a non-empty `reason` (shown by --explain-modules)",
                    );
                }
            }
        }
        ok.then_some(out)
    }

    fn stdlib(&mut self, t: &Table) -> Option<StdlibSpec> {
        self.unknown_keys(StrictToml::table_keys(t), STDLIB_KEYS, "stdlib");
        let include_tests = match t.get("include_tests") {
            None => Some(false),
            Some(item) => match item.as_bool() {
                Some(b) => Some(b),
                None => {
                    self.report(
                        span_of(item),
                        "stdlib.include_tests",
                        "expected true or false",
                    );
                    None
                }
            },
        };
        let exclude = self.checked_strings(t, "exclude", "stdlib.exclude", |s| {
            (s.is_empty() || s.contains('/') || s.starts_with('.')).then(|| {
                format!("{s:?}: expected a top-level name under Lib/ (\"idlelib\", \"turtle.py\")")
            })
        });
        Some(StdlibSpec {
            include_tests: include_tests?,
            exclude: exclude?,
        })
    }
}

/// A CPython extension module name (`_ctypes`, `zlib`).
pub fn is_module_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
