//! Shared by the integration tests: the default caps' WIT and CPython's headers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub const DEFAULT_CAPS: [&str; 3] = ["zlib", "zstd", "hashing"];

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn cap_wit(cap: &str) -> PathBuf {
    workspace().join("caps").join(cap).join("wit")
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The default profile's pinned WASI toolchain, unpacked in pylon's cache as `pylon
/// build` unpacks it (fetched on first use), or a failure saying why.
pub fn toolchain() -> &'static pylon_toolchain::Unpacked {
    static TOOLCHAIN: OnceLock<pylon_toolchain::Unpacked> = OnceLock::new();
    TOOLCHAIN.get_or_init(|| {
        let profile = pylon_cpython::load_profile(&workspace().join("profiles"), None)
            .expect("loading the default CPython profile");
        let root = pylon_cpython::fetch::default_cache_root().expect("no cache root (HOME unset)");
        let pins = pylon_cpython::toolchain::deb_pins(&profile.toolchain);
        pylon_toolchain::resolve(&root, &pins, &|_| {})
            .unwrap_or_else(|e| panic!("the pinned WASI toolchain (as `pylon build` gets it): {e}"))
    })
}

/// The toolchain's `clang-19` (pylon's wrapper of it).
pub fn clang() -> PathBuf {
    toolchain().program("clang-19")
}

/// CPython's `Include/` of the default profile's pinned source tarball (fetched into
/// pylon's input cache if it is not there yet, digest-checked), extracted once into
/// cargo's test scratch directory under the tarball's digest and reused by later runs
/// (a temporary directory held in a static would never be removed).
pub fn cpython_include() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let profile = pylon_cpython::load_profile(&workspace().join("profiles"), None)
            .expect("loading the default CPython profile");
        let member = format!("{}/Include", profile.source.top_dir);
        let scratch = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let done = scratch.join(format!("cpython-include-{}", profile.source.sha256));
        if done.join(&member).is_dir() {
            return done.join(member);
        }
        let root = pylon_cpython::fetch::default_cache_root().expect("no cache root (HOME unset)");
        let cache = pylon_cpython::fetch::InputCache::new(&root);
        let tarball = cache
            .tarball(&profile.source, None, Path::new("/etc/apt"), &|_| {})
            .expect("getting the CPython source tarball (as `pylon build` does)");
        std::fs::create_dir_all(scratch).unwrap();
        let tmp = tempfile::tempdir_in(scratch).unwrap();
        let status = Command::new("tar")
            .arg("-xf")
            .arg(&tarball)
            .arg("-C")
            .arg(tmp.path())
            .arg(&member)
            .status()
            .expect("running tar");
        assert!(
            status.success(),
            "extracting {member} from {}",
            tarball.display()
        );
        // Published by rename; another test binary may have won the race, which is fine.
        let staged = tmp.keep();
        if std::fs::rename(&staged, &done).is_err() {
            let _ = std::fs::remove_dir_all(&staged);
        }
        done.join(member)
    })
}

/// Compiles one C file for wasm32-wasip2; panics with clang's output on failure.
pub fn compile(src: &Path, extra: &[&str]) {
    let out = tempfile::NamedTempFile::new().unwrap();
    // wasi-libc of the unpacked tree: `<root>/usr/include/wasm32-wasip2`.
    let sysroot = format!("--sysroot={}", toolchain().path("/usr").display());
    let output = Command::new(clang())
        .args(["--target=wasm32-wasip2", "-O2", "-c", &sysroot])
        .args(extra)
        .arg(src)
        .arg("-o")
        .arg(out.path())
        .output()
        .expect("running clang-19");
    assert!(
        output.status.success(),
        "compiling {} failed:\n{}",
        src.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Compiles a generated shim directory: the module with CPython's public headers and
/// warnings as errors, the wit-bindgen-c bindings as they are.
pub fn compile_shim_dir(dir: &Path, module: &str) {
    let inc = format!("-I{}", cpython_include().display());
    let cfg = format!("-I{}", fixture("pyconfig").display());
    compile(
        &dir.join(format!("{module}module.c")),
        &[
            &inc,
            &cfg,
            "-Wall",
            "-Wextra",
            "-Werror",
            "-Wno-unused-parameter",
            "-Wno-missing-field-initializers",
        ],
    );
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".c") && name != format!("{module}module.c") {
            compile(&p, &["-Wall"]);
            n += 1;
        }
    }
    assert_eq!(
        n,
        1,
        "expected one bindings .c next to the module in {}",
        dir.display()
    );
}
