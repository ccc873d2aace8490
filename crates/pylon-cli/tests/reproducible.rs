//! Cap builds are reproducible: the same source built in two different absolute
//! paths, under different HOME, TZ, LC_ALL and umask, gives the same bytes.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// Runs `pylon caps-sync --json` through `sh` so the umask can be set, with a
/// foreign HOME/TZ/locale (cargo and rustup homes stay where the toolchain is).
fn sync_in_env(
    sb: &Sandbox,
    home: &Path,
    tz: &str,
    locale: &str,
    umask: &str,
) -> serde_json::Value {
    let cargo_home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".cargo"));
    let rustup_home = std::env::var("RUSTUP_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".rustup"));
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" caps-sync --json"))
        .arg(env!("CARGO_BIN_EXE_pylon"))
        .current_dir(sb.path())
        .env("PYLON_MANIFEST", sb.manifest())
        .env("PYLON_CAPS_DIR", sb.caps_dir())
        .env("HOME", home)
        .env("CARGO_HOME", cargo_home)
        .env("RUSTUP_HOME", rustup_home)
        .env("TZ", tz)
        .env("LC_ALL", locale)
        .env("LANG", locale)
        .env_remove("CAPS_ONLY")
        .env_remove("CAPS_SKIP_BUILD")
        .output()
        .unwrap();
    let run = Run::from(out);
    run.json()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Builds the same cap source in two sandboxes (different paths, HOME, TZ, locale
/// and umask) and returns both artifacts' bytes and the sandbox roots. With a
/// digest, both builds must match it; without, they are compared only with each other.
fn build_twice<C: AsRef<[u8]>>(
    files: &[(String, C)],
    name: &str,
    target: &str,
    artifact: &str,
    digest: Option<&str>,
) -> (Vec<u8>, Vec<u8>, Vec<PathBuf>) {
    let mut outputs = Vec::new();
    let mut roots = Vec::new();
    let variants = [("UTC", "C", "022"), ("Pacific/Chatham", "C.UTF-8", "077")];
    for (i, (tz, locale, umask)) in variants.into_iter().enumerate() {
        let sb = Sandbox::new();
        // Different depth and directory names on each side.
        let repo = sb
            .path()
            .join(format!("nested-{i}/{}/{name}-src", "deeper/".repeat(i)));
        fs::create_dir_all(&repo).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        write_files(&repo, files);
        fs::write(repo.join(".gitignore"), "/target\n").unwrap();
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "cap"]);
        let rev = git(&repo, &["rev-parse", "HEAD"]);
        let mut entry = CapEntry::git(name, &repo, &rev);
        entry.target = target.to_string();
        entry.artifact = artifact.to_string();
        // Without a known digest, pin a wrong one: the build runs and reports MISMATCH.
        entry.sha256 = digest.map_or_else(|| "ab".repeat(32), str::to_string);
        sb.write_manifest(&[entry]);
        let home = sb.path().join(format!("home-{i}"));
        fs::create_dir_all(&home).unwrap();
        let report = sync_in_env(&sb, &home, tz, locale, umask);
        let status = status_of(&report, name);
        let expected = if digest.is_some() { "OK" } else { "MISMATCH" };
        assert_eq!(
            status["status"],
            expected,
            "{name} built in {}: {report}",
            repo.display()
        );
        outputs.push(fs::read(status["artifact"].as_str().unwrap()).unwrap());
        roots.push(sb.path().to_path_buf());
    }
    let b = outputs.pop().unwrap();
    let a = outputs.pop().unwrap();
    (a, b, roots)
}

#[test]
fn tiny_cap_is_bit_identical_across_paths_home_tz_locale_and_umask() {
    // Code generated into OUT_DIR (inside the cargo target dir, an absolute path)
    // panics with its location: without remapping, the build path would leak.
    let mut files = cap_sources(
        "repro",
        "include!(concat!(env!(\"OUT_DIR\"), \"/gen.rs\"));",
    );
    files.push((
        "build.rs".into(),
        r##"fn main() {
    let out = std::env::var("OUT_DIR").unwrap();
    std::fs::write(
        std::path::Path::new(&out).join("gen.rs"),
        "#[no_mangle] pub extern \"C\" fn gen_pick(i: usize) -> u32 { [7u32, 8][i] }",
    )
    .unwrap();
}
"##
        .into(),
    ));
    let (a, b, roots) = build_twice(
        &files,
        "repro",
        "wasm32-wasip2",
        "target/component/repro.wasm",
        None,
    );
    assert!(
        a == b,
        "two builds differ ({} vs {} bytes)",
        a.len(),
        b.len()
    );
    for root in &roots {
        assert!(
            !contains(&a, root.to_string_lossy().as_bytes()),
            "artifact embeds the build path {}",
            root.display()
        );
    }
    assert!(
        contains(&a, b"/caps/repro/target/"),
        "the generated file's location is remapped into /caps/repro/target"
    );
}
