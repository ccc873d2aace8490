//! A new cap the way a user adds one: `pylon cap new demo` in a real git work tree,
//! an edit of its Rust, `pylon manifest regen demo` (which finds it by its
//! descriptor, pins it and records its exports from its WIT), then `pylon
//! caps-sync` rebuilding it to the pinned bytes. Nothing outside `caps/demo/` but the
//! manifest is written. (The product half — `make build smoke` with the new cap — needs
//! a CPython build and is not automated yet.)

mod common;

use std::fs;

use common::{git, Sandbox};

fn files_outside_caps_demo(sandbox: &Sandbox) -> Vec<String> {
    let out = git(
        sandbox.path(),
        &["status", "--porcelain", "--untracked-files=all"],
    );
    let mut v: Vec<String> = out
        .lines()
        .filter_map(|l| l.split_whitespace().last().map(str::to_string))
        .filter(|p| !p.starts_with("caps/demo/") && !p.starts_with("caps-dir/"))
        .collect();
    v.sort();
    v
}

#[test]
fn cap_new_then_regen_then_sync_pins_and_rebuilds_the_new_cap() {
    let sandbox = Sandbox::new();
    let root = sandbox.path();
    git(root, &["init", "-q", "-b", "main"]);
    sandbox.write_manifest(&[]);
    fs::write(root.join(".gitignore"), "caps/*/target\n/caps-dir\n").unwrap();
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "empty project"]);

    let made = sandbox.run(&["cap", "new", "demo", "--json"]);
    assert_eq!(made.code, 0, "{}{}", made.stdout, made.stderr);
    let doc = made.json();
    assert_eq!(doc["module"], "demo");
    for f in [
        "cap.toml",
        "Cargo.toml",
        "Cargo.lock",
        "wit/world.wit",
        "src/lib.rs",
        "python/demo.py",
        "smoke/demo_smoke.py",
        "smoke/alloc_loop.py",
        "wasmtime_test.rs",
    ] {
        assert!(root.join("caps/demo").join(f).is_file(), "{f} missing");
    }
    // Bad names and an existing directory are usage errors that write nothing.
    let again = sandbox.run(&["cap", "new", "demo"]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    let bad = sandbox.run(&["cap", "new", "My_Cap"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(!root.join("caps/My_Cap").exists());

    // The user's edit.
    let lib = root.join("caps/demo/src/lib.rs");
    let text = fs::read_to_string(&lib)
        .unwrap()
        .replace("hello, {who}", "greetings, {who}");
    fs::write(&lib, text).unwrap();

    let listed = sandbox.run(&["cap", "list", "--json"]).json();
    let demo = &listed["caps"][0];
    assert_eq!(demo["name"], "demo");
    assert_eq!(demo["in_manifest"], false);
    assert_eq!(demo["descriptor"]["world"], "demo-cap");

    let regen = sandbox.run(&["manifest", "regen", "demo", "--json"]);
    assert_eq!(regen.code, 0, "{}{}", regen.stdout, regen.stderr);
    assert_eq!(
        regen.json()["caps"][0]["exports"][0],
        "pylon:demo/demo@0.1.0"
    );
    let manifest = pylon_manifest::read_manifest(&sandbox.manifest()).unwrap();
    let cap = manifest.cap("demo").expect("regen added the cap");
    assert_eq!(cap.exports, ["pylon:demo/demo@0.1.0"]);
    assert_eq!(cap.artifact.to_str(), Some("target/component/demo.wasm"));
    // In-tree: the rev is the git tree id of the directory as it is now (edit included).
    let rev = cap.rev.pinned().expect("a real rev").as_str().to_string();
    git(root, &["add", "caps/demo"]);
    assert_eq!(git(root, &["write-tree", "--prefix=caps/demo/"]), rev);
    let pin = cap
        .sha256
        .pinned()
        .expect("a real digest")
        .as_str()
        .to_string();

    // Only the manifest changed outside the cap's directory.
    assert_eq!(files_outside_caps_demo(&sandbox), ["caps-manifest.toml"]);

    let (code, report) = sandbox.sync_json(&[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        common::status_of(&report, "demo")["status"],
        "OK",
        "{report}"
    );
    let built = root.join("caps/demo/target/component/demo.wasm");
    assert_eq!(common::sha256sum(&built), pin);
    // The edit is in the pinned component.
    let bytes = fs::read(&built).unwrap();
    assert!(bytes
        .windows(b"greetings, ".len())
        .any(|w| w == b"greetings, "));

    // A second regen changes nothing: same tree, same bytes.
    let before = fs::read_to_string(sandbox.manifest()).unwrap();
    let again = sandbox.run(&["manifest", "regen", "demo"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert_eq!(fs::read_to_string(sandbox.manifest()).unwrap(), before);
}

#[test]
fn regen_refuses_a_descriptor_that_names_another_cap_and_writes_nothing() {
    let sandbox = Sandbox::new();
    let root = sandbox.path();
    git(root, &["init", "-q", "-b", "main"]);
    sandbox.write_manifest(&[]);
    let made = sandbox.run(&["cap", "new", "demo"]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let desc = root.join("caps/demo/cap.toml");
    let text = fs::read_to_string(&desc)
        .unwrap()
        .replace("name = \"demo\"", "name = \"other\"");
    fs::write(&desc, text).unwrap();
    let before = fs::read_to_string(sandbox.manifest()).unwrap();
    let regen = sandbox.run(&["manifest", "regen", "demo"]);
    assert_eq!(regen.code, 2, "{}{}", regen.stdout, regen.stderr);
    assert!(
        regen.stderr.contains("cap.toml") && regen.stderr.contains("\"other\""),
        "{}",
        regen.stderr
    );
    assert_eq!(fs::read_to_string(sandbox.manifest()).unwrap(), before);
}
