//! Building one cap checkout into its component, reproducibly.
//!
//! Whatever the machine, the same source must give the same bytes, so the build
//! environment is pinned here rather than inherited:
//! - `--remap-path-prefix` for the checkout, the cargo target dir, CARGO_HOME and
//!   RUSTUP_HOME, so no absolute path of this machine reaches the artifact (panic
//!   locations embed source paths);
//! - `SOURCE_DATE_EPOCH`, `TZ`, `LC_ALL` fixed; flags that would change codegen
//!   (`RUSTFLAGS`, `CARGO_PROFILE_*`, wrappers) removed from the environment;
//! - `--locked`, so the committed `Cargo.lock` is what is built;
//! - C code a cap's crates compile (through the `cc` crate, e.g. xz's liblzma in the
//!   lzma cap) uses the pinned clang-19 and llvm-ar-19 named in `CC_<target>` and
//!   `AR_<target>`, with `-ffile-prefix-map` for the same paths; the caller's
//!   `CC`/`CFLAGS`/`AR` family is never inherited. That clang is the one the manifest's
//!   `[toolchain] clang` records.
//!
//! The artifact is published by rename only: a killed build leaves the previous
//! artifact (or none), never a partial file.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use pylon_manifest::{write_atomic, Target};
use pylon_util::ledger;
use pylon_util::log::tail_lines;

use crate::componentize::{module_to_component, ComponentizeError};

/// Fixed `SOURCE_DATE_EPOCH` for cap builds: 1980-01-01T00:00:00Z, the earliest
/// time a zip can record. Any constant works; a commit date would change outputs
/// whenever an unrelated commit lands.
pub const SOURCE_DATE_EPOCH: &str = "315532800";

/// Environment variables that could change what cargo/rustc emit; never inherited.
const SCRUBBED_ENV: &[&str] = &[
    "RUSTFLAGS",
    "RUSTDOCFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_BUILD_RUSTC_WRAPPER",
    "CARGO_INCREMENTAL",
    "CARGO_BUILD_TARGET",
    "CARGO_BUILD_TARGET_DIR",
    // Which compiler runs: only the one on PATH (or pylon's own choice, see
    // `HostPaths::rustc`), whatever a caller or a toolchain override would choose.
    "RUSTC",
    "CARGO_BUILD_RUSTC",
    "RUSTUP_TOOLCHAIN",
    "RUSTC_BOOTSTRAP",
    "CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER",
    // The cc crate's inputs: only the pinned compiler and flags set below.
    "CC",
    "CXX",
    "AR",
    "CFLAGS",
    "CXXFLAGS",
    "ARFLAGS",
    "TARGET_CC",
    "TARGET_CXX",
    "TARGET_AR",
    "TARGET_CFLAGS",
    "TARGET_CXXFLAGS",
    "HOST_CC",
    "HOST_CFLAGS",
    "CRATE_CC_NO_DEFAULTS",
    "CC_ENABLE_DEBUG_OUTPUT",
];

/// The C compiler and archiver of the pinned WASI toolchain, by the names Debian's
/// packages give them (under `usr/bin` of the unpacked toolchain).
const C_COMPILER: &str = "clang-19";
const C_ARCHIVER: &str = "llvm-ar-19";

/// Where and how to build one cap.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    pub name: String,
    /// The cap's source directory (a git checkout, or a directory of this repository).
    pub checkout: PathBuf,
    pub target: Target,
    /// Where the component is published (normally `<checkout>/<artifact>`).
    pub output: PathBuf,
    /// Cargo target directory; `<checkout>/target` when `None`.
    pub target_dir: Option<PathBuf>,
    /// Full build log (cargo/make output).
    pub log: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{command} failed ({status}); full log: {}", log.display())]
    Failed {
        command: String,
        status: String,
        log: PathBuf,
        tail: Vec<String>,
    },
    #[error("cargo built no .wasm for a cdylib target; is crate-type = [\"cdylib\"] set? (log: {})", log.display())]
    NoWasmOutput { log: PathBuf },
    #[error("`make` succeeded but did not produce {}", path.display())]
    MissingArtifact { path: PathBuf },
    #[error("turning the wasm32-wasip1 module into a component: {0}")]
    Componentize(#[from] ComponentizeError),
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl BuildError {
    /// The last lines of the build log, when the failure came from the build itself.
    pub fn log_tail(&self) -> &[String] {
        match self {
            BuildError::Failed { tail, .. } => tail,
            _ => &[],
        }
    }
}

/// Paths of this machine that must not leak into artifacts.
#[derive(Debug, Clone)]
pub struct HostPaths {
    pub cargo_home: Option<PathBuf>,
    pub rustup_home: Option<PathBuf>,
    /// The pinned clang and llvm-ar for C code in caps (`None` when not installed: a
    /// cap that compiles C then fails, naming the missing compiler).
    pub c_compiler: Option<PathBuf>,
    pub c_archiver: Option<PathBuf>,
    /// The unpacked toolchain the compiler comes from (`PYLON_WASI_TOOLCHAIN`): its
    /// `usr` is the sysroot (wasi-libc's `usr/include/<triple>`), and its path is
    /// mapped back to `/` in what the compiler records. `None` for a clang on PATH,
    /// which finds an installed wasi-libc under `/usr` itself.
    pub c_toolchain_root: Option<PathBuf>,
    /// The compiler cargo runs (`RUSTC`): `rustc` on PATH unless pylon itself names
    /// another (repro-check's real-clock wrapper). Never the caller's `RUSTC`.
    pub rustc: Option<PathBuf>,
}

impl HostPaths {
    /// CARGO_HOME / RUSTUP_HOME as cargo and rustup resolve them.
    pub fn detect() -> HostPaths {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let from_env = |var: &str, default: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|h| h.join(default)))
                .map(|p| fs::canonicalize(&p).unwrap_or(p))
        };
        HostPaths {
            cargo_home: from_env("CARGO_HOME", ".cargo"),
            rustup_home: from_env("RUSTUP_HOME", ".rustup"),
            c_compiler: c_tool(C_COMPILER),
            c_archiver: c_tool(C_ARCHIVER),
            c_toolchain_root: std::env::var_os(pylon_toolchain::ENV_ROOT)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            rustc: None,
        }
    }
}

/// A program of the pinned WASI toolchain: from the unpacked tree `pylon` named in
/// `PYLON_WASI_TOOLCHAIN` ([`pylon_toolchain::ENV_ROOT`]) when set, else on PATH (a
/// toolchain installed by hand, or none).
fn c_tool(name: &str) -> Option<PathBuf> {
    if let Some(root) = std::env::var_os(pylon_toolchain::ENV_ROOT).filter(|v| !v.is_empty()) {
        let p = PathBuf::from(root).join("usr/bin").join(name);
        return p.is_file().then_some(p);
    }
    on_path(name)
}

/// `name` resolved on PATH, as the shell would.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// What one `build_cap` compiled, from cargo's own messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildOutcome {
    /// Compilation units cargo compiled (0: everything was fresh).
    pub compiled_units: usize,
    /// Compilation units cargo found fresh and reused.
    pub fresh_units: usize,
}

impl BuildOutcome {
    /// `cold` (nothing reused), `fresh` (nothing compiled) or `incremental`.
    pub fn how(&self) -> &'static str {
        match (self.compiled_units, self.fresh_units) {
            (0, _) => "fresh",
            (_, 0) => "cold",
            _ => "incremental",
        }
    }
}

/// Builds the cap and publishes its component at `req.output`; the compilation is
/// recorded in the build ledger ([`pylon_util::ledger`]).
pub fn build_cap(req: &BuildRequest, host: &HostPaths) -> Result<BuildOutcome, BuildError> {
    let start = std::time::Instant::now();
    let outcome = build_cap_unrecorded(req, host)?;
    let how = if req.target.rust_triple().is_none() {
        "make"
    } else {
        outcome.how()
    };
    ledger::record(&ledger::Record::new(
        ledger::Subject::Cap,
        &req.name,
        outcome.compiled_units > 0,
        how,
        start.elapsed(),
    ));
    Ok(outcome)
}

fn build_cap_unrecorded(req: &BuildRequest, host: &HostPaths) -> Result<BuildOutcome, BuildError> {
    if let Some(dir) = req.log.parent() {
        fs::create_dir_all(dir).map_err(|source| BuildError::Io {
            what: "creating log directory",
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let artifact = &req.output;
    let outcome = match req.target.rust_triple() {
        None => {
            let mut cmd = Command::new("make");
            cmd.current_dir(&req.checkout);
            pin_environment(&mut cmd, host);
            // A make cap owns its output layout: a caller's CARGO_TARGET_DIR (a CI or a
            // test harness setting) would move its cargo's output out from under it.
            cmd.env_remove("CARGO_TARGET_DIR");
            run_logged(cmd, "make", &req.log)?;
            if !artifact.is_file() {
                return Err(BuildError::MissingArtifact {
                    path: artifact.clone(),
                });
            }
            // make does not say what it rebuilt: count it as a compilation.
            BuildOutcome {
                compiled_units: 1,
                fresh_units: 0,
            }
        }
        Some(triple) => {
            let (wasm, outcome) = cargo_build(req, triple, host)?;
            let bytes = fs::read(&wasm).map_err(|source| BuildError::Io {
                what: "reading cargo output",
                path: wasm.clone(),
                source,
            })?;
            let component = match req.target {
                Target::Wasip1 => module_to_component(&bytes)?,
                _ => bytes,
            };
            publish(artifact, &component)?;
            outcome
        }
    };
    Ok(outcome)
}

/// Writes the artifact by temp file + rename. An identical file is left alone, so a
/// no-op sync does not rewrite artifacts.
fn publish(artifact: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    if fs::read(artifact).is_ok_and(|existing| existing == bytes) {
        return Ok(());
    }
    if let Some(dir) = artifact.parent() {
        fs::create_dir_all(dir).map_err(|source| BuildError::Io {
            what: "creating artifact directory",
            path: dir.to_path_buf(),
            source,
        })?;
    }
    write_atomic(artifact, bytes).map_err(|source| BuildError::Io {
        what: "publishing artifact",
        path: artifact.to_path_buf(),
        source,
    })
}

fn cargo_build(
    req: &BuildRequest,
    triple: &str,
    host: &HostPaths,
) -> Result<(PathBuf, BuildOutcome), BuildError> {
    let checkout = fs::canonicalize(&req.checkout).map_err(|source| BuildError::Io {
        what: "resolving checkout",
        path: req.checkout.clone(),
        source,
    })?;
    let target_dir = req
        .target_dir
        .clone()
        .unwrap_or_else(|| checkout.join("target"));
    fs::create_dir_all(&target_dir).map_err(|source| BuildError::Io {
        what: "creating target directory",
        path: target_dir.clone(),
        source,
    })?;
    let target_dir = fs::canonicalize(&target_dir).unwrap_or(target_dir);

    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    // Scrub inherited flags first, then set ours (the scrub list includes
    // CARGO_ENCODED_RUSTFLAGS, which carries the remapping).
    pin_environment(&mut cmd, host);
    cmd.current_dir(&checkout)
        .args(["build", "--release", "--locked", "--target", triple])
        .arg("--message-format=json-render-diagnostics")
        .arg("--manifest-path")
        .arg(checkout.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target_dir)
        .env(
            "CARGO_ENCODED_RUSTFLAGS",
            remap_flags(&checkout, &target_dir, &req.name, host),
        )
        .env("CARGO_TERM_COLOR", "never");
    for (key, value) in c_toolchain_env(triple, &checkout, &target_dir, &req.name, host) {
        cmd.env(key, value);
    }
    let stdout = run_logged(cmd, "cargo build", &req.log)?;

    // One compiler-artifact message per unit says whether it was fresh; the
    // cdylib's names the .wasm file.
    let mut wasm = None;
    let mut outcome = BuildOutcome {
        compiled_units: 0,
        fresh_units: 0,
    };
    for message in cargo_metadata::Message::parse_stream(stdout.as_bytes()) {
        let Ok(cargo_metadata::Message::CompilerArtifact(artifact)) = message else {
            continue;
        };
        if artifact.fresh {
            outcome.fresh_units += 1;
        } else {
            outcome.compiled_units += 1;
        }
        if artifact
            .target
            .kind
            .contains(&cargo_metadata::TargetKind::CDyLib)
        {
            wasm = artifact
                .filenames
                .into_iter()
                .find(|f| f.extension() == Some("wasm"))
                .map(PathBuf::from);
        }
    }
    let wasm = wasm.ok_or_else(|| BuildError::NoWasmOutput {
        log: req.log.clone(),
    })?;
    Ok((wasm, outcome))
}

/// `--remap-path-prefix` flags, joined with 0x1f as CARGO_ENCODED_RUSTFLAGS wants
/// (so paths with spaces survive). rustc applies the *last* matching mapping, so
/// the more specific target dir comes after the checkout that may contain it.
fn remap_flags(checkout: &Path, target_dir: &Path, name: &str, host: &HostPaths) -> OsString {
    let mut maps: Vec<(PathBuf, String)> = Vec::new();
    if let Some(p) = &host.rustup_home {
        maps.push((p.clone(), "/rustup".into()));
    }
    if let Some(p) = &host.cargo_home {
        maps.push((p.clone(), "/cargo".into()));
    }
    maps.push((checkout.to_path_buf(), format!("/caps/{name}")));
    maps.push((target_dir.to_path_buf(), format!("/caps/{name}/target")));
    let mut flags = OsString::new();
    for (i, (from, to)) in maps.iter().enumerate() {
        if i > 0 {
            flags.push("\u{1f}");
        }
        flags.push("--remap-path-prefix=");
        flags.push(from.as_os_str());
        flags.push("=");
        flags.push(to);
    }
    flags
}

/// `CC_<triple>`, `AR_<triple>` and `CFLAGS_<triple>` for the cc crate: the pinned
/// clang with the same path remapping rustc gets, so C sources (the cap's, or a crate's
/// in CARGO_HOME) leave no machine path in the artifact. Empty when clang-19 is not
/// installed (the build of a cap with C code then fails in cc, naming the compiler).
fn c_toolchain_env(
    triple: &str,
    checkout: &Path,
    target_dir: &Path,
    name: &str,
    host: &HostPaths,
) -> Vec<(String, OsString)> {
    let (Some(cc), Some(ar)) = (&host.c_compiler, &host.c_archiver) else {
        return Vec::new();
    };
    let suffix = triple.replace('-', "_");
    let mut maps: Vec<(&Path, String)> = Vec::new();
    if let Some(p) = &host.cargo_home {
        maps.push((p, "/cargo".into()));
    }
    maps.push((checkout, format!("/caps/{name}")));
    maps.push((target_dir, format!("/caps/{name}/target")));
    let mut cflags = OsString::new();
    if let Some(root) = &host.c_toolchain_root {
        // Without it clang would look for libc headers under the host's /usr.
        cflags.push("--sysroot=");
        cflags.push(root.join("usr").as_os_str());
        cflags.push(" ");
    }
    // `<root>/usr/include/…` is recorded as `/usr/include/…`, as an installed
    // toolchain's would be (the tree's path must not reach the artifact).
    let root_prefix = host.c_toolchain_root.as_ref().map(|r| {
        let mut from = r.clone().into_os_string();
        from.push("/");
        PathBuf::from(from)
    });
    if let Some(prefix) = &root_prefix {
        maps.push((prefix, "/".into()));
    }
    for (i, (from, to)) in maps.iter().enumerate() {
        if i > 0 {
            cflags.push(" ");
        }
        cflags.push("-ffile-prefix-map=");
        cflags.push(from.as_os_str());
        cflags.push("=");
        cflags.push(to);
    }
    vec![
        (format!("CC_{suffix}"), cc.clone().into_os_string()),
        (format!("AR_{suffix}"), ar.clone().into_os_string()),
        (format!("CFLAGS_{suffix}"), cflags),
    ]
}

/// Cargo settings no pin covers that would change what a cap build runs, as
/// "file: why": a cargo config or rustup toolchain file in a directory *above* the
/// checkout (cargo and rustup read both from every ancestor), or a compiler, wrapper
/// or linker named in `$CARGO_HOME/config.toml` — that file is the machine's own
/// (registry and network settings) and otherwise allowed; its flags are overridden by
/// the build's `CARGO_ENCODED_RUSTFLAGS`.
pub fn foreign_cargo_settings(checkout: &Path) -> Option<String> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .and_then(|p| fs::canonicalize(p).ok());
    if let Some(found) = cargo_home.as_deref().and_then(compiler_in_cargo_home) {
        return Some(found);
    }
    ancestor_cargo_files(checkout, cargo_home.as_deref()).map(|p| {
        format!(
            "{}: not part of the pinned source, but cargo or rustup would read it",
            p.display()
        )
    })
}

/// `build.rustc`, `build.rustc-wrapper`, `build.rustc-workspace-wrapper` or a
/// `target.<triple>.linker` in `$CARGO_HOME/config.toml` (or `config`).
fn compiler_in_cargo_home(cargo_home: &Path) -> Option<String> {
    ["config.toml", "config"].iter().find_map(|name| {
        let path = cargo_home.join(name);
        let text = fs::read_to_string(&path).ok()?;
        let doc: toml_edit::DocumentMut = match text.parse() {
            Ok(doc) => doc,
            Err(e) => return Some(format!("{}: not valid TOML ({e})", path.display())),
        };
        let build = doc.get("build").and_then(|b| b.as_table_like());
        let key = ["rustc", "rustc-wrapper", "rustc-workspace-wrapper"]
            .iter()
            .find(|k| build.is_some_and(|b| b.contains_key(k)))
            .map(|k| format!("build.{k}"))
            .or_else(|| {
                let targets = doc.get("target")?.as_table_like()?;
                targets.iter().find_map(|(triple, t)| {
                    t.as_table_like()?
                        .contains_key("linker")
                        .then(|| format!("target.{triple}.linker"))
                })
            })?;
        Some(format!(
            "{}: sets `{key}`, which would change the compiler or linker of every cap \
             build; remove it (or give pylon a CARGO_HOME without it)",
            path.display()
        ))
    })
}

fn ancestor_cargo_files(checkout: &Path, cargo_home: Option<&Path>) -> Option<PathBuf> {
    let checkout = fs::canonicalize(checkout).ok()?;
    checkout.ancestors().skip(1).find_map(|dir| {
        [
            ".cargo/config",
            ".cargo/config.toml",
            "rust-toolchain",
            "rust-toolchain.toml",
        ]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.exists() && cargo_home.is_none_or(|home| p.parent() != Some(home)))
    })
}

fn pin_environment(cmd: &mut Command, host: &HostPaths) {
    for var in SCRUBBED_ENV {
        cmd.env_remove(var);
    }
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        // Per-target compiler settings of the cc crate (CC_wasm32_wasip2, ...) too.
        let cc_family = ["CC_", "CXX_", "AR_", "CFLAGS_", "CXXFLAGS_", "ARFLAGS_"]
            .iter()
            .any(|p| k.starts_with(p));
        if k.starts_with("CARGO_PROFILE_")
            || (k.starts_with("CARGO_TARGET_") && k != "CARGO_TARGET_DIR")
            || cc_family
        {
            cmd.env_remove(&key);
        }
    }
    // Removed above, not set to "" or "rustc": cargo hashes a workspace wrapper into
    // the crate's metadata even when empty, which changes every symbol hash. A
    // compiler or wrapper named in `$CARGO_HOME/config.toml` is refused instead
    // ([`foreign_cargo_settings`]).
    if let Some(rustc) = &host.rustc {
        cmd.env("RUSTC", rustc);
    }
    cmd.env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .env("LANG", "C")
        .env("CARGO_INCREMENTAL", "0")
        .stdin(Stdio::null());
}

/// Runs a command with stderr (and stdout) appended to the log; returns stdout.
fn run_logged(mut cmd: Command, what: &str, log: &Path) -> Result<String, BuildError> {
    let program = format!("{:?}", cmd.get_program());
    let mut log_file = File::create(log).map_err(|source| BuildError::Io {
        what: "creating build log",
        path: log.to_path_buf(),
        source,
    })?;
    let _ = writeln!(
        log_file,
        "$ {} {}",
        cmd.get_program().to_string_lossy(),
        cmd.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let stderr_log = log_file.try_clone().map_err(|source| BuildError::Io {
        what: "opening build log",
        path: log.to_path_buf(),
        source,
    })?;
    cmd.stderr(Stdio::from(stderr_log)).stdout(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|source| BuildError::Spawn { program, source })?;
    let mut stdout = String::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            // Machine messages stay out of the human log; other stdout (make) goes in.
            if !line.starts_with('{') {
                let _ = writeln!(log_file, "{line}");
            }
            stdout.push_str(&line);
            stdout.push('\n');
        }
    }
    let status = child.wait().map_err(|source| BuildError::Io {
        what: "waiting for build",
        path: log.to_path_buf(),
        source,
    })?;
    if status.success() {
        Ok(stdout)
    } else {
        Err(BuildError::Failed {
            command: what.to_string(),
            status: status.to_string(),
            log: log.to_path_buf(),
            tail: tail_lines(log, 20),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_code_gets_the_pinned_compiler_and_path_remapping() {
        let host = HostPaths {
            cargo_home: Some("/home/u/.cargo".into()),
            rustup_home: None,
            c_compiler: Some("/usr/bin/clang-19".into()),
            c_archiver: Some("/usr/bin/llvm-ar-19".into()),
            c_toolchain_root: None,
            rustc: None,
        };
        let env: std::collections::HashMap<String, OsString> = c_toolchain_env(
            "wasm32-wasip2",
            Path::new("/w/caps/lzma"),
            Path::new("/w/caps/lzma/target"),
            "lzma",
            &host,
        )
        .into_iter()
        .collect();
        assert_eq!(env["CC_wasm32_wasip2"], "/usr/bin/clang-19");
        assert_eq!(env["AR_wasm32_wasip2"], "/usr/bin/llvm-ar-19");
        let cflags = env["CFLAGS_wasm32_wasip2"].to_string_lossy().into_owned();
        // The more specific target dir after the checkout that contains it, as for rustc.
        assert_eq!(
            cflags,
            "-ffile-prefix-map=/home/u/.cargo=/cargo -ffile-prefix-map=/w/caps/lzma=/caps/lzma \
             -ffile-prefix-map=/w/caps/lzma/target=/caps/lzma/target"
        );
        // From the unpacked toolchain: its usr is the sysroot, and its path is mapped
        // to `/` (the host's /usr/include is never searched).
        let unpacked = HostPaths {
            c_compiler: Some("/c/tc/usr/bin/clang-19".into()),
            c_toolchain_root: Some("/c/tc".into()),
            ..host.clone()
        };
        let env: std::collections::HashMap<String, OsString> = c_toolchain_env(
            "wasm32-wasip2",
            Path::new("/w/caps/lzma"),
            Path::new("/w/caps/lzma/target"),
            "lzma",
            &unpacked,
        )
        .into_iter()
        .collect();
        let cflags = env["CFLAGS_wasm32_wasip2"].to_string_lossy().into_owned();
        assert!(cflags.starts_with("--sysroot=/c/tc/usr "), "{cflags}");
        assert!(cflags.ends_with(" -ffile-prefix-map=/c/tc/=/"), "{cflags}");
        // Without the pinned clang nothing is set: cc fails naming the compiler it
        // looked for, rather than silently using another one.
        let bare = HostPaths {
            c_compiler: None,
            ..host
        };
        assert!(c_toolchain_env(
            "wasm32-wasip2",
            Path::new("/c"),
            Path::new("/t"),
            "x",
            &bare
        )
        .is_empty());
    }
}
