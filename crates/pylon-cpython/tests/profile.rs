//! Profile resolution and strict validation, on the repository's real profiles and on
//! broken copies of them.

use std::path::{Path, PathBuf};

use pylon_cpython::profile::{load_profile, parse_profile, ProfileError, SourceLocation};

fn profiles_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../profiles")
}

fn real(name: &str) -> String {
    std::fs::read_to_string(profiles_dir().join(format!("{name}.toml"))).unwrap()
}

/// Diagnostics of `text` as rendered lines.
fn problems(text: &str) -> Vec<String> {
    match parse_profile(Path::new("p/cp313.toml"), text) {
        Ok(_) => Vec::new(),
        Err(ProfileError::Invalid { diagnostics }) => diagnostics
            .to_string()
            .lines()
            .map(str::to_string)
            .collect(),
        Err(e) => panic!("unexpected error {e}"),
    }
}

#[test]
fn default_profile_is_cp313_and_valid() {
    let p = load_profile(&profiles_dir(), None).unwrap();
    assert_eq!(p.name, "cp313");
    assert_eq!(p.version, "3.13.15");
    assert_eq!(p.major_minor(), "3.13");
    assert_eq!(p.stdlib_zip_guest_path(), "/usr/local/lib/python313.zip");
    assert_eq!(
        p.source.sha256.as_str(),
        "1e66a7945a48390ee4c2a4268a0e4185884059a13c4aab6d148aa208deea4a76"
    );
    assert_eq!(p.build.host_triple, "wasm32-wasip2");
    assert!(
        matches!(&p.source.sources[0], SourceLocation::DebianPool(path) if path.starts_with("pool/main/p/python3.13/"))
    );
    // No registry host is written into a profile: hosts come from apt's configuration.
    assert!(!p.text.contains("debian.org"));
    let names: Vec<&str> = p.toolchain.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names[..5],
        [
            "clang-19",
            "lld-19",
            "llvm-19",
            "libclang-rt-19-dev-wasm32",
            "wasi-libc"
        ]
    );
    // ... and what they need that a base system may lack: clang's headers and the
    // libraries clang and llvm-ar load (glibc and libstdc++ aside).
    for lib in [
        "libclang-common-19-dev",
        "libllvm19",
        "libclang-cpp19",
        "libz3-4",
        "libxml2",
        "libicu72",
    ] {
        assert!(names.contains(&lib), "{lib} not pinned: {names:?}");
    }
    assert!(p.disabled_modules.iter().any(|m| m.name == "_ctypes"));
    assert!(!p.stdlib.include_tests);
    assert_eq!(p.build.ldflags, ["-Wl,--strip-debug"]);
}

#[test]
fn cp314_profile_is_complete_and_pinned() {
    let p = load_profile(&profiles_dir(), Some("cp314")).unwrap();
    assert_eq!(p.version, "3.14.10");
    assert_eq!(p.nodot(), "314");
    assert_eq!(p.source.tarball, "python3.14_3.14.10.orig.tar.xz");
    assert_eq!(
        p.source.sha256.as_str(),
        "de414a57119abef52784d8993e341d53aed635fc2b05c2607d9f98a2c5b72032"
    );
    assert_eq!(p.source.size, Some(24_240_392));
    assert_eq!(p.source.top_dir, "Python-3.14.10");
    // Same toolchain pins as cp313 (LLVM 19 is what 3.13 and 3.14 expect).
    let cp313 = load_profile(&profiles_dir(), Some("cp313")).unwrap();
    assert_eq!(p.toolchain, cp313.toolchain);
    assert!(p.disabled_modules.iter().any(|m| m.name == "_zstd"));
}

#[test]
fn unknown_profile_lists_the_known_ones() {
    let err = load_profile(&profiles_dir(), Some("cp399")).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ProfileError::Unknown { .. }), "{msg}");
    assert!(
        msg.contains("\"cp399\"") && msg.contains("cp313, cp314"),
        "{msg}"
    );
    // Not a path escape either.
    assert!(matches!(
        load_profile(&profiles_dir(), Some("..")),
        Err(ProfileError::Unknown { .. })
    ));
}

#[test]
fn malformed_toml_is_located() {
    let text = real("cp313").replace(
        "[cpython]\nversion = \"3.13.15\"",
        "[cpython]\nversion = \"3.13.15",
    );
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].starts_with("p/cp313.toml:7:"), "{p:?}");
    assert!(p[0].contains(": toml: "), "{p:?}");
}

#[test]
fn bad_digest_length_names_field_line_and_column() {
    let text = real("cp313").replace(
        "sha256 = \"1e66a7945a48390ee4c2a4268a0e4185884059a13c4aab6d148aa208deea4a76\"",
        "sha256 = \"1e66a7945a48390ee4c2a4268a0e4185884059a13c4aab6d148aa208deea4a7\"",
    );
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(
        p[0],
        "p/cp313.toml:13:10: source.sha256: invalid sha256: expected 64 hex digits, found 63 characters"
    );
}

#[test]
fn unknown_fields_everywhere_are_all_reported() {
    let text = real("cp313")
        .replace("schema = 1", "schema = 1\nflavour = \"x\"")
        .replacen("top_dir = ", "topdir = \"x\"\ntop_dir = ", 1)
        .replace(
            "{ name = \"lld-19\", version",
            "{ name = \"lld-19\", arch = \"amd64\", version",
        );
    let p = problems(&text);
    assert_eq!(p.len(), 3, "{p:?}");
    assert!(p[0].contains(":5:1: flavour: unknown key"), "{p:?}");
    assert!(p[1].contains("source.topdir: unknown key"), "{p:?}");
    assert!(
        p[2].contains("toolchain.packages[1].arch: unknown key"),
        "{p:?}"
    );
}

#[test]
fn flags_the_build_owns_and_missing_pins_are_refused() {
    // Without the wasi-libc pin (whatever version it is today).
    let real_text: String = real("cp313")
        .lines()
        .filter(|l| !l.contains("name = \"wasi-libc\""))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(real_text.contains("configure_flags = [\"--disable-test-modules\", "));
    let text = real_text
        .replace(
            "configure_flags = [\"--disable-test-modules\", ",
            "configure_flags = [\"--disable-test-modules\", \"--host=wasm32-wasip1\", \"CFLAGS=-O0\", \"LDFLAGS=-s\", ",
        )
        .replace(
            "ldflags = [\"-Wl,--strip-debug\"]",
            "ldflags = \"-Wl,--strip-debug\"",
        )
        .replace("host_triple = \"wasm32-wasip2\"", "host_triple = \"wasm32-wasip1\"")
        .replace("source_date_epoch = 1700000000", "source_date_epoch = 0");
    let p = problems(&text).join("\n");
    assert!(
        p.contains("toolchain.packages: no pin for wasi-libc"),
        "{p}"
    );
    assert!(
        p.contains("build.host_triple: unsupported host triple \"wasm32-wasip1\""),
        "{p}"
    );
    assert!(p.contains("build.source_date_epoch"), "{p}");
    assert!(
        p.contains("\"--host=wasm32-wasip1\": --host is set by the build itself"),
        "{p}"
    );
    assert!(
        p.contains("\"CFLAGS=-O0\": CFLAGS is set by the build itself"),
        "{p}"
    );
    assert!(
        p.contains("\"LDFLAGS=-s\": LDFLAGS is set by the build itself"),
        "{p}"
    );
    assert!(p.contains("build.ldflags"), "{p}");
}

#[test]
fn version_and_top_dir_must_agree() {
    let text = real("cp313").replace(
        "top_dir = \"Python-3.13.15\"",
        "top_dir = \"Python-3.14.10\"",
    );
    let p = problems(&text).join("\n");
    assert!(
        p.contains("source.top_dir: \"Python-3.14.10\" does not name CPython 3.13.15"),
        "{p}"
    );
}

#[test]
fn sources_must_be_pool_paths_or_urls() {
    let text = real("cp313").replace(
        "\"debian-pool:pool/main/p/python3.13/python3.13_3.13.15.orig.tar.xz\",",
        "\"debian-pool:pool/../../etc/passwd\", \"ftp://x/y.tar.xz\", \"url:https://mirror.example/p.tar.xz\",",
    );
    let p = problems(&text);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(p.iter().all(|l| l.contains("source.sources")), "{p:?}");
}

/// A pin's `pool` path goes into a URL: only a plain path under `pool/` ending in
/// `.deb` is accepted, and every pin has one (pylon fetches each package by it).
#[test]
fn toolchain_pool_paths_are_checked() {
    let p = load_profile(&profiles_dir(), None).unwrap();
    let libc = p.toolchain.iter().find(|t| t.name == "wasi-libc").unwrap();
    let pool = libc.pool.as_deref().unwrap();
    assert!(
        pool.starts_with("pool/main/w/wasi-libc/wasi-libc_"),
        "{pool}"
    );
    assert!(
        pool.ends_with(&format!("_{}_all.deb", libc.version)),
        "{pool}"
    );
    for t in &p.toolchain {
        let pool = t
            .pool
            .as_deref()
            .unwrap_or_else(|| panic!("{} has no pool", t.name));
        // Debian's file name: the version without its epoch.
        let version = t
            .version
            .split_once(':')
            .map_or(t.version.as_str(), |(_, v)| v);
        assert!(
            pool.contains(&format!("/{}_{version}_", t.name)) && pool.ends_with(".deb"),
            "{}: {pool}",
            t.name
        );
    }
    // A pin without one is an error naming it.
    let text = real("cp313");
    let start = text.find(", pool = \"").unwrap();
    let end = start + 2 + text[start + 2..].find('"').unwrap() + 1;
    let end = end + text[end..].find('"').unwrap() + 1;
    let text = format!("{}{}", &text[..start], &text[end..]);
    let missing = problems(&text);
    assert!(
        missing
            .iter()
            .any(|l| l.contains("toolchain.packages[0].pool: missing")),
        "{missing:?}"
    );

    for bad in [
        "pool/../etc/passwd.deb",
        "pool/main/w/x.tar.xz",
        "/pool/main/w/x.deb",
        "pool/main/w/$(id).deb",
        "pool//x.deb",
    ] {
        let text = real("cp313");
        let start = text.find("pool = \"").unwrap() + "pool = \"".len();
        let end = start + text[start..].find('"').unwrap();
        let text = format!("{}{bad}{}", &text[..start], &text[end..]);
        let problems = problems(&text);
        assert!(
            problems
                .iter()
                .any(|l| l.contains("toolchain.packages[0].pool")),
            "{bad}: {problems:?}"
        );
    }
}

#[test]
fn modules_need_a_reason() {
    let text = real("cp313").replace(
        "{ name = \"_tkinter\", reason = \"needs Tcl/Tk (no GUI under WASI)\" },",
        "{ name = \"_tkinter\" },\n  { name = \"not a module\", reason = \"x\" },",
    );
    let p = problems(&text).join("\n");
    assert!(
        p.contains("modules.disabled[12]: needs a module `name` and a non-empty `reason`"),
        "{p}"
    );
    assert!(
        p.contains("modules.disabled[13].name: \"not a module\" is not a module name"),
        "{p}"
    );
}

#[test]
fn sqlite_section_pins_its_source_and_options() {
    for name in ["cp313", "cp314"] {
        let p = load_profile(&profiles_dir(), Some(name)).unwrap();
        let sqlite = p.sqlite.as_ref().expect("[sqlite] in the real profiles");
        assert_eq!(sqlite.source.tarball, "sqlite3_3.53.4.orig.tar.xz");
        assert_eq!(
            sqlite.source.sha256.as_str(),
            "05366adc8ee80c6b1faa71285b49d133c2121238ca58934b077fdeb95934abd4"
        );
        assert!(matches!(&sqlite.source.sources[0],
            SourceLocation::DebianPool(path) if path.starts_with("pool/main/s/sqlite3/")));
        assert!(sqlite.cflags.iter().any(|f| f == "-DSQLITE_WASI"));
        // Linked in, so it must not also be switched off.
        assert!(!p.disabled_modules.iter().any(|m| m.name == "_sqlite3"));
    }
}

#[test]
fn sqlite_section_is_checked_like_the_source() {
    let text = real("cp313");
    let broken = text
        .replace(
            "sha256 = \"05366adc8ee80c6b1faa71285b49d133c2121238ca58934b077fdeb95934abd4\"",
            "sha256 = \"05366adc\"",
        )
        .replace(
            "top_dir = \"sqlite3-3.53.4\"",
            "top_dir = \"a/b\"\nflavour = 1",
        )
        .replace("\"-DSQLITE_WASI\",", "\"-DSQLITE_WASI\", \"-Dfcntl=x\",");
    let found = problems(&broken);
    for field in [
        "sqlite.sha256",
        "sqlite.top_dir",
        "sqlite.flavour",
        "sqlite.cflags",
    ] {
        assert!(
            found.iter().any(|l| l.contains(field)),
            "no diagnostic for {field}: {found:?}"
        );
    }
    // A profile without [sqlite] is valid (the library is then not built).
    let start = text.find("\n[sqlite]").unwrap();
    let p = parse_profile(Path::new("p/cp313.toml"), &text[..start]).unwrap();
    assert!(p.sqlite.is_none());
}
