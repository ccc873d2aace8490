//! The toolchain a build runs with, checked before anything is built.
//!
//! The profile pins Debian packages by exact version; a different compiler would give
//! a different binary, so a wrong or missing package is an error that names the
//! package, the wanted and the found version, and the command that fixes it. The Rust
//! toolchain contributes `wasm-component-ld` (the wasip2 linker driver clang calls).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::profile::PackagePin;

/// Where Debian's packages put the pieces (see ../shared/notes/toolchain.md).
#[derive(Debug, Clone)]
pub struct Layout {
    pub clang: PathBuf,
    pub clang_cpp: PathBuf,
    pub clangxx: PathBuf,
    pub ar: PathBuf,
    pub ranlib: PathBuf,
    /// clang's own headers (`stddef.h`, …).
    pub clang_include: PathBuf,
    /// compiler-rt builtins for wasm32, under Debian's name.
    pub builtins: PathBuf,
    /// wasi-libc's multiarch directories.
    pub libc_include: PathBuf,
    pub libc_lib: PathBuf,
}

impl Layout {
    /// Debian's layout for LLVM 19 and wasi-libc, for a wasip* triple.
    pub fn debian(host_triple: &str) -> Layout {
        let llvm = Path::new("/usr/lib/llvm-19");
        Layout {
            clang: "/usr/bin/clang-19".into(),
            clang_cpp: "/usr/bin/clang-cpp-19".into(),
            clangxx: "/usr/bin/clang++-19".into(),
            ar: "/usr/bin/llvm-ar-19".into(),
            ranlib: "/usr/bin/llvm-ranlib-19".into(),
            clang_include: llvm.join("lib/clang/19/include"),
            builtins: llvm.join("lib/clang/19/lib/wasi/libclang_rt.builtins-wasm32.a"),
            libc_include: Path::new("/usr/include").join(host_triple),
            libc_lib: Path::new("/usr/lib").join(host_triple),
        }
    }
}

/// A pinned package that is not installed at its pinned version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PackageProblem {
    pub package: String,
    pub wanted: String,
    /// `None` when not installed at all.
    pub found: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ToolchainError {
    #[error("the WASI toolchain does not match the profile:\n{}\nfix: sudo scripts/install-wasi-toolchain.sh {}", problems.iter().map(|p| format!("  {}: wanted {}, found {}", p.package, p.wanted, p.found.as_deref().unwrap_or("not installed"))).collect::<Vec<_>>().join("\n"), profile.display())]
    Packages {
        problems: Vec<PackageProblem>,
        profile: PathBuf,
    },
    #[error("cannot run dpkg-query to check the toolchain packages: {0} (pylon build needs a Debian-based machine)")]
    NoDpkg(String),
    #[error("{what} is missing: {} (installed by scripts/install-wasi-toolchain.sh)", path.display())]
    MissingFile { what: &'static str, path: PathBuf },
    #[error("cannot run `{command}`: {message}")]
    Command { command: String, message: String },
    #[error("the Rust toolchain has no wasm-component-ld at {} (rustc 1.95 ships one; is this a rustup toolchain?)", path.display())]
    NoComponentLd { path: PathBuf },
}

/// What a build runs with, as recorded in its cache key and build record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ToolchainInfo {
    /// (package, installed version), in profile order.
    pub packages: Vec<(String, String)>,
    /// `rustc -V`.
    pub rustc: String,
    /// Directory holding `wasm-component-ld`, put first on PATH for the WASI build.
    pub component_ld_dir: PathBuf,
    /// `wasm-component-ld --version`.
    pub component_ld: String,
    /// First line of `cc --version`: the native build python's compiler.
    pub host_cc: String,
}

/// Installed versions of `names` (`None` = not installed), one dpkg-query call.
pub fn installed_versions(names: &[&str]) -> Result<Vec<Option<String>>, ToolchainError> {
    let output = Command::new("dpkg-query")
        .arg("-W")
        .arg("-f=${Package}\t${db:Status-Abbrev}\t${Version}\n")
        .args(names)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| ToolchainError::NoDpkg(e.to_string()))?;
    // dpkg-query exits 1 when some package is unknown but still prints the others.
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(names
        .iter()
        .map(|name| {
            text.lines().find_map(|line| {
                let mut f = line.split('\t');
                let (pkg, status, version) = (f.next()?, f.next()?, f.next()?);
                // Multi-arch packages print as `name:arch`.
                let pkg = pkg.split(':').next().unwrap_or(pkg);
                (pkg == *name && status.starts_with("ii")).then(|| version.to_string())
            })
        })
        .collect())
}

/// Compares the installed packages with the pins; every mismatch is reported at once.
pub fn check_packages(
    pins: &[PackagePin],
    profile_path: &Path,
) -> Result<Vec<(String, String)>, ToolchainError> {
    let names: Vec<&str> = pins.iter().map(|p| p.name.as_str()).collect();
    let found = installed_versions(&names)?;
    let problems: Vec<PackageProblem> = pins
        .iter()
        .zip(&found)
        .filter(|(pin, found)| found.as_deref() != Some(pin.version.as_str()))
        .map(|(pin, found)| PackageProblem {
            package: pin.name.clone(),
            wanted: pin.version.clone(),
            found: found.clone(),
        })
        .collect();
    if !problems.is_empty() {
        return Err(ToolchainError::Packages {
            problems,
            profile: profile_path.to_path_buf(),
        });
    }
    Ok(pins
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect())
}

fn run_text(program: &str, args: &[&str]) -> Result<String, ToolchainError> {
    let command = format!("{program} {}", args.join(" "));
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| ToolchainError::Command {
            command: command.clone(),
            message: e.to_string(),
        })?;
    if !out.status.success() {
        return Err(ToolchainError::Command {
            command,
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Checks the packages and the files the build uses, and finds wasm-component-ld.
pub fn check_toolchain(
    pins: &[PackagePin],
    profile_path: &Path,
    layout: &Layout,
) -> Result<ToolchainInfo, ToolchainError> {
    let packages = check_packages(pins, profile_path)?;
    for (what, path) in [
        ("clang", &layout.clang),
        ("llvm-ar", &layout.ar),
        ("llvm-ranlib", &layout.ranlib),
        ("compiler-rt builtins for wasm32", &layout.builtins),
        ("clang's headers", &layout.clang_include),
        ("wasi-libc headers", &layout.libc_include),
        ("wasi-libc libraries", &layout.libc_lib),
    ] {
        if !path.exists() {
            return Err(ToolchainError::MissingFile {
                what,
                path: path.clone(),
            });
        }
    }
    // `RUSTC` as cargo honours it: the same compiler, or a wrapper around it (repro-check
    // runs rustc through one outside libfaketime, where rustc's allocator deadlocks).
    let rustc_cmd = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let rustc_vv = run_text(&rustc_cmd, &["-vV"])?;
    let rustc = rustc_vv
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    let host = rustc_vv
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .unwrap_or("x86_64-unknown-linux-gnu")
        .trim()
        .to_string();
    let sysroot = run_text(&rustc_cmd, &["--print", "sysroot"])?;
    let component_ld_dir = Path::new(sysroot.trim()).join(format!("lib/rustlib/{host}/bin"));
    let component_ld_path = component_ld_dir.join("wasm-component-ld");
    if !component_ld_path.is_file() {
        return Err(ToolchainError::NoComponentLd {
            path: component_ld_path,
        });
    }
    let component_ld = run_text(&component_ld_path.to_string_lossy(), &["--version"])?
        .trim()
        .to_string();
    let host_cc = run_text("cc", &["--version"])?
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    Ok(ToolchainInfo {
        packages,
        rustc,
        component_ld_dir,
        component_ld,
        host_cc,
    })
}
