//! The toolchain a build runs with, checked before anything is built.
//!
//! The profile pins the WASI C toolchain as exact Debian `.deb` files; pylon unpacks
//! them into its cache (`pylon_toolchain`) and the build runs the compilers from there,
//! so a different compiler cannot be picked up by accident and no package manager or
//! root is needed. The Rust toolchain contributes `wasm-component-ld` (the wasip2
//! linker driver clang calls).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use pylon_toolchain::{DebPin, Unpacked};

use crate::profile::PackagePin;

/// Where the unpacked Debian packages put the pieces (see ../shared/notes/toolchain.md).
#[derive(Debug, Clone)]
pub struct Layout {
    /// The unpacked tree (shaped like `/`); its path is mapped back to `/` wherever the
    /// build records a program's path (`CC` in `_sysconfigdata`), so the output does
    /// not depend on where the cache is.
    pub root: PathBuf,
    /// [`pylon_toolchain::toolchain_digest`] of the pins.
    pub digest: String,
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
    /// Debian's layout for LLVM 19 and wasi-libc, in the unpacked toolchain, for a
    /// wasip* triple. The `usr/bin` programs are pylon's wrappers (they set the
    /// toolchain's library path).
    pub fn unpacked(toolchain: &Unpacked, host_triple: &str) -> Layout {
        let llvm = toolchain.path("/usr/lib/llvm-19");
        Layout {
            root: toolchain.root.clone(),
            digest: toolchain.digest.clone(),
            clang: toolchain.program("clang-19"),
            clang_cpp: toolchain.program("clang-cpp-19"),
            clangxx: toolchain.program("clang++-19"),
            ar: toolchain.program("llvm-ar-19"),
            ranlib: toolchain.program("llvm-ranlib-19"),
            clang_include: llvm.join("lib/clang/19/include"),
            builtins: llvm.join("lib/clang/19/lib/wasi/libclang_rt.builtins-wasm32.a"),
            libc_include: toolchain.path("/usr/include").join(host_triple),
            libc_lib: toolchain.path("/usr/lib").join(host_triple),
        }
    }
}

/// The profile's pins in the form the unpacker takes.
pub fn deb_pins(pins: &[PackagePin]) -> Vec<DebPin> {
    pins.iter()
        .map(|p| DebPin {
            name: p.name.clone(),
            version: p.version.clone(),
            sha256: p.sha256.to_string(),
            pool: p.pool.clone(),
        })
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum ToolchainError {
    #[error("{what} is missing from the unpacked toolchain: {} (remove {} and build again)", path.display(), root.display())]
    MissingFile {
        what: &'static str,
        path: PathBuf,
        root: PathBuf,
    },
    #[error("cannot run `{command}`: {message}")]
    Command { command: String, message: String },
    #[error("the Rust toolchain has no wasm-component-ld at {} (rustc 1.95 ships one; is this a rustup toolchain?)", path.display())]
    NoComponentLd { path: PathBuf },
}

/// What a build runs with, as recorded in its cache key and build record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ToolchainInfo {
    /// (package, pinned version), in profile order: what the unpacked toolchain holds.
    pub packages: Vec<(String, String)>,
    /// The unpacked toolchain's digest (its `.deb` files' sha256s).
    pub digest: String,
    /// `rustc -V`.
    pub rustc: String,
    /// Directory holding `wasm-component-ld`, put first on PATH for the WASI build.
    pub component_ld_dir: PathBuf,
    /// `wasm-component-ld --version`.
    pub component_ld: String,
    /// First line of `cc --version`: the native build python's compiler.
    pub host_cc: String,
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

/// Checks the files the build uses in the unpacked toolchain, and finds
/// wasm-component-ld.
pub fn check_toolchain(
    pins: &[PackagePin],
    layout: &Layout,
) -> Result<ToolchainInfo, ToolchainError> {
    let packages = pins
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
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
                root: layout.root.clone(),
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
        digest: layout.digest.clone(),
        rustc,
        component_ld_dir,
        component_ld,
        host_cc,
    })
}
