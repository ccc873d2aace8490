//! `pylon diff` end to end: real cap builds with injected non-determinism,
//! diagnosed by the real binary; exit codes 0 identical, 1 different, 2 could
//! not compare.

#[path = "../../pylon-diagnose/tests/fixtures/mod.rs"]
mod fixtures;

use std::fs;
use std::path::Path;
use std::process::Command;

use fixtures::*;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn pylon_diff(args: &[&Path], json: bool) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pylon"));
    cmd.arg("diff");
    if json {
        cmd.arg("--json");
    }
    let out = cmd.args(args).output().expect("pylon runs");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn json(out: &Out) -> serde_json::Value {
    serde_json::from_str(out.stdout.trim())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", out.stdout, out.stderr))
}

#[test]
fn identical_builds_exit_0_and_a_path_leak_exits_1_naming_both_paths() {
    let root = tempdir();
    let plain = cap_files("same", "", "", None);
    let (_, a) = build_at(root.path(), "one", "same", &plain);
    let (_, b) = build_at(root.path(), "two/deeper", "same", &plain);
    let (pa, pb) = (root.path().join("a.wasm"), root.path().join("b.wasm"));
    fs::write(&pa, &a).unwrap();
    fs::write(&pb, &b).unwrap();
    let out = pylon_diff(&[&pa, &pb], false);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.starts_with("identical: "), "{}", out.stdout);

    let leaky = cap_files("path", EMBEDS_PATH, "", None);
    let (dir_a, a) = build_at(root.path(), "p1", "path", &leaky);
    let (dir_b, b) = build_at(root.path(), "p2-longer", "path", &leaky);
    fs::write(&pa, &a).unwrap();
    fs::write(&pb, &b).unwrap();
    let out = pylon_diff(&[&pa, &pb], false);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    // The first line is the root cause, with both paths and the location.
    let first = out.stdout.lines().next().unwrap_or_default();
    assert!(first.starts_with("embedded path: "), "{}", out.stdout);
    assert!(
        first.contains(&format!("{} vs {}", dir_a.display(), dir_b.display())),
        "{first}"
    );
    assert!(
        first.contains("module[0]") && first.ends_with("› data"),
        "{first}"
    );
    assert!(
        out.stdout
            .contains("code/data (knock-on): only addresses differ"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("\nnext:\n"), "{}", out.stdout);

    let out = pylon_diff(&[&pa, &pb], true);
    assert_eq!(out.code, 1);
    let doc = json(&out);
    assert_eq!(doc["format_version"], 1);
    assert_eq!(doc["command"], "diff");
    assert_eq!(doc["identical"], false);
    assert_eq!(doc["exit_code"], 1);
    assert_eq!(doc["causes"][0]["cause"], "embedded-path");
    assert_eq!(
        doc["differences"][0]["evidence_a"][0],
        dir_a.display().to_string()
    );
    assert_eq!(doc["differences"][0]["location"]["section"], "data");
}

#[test]
fn build_time_and_opt_level_are_named() {
    let root = tempdir();
    let dir = root.path().join("clock");
    fs::create_dir_all(&dir).unwrap();
    write_files(
        &dir,
        &cap_files("clock", EMBEDS_TIME_LIB, "", Some(EMBEDS_TIME_BUILD_RS)),
    );
    let a = build(&dir, "clock", Some(root.path().join("t1")));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let b = build(&dir, "clock", Some(root.path().join("t2")));
    let (pa, pb) = (root.path().join("a.wasm"), root.path().join("b.wasm"));
    fs::write(&pa, &a).unwrap();
    fs::write(&pb, &b).unwrap();
    let out = pylon_diff(&[&pa, &pb], false);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let first = out.stdout.lines().next().unwrap_or_default();
    assert!(first.starts_with("timestamp: "), "{}", out.stdout);
    assert!(
        first.contains("module[0]") && first.contains("› data"),
        "{first}"
    );

    let (_, a) = build_at(
        root.path(),
        "o3",
        "opt",
        &cap_files("opt", "", "opt-level = 3", None),
    );
    let (_, b) = build_at(
        root.path(),
        "os",
        "opt",
        &cap_files("opt", "", "opt-level = \"s\"", None),
    );
    fs::write(&pa, &a).unwrap();
    fs::write(&pb, &b).unwrap();
    let out = pylon_diff(&[&pa, &pb], true);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let doc = json(&out);
    let root_causes: Vec<&str> = doc["causes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["knock_on"] == false)
        .map(|c| c["cause"].as_str().unwrap_or_default())
        .collect();
    assert!(root_causes.contains(&"code-data"), "{doc}");
    assert!(
        !root_causes
            .iter()
            .any(|c| ["embedded-path", "timestamp", "toolchain"].contains(c)),
        "{doc}"
    );
    assert!(
        doc["differences"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["location"]["section"] == "code" && d["cause"] == "code-data"),
        "{doc}"
    );
}

#[test]
fn inputs_that_cannot_be_compared_exit_2_with_a_clear_message() {
    let root = tempdir();
    let (_, good) = build_at(root.path(), "ok", "ok", &cap_files("ok", "", "", None));
    let ok = root.path().join("ok.wasm");
    fs::write(&ok, &good).unwrap();
    let missing = root.path().join("missing.wasm");
    let text = root.path().join("notes.txt");
    fs::write(&text, "not wasm at all\n").unwrap();
    let truncated = root.path().join("truncated.wasm");
    fs::write(&truncated, &good[..good.len() / 2]).unwrap();
    let empty = root.path().join("empty.wasm");
    fs::write(&empty, b"").unwrap();

    let cases: [(&Path, &str); 4] = [
        (&missing, "cannot read"),
        (&text, "not a WebAssembly binary"),
        (&truncated, "malformed WebAssembly"),
        (&empty, "not a WebAssembly binary"),
    ];
    for (bad, message) in cases {
        let out = pylon_diff(&[&ok, bad], false);
        assert_eq!(
            out.code,
            2,
            "{}: {}{}",
            bad.display(),
            out.stdout,
            out.stderr
        );
        assert!(
            out.stderr.contains(message),
            "{}: {}",
            bad.display(),
            out.stderr
        );
        assert!(
            out.stderr.contains(&bad.display().to_string()),
            "names the file: {}",
            out.stderr
        );
        let out = pylon_diff(&[bad, &ok], true);
        assert_eq!(out.code, 2);
        let doc = json(&out);
        assert_eq!(doc["exit_code"], 2);
        assert!(
            doc["error"].as_str().unwrap_or_default().contains(message),
            "{doc}"
        );
    }
}
