//! `pylon build`: the CPython cross-build, stage by stage, cached by content.
//!
//! Stages: check the toolchain → fetch the tarball (digest-checked) → native build
//! python (cached on its own key, so a change that only touches the WASI side never
//! rebuilds it) → unpack + patch + extension modules → a wasi-sdk-shaped toolchain
//! directory → configure + make for wasm32-wasip2 → stdlib zip → publish.
//!
//! Reproducibility is enforced here, not inherited: every command runs with a cleared
//! environment (fixed `PATH`, `HOME`, `TZ=UTC`, `LC_ALL=C`, `SOURCE_DATE_EPOCH` from the
//! profile, `PYTHONHASHSEED=0`), under `umask 022`, and every directory whose absolute
//! path could reach the binary is mapped with `-ffile-prefix-map` (source tree →
//! `/cpython`, toolchain dir → `/wasi-toolchain`, build python → `/build-python`).
//!
//! The whole result is keyed by a digest of every input ([`cache_key`]); a build whose
//! key is cached does no work. Results are published by rename only.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pylon_util::ledger;
use pylon_util::log::tail_lines;

use crate::ext::{self, ExtError, ExtModule, OverlayFile, Patch};
use crate::fetch::{sha256_file, FetchError, FetchEvent, InputCache};
use crate::profile::{Profile, PREFIX};
use crate::sqlite;
use crate::stdlib::{self, StdlibError};
use crate::toolchain::{check_toolchain, Layout, ToolchainError, ToolchainInfo};

/// Bumped whenever this file changes what a build does (flags, environment, layout of
/// the outputs), so that old cache entries are not mistaken for new results.
pub const RECIPE_VERSION: &str = "pylon-cpython/2";

/// A fixed PATH: the machine's own PATH (pyenv shims, local installs) must not decide
/// which `python3` or `cc` configure finds.
pub(crate) const BASE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The stages, in order, with stable names for logs and JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    Toolchain,
    Fetch,
    BuildPython,
    Unpack,
    Sysroot,
    Sqlite,
    ConfigureHost,
    MakeHost,
    Stdlib,
    Publish,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Toolchain => "toolchain",
            Stage::Fetch => "fetch",
            Stage::BuildPython => "build-python",
            Stage::Unpack => "unpack",
            Stage::Sysroot => "sysroot",
            Stage::Sqlite => "sqlite",
            Stage::ConfigureHost => "configure-host",
            Stage::MakeHost => "make-host",
            Stage::Stdlib => "stdlib",
            Stage::Publish => "publish",
        }
    }
}

/// Progress, sent while the build runs.
#[derive(Debug)]
pub enum BuildEvent<'a> {
    Start(Stage),
    Done(Stage, Duration),
    /// A stage whose result was already cached.
    Cached(Stage, &'a str),
    Fetch(FetchEvent<'a>),
}

/// Options of one build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The repository: `profiles/patches/`, `cpython-ext/`.
    pub repo_root: PathBuf,
    pub profile: Profile,
    /// `~/.cache/pylon` (inputs, build pythons, results, logs, work trees).
    pub cache_root: PathBuf,
    /// Where results are published: `build/<profile>/`.
    pub out_dir: PathBuf,
    /// `--cpython-tarball`: a local copy of the pinned tarball.
    pub local_tarball: Option<PathBuf>,
    /// apt configuration root (`/etc/apt`), for the Debian host.
    pub apt_root: PathBuf,
    pub jobs: usize,
    /// Rebuild even when the key is cached.
    pub force: bool,
    pub layout: Layout,
    /// More directories laid out like `cpython-ext/` (the cap shims `pylon build`
    /// generates from the manifest's WIT); their modules are inputs like any other.
    pub extra_ext_dirs: Vec<PathBuf>,
    /// Directories whose `.py` files are added to the stdlib zip at their relative path
    /// (the caps' Python sides, `<cap>/python/`).
    pub overlay_dirs: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Toolchain(#[from] ToolchainError),
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Ext(#[from] ExtError),
    #[error("stage {}: `{command}` failed ({status}); full log: {}", stage.as_str(), log.display())]
    Stage {
        stage: Stage,
        command: String,
        status: String,
        log: PathBuf,
        tail: Vec<String>,
    },
    #[error("stage {}: {message}", stage.as_str())]
    Check { stage: Stage, message: String },
    #[error("stage stdlib: {0}")]
    Stdlib(#[from] StdlibError),
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

impl BuildError {
    /// The last lines of the failing stage's log, when there is one.
    pub fn log_tail(&self) -> &[String] {
        match self {
            BuildError::Stage { tail, .. } => tail,
            BuildError::Stdlib(StdlibError::Compile { tail, .. }) => tail,
            _ => &[],
        }
    }

    /// 2 for what the user must fix before anything can build (toolchain, extension
    /// layout), 1 for a build or fetch that failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            BuildError::Toolchain(_) | BuildError::Ext(_) => 2,
            BuildError::Fetch(FetchError::NoSource { .. }) => 2,
            _ => 1,
        }
    }
}

pub(crate) fn io_err(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> BuildError {
    let path = path.to_path_buf();
    move |source| BuildError::Io { what, path, source }
}

/// sha256 and size of one output.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileRecord {
    pub sha256: String,
    pub size: u64,
}

/// What went into a build: the cache key is the digest of [`BuildInputs::key_material`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BuildInputs {
    pub recipe: String,
    pub profile_sha256: String,
    pub tarball: String,
    pub tarball_sha256: String,
    pub host_triple: String,
    pub toolchain: Vec<(String, String)>,
    /// The unpacked toolchain's digest (every pinned `.deb`'s sha256).
    #[serde(default)]
    pub toolchain_digest: String,
    pub rustc: String,
    pub wasm_component_ld: String,
    pub host_cc: String,
    pub patches: Vec<Patch>,
    pub ext_modules: Vec<ExtModule>,
    /// Files added to the stdlib zip, by their path inside it.
    pub overlays: Vec<OverlayFile>,
    /// The statically linked SQLite: its source digest and compilation unit
    /// ([`sqlite::key_line`]); none when the profile has no `[sqlite]`.
    #[serde(default)]
    pub sqlite: Option<String>,
}

impl BuildInputs {
    pub fn gather(
        profile: &Profile,
        toolchain: &ToolchainInfo,
        patches: Vec<Patch>,
        ext_modules: Vec<ExtModule>,
        overlays: Vec<OverlayFile>,
    ) -> BuildInputs {
        BuildInputs {
            recipe: RECIPE_VERSION.to_string(),
            profile_sha256: pylon_util::digest::sha256_hex(profile.text.as_bytes()),
            tarball: profile.source.tarball.clone(),
            tarball_sha256: profile.source.sha256.to_string(),
            host_triple: profile.build.host_triple.clone(),
            toolchain: toolchain.packages.clone(),
            toolchain_digest: toolchain.digest.clone(),
            rustc: toolchain.rustc.clone(),
            wasm_component_ld: toolchain.component_ld.clone(),
            host_cc: toolchain.host_cc.clone(),
            patches,
            ext_modules,
            overlays,
            sqlite: profile.sqlite.as_ref().map(sqlite::key_line),
        }
    }

    /// One line per input, in a fixed order; its sha256 is the cache key. Plain text so
    /// a surprising cache miss can be explained by diffing two of them.
    pub fn key_material(&self) -> String {
        let mut s = self.interpreter_material();
        for f in &self.overlays {
            s.push_str(&format!("overlay {} {}\n", f.path, f.sha256));
        }
        s
    }

    /// Everything but the overlays: what python.wasm and the stdlib's own files are
    /// built from. An overlay edit then only re-zips the stdlib.
    fn interpreter_material(&self) -> String {
        self.material(true)
    }

    /// What the configured WASI tree is: the interpreter's inputs except the contents
    /// of extension-module files (their names, paths and flags shape the Makefile, so
    /// they stay). A shim edit then re-runs `make` in the kept tree, which recompiles
    /// that module and relinks.
    fn tree_material(&self) -> String {
        self.material(false)
    }

    /// The key of the kept, configured WASI tree (`cpython/work/<key>/`).
    pub fn tree_key(&self) -> String {
        pylon_util::digest::sha256_hex(self.tree_material().as_bytes())
    }

    fn material(&self, ext_contents: bool) -> String {
        let mut s = String::new();
        s.push_str(&format!("recipe {}\n", self.recipe));
        s.push_str(&format!("profile-sha256 {}\n", self.profile_sha256));
        s.push_str(&format!(
            "tarball {} {}\n",
            self.tarball, self.tarball_sha256
        ));
        s.push_str(&format!("host {}\n", self.host_triple));
        for (name, version) in &self.toolchain {
            s.push_str(&format!("package {name} {version}\n"));
        }
        s.push_str(&format!("wasi-toolchain {}\n", self.toolchain_digest));
        s.push_str(&format!("rustc {}\n", self.rustc));
        s.push_str(&format!("wasm-component-ld {}\n", self.wasm_component_ld));
        s.push_str(&format!("host-cc {}\n", self.host_cc));
        for p in &self.patches {
            s.push_str(&format!("patch {} {}\n", p.name, p.sha256));
        }
        if let Some(line) = &self.sqlite {
            s.push_str(line);
            s.push('\n');
        }
        for m in &self.ext_modules {
            s.push_str(&format!("ext {} flags {:?}\n", m.name, m.flags));
            for f in &m.files {
                if ext_contents {
                    s.push_str(&format!("ext {} file {} {}\n", m.name, f.path, f.sha256));
                } else {
                    s.push_str(&format!("ext {} file {}\n", m.name, f.path));
                }
            }
        }
        s
    }

    /// The key of the interpreter stage: python.wasm and the stdlib files before
    /// overlays and bytecode (cached under `cpython/interpreter/<key>/`).
    pub fn interpreter_key(&self) -> String {
        pylon_util::digest::sha256_hex(self.interpreter_material().as_bytes())
    }

    /// The key of the whole build.
    pub fn cache_key(&self) -> String {
        pylon_util::digest::sha256_hex(self.key_material().as_bytes())
    }

    /// The key of the native build python: only what it is built from.
    pub fn build_python_key(&self) -> String {
        let mut s = format!(
            "recipe {}\nbuild-python\ntarball {}\nhost-cc {}\n",
            self.recipe, self.tarball_sha256, self.host_cc
        );
        for p in &self.patches {
            s.push_str(&format!("patch {} {}\n", p.name, p.sha256));
        }
        pylon_util::digest::sha256_hex(s.as_bytes())
    }
}

/// The record published next to the outputs (`build/<profile>/record.json`). It holds
/// no time and no path of this machine: two builds of one key write the same record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BuildRecord {
    pub format_version: u32,
    pub profile: String,
    pub cpython: String,
    pub host_triple: String,
    pub key: String,
    pub python_wasm: FileRecord,
    pub stdlib_zip: FileRecord,
    /// Where the interpreter looks for the zip by default (`/usr/local/lib/python313.zip`).
    pub stdlib_zip_guest_path: String,
    pub inputs: BuildInputs,
    pub disabled_modules: Vec<String>,
    /// C libraries compiled from pinned sources and linked into python.wasm.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub static_libraries: Vec<StaticLibrary>,
}

/// One library linked into python.wasm: the module it serves, what it was built from
/// (the key line of its inputs) and the archive that was linked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StaticLibrary {
    pub module: String,
    pub built_from: String,
    pub library: String,
    pub file: FileRecord,
}

/// Timing of one stage.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StageTiming {
    pub stage: Stage,
    pub seconds: f64,
    pub cached: bool,
}

/// Comparison with `profiles/expected/<profile>.toml`, when that file exists.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExpectedCheck {
    pub path: PathBuf,
    pub python_wasm: Option<String>,
    pub stdlib_zip: Option<String>,
    pub matches: bool,
}

/// The result of `pylon build`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BuildReport {
    pub profile: String,
    pub cpython: String,
    pub key: String,
    /// Nothing was built: the key was cached.
    pub cached: bool,
    pub out_dir: PathBuf,
    pub python_wasm: FileRecord,
    pub stdlib_zip: FileRecord,
    pub stdlib_zip_guest_path: String,
    pub stages: Vec<StageTiming>,
    pub logs: PathBuf,
    pub expected: Option<ExpectedCheck>,
}

impl BuildReport {
    pub fn success(&self) -> bool {
        self.expected.as_ref().is_none_or(|e| e.matches)
    }
}

/// Directories of the cache.
struct CacheDirs {
    results: PathBuf,
    interpreters: PathBuf,
    build_pythons: PathBuf,
    work: PathBuf,
    logs: PathBuf,
}

impl CacheDirs {
    fn new(root: &Path) -> CacheDirs {
        let base = root.join("cpython");
        CacheDirs {
            results: base.clone(),
            interpreters: base.join("interpreter"),
            build_pythons: base.join("build-python"),
            work: base.join("work"),
            logs: base.join("logs"),
        }
    }
}

/// Holds an OS file lock until dropped (released by the kernel if the process dies).
struct Lock(#[allow(dead_code)] File);

fn lock(path: &Path) -> Result<Lock, BuildError> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(io_err("creating", dir))?;
    }
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(io_err("opening lock", path))?;
    file.lock().map_err(io_err("locking", path))?;
    Ok(Lock(file))
}

/// Runs the build (or finds it cached) and publishes its outputs under `out_dir`.
pub fn build(
    opts: &BuildOptions,
    on_event: &dyn Fn(BuildEvent<'_>),
) -> Result<BuildReport, BuildError> {
    let profile = &opts.profile;
    let dirs = CacheDirs::new(&opts.cache_root);
    let mut timings = Vec::new();

    let t = Instant::now();
    on_event(BuildEvent::Start(Stage::Toolchain));
    let (toolchain, inputs) = gather_inputs(opts)?;
    let key = inputs.cache_key();
    finish(&mut timings, on_event, Stage::Toolchain, t, false);

    let result_dir = dirs.results.join(&key);
    let logs = dirs.logs.join(&key);
    let expected_path = opts
        .repo_root
        .join("profiles/expected")
        .join(format!("{}.toml", profile.name));

    let mut run = StageRun {
        opts,
        dirs: &dirs,
        toolchain: &toolchain,
        inputs: &inputs,
        logs: &logs,
        on_event,
        timings,
    };
    let cached = !opts.force && result_dir.join("record.json").is_file();
    if !cached {
        run.build_result(&key, &result_dir)?;
    } else {
        on_event(BuildEvent::Cached(Stage::MakeHost, &key));
    }

    let t = Instant::now();
    on_event(BuildEvent::Start(Stage::Publish));
    let record_text = fs::read_to_string(result_dir.join("record.json"))
        .map_err(io_err("reading", &result_dir.join("record.json")))?;
    publish(&result_dir, &opts.out_dir, &record_text)?;
    publish_stdlib_dir(&opts.out_dir, &profile.stdlib_zip_guest_path())?;
    run.finish(Stage::Publish, t, cached);
    let timings = run.timings;

    // Read back with the type that wrote it.
    let record: BuildRecord =
        serde_json::from_str(&record_text).map_err(|e| BuildError::Check {
            stage: Stage::Publish,
            message: format!("{}: {e}", result_dir.join("record.json").display()),
        })?;
    let BuildRecord {
        python_wasm,
        stdlib_zip,
        ..
    } = record;
    let expected = read_expected(&expected_path, &python_wasm, &stdlib_zip)?;
    Ok(BuildReport {
        profile: profile.name.clone(),
        cpython: profile.version.clone(),
        key,
        cached,
        out_dir: opts.out_dir.clone(),
        python_wasm,
        stdlib_zip,
        stdlib_zip_guest_path: profile.stdlib_zip_guest_path(),
        stages: timings,
        logs,
        expected,
    })
}

/// The toolchain stage: checks the toolchain and gathers every input of the build
/// (patches, extension modules, overlays), from which its keys are derived.
fn gather_inputs(opts: &BuildOptions) -> Result<(ToolchainInfo, BuildInputs), BuildError> {
    let profile = &opts.profile;
    let toolchain = check_toolchain(&profile.toolchain, &opts.layout)?;
    let patches = ext::list_patches(&opts.repo_root.join("profiles/patches"), &profile.version)?;
    let mut ext_dirs = vec![opts.repo_root.join("cpython-ext")];
    ext_dirs.extend(opts.extra_ext_dirs.iter().cloned());
    let ext_modules = ext::scan_ext_dirs(&ext_dirs)?;
    let overlays = ext::list_overlays(&opts.overlay_dirs)?;
    let inputs = BuildInputs::gather(profile, &toolchain, patches, ext_modules, overlays);
    Ok((toolchain, inputs))
}

/// What every stage of one build needs: the build's options and inputs, where it
/// logs, whom it tells, and the timings collected so far. The stages are its methods.
struct StageRun<'a> {
    opts: &'a BuildOptions,
    dirs: &'a CacheDirs,
    toolchain: &'a ToolchainInfo,
    inputs: &'a BuildInputs,
    /// This build's log directory (`logs/<key>/`).
    logs: &'a Path,
    on_event: &'a dyn Fn(BuildEvent<'_>),
    timings: Vec<StageTiming>,
}

fn finish(
    timings: &mut Vec<StageTiming>,
    on_event: &dyn Fn(BuildEvent<'_>),
    stage: Stage,
    t: Instant,
    cached: bool,
) {
    let elapsed = t.elapsed();
    on_event(BuildEvent::Done(stage, elapsed));
    timings.push(StageTiming {
        stage,
        seconds: elapsed.as_secs_f64(),
        cached,
    });
}

/// The digests a profile's outputs must have, from `profiles/expected/<profile>.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpectedDigests {
    pub python_wasm: Option<String>,
    pub stdlib_zip: Option<String>,
    /// The seeded startup snapshot of the composed pylon.wasm, when the profile pins one.
    pub snapshot: Option<SnapshotPin>,
}

/// `snapshot_seed` and `snapshot_sha256`: what `pylon snapshot --seed SEED` (no
/// imports) makes of this profile's pylon.wasm. The digest is absent until `manifest
/// regen` records it (a seed alone asks for one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotPin {
    pub seed: u32,
    pub sha256: Option<String>,
}

impl SnapshotPin {
    /// The snapshot's file name in the profile's out dir (and `pylon snapshot`'s
    /// default name for it).
    pub fn file_name(&self) -> String {
        format!("pylon-snapshot-seed{}.wasm", self.seed)
    }
}

/// `profiles/expected/<profile>.toml`'s digests; `Ok(None)` when the profile has none
/// recorded (no such file).
pub fn expected_digests(
    profiles_dir: &Path,
    profile: &str,
) -> Result<Option<ExpectedDigests>, BuildError> {
    parse_expected(
        &profiles_dir
            .join("expected")
            .join(format!("{profile}.toml")),
    )
}

/// The keys of `profiles/expected/<profile>.toml`; the first two digests are required,
/// the snapshot's keys optional.
const EXPECTED_KEYS: [&str; 7] = [
    "python_wasm_sha256",
    "python_wasm_size",
    "stdlib_zip_sha256",
    "stdlib_zip_size",
    "snapshot_seed",
    "snapshot_sha256",
    "snapshot_size",
];

/// Strict: an unknown (e.g. misspelled) key, a missing digest or a digest that is not 64
/// lowercase hex digits is an error naming the file and key, never a silent match.
fn parse_expected(path: &Path) -> Result<Option<ExpectedDigests>, BuildError> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err("reading", path)(e)),
    };
    let bad = |message: String| BuildError::Check {
        stage: Stage::Publish,
        message: format!("{}: {message}", path.display()),
    };
    let doc: toml_edit::DocumentMut = text.parse().map_err(|e| bad(format!("{e}")))?;
    for (key, _) in doc.iter() {
        if !EXPECTED_KEYS.contains(&key) {
            return Err(bad(format!(
                "unknown key `{key}` (expected: {})",
                EXPECTED_KEYS.join(", ")
            )));
        }
    }
    let digest = |key: &str| -> Result<String, BuildError> {
        let value = doc
            .get(key)
            .ok_or_else(|| bad(format!("`{key}` is missing")))?;
        let hex = value
            .as_str()
            .ok_or_else(|| bad(format!("`{key}` must be a string")))?;
        if hex.len() != 64
            || !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(bad(format!(
                "`{key}` = {hex:?} is not a sha256 (64 lowercase hex digits)"
            )));
        }
        Ok(hex.to_string())
    };
    let snapshot = match doc.get("snapshot_seed") {
        None if doc.contains_key("snapshot_sha256") || doc.contains_key("snapshot_size") => {
            return Err(bad(
                "`snapshot_sha256` needs `snapshot_seed` (the seed it was made with)".into(),
            ))
        }
        None => None,
        Some(item) => {
            let seed = item
                .as_integer()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(
                    || bad("`snapshot_seed` must be an integer in 0..=4294967295".into()),
                )?;
            let sha256 = match doc.contains_key("snapshot_sha256") {
                true => Some(digest("snapshot_sha256")?),
                false => None,
            };
            Some(SnapshotPin { seed, sha256 })
        }
    };
    Ok(Some(ExpectedDigests {
        python_wasm: Some(digest("python_wasm_sha256")?),
        stdlib_zip: Some(digest("stdlib_zip_sha256")?),
        snapshot,
    }))
}

/// The new text of `profiles/expected/<profile>.toml` recording `python_wasm` and
/// `stdlib_zip` (what `manifest regen` writes after building the product), and the
/// seeded snapshot's digest when one was made: the file's comments and layout are kept,
/// its digests and sizes replaced; a profile without the file gets one with a short
/// header. Returns the path and the text; writes nothing.
pub fn render_expected(
    profiles_dir: &Path,
    profile: &str,
    python_wasm: &FileRecord,
    stdlib_zip: &FileRecord,
    snapshot: Option<&FileRecord>,
) -> Result<(PathBuf, String), BuildError> {
    let path = profiles_dir
        .join("expected")
        .join(format!("{profile}.toml"));
    // Validates the existing file too: a misspelled key is not silently carried over.
    parse_expected(&path)?;
    // A comment-only document would keep its comments after the keys: a new file's
    // header is put in front of the rendered keys instead.
    let (text, header) = match fs::read_to_string(&path) {
        Ok(t) => (t, String::new()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => (
            String::new(),
            format!(
                "# Digests `pylon build --profile {profile}` must produce with the caps of\n\
                 # caps-manifest.toml wired in; written by `pylon manifest regen`.\n"
            ),
        ),
        Err(e) => return Err(io_err("reading", &path)(e)),
    };
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| BuildError::Check {
        stage: Stage::Publish,
        message: format!("{}: {e}", path.display()),
    })?;
    let records = [
        ("python_wasm", Some(python_wasm)),
        ("stdlib_zip", Some(stdlib_zip)),
        ("snapshot", snapshot),
    ];
    for (key, record) in records {
        let Some(record) = record else { continue };
        let size = i64::try_from(record.size).unwrap_or(i64::MAX);
        set_keeping_decor(
            &mut doc,
            &format!("{key}_sha256"),
            record.sha256.as_str().into(),
        );
        set_keeping_decor(&mut doc, &format!("{key}_size"), size.into());
    }
    Ok((path, header + &doc.to_string()))
}

fn set_keeping_decor(doc: &mut toml_edit::DocumentMut, key: &str, new: toml_edit::Value) {
    match doc.get_mut(key).and_then(toml_edit::Item::as_value_mut) {
        Some(old) => {
            let decor = old.decor().clone();
            *old = new;
            *old.decor_mut() = decor;
        }
        None => {
            doc.insert(key, toml_edit::Item::Value(new));
        }
    }
}

/// `profiles/expected/<profile>.toml`: `python_wasm_sha256` and `stdlib_zip_sha256`.
fn read_expected(
    path: &Path,
    python_wasm: &FileRecord,
    stdlib_zip: &FileRecord,
) -> Result<Option<ExpectedCheck>, BuildError> {
    let Some(ExpectedDigests {
        python_wasm: py,
        stdlib_zip: zip,
        ..
    }) = parse_expected(path)?
    else {
        return Ok(None);
    };
    let matches = py.as_deref().is_none_or(|d| d == python_wasm.sha256)
        && zip.as_deref().is_none_or(|d| d == stdlib_zip.sha256);
    Ok(Some(ExpectedCheck {
        path: path.to_path_buf(),
        python_wasm: py,
        stdlib_zip: zip,
        matches,
    }))
}

/// Read-only check for `pylon verify`: hashes `out_dir/python.wasm` and
/// `out_dir/stdlib.zip` and compares them with `profiles/expected/<profile>.toml`.
/// `Ok(None)` when the profile has no expected digests recorded.
pub fn verify_outputs(
    profiles_dir: &Path,
    profile: &str,
    out_dir: &Path,
) -> Result<Option<ExpectedCheck>, BuildError> {
    let digest = |name: &str| -> Result<FileRecord, BuildError> {
        let p = out_dir.join(name);
        Ok(FileRecord {
            sha256: sha256_file(&p).map_err(io_err("hashing", &p))?,
            size: fs::metadata(&p).map_err(io_err("reading", &p))?.len(),
        })
    };
    let expected = profiles_dir
        .join("expected")
        .join(format!("{profile}.toml"));
    if !expected.is_file() {
        return Ok(None);
    }
    read_expected(&expected, &digest("python.wasm")?, &digest("stdlib.zip")?)
}

/// Copies the cached result into `out_dir`, each file by temp file + rename, the record
/// last: an interrupted publish leaves a record that does not match the cache, so the
/// next run publishes again. Files already identical (same record) are left alone.
fn publish(result_dir: &Path, out_dir: &Path, record_text: &str) -> Result<(), BuildError> {
    let out_record = out_dir.join("record.json");
    let same_record = fs::read_to_string(&out_record).is_ok_and(|t| t == record_text);
    let sizes_ok = ["python.wasm", "stdlib.zip"].iter().all(|f| {
        let a = fs::metadata(result_dir.join(f)).map(|m| m.len()).ok();
        let b = fs::metadata(out_dir.join(f)).map(|m| m.len()).ok();
        a.is_some() && a == b
    });
    if same_record && sizes_ok {
        return Ok(());
    }
    fs::create_dir_all(out_dir).map_err(io_err("creating", out_dir))?;
    for name in ["python.wasm", "stdlib.zip", "record.json"] {
        let from = result_dir.join(name);
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .tempfile_in(out_dir)
            .map_err(io_err("creating temporary file in", out_dir))?;
        fs::copy(&from, tmp.path()).map_err(io_err("copying", &from))?;
        tmp.persist(out_dir.join(name))
            .map_err(|e| BuildError::Io {
                what: "publishing",
                path: out_dir.join(name),
                source: e.error,
            })?;
    }
    Ok(())
}

/// Directory of the launch layout holding the stdlib zip under its guest name.
pub const STDLIB_DIR: &str = "lib";

/// `<out_dir>/lib/<name of the guest zip>`: a hard link to `stdlib.zip` (a copy where
/// links are not possible), so a runner can map that one directory read-only at the
/// guest path's directory without exposing the rest of `out_dir`.
fn publish_stdlib_dir(out_dir: &Path, guest_zip: &str) -> Result<(), BuildError> {
    let name = guest_zip.rsplit('/').next().unwrap_or(guest_zip);
    let dir = out_dir.join(STDLIB_DIR);
    let zip = out_dir.join("stdlib.zip");
    let target = dir.join(name);
    let same = |a: &Path, b: &Path| {
        use std::os::unix::fs::MetadataExt;
        match (fs::metadata(a), fs::metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    };
    if same(&zip, &target) {
        return Ok(());
    }
    fs::create_dir_all(&dir).map_err(io_err("creating", &dir))?;
    let tmp = dir.join(format!(".{name}.{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    if fs::hard_link(&zip, &tmp).is_err() {
        fs::copy(&zip, &tmp).map_err(io_err("copying", &zip))?;
    }
    fs::rename(&tmp, &target).map_err(io_err("publishing", &target))
}

/// Paths of one build's work tree.
struct Tree {
    work: PathBuf,
    src: PathBuf,
    toolchain: PathBuf,
    cross: PathBuf,
    home: PathBuf,
}

impl Tree {
    fn at(work: PathBuf, profile: &Profile) -> Tree {
        Tree {
            src: work.join(&profile.source.top_dir),
            toolchain: work.join("toolchain"),
            cross: work
                .join(&profile.source.top_dir)
                .join("cross-build")
                .join(&profile.build.host_triple),
            home: work.join("home"),
            work,
        }
    }
}

/// Marker of a work tree whose build completed (it holds the interpreter key built).
/// Removed before a rebuild starts in the tree, so a failed `make` is never trusted.
const TREE_BUILT: &str = ".pylon-built";

/// The stdlib's own files inside an interpreter cache entry, before overlays/bytecode.
const STDLIB_BASE: &str = "stdlib-base";

/// The native build python of these inputs and its completion marker.
struct BuildPython {
    python: PathBuf,
    complete: PathBuf,
}

fn build_python_path(dirs: &CacheDirs, inputs: &BuildInputs, profile: &Profile) -> BuildPython {
    let bp_dir = dirs.build_pythons.join(inputs.build_python_key());
    BuildPython {
        python: bp_dir
            .join(&profile.source.top_dir)
            .join("builddir/build/python"),
        complete: bp_dir.join(".complete"),
    }
}

impl StageRun<'_> {
    fn finish(&mut self, stage: Stage, t: Instant, cached: bool) {
        finish(&mut self.timings, self.on_event, stage, t, cached);
    }

    /// Builds the result of `key` under its lock: the interpreter (reused, rebuilt or
    /// built) and the stdlib stage over it.
    fn build_result(&mut self, key: &str, result_dir: &Path) -> Result<(), BuildError> {
        let StageRun {
            opts, dirs, inputs, ..
        } = *self;
        let _guard = lock(&dirs.results.join(format!(".{key}.lock")))?;
        // Another build of the same key may have finished while we waited.
        if opts.force || !result_dir.join("record.json").is_file() {
            let ikey = inputs.interpreter_key();
            let interpreter = dirs.interpreters.join(&ikey);
            let build_python = build_python_path(dirs, inputs, &opts.profile);
            self.build_interpreter(&ikey, &interpreter, &build_python)?;
            self.assemble_result(key, &interpreter, &build_python.python)?;
        }
        Ok(())
    }

    /// Makes the interpreter cache entry `ikey` (at `interpreter`) exist, under its lock,
    /// doing as little as the inputs allow: nothing when only the overlays changed,
    /// `make` in the kept tree when only extension-module sources changed, else a full
    /// build.
    fn build_interpreter(
        &mut self,
        ikey: &str,
        interpreter: &Path,
        build_python: &BuildPython,
    ) -> Result<(), BuildError> {
        let StageRun {
            opts,
            dirs,
            inputs,
            on_event,
            ..
        } = *self;
        let _guard = lock(&dirs.interpreters.join(format!(".{ikey}.lock")))?;
        let reusable = !opts.force
            && interpreter.join("python.wasm").is_file()
            && build_python.complete.is_file();
        let tree_key = inputs.tree_key();
        let tree_dir = dirs.work.join(&tree_key);
        // Builds of two interpreters that share a tree take turns in it.
        let _tree_guard = if reusable {
            None
        } else {
            Some(lock(&dirs.work.join(format!(".{tree_key}.lock")))?)
        };
        let tree_built =
            !opts.force && tree_dir.join(TREE_BUILT).is_file() && build_python.complete.is_file();
        if reusable {
            // Only the overlays changed: python.wasm is reused as it is.
            on_event(BuildEvent::Cached(Stage::MakeHost, ikey));
        } else if tree_built {
            // Only extension-module sources changed: `make` in the kept tree.
            self.rebuild_tree(ikey, &tree_dir)?;
        } else {
            self.run_build(ikey)?;
        }
        Ok(())
    }

    /// A shim-only change: the new extension-module sources go into the kept tree, the
    /// objects of each changed module are removed (their header and linked-object
    /// dependencies are not in the Makefile, so mtimes alone would miss them), and `make`
    /// recompiles those modules, re-archives and relinks. Everything else is reused.
    fn rebuild_tree(&mut self, key: &str, tree_dir: &Path) -> Result<(), BuildError> {
        let StageRun {
            opts,
            dirs,
            inputs,
            logs,
            on_event,
            ..
        } = *self;
        if logs.exists() {
            fs::remove_dir_all(logs).map_err(io_err("clearing", logs))?;
        }
        fs::create_dir_all(logs).map_err(io_err("creating", logs))?;
        let tree = Tree::at(tree_dir.to_path_buf(), &opts.profile);
        let started = Instant::now();
        let t = Instant::now();
        on_event(BuildEvent::Start(Stage::Unpack));
        let marker = tree.work.join(TREE_BUILT);
        fs::remove_file(&marker).map_err(io_err("removing", &marker))?;
        for name in ext::update_ext_modules(&inputs.ext_modules, &tree.src)? {
            let objects = tree.cross.join("Modules").join(ext::EXT_SUBDIR).join(&name);
            for entry in fs::read_dir(&objects)
                .map_err(io_err("reading", &objects))?
                .flatten()
            {
                if entry.path().extension().is_some_and(|e| e == "o") {
                    fs::remove_file(entry.path()).map_err(io_err("removing", &entry.path()))?;
                }
            }
        }
        self.finish(Stage::Unpack, t, false);
        let bp_dir = dirs.build_pythons.join(inputs.build_python_key());
        self.make_and_save(&tree, &bp_dir, key, ("incremental", started))
    }

    /// A full build of the interpreter: fetch, native build python, unpack and patch,
    /// configure and make in a fresh work tree.
    fn run_build(&mut self, key: &str) -> Result<(), BuildError> {
        let StageRun {
            opts,
            logs,
            on_event,
            ..
        } = *self;
        let profile = &opts.profile;
        if logs.exists() {
            fs::remove_dir_all(logs).map_err(io_err("clearing", logs))?;
        }
        fs::create_dir_all(logs).map_err(io_err("creating", logs))?;

        let (tarball, sqlite_tarball) = self.fetch_sources()?;
        let bp_dir = self.ensure_build_python(&tarball)?;

        // --- the WASI tree ---------------------------------------------------------------
        let started = Instant::now();
        let tree = self.unpack_tree(&tarball)?;

        let t = Instant::now();
        on_event(BuildEvent::Start(Stage::Sysroot));
        shape_toolchain_dir(&tree.toolchain, &opts.layout, &profile.build.host_triple)?;
        self.finish(Stage::Sysroot, t, false);

        let sqlite_lib = self.build_sqlite(&tree, sqlite_tarball.as_deref())?;
        self.configure_host(&tree, &bp_dir, sqlite_lib.as_ref())?;
        self.make_and_save(&tree, &bp_dir, key, ("cold", started))
    }

    /// The fetch stage: the CPython tarball, its digest checked again, and SQLite's
    /// tarball when the profile has `[sqlite]`.
    fn fetch_sources(&mut self) -> Result<(PathBuf, Option<PathBuf>), BuildError> {
        let StageRun { opts, on_event, .. } = *self;
        let profile = &opts.profile;
        let t = Instant::now();
        on_event(BuildEvent::Start(Stage::Fetch));
        let cache = InputCache::new(&opts.cache_root);
        let tarball = cache.tarball(
            &profile.source,
            opts.local_tarball.as_deref(),
            &opts.apt_root,
            &|ev| on_event(BuildEvent::Fetch(ev)),
        )?;
        // The cache admits only checked files, but a disk can still rot: re-check the bytes
        // about to be built (23 MB, a few tens of milliseconds).
        let actual = sha256_file(&tarball).map_err(io_err("hashing", &tarball))?;
        if actual != profile.source.sha256.as_str() {
            let _ = fs::remove_file(&tarball);
            return Err(FetchError::DigestMismatch {
                input: profile.source.tarball.clone(),
                origin: tarball.display().to_string(),
                expected: profile.source.sha256.clone(),
                actual,
                deleted: true,
            }
            .into());
        }
        // SQLite's source goes through the same digest-checked cache.
        let sqlite_tarball = match &profile.sqlite {
            Some(spec) => Some(cache.tarball(&spec.source, None, &opts.apt_root, &|ev| {
                on_event(BuildEvent::Fetch(ev))
            })?),
            None => None,
        };
        self.finish(Stage::Fetch, t, false);
        Ok((tarball, sqlite_tarball))
    }

    /// The build-python stage: the native build python, cached under its own key (built
    /// from `tarball` unless cached). Returns its directory.
    fn ensure_build_python(&mut self, tarball: &Path) -> Result<PathBuf, BuildError> {
        let StageRun {
            opts,
            dirs,
            inputs,
            on_event,
            ..
        } = *self;
        let epoch = opts.profile.build.source_date_epoch;
        let t = Instant::now();
        on_event(BuildEvent::Start(Stage::BuildPython));
        let bp_key = inputs.build_python_key();
        let bp_dir = dirs.build_pythons.join(&bp_key);
        let bp_cached;
        {
            let _guard = lock(&dirs.build_pythons.join(format!(".{bp_key}.lock")))?;
            bp_cached = bp_dir.join(".complete").is_file();
            if !bp_cached {
                build_native_python(opts, &bp_dir, tarball, &inputs.patches, epoch)?;
            } else {
                on_event(BuildEvent::Cached(Stage::BuildPython, &bp_key));
            }
        }
        self.finish(Stage::BuildPython, t, bp_cached);
        Ok(bp_dir)
    }

    /// The unpack stage: a fresh work tree (a stale one is removed) with the tarball
    /// unpacked and patched and the extension modules installed.
    fn unpack_tree(&mut self, tarball: &Path) -> Result<Tree, BuildError> {
        let StageRun {
            opts,
            dirs,
            inputs,
            logs,
            on_event,
            ..
        } = *self;
        let profile = &opts.profile;
        let t = Instant::now();
        on_event(BuildEvent::Start(Stage::Unpack));
        let work = dirs.work.join(inputs.tree_key());
        if work.exists() {
            fs::remove_dir_all(&work).map_err(io_err("clearing stale work tree", &work))?;
        }
        fs::create_dir_all(&work).map_err(io_err("creating", &work))?;
        let tree = Tree::at(work, profile);
        fs::create_dir_all(&tree.home).map_err(io_err("creating", &tree.home))?;
        unpack_and_patch(
            tarball,
            &tree.work,
            &profile.source.top_dir,
            &inputs.patches,
            logs,
            profile.build.source_date_epoch,
            Stage::Unpack,
        )?;
        ext::install_ext_modules(&inputs.ext_modules, &tree.src)?;
        self.finish(Stage::Unpack, t, false);
        Ok(tree)
    }

    /// The sqlite stage, when the profile has `[sqlite]`: `libsqlite3.a` built in the
    /// tree with the WASI compiler; returns how configure is to find it.
    fn build_sqlite(
        &mut self,
        tree: &Tree,
        sqlite_tarball: Option<&Path>,
    ) -> Result<Option<sqlite::SqliteLib>, BuildError> {
        let StageRun {
            opts,
            logs,
            on_event,
            ..
        } = *self;
        let profile = &opts.profile;
        let (Some(spec), Some(tarball)) = (&profile.sqlite, sqlite_tarball) else {
            return Ok(None);
        };
        let t = Instant::now();
        on_event(BuildEvent::Start(Stage::Sqlite));
        let lib = sqlite::SqliteBuild {
            spec,
            tarball,
            work: &tree.work,
            toolchain_dir: &tree.toolchain,
            cc: &compiler_args(&opts.layout.clang, tree, &profile.build.host_triple),
            ar: &opts.layout.ar,
            home: &tree.home,
            epoch: profile.build.source_date_epoch,
            logs,
        }
        .run()?;
        self.finish(Stage::Sqlite, t, false);
        Ok(Some(lib))
    }

    /// The configure-host stage: `Modules/` of the build tree prepared for the extension
    /// modules, then configure for the WASI host (and, with SQLite, the check that
    /// configure will build `_sqlite3`).
    fn configure_host(
        &mut self,
        tree: &Tree,
        bp_dir: &Path,
        sqlite_lib: Option<&sqlite::SqliteLib>,
    ) -> Result<(), BuildError> {
        let StageRun {
            opts,
            toolchain,
            inputs,
            logs,
            on_event,
            ..
        } = *self;
        let t = Instant::now();
        on_event(BuildEvent::Start(Stage::ConfigureHost));
        prepare_modules_dir(&tree.cross, &inputs.ext_modules)?;
        let config_site = find_config_site(&tree.src)?;
        let configure = configure_command(opts, toolchain, tree, bp_dir, &config_site, sqlite_lib);
        run_logged(
            configure,
            Stage::ConfigureHost,
            &logs.join("configure-host.log"),
        )?;
        if opts.profile.sqlite.is_some() {
            require_module_state(&tree.cross, "_SQLITE3", logs)?;
        }
        self.finish(Stage::ConfigureHost, t, false);
        Ok(())
    }

    /// `make` in a configured tree, the component check, then the interpreter cache entry
    /// (python.wasm + the stdlib's own files) saved by rename under `key`. `compile` says
    /// how the tree was prepared (`cold` or `incremental`) and since when, for the
    /// build ledger.
    fn make_and_save(
        &mut self,
        tree: &Tree,
        bp_dir: &Path,
        key: &str,
        compile: (&str, Instant),
    ) -> Result<(), BuildError> {
        let python_wasm = self.make_host(tree)?;
        ledger::record(&ledger::Record::new(
            ledger::Subject::Cpython,
            &self.opts.profile.name,
            true,
            compile.0,
            compile.1.elapsed(),
        ));
        self.save_interpreter(tree, bp_dir, key, &python_wasm)?;

        // The tree stays: it is the base of the next shim-only rebuild (`rebuild_tree`).
        let marker = tree.work.join(TREE_BUILT);
        fs::write(&marker, key).map_err(io_err("writing", &marker))?;
        Ok(())
    }

    /// The make-host stage: `make all` in the configured tree; returns the linked
    /// python.wasm once it is checked to be a component.
    fn make_host(&mut self, tree: &Tree) -> Result<PathBuf, BuildError> {
        let StageRun {
            opts,
            toolchain,
            logs,
            on_event,
            ..
        } = *self;
        let epoch = opts.profile.build.source_date_epoch;
        let host_path = format!("{}:{BASE_PATH}", toolchain.component_ld_dir.display());
        let t = Instant::now();
        on_event(BuildEvent::Start(Stage::MakeHost));
        let mut make = Command::new("make");
        make.current_dir(&tree.cross)
            .arg(format!("--jobs={}", opts.jobs.max(1)))
            .arg("all");
        let make = pinned(make, &tree.home, epoch, &host_path);
        run_logged(make, Stage::MakeHost, &logs.join("make-host.log"))?;
        let python_wasm = tree.cross.join("python.wasm");
        let header = fs::read(&python_wasm)
            .map(|b| b.get(..8).map(<[u8]>::to_vec))
            .map_err(io_err("reading", &python_wasm))?;
        // A component starts with the wasm magic and layer 1 / version 0x0d.
        if header.as_deref() != Some(&[0, b'a', b's', b'm', 0x0d, 0, 1, 0][..]) {
            return Err(BuildError::Check {
                stage: Stage::MakeHost,
                message: format!(
                    "{} is not a WebAssembly component (was wasm-component-ld on PATH?)",
                    python_wasm.display()
                ),
            });
        }
        self.finish(Stage::MakeHost, t, false);
        Ok(python_wasm)
    }

    /// The interpreter: python.wasm + the stdlib's own files (with the build's
    /// sysconfig data, its paths mapped), saved by rename under its own key;
    /// `assemble_result` adds overlays and bytecode.
    fn save_interpreter(
        &self,
        tree: &Tree,
        bp_dir: &Path,
        key: &str,
        python_wasm: &Path,
    ) -> Result<(), BuildError> {
        let StageRun {
            opts,
            dirs,
            toolchain,
            ..
        } = *self;
        let profile = &opts.profile;
        let mut files = stdlib::collect_files(&tree.src.join("Lib"), &profile.stdlib)?;
        let path_maps = vec![
            (tree.src.display().to_string(), "/cpython".to_string()),
            (
                tree.toolchain.display().to_string(),
                "/wasi-toolchain".to_string(),
            ),
            (bp_dir.display().to_string(), "/build-python".to_string()),
            (
                toolchain.component_ld_dir.display().to_string(),
                "/rust-toolchain/bin".to_string(),
            ),
            (tree.work.display().to_string(), "/build".to_string()),
            // `<toolchain>/usr/bin/clang-19` is recorded as `/usr/bin/clang-19`, where
            // Debian installs it: the same bytes wherever the cache is.
            (opts.layout.root.display().to_string(), String::new()),
        ];
        for (name, bytes) in sysconfig_files(&tree.cross)? {
            let text = String::from_utf8_lossy(&bytes);
            files.insert(name, stdlib::replace_paths(&text, &path_maps).into_bytes());
        }
        fs::create_dir_all(&dirs.interpreters).map_err(io_err("creating", &dirs.interpreters))?;
        let staging = tempfile::Builder::new()
            .prefix(&format!(".tmp-{key}-"))
            .tempdir_in(&dirs.interpreters)
            .map_err(io_err(
                "creating temporary directory in",
                &dirs.interpreters,
            ))?;
        stdlib::write_tree(&files, &staging.path().join(STDLIB_BASE))?;
        let wasm_path = staging.path().join("python.wasm");
        fs::copy(python_wasm, &wasm_path).map_err(io_err("copying", python_wasm))?;
        // The linked libraries are kept with the interpreter they went into, so the
        // record names the exact archive.
        if profile.sqlite.is_some() {
            let lib = sqlite::archive_in(&tree.toolchain);
            fs::copy(&lib, staging.path().join(sqlite::ARCHIVE))
                .map_err(io_err("copying", &lib))?;
        }
        let interpreter = dirs.interpreters.join(key);
        if interpreter.exists() {
            // --force, or a result whose build python was gone: replace it.
            fs::remove_dir_all(&interpreter).map_err(io_err("replacing", &interpreter))?;
        }
        let staging = staging.keep();
        fs::rename(&staging, &interpreter)
            .map_err(io_err("publishing into the cache", &interpreter))?;
        Ok(())
    }

    /// The stdlib stage: the interpreter's stdlib files plus the overlays, compiled to
    /// bytecode and zipped, published with python.wasm and record.json as the result of
    /// the full key.
    fn assemble_result(
        &mut self,
        key: &str,
        interpreter: &Path,
        build_python: &Path,
    ) -> Result<(), BuildError> {
        let StageRun {
            opts,
            dirs,
            logs,
            on_event,
            ..
        } = *self;
        let profile = &opts.profile;
        let t = Instant::now();
        on_event(BuildEvent::Start(Stage::Stdlib));
        fs::create_dir_all(logs).map_err(io_err("creating", logs))?;
        let guest_zip = profile.stdlib_zip_guest_path();
        let files = self.stdlib_files(key, interpreter, build_python, &guest_zip)?;

        // Results go to a temporary directory beside the final one, renamed when complete.
        let staging = tempfile::Builder::new()
            .prefix(&format!(".tmp-{key}-"))
            .tempdir_in(&dirs.results)
            .map_err(io_err("creating temporary directory in", &dirs.results))?;
        let zip_path = staging.path().join("stdlib.zip");
        stdlib::write_zip(&files, profile.build.source_date_epoch, &zip_path)?;
        let wasm_path = staging.path().join("python.wasm");
        let interpreter_wasm = interpreter.join("python.wasm");
        if fs::hard_link(&interpreter_wasm, &wasm_path).is_err() {
            fs::copy(&interpreter_wasm, &wasm_path)
                .map_err(io_err("copying", &interpreter_wasm))?;
        }
        self.write_record(staging.path(), key, guest_zip, interpreter)?;
        let result_dir = dirs.results.join(key);
        if result_dir.exists() {
            // --force over an existing result: replace it.
            fs::remove_dir_all(&result_dir).map_err(io_err("replacing", &result_dir))?;
        }
        let staging = staging.keep();
        fs::rename(&staging, &result_dir)
            .map_err(io_err("publishing into the cache", &result_dir))?;
        self.finish(Stage::Stdlib, t, false);
        Ok(())
    }

    /// The files of the stdlib zip: the interpreter's own stdlib files and the overlays,
    /// with bytecode compiled by the build python for the zip's guest path.
    fn stdlib_files(
        &self,
        key: &str,
        interpreter: &Path,
        build_python: &Path,
        guest_zip: &str,
    ) -> Result<BTreeMap<String, Vec<u8>>, BuildError> {
        let StageRun {
            dirs, inputs, logs, ..
        } = *self;
        let mut files = stdlib::read_tree(&interpreter.join(STDLIB_BASE))?;
        for f in &inputs.overlays {
            let bytes = fs::read(&f.source).map_err(io_err("reading", &f.source))?;
            files.insert(f.path.clone(), bytes);
        }
        fs::create_dir_all(&dirs.work).map_err(io_err("creating", &dirs.work))?;
        let compile_dir = tempfile::Builder::new()
            .prefix(&format!("stdlib-{key}-"))
            .tempdir_in(&dirs.work)
            .map_err(io_err("creating temporary directory in", &dirs.work))?;
        stdlib::add_bytecode(
            &mut files,
            build_python,
            guest_zip,
            compile_dir.path(),
            &logs.join("stdlib.log"),
        )?;
        drop(compile_dir);
        Ok(files)
    }

    /// Writes `record.json` into `staging`, which already holds python.wasm and
    /// stdlib.zip: their digests, the inputs, and the libraries linked in.
    fn write_record(
        &self,
        staging: &Path,
        key: &str,
        guest_zip: String,
        interpreter: &Path,
    ) -> Result<(), BuildError> {
        let StageRun { opts, inputs, .. } = *self;
        let profile = &opts.profile;
        let digest = |p: &Path| -> Result<FileRecord, BuildError> {
            Ok(FileRecord {
                sha256: sha256_file(p).map_err(io_err("hashing", p))?,
                size: fs::metadata(p).map_err(io_err("reading", p))?.len(),
            })
        };
        let record = BuildRecord {
            format_version: 1,
            profile: profile.name.clone(),
            cpython: profile.version.clone(),
            host_triple: profile.build.host_triple.clone(),
            key: key.to_string(),
            python_wasm: digest(&staging.join("python.wasm"))?,
            stdlib_zip: digest(&staging.join("stdlib.zip"))?,
            stdlib_zip_guest_path: guest_zip,
            inputs: inputs.clone(),
            disabled_modules: profile
                .disabled_modules
                .iter()
                .map(|m| m.name.clone())
                .collect(),
            static_libraries: match &inputs.sqlite {
                Some(line) => vec![StaticLibrary {
                    module: "_sqlite3".into(),
                    built_from: line.clone(),
                    library: sqlite::ARCHIVE.into(),
                    file: digest(&interpreter.join(sqlite::ARCHIVE))?,
                }],
                None => Vec::new(),
            },
        };
        let record_path = staging.join("record.json");
        let mut text = serde_json::to_string_pretty(&record).map_err(|e| BuildError::Check {
            stage: Stage::Stdlib,
            message: e.to_string(),
        })?;
        text.push('\n');
        fs::write(&record_path, text).map_err(io_err("writing", &record_path))
    }
}

/// The WASI C compiler `bin` as a program and its fixed arguments: the target, and the
/// tree's toolchain directory as sysroot and resource directory.
fn compiler_args(bin: &Path, tree: &Tree, host_triple: &str) -> Vec<String> {
    let sysroot = tree.toolchain.join("sysroot");
    let resource = tree.toolchain.join("resource");
    vec![
        bin.display().to_string(),
        format!("--target={host_triple}"),
        format!("--sysroot={}", sysroot.display()),
        format!("-resource-dir={}", resource.display()),
    ]
}

/// `Modules/` of the WASI build tree, ready for configure: the extension modules'
/// `Setup.local` and their object directories.
fn prepare_modules_dir(cross: &Path, ext_modules: &[ExtModule]) -> Result<(), BuildError> {
    let modules_dir = cross.join("Modules");
    fs::create_dir_all(&modules_dir).map_err(io_err("creating", &modules_dir))?;
    // configure keeps an existing Setup.local; the native build keeps its empty one.
    let setup_local = modules_dir.join("Setup.local");
    fs::write(&setup_local, ext::setup_local(ext_modules))
        .map_err(io_err("writing", &setup_local))?;
    // configure creates the object directories of CPython's own modules only; the
    // extension modules' objects go to Modules/_pylon_ext/<name>/ of the build tree.
    for m in ext_modules {
        let dir = modules_dir.join(ext::EXT_SUBDIR).join(&m.name);
        fs::create_dir_all(&dir).map_err(io_err("creating", &dir))?;
    }
    Ok(())
}

/// CPython's `config.site` for WASI (its place moved between versions).
fn find_config_site(src: &Path) -> Result<PathBuf, BuildError> {
    [
        "Tools/wasm/config.site-wasm32-wasi",
        "Tools/wasm/wasi/config.site-wasm32-wasi",
    ]
    .iter()
    .map(|p| src.join(p))
    .find(|p| p.is_file())
    .ok_or_else(|| BuildError::Check {
        stage: Stage::ConfigureHost,
        message: format!("no Tools/wasm config.site for WASI in {}", src.display()),
    })
}

/// configure for the WASI host, pinned: the WASI clang over the tree's toolchain
/// directory, every build directory path-mapped in `CFLAGS`, and pkg-config confined to
/// the sysroot.
fn configure_command(
    opts: &BuildOptions,
    toolchain: &ToolchainInfo,
    tree: &Tree,
    bp_dir: &Path,
    config_site: &Path,
    sqlite_lib: Option<&sqlite::SqliteLib>,
) -> Command {
    let profile = &opts.profile;
    let epoch = profile.build.source_date_epoch;
    let build_python = bp_dir
        .join(&profile.source.top_dir)
        .join("builddir/build/python");
    let sysroot = tree.toolchain.join("sysroot");
    let compiler = |bin: &Path| compiler_args(bin, tree, &profile.build.host_triple).join(" ");
    let mut cflags = vec![
        format!("-ffile-prefix-map={}=/cpython", tree.src.display()),
        format!(
            "-ffile-prefix-map={}=/wasi-toolchain",
            tree.toolchain.display()
        ),
        format!("-ffile-prefix-map={}=/build-python", bp_dir.display()),
    ];
    cflags.extend(profile.build.cflags.iter().cloned());
    let host_path = format!("{}:{BASE_PATH}", toolchain.component_ld_dir.display());
    let mut configure = Command::new("../../configure");
    configure
        .current_dir(&tree.cross)
        .arg(format!("--host={}", profile.build.host_triple))
        .arg("--build=x86_64-pc-linux-gnu")
        .arg(format!("--with-build-python={}", build_python.display()))
        .arg(format!("--prefix={PREFIX}"))
        .args(&profile.build.configure_flags)
        .args(
            profile
                .disabled_modules
                .iter()
                .map(|m| format!("py_cv_module_{}=n/a", m.name)),
        );
    let mut configure = pinned(configure, &tree.home, epoch, &host_path);
    configure
        .env("CONFIG_SITE", config_site)
        .env("CC", compiler(&opts.layout.clang))
        .env("CPP", compiler(&opts.layout.clang_cpp))
        .env("CXX", compiler(&opts.layout.clangxx))
        .env("AR", &opts.layout.ar)
        .env("RANLIB", &opts.layout.ranlib)
        .env("CFLAGS", cflags.join(" "))
        .env("LDFLAGS", profile.build.ldflags.join(" "))
        // No pkg-config module of the build machine may be found for the WASI build.
        .env("PKG_CONFIG_PATH", "")
        .env("PKG_CONFIG_LIBDIR", sysroot.join("lib/pkgconfig"))
        .env("PKG_CONFIG_SYSROOT_DIR", &sysroot);
    if let Some(lib) = sqlite_lib {
        // Given explicitly, configure's PKG_CHECK_MODULES takes them as they are.
        configure
            .env("LIBSQLITE3_CFLAGS", &lib.cflags)
            .env("LIBSQLITE3_LIBS", &lib.libs);
    }
    configure
}

/// The `_sysconfigdata_*` module (and 3.14's `_sysconfig_vars_*` JSON) of the WASI build.
fn sysconfig_files(cross: &Path) -> Result<Vec<(String, Vec<u8>)>, BuildError> {
    let build = cross.join("build");
    let mut out = Vec::new();
    for entry in fs::read_dir(&build)
        .map_err(io_err("reading", &build))?
        .flatten()
    {
        if !entry.file_name().to_string_lossy().starts_with("lib.") {
            continue;
        }
        for file in fs::read_dir(entry.path())
            .map_err(io_err("reading", &entry.path()))?
            .flatten()
        {
            let name = file.file_name().to_string_lossy().into_owned();
            if name.starts_with("_sysconfig") && (name.ends_with(".py") || name.ends_with(".json"))
            {
                let bytes = fs::read(file.path()).map_err(io_err("reading", &file.path()))?;
                out.push((name, bytes));
            }
        }
    }
    if !out.iter().any(|(n, _)| n.starts_with("_sysconfigdata_")) {
        return Err(BuildError::Check {
            stage: Stage::Stdlib,
            message: format!("no _sysconfigdata_*.py under {}/lib.*", build.display()),
        });
    }
    out.sort();
    Ok(out)
}

/// Unpacks the tarball under `dest` and applies the patch set in its top directory.
pub fn unpack_and_patch(
    tarball: &Path,
    dest: &Path,
    top_dir: &str,
    patches: &[Patch],
    logs: &Path,
    epoch: u64,
    stage: Stage,
) -> Result<PathBuf, BuildError> {
    let home = dest.join(".home");
    fs::create_dir_all(&home).map_err(io_err("creating", &home))?;
    let mut tar = Command::new("tar");
    // Ownership and modes from the archive are not kept: files belong to the builder
    // and get 0644/0755 under the pinned umask. Member mtimes are kept (make needs
    // generated files to stay newer than their sources).
    tar.current_dir(dest)
        .arg("--extract")
        .arg("--xz")
        .arg("--no-same-owner")
        .arg("--no-same-permissions")
        .arg("--file")
        .arg(tarball);
    let tar = pinned(tar, &home, epoch, BASE_PATH);
    run_logged(
        tar,
        stage,
        &logs.join(format!("{}-tar.log", stage.as_str())),
    )?;
    let top = dest.join(top_dir);
    if !top.is_dir() {
        return Err(BuildError::Check {
            stage,
            message: format!(
                "{} has no top directory {top_dir}/ (the profile's top_dir for it)",
                tarball.display()
            ),
        });
    }
    apply_patches(&top, patches, logs, epoch, stage)?;
    Ok(top)
}

/// Applies `patches` in order inside `top` with `patch -p1`, no fuzz: a patch that does
/// not apply exactly is an error, never a silently different tree.
pub fn apply_patches(
    top: &Path,
    patches: &[Patch],
    logs: &Path,
    epoch: u64,
    stage: Stage,
) -> Result<(), BuildError> {
    for p in patches {
        let mut cmd = Command::new("patch");
        cmd.current_dir(top)
            .args([
                "-p1",
                "--forward",
                "--batch",
                "--fuzz=0",
                "--no-backup-if-mismatch",
                "-i",
            ])
            .arg(&p.path);
        let home = top.join(".."); // patch writes nothing to HOME; any existing dir
        let cmd = pinned(cmd, &home, epoch, BASE_PATH);
        run_logged(cmd, stage, &logs.join(format!("patch-{}.log", p.name)))?;
    }
    Ok(())
}

fn build_native_python(
    opts: &BuildOptions,
    bp_dir: &Path,
    tarball: &Path,
    patches: &[Patch],
    epoch: u64,
) -> Result<(), BuildError> {
    let profile = &opts.profile;
    let started = Instant::now();
    if bp_dir.exists() {
        // An earlier build died half-way (no .complete): start over.
        fs::remove_dir_all(bp_dir).map_err(io_err("clearing", bp_dir))?;
    }
    let logs = bp_dir.join("logs");
    fs::create_dir_all(&logs).map_err(io_err("creating", &logs))?;
    let top = unpack_and_patch(
        tarball,
        bp_dir,
        &profile.source.top_dir,
        patches,
        &logs,
        epoch,
        Stage::BuildPython,
    )?;
    let build_dir = top.join("builddir/build");
    fs::create_dir_all(&build_dir).map_err(io_err("creating", &build_dir))?;
    let home = bp_dir.join(".home");
    let mut configure = Command::new("../../configure");
    configure
        .current_dir(&build_dir)
        .arg(format!("--prefix={PREFIX}"));
    let configure = pinned(configure, &home, epoch, BASE_PATH);
    run_logged(
        configure,
        Stage::BuildPython,
        &logs.join("configure-build-python.log"),
    )?;
    let mut make = Command::new("make");
    make.current_dir(&build_dir)
        .arg(format!("--jobs={}", opts.jobs.max(1)))
        .arg("all");
    let make = pinned(make, &home, epoch, BASE_PATH);
    run_logged(
        make,
        Stage::BuildPython,
        &logs.join("make-build-python.log"),
    )?;
    let marker = bp_dir.join(".complete");
    fs::write(&marker, b"").map_err(io_err("writing", &marker))?;
    ledger::record(&ledger::Record::new(
        ledger::Subject::BuildPython,
        &profile.name,
        true,
        "cold",
        started.elapsed(),
    ));
    Ok(())
}

/// A wasi-sdk-shaped directory over Debian's multiarch layout: clang's `--sysroot`
/// wants `include/<triple>` and `lib/<triple>`, and its `-resource-dir` wants the
/// builtins as `lib/wasm32-unknown-<os>/libclang_rt.builtins.a`, while Debian ships
/// `lib/wasi/libclang_rt.builtins-wasm32.a`. Symlinks, so nothing is copied; the
/// directory is path-mapped to `/wasi-toolchain`. Without `--sysroot` clang would also
/// search the build machine's `/usr/include`.
pub fn shape_toolchain_dir(dir: &Path, layout: &Layout, triple: &str) -> Result<(), BuildError> {
    let os = triple.strip_prefix("wasm32-").unwrap_or(triple);
    let links: Vec<(PathBuf, &Path)> = vec![
        (
            dir.join("sysroot/include").join(triple),
            &layout.libc_include,
        ),
        (dir.join("sysroot/lib").join(triple), &layout.libc_lib),
        (dir.join("resource/include"), &layout.clang_include),
        (
            dir.join(format!(
                "resource/lib/wasm32-unknown-{os}/libclang_rt.builtins.a"
            )),
            &layout.builtins,
        ),
        (
            dir.join("resource/lib/wasi/libclang_rt.builtins-wasm32.a"),
            &layout.builtins,
        ),
    ];
    for (link, target) in links {
        if let Some(parent) = link.parent() {
            fs::create_dir_all(parent).map_err(io_err("creating", parent))?;
        }
        if link.symlink_metadata().is_ok() {
            fs::remove_file(&link).map_err(io_err("replacing", &link))?;
        }
        std::os::unix::fs::symlink(target, &link).map_err(io_err("linking", &link))?;
    }
    Ok(())
}

/// Fails unless configure decided to build `module` (its `MODULE_<NAME>_STATE` in the
/// generated Makefile is `yes`): a library the profile pins but configure could not use
/// must stop the build, not silently drop the module.
fn require_module_state(cross: &Path, upper_name: &str, logs: &Path) -> Result<(), BuildError> {
    let makefile = cross.join("Makefile");
    let text = fs::read_to_string(&makefile).map_err(io_err("reading", &makefile))?;
    let var = format!("MODULE_{upper_name}_STATE=");
    let state = text
        .lines()
        .find_map(|l| l.strip_prefix(&var))
        .map(str::trim)
        .unwrap_or("absent");
    if state == "yes" {
        return Ok(());
    }
    Err(BuildError::Check {
        stage: Stage::ConfigureHost,
        message: format!(
            "configure will not build {} (MODULE_{upper_name}_STATE={state}); see {}",
            upper_name.to_lowercase(),
            logs.join("configure-host.log").display()
        ),
    })
}

/// Wraps a command so it runs under `umask 022` with a cleared, pinned environment.
pub(crate) fn pinned(cmd: Command, home: &Path, epoch: u64, path: &str) -> Command {
    let mut wrapped = Command::new("/bin/sh");
    wrapped
        .arg("-c")
        .arg("umask 022 && exec \"$@\"")
        .arg("sh")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    wrapped
        .env_clear()
        .env("PATH", path)
        .env("HOME", home)
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .env("LANG", "C")
        .env("SOURCE_DATE_EPOCH", epoch.to_string())
        .env("PYTHONHASHSEED", "0")
        .stdin(Stdio::null());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    wrapped
}

/// Runs a command with stdout and stderr into `log` (with the command line and the
/// environment it set at the top).
pub(crate) fn run_logged(mut cmd: Command, stage: Stage, log: &Path) -> Result<(), BuildError> {
    let mut args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    // Skip the umask wrapper's own arguments in messages.
    if args.len() > 2 && args[0] == "-c" {
        args.drain(..3);
    }
    let command = args.join(" ");
    let mut file = File::create(log).map_err(io_err("creating log", log))?;
    let mut header = String::new();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            header.push_str(&format!(
                "# {}={}\n",
                k.to_string_lossy(),
                v.to_string_lossy()
            ));
        }
    }
    if let Some(dir) = cmd.get_current_dir() {
        header.push_str(&format!("# cwd {}\n", dir.display()));
    }
    header.push_str(&format!("$ {command}\n"));
    file.write_all(header.as_bytes())
        .map_err(io_err("writing log", log))?;
    let err = file.try_clone().map_err(io_err("opening log", log))?;
    cmd.stdout(Stdio::from(file)).stderr(Stdio::from(err));
    let status = cmd
        .status()
        .map_err(io_err("running", Path::new(&command)))?;
    if status.success() {
        return Ok(());
    }
    Err(BuildError::Stage {
        stage,
        command,
        status: status.to_string(),
        log: log.to_path_buf(),
        tail: tail_lines(log, 25),
    })
}
