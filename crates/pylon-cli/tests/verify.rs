//! `pylon verify`: read-only digest checks, the spec's summary and exit codes.

mod common;

use std::fs;

use common::*;

/// A manifest over artifacts that already sit in checkouts (verify never builds,
/// so plain files stand in for components).
fn sandbox_with_artifacts() -> (Sandbox, Vec<(String, String)>) {
    let sb = Sandbox::new();
    let mut entries = Vec::new();
    let mut digests = Vec::new();
    for (i, name) in ["ok1", "ok2", "gone", "drift", "later"].iter().enumerate() {
        let dir = sb.caps_dir().join(name).join("target/component");
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.wasm"));
        fs::write(&path, format!("artifact {i}").repeat(1000)).unwrap();
        let digest = sha256sum(&path);
        digests.push((name.to_string(), digest.clone()));
        let mut e = CapEntry::git(name, &sb.path().join("unused"), &"1".repeat(40));
        e.sha256 = digest;
        entries.push(e);
    }
    fs::remove_file(sb.caps_dir().join("gone/target/component/gone.wasm")).unwrap();
    fs::write(
        sb.caps_dir().join("drift/target/component/drift.wasm"),
        "changed",
    )
    .unwrap();
    entries[4].sha256 = ZERO_SHA256.into();
    sb.write_manifest(&entries);
    (sb, digests)
}

#[test]
fn verify_counts_each_state_and_lists_drift_with_both_digests() {
    let (sb, digests) = sandbox_with_artifacts();
    let before: Vec<_> = walk(sb.path());
    let run = sb.run(&["verify"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let drift_expected = &digests[3].1;
    let drift_actual = sha256sum(&sb.caps_dir().join("drift/target/component/drift.wasm"));
    assert!(run.stdout.contains("DRIFTED  drift"), "{}", run.stdout);
    assert!(run
        .stdout
        .contains(&format!("expected sha256 {drift_expected}")));
    assert!(run
        .stdout
        .contains(&format!("actual   sha256 {drift_actual} (7 bytes)")));
    assert!(run.stdout.contains("MISSING  gone"));
    assert!(run.stdout.ends_with(
        "caps OK: 2\ncaps placeholder: 1\ncaps missing: 1\ncaps drifted: 1\n\npylon_sha256 status: PLACEHOLDER\n"
    ), "spec summary:\n{}", run.stdout);
    assert_eq!(walk(sb.path()), before, "verify wrote nothing");

    let json = sb.run(&["verify", "--json"]);
    assert_eq!(json.code, 1);
    let v = json.json();
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["counts"]["ok"], 2);
    assert_eq!(v["counts"]["drifted"], 1);
    assert_eq!(v["pylon_sha256_status"], "PLACEHOLDER");
    assert_eq!(v["success"], false);
}

#[test]
fn verify_checks_pylon_sha256() {
    let sb = Sandbox::new();
    sb.write_manifest(&[]);
    let wasm = sb.path().join("build/pylon.wasm");
    fs::create_dir_all(wasm.parent().unwrap()).unwrap();
    fs::write(&wasm, b"\0asm pretend").unwrap();
    let digest = sha256sum(&wasm);
    let text = fs::read_to_string(sb.manifest()).unwrap();

    // Placeholder: OK to exit 0.
    let run = sb.run(&["verify"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("pylon_sha256 status: PLACEHOLDER"));

    fs::write(sb.manifest(), text.replace(ZERO_SHA256, &digest)).unwrap();
    let run = sb.run(&["verify"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("pylon_sha256 status: OK"));

    fs::write(&wasm, b"\0asm other bytes").unwrap();
    let run = sb.run(&["verify"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("pylon_sha256 status: MISMATCH"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(&format!("expected sha256 {digest}")));

    fs::remove_file(&wasm).unwrap();
    let run = sb.run(&["verify"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("pylon_sha256 status: MISSING"));
    let run = sb.run(&[
        "verify",
        "--pylon-wasm",
        sb.path().join("elsewhere.wasm").to_str().unwrap(),
    ]);
    assert!(run.stdout.contains("elsewhere.wasm"));
}

fn walk(dir: &std::path::Path) -> Vec<(std::path::PathBuf, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), e.metadata().unwrap().len()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn drifted_pylon_diagnosis_names_each_toolchain_difference() {
    let sb = Sandbox::new();
    sb.write_manifest(&[]);
    let wasm = sb.path().join("build/pylon.wasm");
    fs::create_dir_all(wasm.parent().unwrap()).unwrap();
    fs::write(&wasm, b"\0asm\x01\0\0\0").unwrap();
    let text = fs::read_to_string(sb.manifest()).unwrap();
    // Versions no machine has: a clang package and a wac-graph that never existed.
    let text = text.replace(ZERO_SHA256, &"ab".repeat(32))
        + "[toolchain]\nclang = \"clang-19 1:0.0-fake\"\nwac-graph = \"wac-graph 0.0.1\"\n";
    fs::write(sb.manifest(), text).unwrap();

    let run = sb.run(&["verify"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("DRIFTED  pylon"), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "diagnosis: toolchain: clang recorded `clang-19 1:0.0-fake`, this machine has "
        ),
        "{}",
        run.stdout
    );
    let v = sb.run(&["verify", "--json"]).json();
    let d = &v["pylon"]["diagnosis"];
    assert_eq!(d["kind"], "scan", "{v}");
    let tools: Vec<&str> = d["toolchain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tool"].as_str().unwrap())
        .collect();
    assert_eq!(
        tools,
        ["clang", "wasi-libc", "wasi-toolchain", "wac-graph", "rustc"],
        "{d}"
    );
    let wac = &d["toolchain"][3];
    assert_eq!(wac["recorded"], "wac-graph 0.0.1");
    let current = wac["current"].as_str().unwrap();
    assert!(
        current.starts_with("wac-graph ") && current != "wac-graph 0.0.1",
        "{wac}"
    );
    assert!(
        run.stdout.contains(&format!(
            "diagnosis: toolchain: wac-graph recorded `wac-graph 0.0.1`, this machine has `{current}`"
        )),
        "{}",
        run.stdout
    );
    // The last line is the next thing to try: the first relevant tool that differs.
    let last = run
        .stdout
        .lines()
        .rfind(|l| l.trim_start().starts_with("diagnosis:") || l.trim_start().starts_with("next:"))
        .unwrap();
    assert!(
        last.contains("next: build with the profile pins that recorded `clang-19 1:0.0-fake`"),
        "{}",
        run.stdout
    );

    // All recorded ones as this machine has them: one summary line, no per-tool line.
    let text = fs::read_to_string(sb.manifest()).unwrap();
    let text = text
        .replace("clang = \"clang-19 1:0.0-fake\"\n", "")
        .replace("wac-graph 0.0.1", current);
    fs::write(sb.manifest(), text).unwrap();
    let run = sb.run(&["verify"]);
    assert!(
        run.stdout.contains(&format!(
            "diagnosis: toolchain: as recorded (wac-graph `{current}`)"
        )),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("recorded `"), "{}", run.stdout);
}

/// A pylon.wasm with bytes appended, beside a product whose parts all match their
/// pins: verify composes the parts again in-process and says where the file differs
/// from that, rather than scanning it alone.
#[test]
fn drifted_product_is_located_against_its_parts_composed_again() {
    let root = repo_root();
    let product = root.join("build/pylon.wasm");
    if !product.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is missing under CI (make build runs first)",
            product.display()
        );
        eprintln!("skipping: {} is missing (make build)", product.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let drifted = dir.path().join("pylon.wasm");
    let mut bytes = fs::read(&product).unwrap();
    let size = bytes.len();
    bytes.push(0);
    fs::write(&drifted, &bytes).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pylon"))
        .args(["verify", "--json", "--pylon-wasm"])
        .arg(&drifted)
        .current_dir(&root)
        .env_remove("PYLON_MANIFEST")
        .output()
        .unwrap();
    let run = Run::from(out);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let text = run.stdout;
    assert!(
        text.contains("composed again with the pinned caps")
            && text.contains(&format!("followed by 1 extra byte(s), from byte {size}")),
        "{text}"
    );
}
