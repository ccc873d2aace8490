//! `pylon toolchain` (fetch and unpack the pinned WASI C toolchain), `pylon doctor`
//! (what the host must still provide), and the provisioning every building command
//! does first: the unpacked toolchain is named in `PYLON_WASI_TOOLCHAIN` for this
//! process and its children, where cap builds find clang.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context;
use clap::Args;
use pylon_toolchain::{ToolchainEvent, Unpacked};

use crate::render;

#[derive(Args)]
pub struct ToolchainArgs {
    /// Profile whose [toolchain] pins to unpack (default: the name in profiles/default).
    #[arg(long)]
    profile: Option<String>,
    /// The repository root (holds profiles/).
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Cache root (default: $PYLON_CACHE_DIR, else ${XDG_CACHE_HOME:-~/.cache}/pylon).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

/// One progress line for a toolchain event (stderr).
pub fn describe(ev: &ToolchainEvent<'_>) -> Option<String> {
    match ev {
        ToolchainEvent::Ready { .. } => None,
        ToolchainEvent::Downloading { package, url } => {
            Some(format!("toolchain: fetching {package} from {url}"))
        }
        ToolchainEvent::DownloadFailed { url, error } => Some(format!("toolchain: {url}: {error}")),
        ToolchainEvent::Unpacking { package } => Some(format!("toolchain: unpacking {package}")),
        ToolchainEvent::Published { root } => {
            Some(format!("toolchain: ready at {}", root.display()))
        }
    }
}

fn print_progress(quiet: bool) -> impl Fn(ToolchainEvent<'_>) {
    move |ev| {
        if !quiet {
            if let Some(line) = describe(&ev) {
                eprintln!("{line}");
            }
        }
    }
}

/// The unpacked toolchain of the default profile under `root/profiles`, made sure of
/// and named in `PYLON_WASI_TOOLCHAIN` for this process and the builds it starts.
/// `Ok(None)` where there is nothing to provide: no profiles next to the manifest (a
/// manifest of another project), or a machine the pinned `amd64` binaries do not run
/// on (cap builds then find clang-19 on PATH, or fail naming it).
pub fn provide(
    root: &Path,
    cache_dir: Option<&Path>,
    quiet: bool,
) -> anyhow::Result<Option<Unpacked>> {
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        return Ok(None);
    }
    let profiles = root.join("profiles");
    if !profiles.join("default").is_file() {
        return Ok(None);
    }
    let profile = pylon_cpython::load_profile(&profiles, None)
        .with_context(|| format!("reading the default profile under {}", profiles.display()))?;
    let cache_root = cache_dir
        .map(Path::to_path_buf)
        .or_else(pylon_cpython::fetch::default_cache_root)
        .context("no cache directory: set PYLON_CACHE_DIR or HOME")?;
    let pins = pylon_cpython::toolchain::deb_pins(&profile.toolchain);
    // Exit 2, like a manifest error: nothing can be built until it is fixed.
    let unpacked = pylon_toolchain::resolve(&cache_root, &pins, &print_progress(quiet))
        .map_err(|e| crate::usage(anyhow::Error::new(e).context("the pinned WASI toolchain")))?;
    // The process is still single-threaded here (called before any work starts).
    std::env::set_var(pylon_toolchain::ENV_ROOT, &unpacked.root);
    Ok(Some(unpacked))
}

/// `pylon toolchain`: fetch and unpack, print where and which.
pub fn run(args: ToolchainArgs) -> anyhow::Result<u8> {
    let profiles = args.root.join("profiles");
    let profile =
        pylon_cpython::load_profile(&profiles, args.profile.as_deref()).map_err(crate::usage)?;
    let cache_root = args
        .cache_dir
        .clone()
        .or_else(pylon_cpython::fetch::default_cache_root)
        .context("no cache directory: set PYLON_CACHE_DIR or HOME")?;
    let pins = pylon_cpython::toolchain::deb_pins(&profile.toolchain);
    let unpacked = pylon_toolchain::resolve(&cache_root, &pins, &print_progress(args.json))
        .map_err(|e| crate::usage(anyhow::Error::new(e).context("the pinned WASI toolchain")))?;
    let clang = unpacked.program("clang-19");
    let version = Command::new(&clang)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_string)
        });
    if args.json {
        render::print_json(
            "toolchain",
            &serde_json::json!({
                "profile": profile.name,
                "root": unpacked.root,
                "digest": unpacked.digest,
                "packages": pins,
                "clang_runs": version.is_some(),
                "clang_version": version,
            }),
            version.is_some(),
        );
    } else {
        println!("profile {}: {} packages", profile.name, pins.len());
        println!("toolchain sha256:{}", unpacked.digest);
        println!("root      {}", unpacked.root.display());
        match &version {
            Some(v) => println!("clang-19  {v}"),
            None => println!(
                "clang-19  DOES NOT RUN on this host (see `pylon doctor`: glibc ≥ 2.36 and libstdc++ with GLIBCXX_3.4.30 are needed)"
            ),
        }
    }
    Ok(if version.is_some() { 0 } else { 1 })
}

#[derive(Args)]
pub struct DoctorArgs {
    #[arg(long)]
    pub json: bool,
}

/// What the host must provide, and for what.
struct Need {
    program: &'static str,
    /// What uses it.
    why: &'static str,
    /// The Debian/Ubuntu package.
    apt: &'static str,
    /// Needed by the main job (caps-sync, build, verify); else only by smoke/tests.
    main_job: bool,
}

const NEEDS: &[Need] = &[
    Need {
        program: "cc",
        why: "compiles the native build python CPython's cross-build runs",
        apt: "gcc libc6-dev",
        main_job: true,
    },
    Need {
        program: "make",
        why: "runs CPython's build",
        apt: "make",
        main_job: true,
    },
    Need {
        program: "git",
        why: "caps-sync clones and pins the caps",
        apt: "git",
        main_job: true,
    },
    Need {
        program: "curl",
        why: "fetches the pinned source tarball and .deb files",
        apt: "curl ca-certificates",
        main_job: true,
    },
    Need {
        program: "tar",
        why: "unpacks CPython's source tarball",
        apt: "tar",
        main_job: true,
    },
    Need {
        program: "xz",
        why: "decompresses CPython's .tar.xz",
        apt: "xz-utils",
        main_job: true,
    },
    Need {
        program: "patch",
        why: "applies the profile's patch sets",
        apt: "patch",
        main_job: true,
    },
    Need {
        program: "pkg-config",
        why: "CPython's configure of the native build python",
        apt: "pkg-config",
        main_job: true,
    },
    Need {
        program: "python3",
        why: "smoke tests compute the expected values with the host's CPython",
        apt: "python3",
        main_job: true,
    },
    Need {
        program: "rustup",
        why: "adds the wasm32-wasip1/wasip2 targets of Rust 1.95",
        apt: "(https://rustup.rs; not packaged)",
        main_job: true,
    },
    Need {
        program: "zstd",
        why: "smoke: decodes the zstd cap's frames",
        apt: "zstd",
        main_job: false,
    },
    Need {
        program: "lz4",
        why: "smoke: decodes the lz4 cap's frames",
        apt: "lz4",
        main_job: false,
    },
    Need {
        program: "sqlite3",
        why: "smoke: reads the databases the guest wrote",
        apt: "sqlite3",
        main_job: false,
    },
    Need {
        program: "faketime",
        why: "repro-check's clock variation",
        apt: "faketime",
        main_job: false,
    },
];

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// The host's glibc version (`gnu_get_libc_version`), e.g. `2.36`; `None` on a host
/// without glibc (macOS, musl), where the pinned toolchain does not run either.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn glibc_version() -> Option<String> {
    None
}

/// The host's glibc version (`gnu_get_libc_version`), e.g. `2.36`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn glibc_version() -> Option<String> {
    extern "C" {
        fn gnu_get_libc_version() -> *const std::ffi::c_char;
    }
    // SAFETY: returns a pointer to a static NUL-terminated string; glibc only (this
    // module is built for linux-gnu hosts, where the toolchain runs).
    let p = unsafe { gnu_get_libc_version() };
    if p.is_null() {
        return None;
    }
    // SAFETY: non-null, NUL-terminated, static.
    Some(
        unsafe { std::ffi::CStr::from_ptr(p) }
            .to_string_lossy()
            .into_owned(),
    )
}

const GLIBCXX_NEEDED: &str = "GLIBCXX_3.4.30";

/// The host's libstdc++ when it defines `version` (its symbol-version strings are in
/// the file's dynamic section, so a byte search finds them).
fn libstdcxx_with(version: &str) -> Option<PathBuf> {
    const DIRS: &[&str] = &[
        "/usr/lib/x86_64-linux-gnu",
        "/lib/x86_64-linux-gnu",
        "/usr/lib64",
        "/lib64",
        "/usr/lib",
    ];
    DIRS.iter()
        .map(|d| Path::new(d).join("libstdc++.so.6"))
        .find(|p| {
            std::fs::read(p).is_ok_and(|bytes| {
                bytes
                    .windows(version.len() + 1)
                    .any(|w| w[..version.len()] == *version.as_bytes() && w[version.len()] == 0)
            })
        })
}

fn version_at_least(found: &str, min: (u32, u32)) -> bool {
    let mut it = found.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let v = (it.next().unwrap_or(0), it.next().unwrap_or(0));
    v >= min
}

/// `pylon doctor`: checks what the host provides, names what is missing and the
/// command that installs it. Exit 1 when something the main job needs is missing.
pub fn doctor(args: DoctorArgs) -> anyhow::Result<u8> {
    let mut rows = Vec::new();
    let mut main_missing = false;
    for need in NEEDS {
        let found = on_path(need.program);
        if found.is_none() && need.main_job {
            main_missing = true;
        }
        rows.push(serde_json::json!({
            "check": need.program,
            "ok": found.is_some(),
            "found": found,
            "why": need.why,
            "main_job": need.main_job,
            "install": format!("apt-get install {}", need.apt),
        }));
    }
    let glibc = glibc_version();
    let glibc_ok = glibc
        .as_deref()
        .is_some_and(|v| version_at_least(v, (2, 36)));
    main_missing |= !glibc_ok;
    rows.push(serde_json::json!({
        "check": "glibc >= 2.36",
        "ok": glibc_ok,
        "found": glibc,
        "why": "the pinned LLVM 19 (Debian 12 binaries): libLLVM imports arc4random@GLIBC_2.36",
        "main_job": true,
        "install": "a newer distribution (Debian 12+, Ubuntu 24.04+) or a Debian 12 container",
    }));
    let libstdcxx = libstdcxx_with(GLIBCXX_NEEDED);
    let libstdcxx_ok = libstdcxx.is_some();
    main_missing |= !libstdcxx_ok;
    rows.push(serde_json::json!({
        "check": "libstdc++ GLIBCXX_3.4.30",
        "ok": libstdcxx_ok,
        "found": libstdcxx,
        "why": "libLLVM, libclang-cpp, libz3 and libicu of the pinned toolchain need it",
        "main_job": true,
        "install": "apt-get install libstdc++6 (from GCC 12 or later)",
    }));
    let targets = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    for target in ["wasm32-wasip1", "wasm32-wasip2"] {
        let ok = targets.lines().any(|l| l.trim() == target);
        main_missing |= !ok;
        rows.push(serde_json::json!({
            "check": format!("rust target {target}"),
            "ok": ok,
            "found": null,
            "why": "caps and CPython's extension shims build for it",
            "main_job": true,
            "install": format!("rustup target add {target}"),
        }));
    }
    let code = u8::from(main_missing);
    if args.json {
        render::print_json("doctor", &serde_json::json!({"checks": rows}), code == 0);
        return Ok(code);
    }
    let mut out = std::io::stdout().lock();
    for row in &rows {
        let ok = row["ok"].as_bool().unwrap_or(false);
        let label = if ok {
            "OK     "
        } else if row["main_job"].as_bool().unwrap_or(false) {
            "MISSING"
        } else {
            "missing"
        };
        let detail = if ok {
            row["found"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_default()
        } else {
            format!(
                "{} — install: {}",
                row["why"].as_str().unwrap_or(""),
                row["install"].as_str().unwrap_or("")
            )
        };
        let _ = writeln!(
            out,
            "{label} {:<26} {detail}",
            row["check"].as_str().unwrap_or("")
        );
    }
    let _ = writeln!(
        out,
        "{}",
        if main_missing {
            "doctor: the main job cannot run until the MISSING items are installed (the WASI C toolchain itself is fetched by pylon; no root needed for it)"
        } else {
            "doctor: the host has what the main job needs (lowercase `missing`: only smoke/tests use it)"
        }
    );
    Ok(code)
}
