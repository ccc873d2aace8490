//! The validated, typed view of a manifest. Every value here has passed validation:
//! a `Sha256` is 64 lowercase hex digits, a `Rev` 40, a `Target` is one we know.

use std::fmt;
use std::path::{Path, PathBuf};

/// The only manifest schema this version of Pylon reads and writes.
pub const SCHEMA_VERSION: i64 = 1;

/// A sha256 digest as 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Sha256(String);

impl Sha256 {
    /// Accepts exactly 64 hex digits (either case; stored lowercase).
    pub fn parse(s: &str) -> Result<Self, String> {
        parse_hex(s, 64).map(Sha256)
    }
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        let mut s = String::with_capacity(64);
        for b in bytes {
            s.push_str(&format!("{b:02x}"));
        }
        Sha256(s)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A git object id (commit or tree) as 40 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rev(String);

impl Rev {
    pub fn parse(s: &str) -> Result<Self, String> {
        parse_hex(s, 40).map(Rev)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Rev {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn parse_hex(s: &str, len: usize) -> Result<String, String> {
    if s.len() != len {
        return Err(format!(
            "expected {len} hex digits, found {} characters",
            s.chars().count()
        ));
    }
    if let Some((i, c)) = s.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(format!(
            "expected {len} hex digits, found {c:?} at position {}",
            i + 1
        ));
    }
    Ok(s.to_ascii_lowercase())
}

/// A pinned value, or the all-zero placeholder the spec uses for "not pinned yet".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pin<T> {
    Placeholder,
    Pinned(T),
}

impl<T> Pin<T> {
    pub fn pinned(&self) -> Option<&T> {
        match self {
            Pin::Pinned(v) => Some(v),
            Pin::Placeholder => None,
        }
    }
    pub fn is_placeholder(&self) -> bool {
        matches!(self, Pin::Placeholder)
    }
}

/// How a cap's checkout is built into its component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// `cargo build --target wasm32-wasip1`, then wrapped into a component with the
    /// preview1 adapter.
    Wasip1,
    /// `cargo build --target wasm32-wasip2`: the linker already emits a component.
    Wasip2,
    /// `make` in the checkout; the Makefile produces the artifact.
    Make,
}

impl Target {
    pub const ALL: [Target; 3] = [Target::Wasip1, Target::Wasip2, Target::Make];

    /// The spelling used in the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Wasip1 => "wasm32-wasip1",
            Target::Wasip2 => "wasm32-wasip2",
            Target::Make => "",
        }
    }
    pub fn parse(s: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.as_str() == s)
    }
    /// The rustc target triple, for cargo-built caps.
    pub fn rust_triple(self) -> Option<&'static str> {
        match self {
            Target::Make => None,
            t => Some(t.as_str()),
        }
    }
}

/// Where a cap's source comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repo {
    /// A git remote (URL, `file://` URL or a path outside this repository); the cap is
    /// cloned into the caps directory and `rev` is a commit.
    Git(String),
    /// A directory of this repository, relative to the manifest's directory; `rev` is
    /// the git tree id of that directory's content.
    InTree(PathBuf),
}

impl Repo {
    /// A relative path that does not climb out of the repository names an in-tree cap;
    /// anything with a URL scheme, git's scp-like `[user@]host:path`, an absolute path,
    /// or a `..` path is a git remote.
    pub fn classify(s: &str) -> Repo {
        let path = Path::new(s);
        let has_scheme = s.contains("://");
        let scp_like = is_scp_like(s);
        let climbs = path
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir));
        if has_scheme || scp_like || path.is_absolute() || climbs {
            Repo::Git(s.to_string())
        } else {
            Repo::InTree(path.to_path_buf())
        }
    }
}

/// git's scp-like `[user@]host:path` remote syntax: by git's own rule, a ':' before
/// the first '/' (and no `://`).
pub fn is_scp_like(s: &str) -> bool {
    !s.contains("://") && s.find(':').is_some_and(|colon| !s[..colon].contains('/'))
}

/// Toolchain the pinned digests were made with; a MISMATCH compares against it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Toolchain {
    /// `rustc -V` output, e.g. `rustc 1.95.0 (59807616e 2026-04-14)`.
    pub rustc: Option<String>,
    /// The Debian clang package and its version that built python.wasm, e.g.
    /// `clang-19 1:19.1.7-3~deb12u1`.
    pub clang: Option<String>,
    /// The Debian wasi-libc package and its version, e.g.
    /// `wasi-libc 0.0~git20230113.4362b18-2`.
    pub wasi_libc: Option<String>,
    /// The digest naming the whole unpacked WASI C toolchain (every pinned `.deb`'s
    /// sha256, `pylon_toolchain::toolchain_digest`), e.g. `sha256:4f1c…`.
    pub wasi_toolchain: Option<String>,
    /// The wasmtime crate version compiled into pylon (componentize adapter,
    /// launcher), e.g. `wasmtime 48.0.8`.
    pub wasmtime: Option<String>,
    /// The wac-graph crate version compiled into pylon (composition), e.g.
    /// `wac-graph 0.9.0`.
    pub wac_graph: Option<String>,
}

/// The `[toolchain]` keys, in the order they are written.
pub const TOOLCHAIN_FIELDS: &[&str] = &[
    "rustc",
    "clang",
    "wasi-libc",
    "wasi-toolchain",
    "wasmtime",
    "wac-graph",
];

impl Toolchain {
    /// The recorded value of a `[toolchain]` key (`rustc`, `clang`, `wasi-libc`, `wasi-toolchain`,
    /// `wasmtime`, `wac-graph`); `None` for an unknown key or an absent value.
    pub fn get(&self, key: &str) -> Option<&str> {
        match key {
            "rustc" => self.rustc.as_deref(),
            "clang" => self.clang.as_deref(),
            "wasi-libc" => self.wasi_libc.as_deref(),
            "wasi-toolchain" => self.wasi_toolchain.as_deref(),
            "wasmtime" => self.wasmtime.as_deref(),
            "wac-graph" => self.wac_graph.as_deref(),
            _ => None,
        }
    }

    fn slot(&mut self, key: &str) -> Option<&mut Option<String>> {
        match key {
            "rustc" => Some(&mut self.rustc),
            "clang" => Some(&mut self.clang),
            "wasi-libc" => Some(&mut self.wasi_libc),
            "wasi-toolchain" => Some(&mut self.wasi_toolchain),
            "wasmtime" => Some(&mut self.wasmtime),
            "wac-graph" => Some(&mut self.wac_graph),
            _ => None,
        }
    }

    /// Sets a known key; returns false for an unknown one.
    pub fn set(&mut self, key: &str, value: Option<String>) -> bool {
        match self.slot(key) {
            Some(slot) => {
                *slot = value;
                true
            }
            None => false,
        }
    }

    /// `(key, value)` of every recorded field, in [`TOOLCHAIN_FIELDS`] order.
    pub fn recorded(&self) -> Vec<(&'static str, &str)> {
        TOOLCHAIN_FIELDS
            .iter()
            .filter_map(|k| self.get(k).map(|v| (*k, v)))
            .collect()
    }
}

/// One `[[cap]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cap {
    pub name: String,
    pub repo: Repo,
    /// The original `repo` string, as written.
    pub repo_spec: String,
    pub rev: Pin<Rev>,
    pub local_dir: Option<String>,
    pub target: Target,
    /// Path of the built component inside the cap's checkout.
    pub artifact: PathBuf,
    pub sha256: Pin<Sha256>,
    /// Size in bytes of the pinned artifact, when recorded.
    pub size: Option<u64>,
    /// WIT interfaces the component exports, e.g. `pylon:zlib/zlib@0.1.0`.
    pub exports: Vec<String>,
    /// 1-based line of the `[[cap]]` header, for messages.
    pub line: usize,
}

impl Cap {
    /// Directory name of the checkout inside the caps directory.
    pub fn dir_name(&self) -> &str {
        self.local_dir.as_deref().unwrap_or(&self.name)
    }
    /// Placeholder rev or digest: the cap is reported as SKIP and not built.
    pub fn is_placeholder(&self) -> bool {
        self.rev.is_placeholder() || self.sha256.is_placeholder()
    }
}

/// A validated manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Where it was read from; in-tree cap paths are relative to its directory.
    pub path: PathBuf,
    pub schema: i64,
    pub pylon_sha256: Pin<Sha256>,
    pub toolchain: Toolchain,
    pub caps: Vec<Cap>,
}

impl Manifest {
    pub fn cap(&self, name: &str) -> Option<&Cap> {
        self.caps.iter().find(|c| c.name == name)
    }
    /// Directory containing the manifest (the repository root for the default one).
    pub fn root(&self) -> &Path {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }
    }
}

impl serde::Serialize for Target {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Whether `name` can name a cap: it becomes a directory (`caps/<name>/`), a WIT package
/// (`pylon:<name>`) and a Python module (`_pylon_<name>`, `-` → `_`), so lowercase ASCII
/// letters, digits, `-` and `_`, starting with a letter.
pub fn valid_cap_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-' | '_'))
}
