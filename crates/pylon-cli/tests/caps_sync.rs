//! `pylon caps-sync` and `pylon manifest regen` end to end: real git repositories,
//! real cargo builds of tiny caps, the real binary.

mod common;

use std::fs;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

/// Pins a git cap with `manifest regen`, the way a maintainer would.
fn pinned_sandbox(names: &[&str]) -> Sandbox {
    let sb = Sandbox::new();
    let entries: Vec<CapEntry> = names
        .iter()
        .map(|n| {
            let (repo, _) = sb.cap_repo(n, "");
            CapEntry::git(n, &repo, ZERO_REV)
        })
        .collect();
    sb.write_manifest(&entries);
    let regen = sb.run(&["manifest", "regen"]);
    assert_eq!(
        regen.code, 0,
        "regen failed: {}{}",
        regen.stdout, regen.stderr
    );
    sb
}

#[test]
fn regen_pins_then_sync_reports_ok_and_second_run_is_idempotent() {
    let sb = pinned_sandbox(&["alpha"]);
    let text = fs::read_to_string(sb.manifest()).unwrap();
    assert!(
        text.starts_with("# test manifest\n"),
        "comments preserved:\n{text}"
    );
    assert!(
        !text.contains(&format!("rev = \"{ZERO_REV}\"")),
        "rev pinned:\n{text}"
    );
    assert!(text.contains("size = "), "size recorded:\n{text}");
    assert!(
        text.contains("rustc = \"rustc "),
        "toolchain recorded:\n{text}"
    );
    for tool in ["wasmtime", "wac-graph"] {
        assert!(
            text.contains(&format!("{tool} = \"{tool} ")),
            "{tool} recorded:\n{text}"
        );
    }
    // clang, wasi-libc and the toolchain digest come from a default CPython profile
    // next to the manifest; this sandbox has none, so none is claimed.
    assert!(!text.contains("wasi-toolchain = "), "{text}");

    let (code, report) = sb.sync_json(&[]);
    assert_eq!(code, 0, "{report}");
    let alpha = status_of(&report, "alpha");
    assert_eq!(alpha["status"], "OK", "{report}");
    assert_eq!(alpha["built"], true);
    assert_eq!(report["format_version"], 1);
    let artifact = sb.caps_dir().join("alpha/target/component/alpha.wasm");
    assert_eq!(alpha["digest"]["sha256"], sha256sum(&artifact));
    assert!(text.contains(&sha256sum(&artifact)));

    // Second run: the commit is present, so no fetch is needed — prove it by
    // removing the remote entirely.
    fs::rename(sb.path().join("remotes"), sb.path().join("remotes-gone")).unwrap();
    let (code, report) = sb.sync_json(&[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(status_of(&report, "alpha")["status"], "OK");
}

#[test]
fn placeholder_is_skipped_and_nothing_is_cloned() {
    let sb = Sandbox::new();
    let (repo, rev) = sb.cap_repo("beta", "");
    let mut entry = CapEntry::git("beta", &repo, &rev);
    entry.sha256 = ZERO_SHA256.into();
    sb.write_manifest(&[entry]);
    let run = sb.run(&["caps-sync"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("SKIP      beta"), "{}", run.stdout);
    assert!(run
        .stdout
        .contains("caps-sync: 0 OK, 1 SKIP, 0 FAIL, 0 MISMATCH"));
    assert!(!sb.caps_dir().join("beta").exists());
}

#[test]
fn failures_name_their_step_and_do_not_stop_other_caps() {
    let sb = Sandbox::new();
    let (good_repo, _) = sb.cap_repo("good", "");
    let (broken_repo, _) = sb.cap_repo("broken", "fn oops( {}");
    let (badrev_repo, _) = sb.cap_repo("badrev", "");
    let entries = [
        CapEntry::git("good", &good_repo, ZERO_REV),
        CapEntry::git("broken", &broken_repo, ZERO_REV),
        CapEntry::git("badrev", &badrev_repo, ZERO_REV),
        CapEntry::git(
            "missing",
            &sb.path().join("remotes/does-not-exist"),
            ZERO_REV,
        ),
    ];
    sb.write_manifest(&entries[..1]);
    assert_eq!(sb.run(&["manifest", "regen"]).code, 0);
    // Pin the others by hand: a real commit that fails to build, a commit that
    // does not exist, and a repository that does not exist.
    let pinned = fs::read_to_string(sb.manifest()).unwrap();
    let mut text = pinned.clone();
    let fake_digest = "ab".repeat(32);
    let broken_rev = git(&broken_repo, &["rev-parse", "HEAD"]);
    for (entry, rev) in [
        (&entries[1], broken_rev.as_str()),
        (&entries[2], "1234567890abcdef1234567890abcdef12345678"),
        (&entries[3], "1234567890abcdef1234567890abcdef12345678"),
    ] {
        let mut e = CapEntry::git(&entry.name, std::path::Path::new("/x"), rev);
        e.repo = entry.repo.clone();
        e.sha256 = fake_digest.clone();
        text.push_str(&e.toml());
    }
    fs::write(sb.manifest(), &text).unwrap();

    let (code, report) = sb.sync_json(&[("PYLON_JOBS", "2")]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(status_of(&report, "good")["status"], "OK", "{report}");

    let broken = status_of(&report, "broken");
    assert_eq!(broken["status"], "FAIL");
    assert_eq!(broken["step"], "build");
    let tail = broken["log_tail"].to_string();
    assert!(
        tail.contains("error"),
        "log tail shows the compiler error: {tail}"
    );
    let log = broken["log"].as_str().unwrap();
    assert!(fs::read_to_string(log).unwrap().contains("oops"));

    let badrev = status_of(&report, "badrev");
    assert_eq!(badrev["status"], "FAIL");
    assert_eq!(badrev["step"], "fetch");
    assert!(badrev["message"]
        .as_str()
        .unwrap()
        .contains("1234567890abcdef"));

    let missing = status_of(&report, "missing");
    assert_eq!(missing["status"], "FAIL");
    assert_eq!(missing["step"], "clone");
    assert!(
        !sb.caps_dir().join("missing").exists(),
        "no half clone left"
    );

    // The human report says the same, with the log path and its tail.
    let run = sb.run(&["caps-sync"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("FAIL      broken       build failed"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("full log: "));
    assert!(
        run.stdout
            .contains("caps-sync: 1 OK, 0 SKIP, 3 FAIL, 0 MISMATCH"),
        "{}",
        run.stdout
    );
}

#[test]
fn edited_digest_is_a_mismatch_with_both_digests_and_sizes() {
    let sb = pinned_sandbox(&["gamma"]);
    let text = fs::read_to_string(sb.manifest()).unwrap();
    let (code, report) = sb.sync_json(&[]);
    assert_eq!(code, 0, "{report}");
    let real = status_of(&report, "gamma")["digest"]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    let edited_digest = "cd".repeat(32);
    fs::write(sb.manifest(), text.replace(&real, &edited_digest)).unwrap();

    let run = sb.run(&["caps-sync"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("MISMATCH  gamma"), "{}", run.stdout);
    assert!(run
        .stdout
        .contains(&format!("expected sha256 {edited_digest}")));
    assert!(run.stdout.contains(&format!("actual   sha256 {real}")));
    assert!(
        run.stdout.contains("same size"),
        "size hint: {}",
        run.stdout
    );
    assert!(run.stdout.contains("pylon manifest regen gamma"));

    // A different recorded rustc is named as the likely cause.
    let text = fs::read_to_string(sb.manifest()).unwrap();
    let other = text.replace("rustc = \"rustc ", "rustc = \"rustc 0.0.1-other ");
    fs::write(sb.manifest(), other).unwrap();
    let run = sb.run(&["caps-sync"]);
    assert!(run.stdout.contains("your rustc differs"), "{}", run.stdout);
}

#[test]
fn caps_only_and_caps_skip_build() {
    let sb = pinned_sandbox(&["one", "two"]);
    let (code, report) = sb.sync_json(&[("CAPS_ONLY", "two")]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["caps"].as_array().unwrap().len(), 1);
    assert_eq!(status_of(&report, "two")["status"], "OK");
    assert!(
        !sb.caps_dir().join("one").exists(),
        "CAPS_ONLY left other caps alone"
    );

    // Skip-build on a cap that was never built: checked out, artifact missing.
    let (code, report) = sb.sync_json(&[("CAPS_SKIP_BUILD", "1")]);
    assert_eq!(code, 1, "{report}");
    let one = status_of(&report, "one");
    assert_eq!(one["status"], "FAIL");
    assert_eq!(one["step"], "digest");
    assert!(one["message"].as_str().unwrap().contains("CAPS_SKIP_BUILD"));
    assert!(sb.caps_dir().join("one/src/lib.rs").exists(), "checked out");
    let two = status_of(&report, "two");
    assert_eq!(two["status"], "OK");
    assert_eq!(two["built"], false);

    // Empty variables mean unset, as `make caps-sync CAPS_ONLY=` passes them.
    let (code, report) = sb.sync_json(&[("CAPS_ONLY", ""), ("CAPS_SKIP_BUILD", "")]);
    assert_eq!(report["caps"].as_array().unwrap().len(), 2, "{report}");
    assert_eq!(code, 0, "{report}");

    // Unknown names and bad flag values are usage errors.
    let (code, report) = sb.sync_json(&[("CAPS_ONLY", "nope")]);
    assert_eq!(code, 2);
    assert_eq!(report["success"], false);
    assert!(
        report["error"].as_str().unwrap().contains("\"nope\""),
        "{report}"
    );
    let run = sb.run(&["caps-sync", "--only", "nope"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("\"nope\""), "{}", run.stderr);
    let mut cmd = sb.pylon();
    let out = cmd
        .args(["caps-sync"])
        .env("CAPS_SKIP_BUILD", "maybe")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn concurrent_syncs_of_the_same_checkout_both_succeed() {
    let sb = pinned_sandbox(&["delta"]);
    let children: Vec<_> = (0..2)
        .map(|_| {
            sb.pylon()
                .args(["caps-sync", "--json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let run = Run::from(child.wait_with_output().unwrap());
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        assert_eq!(status_of(&run.json(), "delta")["status"], "OK");
    }
}

#[test]
fn killed_mid_build_leaves_no_artifact_and_next_run_recovers() {
    let sb = Sandbox::new();
    // A build script that takes long enough to be killed in the middle.
    let (repo, _) = sb.cap_repo("slow", "");
    fs::write(
        repo.join("build.rs"),
        "fn main() {\n    let marker = std::path::Path::new(env!(\"CARGO_MANIFEST_DIR\")).join(\"build-started\");\n    std::fs::write(marker, b\"\").unwrap();\n    std::thread::sleep(std::time::Duration::from_secs(60));\n}\n",
    )
    .unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "slow build"]);
    let rev = git(&repo, &["rev-parse", "HEAD"]);
    let mut entry = CapEntry::git("slow", &repo, &rev);
    entry.sha256 = "ef".repeat(32);
    sb.write_manifest(&[entry]);

    use std::os::unix::process::CommandExt;
    let mut child = sb
        .pylon()
        .arg("caps-sync")
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let marker = sb.caps_dir().join("slow/build-started");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !marker.exists() {
        assert!(
            Instant::now() < deadline,
            "build never reached the build script"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Kill pylon and cargo together, as Ctrl-C or a CI timeout would.
    let pgid = child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .status()
        .unwrap();
    assert!(status.success());
    let _ = child.wait();

    let component_dir = sb.caps_dir().join("slow/target/component");
    let leftovers: Vec<_> = fs::read_dir(&component_dir)
        .map(|rd| rd.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        leftovers.is_empty(),
        "nothing published or half-written: {leftovers:?}"
    );

    // The next run takes the lock (released by the kill) and builds; the digest is
    // deliberately wrong, so it ends in MISMATCH — but with a complete artifact.
    fs::write(repo.join("build.rs"), "fn main() {}\n").unwrap();
    fs::remove_file(&marker).unwrap();
    let text = fs::read_to_string(sb.manifest()).unwrap();
    git(&repo, &["commit", "-qam", "fast build"]);
    let fast = git(&repo, &["rev-parse", "HEAD"]);
    fs::write(sb.manifest(), text.replace(&rev, &fast)).unwrap();
    let (code, report) = sb.sync_json(&[]);
    assert_eq!(code, 1, "{report}");
    let slow = status_of(&report, "slow");
    assert_eq!(slow["status"], "MISMATCH", "{report}");
    assert_eq!(
        slow["actual"]["sha256"],
        sha256sum(&component_dir.join("slow.wasm"))
    );
}

#[test]
fn in_tree_cap_is_pinned_by_its_tree_and_edits_are_drift() {
    let sb = Sandbox::new();
    let root = sb.path().join("repo");
    fs::create_dir_all(&root).unwrap();
    git(&root, &["init", "-q", "-b", "main"]);
    write_files(&root.join("caps/local"), &cap_sources("local", ""));
    fs::write(root.join(".gitignore"), "target/\n").unwrap();
    let mut entry = CapEntry::git("local", &root, ZERO_REV);
    entry.repo = "caps/local".into();
    let manifest = root.join("caps-manifest.toml");
    fs::write(
        &manifest,
        format!(
            "schema = 1\npylon_sha256 = \"{ZERO_SHA256}\"\n\n{}",
            entry.toml()
        ),
    )
    .unwrap();
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-q", "-m", "init"]);

    let pylon = |args: &[&str]| {
        Run::from(
            std::process::Command::new(env!("CARGO_BIN_EXE_pylon"))
                .args(args)
                .current_dir(&root)
                .env("PYLON_CAPS_DIR", sb.caps_dir())
                .env_remove("PYLON_MANIFEST")
                .output()
                .unwrap(),
        )
    };
    let regen = pylon(&["manifest", "regen"]);
    assert_eq!(regen.code, 0, "{}{}", regen.stdout, regen.stderr);
    let tree = git(&root, &["rev-parse", "HEAD:caps/local"]);
    assert!(
        fs::read_to_string(&manifest).unwrap().contains(&tree),
        "rev is the directory's tree id"
    );

    let run = pylon(&["caps-sync"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("OK        local"));
    assert!(root
        .join("caps/local/target/component/local.wasm")
        .is_file());

    // Edit the cap without re-pinning: drift, and nothing is built.
    let lib = root.join("caps/local/src/lib.rs");
    let artifact = root.join("caps/local/target/component/local.wasm");
    let before = sha256sum(&artifact);
    fs::write(
        &lib,
        fs::read_to_string(&lib).unwrap() + "\npub fn extra() {}\n",
    )
    .unwrap();
    let run = pylon(&["caps-sync"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("pin failed: source drift"),
        "{}",
        run.stdout
    );
    assert_eq!(
        sha256sum(&artifact),
        before,
        "the edited source was not built"
    );

    // The lockfile of an in-tree cap is compared with the one in the pinned tree,
    // read from the project repository.
    let lock = root.join("caps/local/Cargo.lock");
    fs::write(
        &lock,
        fs::read_to_string(&lock).unwrap()
            + "\n[[package]]\nname = \"memchr\"\nversion = \"2.7.4\"\n",
    )
    .unwrap();
    let text = fs::read_to_string(&manifest).unwrap();
    fs::write(&manifest, text.replace(&before, &"ab".repeat(32))).unwrap();
    let run = pylon(&["verify"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "diagnosis: Cargo.lock differs from the pinned rev {}: memchr 2.7.4 added",
            &tree[..12]
        )),
        "{}",
        run.stdout
    );
}

#[test]
fn bad_manifest_is_exit_2_with_file_line_and_field_and_regen_writes_nothing() {
    let sb = Sandbox::new();
    let cases: &[(&str, &str, &str)] = &[
        ("malformed toml", "schema = 1\npylon_sha256 = [\n", ":2:"),
        ("unknown key", "schema = 1\npylon_sha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\ncolour = 1\n", "3:1: colour: unknown key"),
        ("short digest", "schema = 1\npylon_sha256 = \"abc\"\n", "2:16: pylon_sha256: invalid sha256: expected 64 hex digits, found 3"),
        ("non-hex digest", &format!("schema = 1\npylon_sha256 = \"{}\"\n", "g".repeat(64)), "pylon_sha256: invalid sha256: expected 64 hex digits, found 'g' at position 1"),
    ];
    for (what, text, expected) in cases {
        fs::write(sb.manifest(), text).unwrap();
        for args in [
            &["verify"][..],
            &["caps-sync"],
            &["manifest", "regen"],
            &["manifest", "check"],
        ] {
            let run = sb.run(args);
            assert_eq!(run.code, 2, "{what} / {args:?}: {}", run.stderr);
            assert!(
                run.stderr.contains(expected),
                "{what} / {args:?}: want {expected:?} in\n{}",
                run.stderr
            );
            assert!(
                run.stderr.contains("caps-manifest.toml:"),
                "file named: {}",
                run.stderr
            );
            assert_eq!(
                &fs::read_to_string(sb.manifest()).unwrap(),
                text,
                "nothing written"
            );
        }
    }
    let base = format!("schema = 1\npylon_sha256 = \"{ZERO_SHA256}\"\n");
    let cap = |fields: &str| format!("{base}[[cap]]\n{fields}");
    let good = "name = \"z\"\nrepo = \"https://example.invalid/z.git\"\nrev = \"0000000000000000000000000000000000000000\"\ntarget = \"wasm32-wasip2\"\nartifact = \"a.wasm\"\nsha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\nexports = []\n";
    let cap_cases = [
        (
            "unknown target",
            good.replace("wasm32-wasip2", "wasm64-wasi"),
            "7:10: cap \"z\".target: unknown target \"wasm64-wasi\"",
        ),
        (
            "short rev",
            good.replace(
                "rev = \"0000000000000000000000000000000000000000\"",
                "rev = \"abc123\"",
            ),
            "6:7: cap \"z\".rev: invalid git revision",
        ),
        (
            "wrong digest length",
            good.replace(ZERO_SHA256, &"a".repeat(63)),
            "9:10: cap \"z\".sha256: invalid sha256: expected 64 hex digits, found 63",
        ),
        (
            "duplicate name",
            format!("{good}[[cap]]\n{good}"),
            "12:8: cap \"z\".name: duplicate cap name (first defined by the [[cap]] at line 3)",
        ),
        (
            "unknown cap key",
            format!("{good}flavour = \"x\"\n"),
            "11:1: cap \"z\".flavour: unknown key",
        ),
        (
            "missing field",
            good.replace("artifact = \"a.wasm\"\n", ""),
            "cap \"z\".artifact: missing required field",
        ),
    ];
    for (what, fields, expected) in cap_cases {
        let text = cap(&fields);
        fs::write(sb.manifest(), &text).unwrap();
        let run = sb.run(&["manifest", "regen"]);
        assert_eq!(run.code, 2, "{what}: {}", run.stderr);
        assert!(
            run.stderr.contains(expected),
            "{what}: want {expected:?} in\n{}",
            run.stderr
        );
        assert_eq!(
            fs::read_to_string(sb.manifest()).unwrap(),
            text,
            "{what}: nothing written"
        );
    }
}

/// A build script that writes the wall-clock time into the code, every build.
const CLOCK_BUILD_RS: &str = r##"fn main() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let out = std::env::var("OUT_DIR").unwrap();
    std::fs::write(
        std::path::Path::new(&out).join("stamp.rs"),
        format!("#[no_mangle] pub static STAMP: &str = \"built at {now}\";"),
    )
    .unwrap();
    // A file that never exists: cargo reruns this script on every build.
    println!("cargo:rerun-if-changed=always-rerun");
}
"##;

#[test]
fn mismatch_is_diagnosed_against_the_kept_reference_and_by_verify() {
    let sb = Sandbox::new();
    let (repo, _) = sb.cap_repo(
        "clock",
        "include!(concat!(env!(\"OUT_DIR\"), \"/stamp.rs\"));",
    );
    fs::write(repo.join("build.rs"), CLOCK_BUILD_RS).unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "embed the build time"]);
    let rev = git(&repo, &["rev-parse", "HEAD"]);
    let mut entry = CapEntry::git("clock", &repo, &rev);
    entry.sha256 = "ab".repeat(32);
    sb.write_manifest(&[entry]);

    // First build: no reference yet, so the artifact alone is scanned.
    let (code, report) = sb.sync_json(&[]);
    assert_eq!(code, 1, "{report}");
    let clock = status_of(&report, "clock");
    assert_eq!(clock["status"], "MISMATCH");
    assert_eq!(clock["diagnosis"]["kind"], "scan", "{report}");
    assert!(clock["reference"].is_null());

    // Pin what was built (a maintainer running regen at that moment), then rebuild a
    // second later: the clock moved, and the diff against the kept copy says so.
    let built = clock["actual"]["sha256"].as_str().unwrap().to_string();
    let text = fs::read_to_string(sb.manifest()).unwrap();
    fs::write(sb.manifest(), text.replace(&"ab".repeat(32), &built)).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let run = sb.run(&["caps-sync"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("MISMATCH  clock"), "{}", run.stdout);
    assert!(
        run.stdout.contains("diagnosis: compared with "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("diagnosis: timestamp: "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("next: the build embeds the time"),
        "{}",
        run.stdout
    );

    // verify (read-only) finds the same drift and the same cause.
    let run = sb.run(&["verify"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("DRIFTED  clock"), "{}", run.stdout);
    assert!(
        run.stdout.contains("diagnosis: timestamp: "),
        "{}",
        run.stdout
    );
    let v = sb.run(&["verify", "--json"]).json();
    assert_eq!(v["caps"][0]["diagnosis"]["kind"], "diff", "{v}");
    assert_eq!(
        v["caps"][0]["diagnosis"]["causes"][0]["cause"], "timestamp",
        "{v}"
    );

    // An explicit --reference directory is used when its file has the pinned digest.
    let refdir = sb.path().join("refs");
    fs::create_dir_all(&refdir).unwrap();
    let kept = sb
        .caps_dir()
        .join("clock/target/component/.pylon-reference/clock.wasm");
    fs::copy(&kept, refdir.join("clock.wasm")).unwrap();
    let run = sb.run(&["verify", "--reference", refdir.to_str().unwrap()]);
    assert!(
        run.stdout.contains(&format!(
            "compared with {}",
            refdir.join("clock.wasm").display()
        )),
        "{}",
        run.stdout
    );
}

#[test]
fn mismatch_without_reference_reports_embedded_paths() {
    let sb = Sandbox::new();
    let (repo, rev) = sb.cap_repo(
        "where",
        "#[no_mangle] pub static BUILT_IN: &str = env!(\"CARGO_MANIFEST_DIR\");",
    );
    let mut entry = CapEntry::git("where", &repo, &rev);
    entry.sha256 = "cd".repeat(32);
    sb.write_manifest(&[entry]);
    let run = sb.run(&["caps-sync"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let checkout = sb.caps_dir().join("where");
    assert!(
        run.stdout
            .contains(&format!("diagnosis: embedded path: {}", checkout.display())),
        "{}",
        run.stdout
    );
}

#[test]
fn make_target_runs_make_and_checks_the_artifact_it_produces() {
    let sb = Sandbox::new();
    let (repo, _) = sb.cap_repo("viamake", "");
    // The cap's own Makefile decides how to build; caps-sync only runs `make`.
    fs::write(
        repo.join("Makefile"),
        "all:\n\tcargo build -q --release --locked --target wasm32-wasip2\n\tmkdir -p out\n\tcp target/wasm32-wasip2/release/fixture_viamake.wasm out/viamake.wasm\n",
    )
    .unwrap();
    git(&repo, &["commit", "-qam", "build with make"]);
    let mut entry = CapEntry::git("viamake", &repo, ZERO_REV);
    entry.target = String::new();
    entry.artifact = "out/viamake.wasm".into();
    sb.write_manifest(&[entry]);
    let regen = sb.run(&["manifest", "regen"]);
    assert_eq!(regen.code, 0, "{}{}", regen.stdout, regen.stderr);

    let (code, report) = sb.sync_json(&[]);
    assert_eq!(code, 0, "{report}");
    let cap = status_of(&report, "viamake");
    assert_eq!(cap["status"], "OK", "{report}");
    let artifact = sb.caps_dir().join("viamake/out/viamake.wasm");
    assert_eq!(cap["digest"]["sha256"], sha256sum(&artifact));
    let log = fs::read_to_string(sb.caps_dir().join("viamake/target/pylon/build.log")).unwrap();
    assert!(log.starts_with("$ make"), "{log}");

    // A Makefile that does not produce the declared artifact is a build FAIL.
    let text = fs::read_to_string(sb.manifest()).unwrap();
    fs::write(
        sb.manifest(),
        text.replace("out/viamake.wasm", "out/other.wasm"),
    )
    .unwrap();
    let (code, report) = sb.sync_json(&[]);
    assert_eq!(code, 1);
    let cap = status_of(&report, "viamake");
    assert_eq!(cap["step"], "build", "{report}");
    assert!(
        cap["message"].as_str().unwrap().contains("did not produce"),
        "{report}"
    );
}

#[test]
fn mismatch_diagnosis_names_recorded_and_current_toolchain_versions() {
    let sb = Sandbox::new();
    let (repo, rev) = sb.cap_repo("tools", "");
    let mut entry = CapEntry::git("tools", &repo, &rev);
    entry.sha256 = "ef".repeat(32);
    sb.write_manifest(&[entry]);
    let text = fs::read_to_string(sb.manifest()).unwrap()
        + "[toolchain]\nrustc = \"rustc 1.0.0 (a59807616 2015-05-15)\"\nclang = \"clang-19 1:0.0-fake\"\n";
    fs::write(sb.manifest(), text).unwrap();
    let here = String::from_utf8(
        std::process::Command::new("rustc")
            .arg("-V")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();

    let run = sb.run(&["caps-sync"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("MISMATCH  tools"), "{}", run.stdout);
    for want in [
        format!(
            "diagnosis: toolchain: rustc recorded `rustc 1.0.0 (a59807616 2015-05-15)`, this machine has `{here}`"
        ),
        // Not used by a cargo cap, but it differs, so it is named.
        "diagnosis: toolchain: clang recorded `clang-19 1:0.0-fake`, this machine has ".into(),
        // The producers section agrees with this machine.
        format!("diagnosis: toolchain: built with `{here}`, the manifest's digests were made with `rustc 1.0.0"),
        "diagnosis: Cargo.lock: as pinned at ".into(),
        "next: install `rustc 1.0.0 (a59807616 2015-05-15)` (`rustup toolchain install 1.0.0` and `rustup default 1.0.0`), or regenerate the pins with `pylon manifest regen`".into(),
    ] {
        assert!(run.stdout.contains(&want), "want {want:?} in\n{}", run.stdout);
    }

    let (_, report) = sb.sync_json(&[]);
    let d = &status_of(&report, "tools")["diagnosis"];
    assert_eq!(d["toolchain"][0]["tool"], "rustc", "{d}");
    assert_eq!(
        d["toolchain"][0]["recorded"],
        "rustc 1.0.0 (a59807616 2015-05-15)"
    );
    assert_eq!(d["toolchain"][0]["current"], here.as_str());
    assert_eq!(d["toolchain"][1]["tool"], "clang", "{d}");
    assert_eq!(d["lockfile"]["state"], "as-pinned", "{d}");
    assert!(d["next"]
        .as_str()
        .unwrap()
        .starts_with("install `rustc 1.0.0"));
}

#[test]
fn drifted_cap_diagnosis_compares_the_checkout_cargo_lock_with_the_pinned_rev() {
    let sb = Sandbox::new();
    let (repo, rev) = sb.cap_repo("locked", "");
    let mut entry = CapEntry::git("locked", &repo, &rev);
    entry.sha256 = "ef".repeat(32);
    sb.write_manifest(&[entry]);
    let (code, report) = sb.sync_json(&[]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(
        status_of(&report, "locked")["diagnosis"]["lockfile"]["state"],
        "as-pinned",
        "{report}"
    );

    // After the pin, someone updates the checkout's dependencies.
    let lock = sb.caps_dir().join("locked/Cargo.lock");
    let text = fs::read_to_string(&lock).unwrap();
    fs::write(
        &lock,
        text.replace("version = \"0.1.0\"", "version = \"0.2.0\"")
            + "\n[[package]]\nname = \"itoa\"\nversion = \"1.0.15\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    )
    .unwrap();
    let run = sb.run(&["verify"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let want = format!(
        "diagnosis: Cargo.lock differs from the pinned rev {}: fixture-locked 0.1.0 -> 0.2.0, itoa 1.0.15 added",
        &rev[..12]
    );
    assert!(
        run.stdout.contains(&want),
        "want {want:?} in\n{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "next: restore the pinned Cargo.lock (`git show {rev}:Cargo.lock > Cargo.lock` in {})",
            sb.caps_dir().join("locked").display()
        )),
        "{}",
        run.stdout
    );
    let v = sb.run(&["verify", "--json"]).json();
    let lockfile = &v["caps"][0]["diagnosis"]["lockfile"];
    assert_eq!(lockfile["state"], "differs", "{v}");
    assert_eq!(lockfile["changes"][1]["name"], "itoa", "{v}");
    assert!(lockfile["changes"][1]["old"].is_null(), "{v}");

    // A pinned rev the clone does not have cannot be compared, and says so.
    let manifest = fs::read_to_string(sb.manifest()).unwrap();
    fs::write(sb.manifest(), manifest.replace(&rev, &"1".repeat(40))).unwrap();
    let run = sb.run(&["verify"]);
    assert!(
        run.stdout.contains(
            "diagnosis: Cargo.lock: pinned rev 111111111111 not in the repository, cannot compare"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn regen_never_pins_caps_beside_an_outdated_pylon_sha256() {
    // A project with the real profiles and a python.wasm, but the cap was never synced:
    // its pin can be computed, pylon.wasm cannot be composed from what is on disk. The
    // one write holds the cap's pins and the placeholder pylon_sha256 (never the old
    // digest beside new cap pins), and says what to run. Once the artifact is the pin,
    // a composition that fails (python.wasm is not a component) writes nothing.
    let sb = Sandbox::new();
    let root = sb.path().join("repo");
    fs::create_dir_all(&root).unwrap();
    git(&root, &["init", "-q", "-b", "main"]);
    write_files(&root.join("caps/lone"), &cap_sources("lone", ""));
    fs::write(root.join(".gitignore"), "target/\nbuild/\n").unwrap();
    let repo_profiles = repo_root().join("profiles");
    fs::create_dir_all(root.join("profiles/expected")).unwrap();
    for f in ["default", "cp313.toml", "expected/cp313.toml"] {
        fs::copy(repo_profiles.join(f), root.join("profiles").join(f)).unwrap();
    }
    fs::create_dir_all(root.join("build/cp313")).unwrap();
    fs::write(root.join("build/cp313/python.wasm"), b"\0asm stand-in").unwrap();
    let mut entry = CapEntry::git("lone", &root, ZERO_REV);
    entry.repo = "caps/lone".into();
    let manifest = root.join("caps-manifest.toml");
    let old_pylon = "ab".repeat(32);
    fs::write(
        &manifest,
        format!(
            "schema = 1\npylon_sha256 = \"{old_pylon}\"\n\n{}",
            entry.toml()
        ),
    )
    .unwrap();
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-q", "-m", "init"]);
    let pylon = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_pylon"));
        cmd.current_dir(&root)
            .env("PYLON_CAPS_DIR", sb.caps_dir())
            .env_remove("PYLON_MANIFEST");
        cmd
    };

    // --no-build: the caps are pinned, the product is left for later.
    let run = Run::from(
        pylon()
            .args(["manifest", "regen", "--no-build"])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("pylon_sha256 set to the placeholder"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("cap lone"), "{}", run.stdout);
    let written = pylon_manifest::read_manifest(&manifest).unwrap();
    assert!(written.pylon_sha256.is_placeholder());
    assert!(!written.cap("lone").unwrap().sha256.is_placeholder());

    let sync = Run::from(pylon().args(["caps-sync"]).output().unwrap());
    assert_eq!(sync.code, 0, "{}{}", sync.stdout, sync.stderr);
    let before = fs::read(&manifest).unwrap();
    let run = Run::from(pylon().args(["manifest", "regen"]).output().unwrap());
    assert_ne!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("nothing was written"), "{}", run.stderr);
    assert_eq!(
        fs::read(&manifest).unwrap(),
        before,
        "the manifest was changed"
    );

    // A changed cap makes regen rebuild the product with the new pins; a product that
    // cannot be built (this cap has no WIT to make a shim from) writes nothing: neither
    // the manifest nor profiles/expected.
    let expected = root.join("profiles/expected/cp313.toml");
    let expected_before = fs::read(&expected).unwrap();
    let lib = root.join("caps/lone/src/lib.rs");
    let edited = fs::read_to_string(&lib).unwrap() + "\n// edited\n";
    fs::write(&lib, edited).unwrap();
    let run = Run::from(pylon().args(["manifest", "regen"]).output().unwrap());
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("building the product with the new pins")
            && run.stderr.contains("cap lone: no WIT package")
            && run.stderr.contains("nothing was written"),
        "{}",
        run.stderr
    );
    assert_eq!(
        fs::read(&manifest).unwrap(),
        before,
        "the manifest was changed"
    );
    assert_eq!(fs::read(&expected).unwrap(), expected_before);
    let leftovers: Vec<_> = fs::read_dir(root.join("profiles/expected"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "temporary files left: {leftovers:?}");
}
