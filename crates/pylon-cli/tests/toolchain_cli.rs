//! `pylon toolchain` and `pylon doctor` as a user runs them: a project whose profile
//! pins small real `.deb` files (made here: an `ar` archive around an uncompressed
//! data.tar), provided through PYLON_TOOLCHAIN_DEBS, unpacked into a fresh cache, and
//! the unpacked "clang" actually run.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{repo_root, Run};

/// A `.deb` whose data.tar holds `files` (path, content, mode) and `links` (path,
/// target), built with the system's tar.
fn deb(dir: &Path, name: &str, files: &[(&str, &str, u32)], links: &[(&str, &str)]) -> Vec<u8> {
    let tree = dir.join(format!("{name}-tree"));
    for (path, content, mode) in files {
        let p = tree.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, content).unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&p, fs::Permissions::from_mode(*mode)).unwrap();
    }
    for (path, target) in links {
        let p = tree.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, &p).unwrap();
    }
    let tar = dir.join(format!("{name}.tar"));
    let ok = Command::new("tar")
        .arg("-cf")
        .arg(&tar)
        .arg("-C")
        .arg(&tree)
        .arg(".")
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let data = fs::read(&tar).unwrap();
    let mut out = b"!<arch>\n".to_vec();
    for (member, bytes) in [("debian-binary", b"2.0\n".to_vec()), ("data.tar", data)] {
        let header = format!(
            "{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
            member,
            0,
            0,
            0,
            "100644",
            bytes.len()
        );
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&bytes);
        if bytes.len() % 2 == 1 {
            out.push(b'\n');
        }
    }
    out
}

/// A project with the real default profile whose `[toolchain]` pins the given
/// `.deb` files instead; returns (project dir, debs dir).
fn project(tmp: &Path, clang_script: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let work = tmp.join("work");
    let debs = tmp.join("debs");
    fs::create_dir_all(&work).unwrap();
    fs::create_dir_all(&debs).unwrap();
    let packages: Vec<(&str, Vec<u8>)> = vec![
        (
            "clang-19",
            deb(
                &work,
                "clang-19",
                &[("usr/lib/llvm-19/bin/clang", clang_script, 0o755)],
                &[("usr/bin/clang-19", "../lib/llvm-19/bin/clang")],
            ),
        ),
        (
            "lld-19",
            deb(
                &work,
                "lld-19",
                &[("usr/share/doc/lld-19/x", "l", 0o644)],
                &[],
            ),
        ),
        (
            "llvm-19",
            deb(
                &work,
                "llvm-19",
                &[("usr/share/doc/llvm-19/x", "l", 0o644)],
                &[],
            ),
        ),
        (
            "libclang-rt-19-dev-wasm32",
            deb(&work, "rt", &[("usr/share/doc/rt/x", "r", 0o644)], &[]),
        ),
        (
            "wasi-libc",
            deb(
                &work,
                "wasi-libc",
                &[("usr/include/wasm32-wasip2/stdio.h", "", 0o644)],
                &[],
            ),
        ),
    ];
    let mut pins = String::from("packages = [\n");
    for (name, bytes) in &packages {
        let sha = pylon_util::digest::sha256_hex(bytes);
        fs::write(debs.join(format!("{name}.deb")), bytes).unwrap();
        pins.push_str(&format!(
            "  {{ name = \"{name}\", version = \"1.0-1\", sha256 = \"{sha}\", pool = \"pool/main/t/{name}/{name}_1.0-1_amd64.deb\" }},\n"
        ));
    }
    pins.push_str("]\n");
    let profiles = work.join("profiles");
    fs::create_dir_all(&profiles).unwrap();
    let real = fs::read_to_string(repo_root().join("profiles/cp313.toml")).unwrap();
    let start = real.find("packages = [").unwrap();
    let end = start + real[start..].find("]\n").unwrap() + 2;
    fs::write(
        profiles.join("cp313.toml"),
        format!("{}{pins}{}", &real[..start], &real[end..]),
    )
    .unwrap();
    fs::write(profiles.join("default"), "cp313\n").unwrap();
    (work, debs)
}

fn toolchain(work: &Path, debs: &Path, cache: &Path) -> Run {
    Run::from(
        Command::new(env!("CARGO_BIN_EXE_pylon"))
            .args(["toolchain", "--json", "--root"])
            .arg(work)
            .env("PYLON_CACHE_DIR", cache)
            .env("PYLON_TOOLCHAIN_DEBS", debs)
            .env_remove("PYLON_WASI_TOOLCHAIN")
            .env_remove("PYLON_DEBIAN_MIRROR")
            .output()
            .unwrap(),
    )
}

#[test]
fn toolchain_unpacks_the_pinned_debs_and_runs_their_clang() {
    let tmp = tempfile::tempdir().unwrap();
    let (work, debs) = project(tmp.path(), "#!/bin/sh\necho \"fake clang 19 ($1)\"\n");
    let cache = tmp.path().join("cache");
    let run = toolchain(&work, &debs, &cache);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let v = run.json();
    let root = v["root"].as_str().unwrap();
    let digest = v["digest"].as_str().unwrap();
    assert_eq!(Path::new(root), cache.join("toolchain").join(digest), "{v}");
    assert_eq!(v["clang_version"], "fake clang 19 (--version)", "{v}");
    assert_eq!(v["packages"].as_array().unwrap().len(), 5);
    assert!(Path::new(root)
        .join("usr/include/wasm32-wasip2/stdio.h")
        .is_file());
    let record = Path::new(root).join(".pylon-toolchain.json");
    let made = fs::metadata(&record).unwrap().modified().unwrap();

    // Cached: the second run uses the published tree as it is.
    let again = toolchain(&work, &debs, &cache);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert_eq!(again.json()["digest"], digest);
    assert_eq!(fs::metadata(&record).unwrap().modified().unwrap(), made);
}

#[test]
fn a_clang_that_does_not_run_here_is_exit_1_and_a_missing_deb_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let (work, debs) = project(
        tmp.path(),
        "#!/bin/sh\necho 'cannot load libLLVM' >&2\nexit 127\n",
    );
    let cache = tmp.path().join("cache");
    let run = toolchain(&work, &debs, &cache);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["clang_runs"], false);

    // No source has one of the files: exit 2, the package and how to provide it named,
    // nothing published.
    fs::remove_file(debs.join("wasi-libc.deb")).unwrap();
    let cache = tmp.path().join("cache2");
    let run = Run::from(
        Command::new(env!("CARGO_BIN_EXE_pylon"))
            .args(["toolchain", "--root"])
            .arg(&work)
            .env("PYLON_CACHE_DIR", &cache)
            .env("PYLON_TOOLCHAIN_DEBS", &debs)
            // A mirror nothing answers on, tried before the apt configuration's hosts.
            .env("PYLON_DEBIAN_MIRROR", "http://127.0.0.1:9/debian")
            .env_remove("PYLON_WASI_TOOLCHAIN")
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("wasi-libc 1.0-1"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("http://127.0.0.1:9/debian/pool/main/t/wasi-libc/wasi-libc_1.0-1_amd64.deb"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("PYLON_TOOLCHAIN_DEBS"),
        "{}",
        run.stderr
    );
    let published: Vec<_> = fs::read_dir(cache.join("toolchain"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(published.is_empty(), "{published:?}");
}

#[test]
fn doctor_names_what_is_missing_and_how_to_install_it() {
    let empty = tempfile::tempdir().unwrap();
    let run = Run::from(
        Command::new(env!("CARGO_BIN_EXE_pylon"))
            .args(["doctor", "--json"])
            .env("PATH", empty.path())
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let v = run.json();
    let checks = v["checks"].as_array().unwrap();
    let cc = checks.iter().find(|c| c["check"] == "cc").unwrap();
    assert_eq!(cc["ok"], false, "{cc}");
    assert_eq!(cc["install"], "apt-get install gcc libc6-dev");
    // glibc is the process's own: this machine runs the tests, so it has one.
    let glibc = checks
        .iter()
        .find(|c| c["check"].as_str().unwrap().starts_with("glibc"))
        .unwrap();
    assert!(
        glibc["found"].as_str().unwrap().starts_with("2."),
        "{glibc}"
    );
    let human = Run::from(
        Command::new(env!("CARGO_BIN_EXE_pylon"))
            .arg("doctor")
            .env("PATH", empty.path())
            .output()
            .unwrap(),
    );
    assert!(
        human.stdout.contains("MISSING cc")
            && human
                .stdout
                .contains("install: apt-get install gcc libc6-dev"),
        "{}",
        human.stdout
    );
}
