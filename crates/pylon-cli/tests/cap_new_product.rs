//! The whole of adding a cap, product included, as a user does it in a copy of this
//! repository: `pylon cap new demo`, edit its Rust, Python and smoke test, `pylon
//! manifest regen demo` (which pins the cap, rebuilds the product and records
//! `pylon_sha256` and `profiles/expected/`), then `pylon build` (matching every pin) and
//! `make smoke` running the new cap's smoke test inside pylon.wasm. Outside
//! `caps/demo/`, only the manifest and the expected digests change.
//!
//! It builds CPython with a new module (a configured tree no other test builds: about
//! ten minutes on 2 cores), so it is opt-in: `make test-new-cap`, or
//! `cargo test -p pylon-cli --test cap_new_product -- --ignored`.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{git, repo_root, Run};

/// This repository's files as `git ls-files` sees them (committed or not, ignored
/// ones left out), copied into `dest` and committed there.
fn copy_repository(dest: &Path) {
    let root = repo_root();
    let listed = git(
        &root,
        &[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
    );
    for rel in listed.split('\0').filter(|r| !r.is_empty()) {
        let from = root.join(rel);
        if !from.is_file() {
            continue; // deleted in the work tree
        }
        let to = dest.join(rel);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(&from, &to).unwrap();
    }
    // The in-tree caps' pinned artifacts, when this tree has them, spare three cap
    // builds (caps-sync checks their digests either way).
    for entry in fs::read_dir(root.join("caps")).unwrap() {
        let cap = entry.unwrap().path();
        let component = cap.join("target/component");
        if component.is_dir() {
            let to = dest
                .join(cap.strip_prefix(&root).unwrap())
                .join("target/component");
            fs::create_dir_all(&to).unwrap();
            for f in fs::read_dir(&component).unwrap() {
                let f = f.unwrap().path();
                if f.is_file() {
                    fs::copy(&f, to.join(f.file_name().unwrap())).unwrap();
                }
            }
        }
    }
    git(dest, &["init", "-q", "-b", "main"]);
    git(dest, &["add", "-A"]);
    git(dest, &["commit", "-q", "-m", "copy"]);
}

fn changed_outside_caps_demo(root: &Path) -> Vec<String> {
    let out = git(root, &["status", "--porcelain", "--untracked-files=all"]);
    let mut v: Vec<String> = out
        .lines()
        .filter_map(|l| l.split_whitespace().last().map(str::to_string))
        .filter(|p| !p.starts_with("caps/demo/") && !p.starts_with("build/"))
        .collect();
    v.sort();
    v
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    fs::write(path, text.replace(from, to)).unwrap();
}

#[test]
#[ignore = "builds CPython with a new cap (about 10 minutes); run with `make test-new-cap`"]
fn a_new_cap_goes_from_cap_new_to_smoke_touching_only_its_directory() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("pylon");
    copy_repository(&root);
    let pylon = |args: &[&str]| {
        Run::from(
            Command::new(env!("CARGO_BIN_EXE_pylon"))
                .args(args)
                .current_dir(&root)
                .env_remove("PYLON_MANIFEST")
                .env_remove("PYLON_PROFILE")
                .env("PYLON_CAPS_DIR", work.path().join("git"))
                .output()
                .unwrap(),
        )
    };

    let made = pylon(&["cap", "new", "demo"]);
    assert_eq!(made.code, 0, "{}{}", made.stdout, made.stderr);
    // The user's edits: Rust, Python and the smoke test that checks them.
    let demo = root.join("caps/demo");
    edit(&demo.join("src/lib.rs"), "hello, {who}", "greetings, {who}");
    edit(
        &demo.join("python/demo.py"),
        "    return _cap.greet(who)\n",
        "    return _cap.greet(who)\n\n\ndef shout(who):\n    \"\"\"The greeting, loud.\"\"\"\n    return greet(who).upper()\n",
    );
    edit(
        &demo.join("smoke/demo_smoke.py"),
        "assert demo.greet(\"pylon\") == \"hello, pylon\", demo.greet(\"pylon\")",
        "assert demo.greet(\"pylon\") == \"greetings, pylon\", demo.greet(\"pylon\")\nassert demo.shout(\"pylon\") == \"GREETINGS, PYLON\"",
    );

    let regen = pylon(&["manifest", "regen", "demo", "--json"]);
    assert_eq!(regen.code, 0, "{}{}", regen.stdout, regen.stderr);
    let doc = regen.json();
    assert_eq!(doc["pylon_sha256"]["how"], "built", "{}", regen.stdout);
    let files: Vec<String> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    assert!(files
        .iter()
        .any(|f| f.ends_with("profiles/expected/cp313.toml")));
    assert!(files.last().unwrap().ends_with("caps-manifest.toml"));
    assert_eq!(
        changed_outside_caps_demo(&root),
        ["caps-manifest.toml", "profiles/expected/cp313.toml"]
    );

    // The build now matches every pin regen wrote, and the cap works inside it.
    let build = pylon(&["build", "--json"]);
    assert_eq!(build.code, 0, "{}{}", build.stdout, build.stderr);
    let built = build.json();
    assert_eq!(built["build"]["expected"]["matches"], true);
    assert_eq!(built["pylon"]["pin_status"], "OK");
    assert_eq!(built["pylon"]["sha256"], doc["pylon_sha256"]["sha256"]);

    let smoke = Run::from(
        Command::new("python3")
            .arg("scripts/smoke.py")
            .arg("--pylon")
            .arg(env!("CARGO_BIN_EXE_pylon"))
            .arg("--launch")
            .arg(repo_root().join("target/release/pylon-launch"))
            .current_dir(&root)
            .env("PYLON_CAPS_DIR", work.path().join("git"))
            .output()
            .unwrap(),
    );
    assert_eq!(smoke.code, 0, "{}{}", smoke.stdout, smoke.stderr);
    assert!(smoke.stdout.contains("demo: greet OK"), "{}", smoke.stdout);
    assert_eq!(
        changed_outside_caps_demo(&root),
        ["caps-manifest.toml", "profiles/expected/cp313.toml"]
    );
}
