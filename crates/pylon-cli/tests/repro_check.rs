//! `pylon repro-check` end to end: tiny real caps (no dependencies, cold builds of
//! about a second) built by the real binary under varied conditions. A reproducible
//! cap is identical under every variation (exit 0); a cap that embeds what a
//! variation changes is reported `differs` under that variation alone, with the
//! cause diff_wasm names (exit 1); bad input is exit 2.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

const ALL: [&str; 10] = [
    "build-path",
    "home",
    "tz",
    "locale",
    "umask",
    "jobs",
    "source-date-epoch",
    "extra-env",
    "listing-order",
    "clock",
];

/// Generated code in OUT_DIR (inside the target dir, an absolute path) with a panic
/// location: reproducible only if the build remaps the target dir.
const GENERATED_BUILD_RS: &str = r##"fn main() {
    let out = std::env::var("OUT_DIR").unwrap();
    std::fs::write(
        std::path::Path::new(&out).join("gen.rs"),
        "#[no_mangle] pub extern \"C\" fn gen_pick(i: usize) -> u32 { [7u32, 8][i] }",
    )
    .unwrap();
}
"##;
const GENERATED_LIB: &str = r#"include!(concat!(env!("OUT_DIR"), "/gen.rs"));"#;

/// A build script that writes the value of HOME into the code.
const HOME_BUILD_RS: &str = r#"fn main() {
    let home = std::env::var("HOME").unwrap_or_default();
    let out = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("home.rs");
    std::fs::write(out, format!("pub static HOME: &str = {home:?};\n")).unwrap();
}
"#;
const HOME_LIB: &str = r#"include!(concat!(env!("OUT_DIR"), "/home.rs"));
#[no_mangle]
pub extern "C" fn home_len() -> usize { std::hint::black_box(HOME).len() }"#;

/// `env!("CARGO_MANIFEST_DIR")` is a string, not a file path: --remap-path-prefix
/// does not touch it, so the checkout's absolute path ends up in the data.
const MANIFEST_DIR_LIB: &str = r#"static BUILD_DIR: &str = env!("CARGO_MANIFEST_DIR");
#[no_mangle]
pub extern "C" fn build_dir_len() -> usize { std::hint::black_box(BUILD_DIR).len() }"#;

/// A build script that writes the wall-clock time (ignoring SOURCE_DATE_EPOCH),
/// then waits, so two builds never share a second.
const CLOCK_BUILD_RS: &str = r#"fn main() {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let z = secs.div_euclid(86400) + 719468;
    let era = z.div_euclid(146097);
    let doe = z.rem_euclid(146097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    let t = secs.rem_euclid(86400);
    let stamp = format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60);
    let out = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("built.rs");
    std::fs::write(out, format!("pub static BUILT: &str = \"built {stamp}\";\n")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
}
"#;
const CLOCK_LIB: &str = r#"include!(concat!(env!("OUT_DIR"), "/built.rs"));
#[no_mangle]
pub extern "C" fn built_len() -> usize { std::hint::black_box(BUILT).len() }"#;

/// A sandbox that is a git repository holding one in-tree cap at `caps/<name>`.
fn in_tree_cap(name: &str, lib_extra: &str, build_rs: Option<&str>) -> Sandbox {
    let sb = Sandbox::new();
    git(sb.path(), &["init", "-q", "-b", "main"]);
    let mut files = cap_sources(name, lib_extra);
    if let Some(b) = build_rs {
        files.push(("build.rs".into(), b.into()));
    }
    write_files(&sb.path().join("caps").join(name), &files);
    fs::write(sb.path().join(".gitignore"), "target/\n").unwrap();
    git(sb.path(), &["add", "-A"]);
    git(sb.path(), &["commit", "-q", "-m", "cap"]);
    sb.write_manifest(&[CapEntry {
        name: name.into(),
        repo: format!("caps/{name}"),
        rev: ZERO_REV.into(),
        target: "wasm32-wasip2".into(),
        artifact: format!("target/component/{name}.wasm"),
        sha256: ZERO_SHA256.into(),
    }]);
    sb
}

fn repro(sb: &Sandbox, args: &[&str]) -> Run {
    let mut full = vec!["repro-check"];
    full.extend_from_slice(args);
    // Scratch directories of the check go inside the sandbox, removed with it.
    Run::from(
        sb.pylon()
            .args(&full)
            .env("TMPDIR", scratch_parent(sb))
            .output()
            .expect("pylon runs"),
    )
}

fn scratch_parent(sb: &Sandbox) -> PathBuf {
    let dir = sb.path().join("tmp");
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn cap<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["caps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in report: {report:#}"))
}

/// Causes that are not knock-on effects, as JSON names (`embedded-path`, …).
fn root_causes(row: &Value) -> Vec<String> {
    row["causes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["knock_on"] == false)
        .map(|c| c["cause"].as_str().unwrap().to_string())
        .collect()
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| Path::new(&d).join(program).is_file()))
}

#[test]
fn reproducible_cap_is_identical_under_every_variation() {
    let sb = in_tree_cap("steady", GENERATED_LIB, Some(GENERATED_BUILD_RS));
    let run = repro(&sb, &["--json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["format_version"], 1);
    assert_eq!(report["command"], "repro-check");
    assert_eq!(report["success"], true);
    assert_eq!(report["mode"], "combined");
    let c = cap(&report, "steady");
    assert_eq!(c["source"]["files"], 5, "{c:#}");
    // Baseline + one combined build: identical, so no attribution builds.
    assert_eq!(c["builds"], 2, "{c:#}");
    assert_eq!(repro_row(c, "combined")["verdict"], "identical");
    for v in ALL {
        let r = repro_row(c, v);
        let verdict = r["verdict"].as_str().unwrap();
        match verdict {
            "identical" => assert_eq!(r["sha256"], c["baseline"]["sha256"]),
            // Never silently passed: said so, with the reason.
            "not-available" => assert!(
                !r["detail"].as_str().unwrap().is_empty(),
                "{v} not available without a reason: {r:#}"
            ),
            other => panic!("{v}: {other}: {r:#}"),
        }
    }
    // These can be applied on any Linux machine with 2+ CPUs.
    for v in [
        "build-path",
        "home",
        "tz",
        "locale",
        "umask",
        "source-date-epoch",
        "extra-env",
    ] {
        assert_eq!(repro_row(c, v)["verdict"], "identical", "{v}");
    }
    let clock = repro_row(c, "clock");
    if on_path("faketime") {
        assert_eq!(clock["verdict"], "identical", "{clock:#}");
    } else {
        assert_eq!(clock["verdict"], "not-available");
        assert!(clock["detail"].as_str().unwrap().contains("faketime"));
    }
    assert!(
        fs::read_dir(scratch_parent(&sb)).unwrap().next().is_none(),
        "the scratch directory is removed without --keep"
    );
}

#[test]
fn git_cap_each_variation_alone_prints_a_table_and_exits_0() {
    let sb = Sandbox::new();
    let (repo, rev) = sb.cap_repo("plain", "");
    sb.write_manifest(&[CapEntry::git("plain", &repo, &rev)]);
    let run = repro(
        &sb,
        &["plain", "--each", "--variations", "home,umask,build-path"],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains(&rev[..12]), "{}", run.stdout);
    for v in ["build-path", "home", "umask"] {
        let line = run
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with(v))
            .unwrap_or_else(|| panic!("no {v} row:\n{}", run.stdout));
        assert!(line.contains("identical"), "{line}");
    }
    assert!(!run.stdout.contains("combined"), "{}", run.stdout);
    assert!(run.stdout.contains("4 builds"), "{}", run.stdout);
}

#[test]
fn home_leak_is_attributed_to_home_alone_as_an_embedded_path() {
    let sb = in_tree_cap("homey", HOME_LIB, Some(HOME_BUILD_RS));
    let run = repro(&sb, &["--json"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["success"], false);
    let c = cap(&report, "homey");
    assert_eq!(repro_row(c, "combined")["verdict"], "differs");
    let home = repro_row(c, "home");
    assert_eq!(home["verdict"], "differs", "{home:#}");
    assert_eq!(home["alone"], true);
    // The path is the root cause; a HOME of another length also moves what follows
    // it, which diff_wasm may list after it.
    assert_eq!(
        root_causes(home).first().map(String::as_str),
        Some("embedded-path"),
        "{home:#}"
    );
    let diagnosis = home["diagnosis"].as_str().unwrap();
    assert!(
        diagnosis.starts_with("embedded path:") && diagnosis.contains("home-elsewhere"),
        "{diagnosis}"
    );
    for v in ALL.iter().filter(|v| **v != "home") {
        let verdict = repro_row(c, v)["verdict"].as_str().unwrap().to_string();
        assert!(
            verdict == "identical" || verdict == "not-available",
            "{v}: {verdict}"
        );
    }
    // The same conditions again give the same bytes: the variation is to blame.
    assert_eq!(repro_row(c, "control")["verdict"], "identical");
}

#[test]
fn manifest_dir_leak_is_attributed_to_build_path_in_the_table() {
    let sb = in_tree_cap("pathy", MANIFEST_DIR_LIB, None);
    let run = repro(&sb, &["--each", "--variations", "tz,build-path,home"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let line = |v: &str| {
        run.stdout
            .lines()
            .find(|l| l.trim_start().starts_with(v))
            .unwrap_or_else(|| panic!("no {v} row:\n{}", run.stdout))
            .to_string()
    };
    let bp = line("build-path");
    assert!(
        bp.contains("differs") && bp.contains("embedded path:") && bp.contains("pathy-checkout"),
        "{bp}"
    );
    assert!(line("tz").contains("identical"));
    assert!(line("home").contains("identical"));
    assert!(line("control").contains("identical"));
}

#[test]
fn wall_clock_in_the_build_is_a_timestamp_even_without_variation() {
    let sb = in_tree_cap("clocky", CLOCK_LIB, Some(CLOCK_BUILD_RS));
    let run = repro(&sb, &["--json", "--variations", "tz"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    let c = cap(&report, "clocky");
    for label in ["combined", "tz", "control"] {
        let r = repro_row(c, label);
        assert_eq!(r["verdict"], "differs", "{label}: {r:#}");
        assert_eq!(root_causes(r), ["timestamp"], "{label}: {r:#}");
    }
    // The control row is what tells "not deterministic" from "TZ leaks".
    let text = repro(&sb, &["--variations", "tz"]);
    assert_eq!(text.code, 1);
    assert!(
        text.stdout
            .contains("control build (no variation) differs too"),
        "{}",
        text.stdout
    );
}

#[test]
fn bad_input_exits_2_without_building() {
    let sb = in_tree_cap("fine", "", None);

    let run = repro(&sb, &["nosuchcap", "--json"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    assert_eq!(doc["exit_code"], 2);
    assert!(
        doc["error"].as_str().unwrap().contains("nosuchcap"),
        "{doc}"
    );
    assert!(!run.stderr.contains("building"), "{}", run.stderr);

    let run = repro(&sb, &["--variations", "tz,moon-phase"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("moon-phase"), "{}", run.stderr);

    fs::write(
        sb.manifest(),
        "schema = 1\n[[cap]]\nname = \"x\"\nrepo = 42\n",
    )
    .unwrap();
    let run = repro(&sb, &[]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("caps-manifest.toml"), "{}", run.stderr);

    let run = Run::from(
        sb.pylon()
            .args([
                "repro-check",
                "--manifest",
                "/nonexistent/caps-manifest.toml",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 2);
}

#[test]
fn product_check_refuses_bad_input_before_building() {
    let sb = in_tree_cap("fine", "", None);

    // No profiles in the project: the profile is named in the error.
    let run = repro(&sb, &["--product", "--json"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    assert!(doc["error"].as_str().unwrap().contains("profile"), "{doc}");
    assert!(!run.stderr.contains("building"), "{}", run.stderr);

    // The real profiles, but the cap was never built: nothing to compose.
    let repo_profiles = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../profiles");
    let profiles = sb.path().join("profiles");
    fs::create_dir_all(profiles.join("expected")).unwrap();
    for f in ["default", "cp313.toml", "expected/cp313.toml"] {
        fs::copy(repo_profiles.join(f), profiles.join(f)).unwrap();
    }
    let run = repro(&sb, &["--product", "--json"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let error = run.json()["error"].as_str().unwrap().to_string();
    assert!(error.contains("cap fine"), "{error}");
    assert!(error.contains("caps-sync"), "{error}");
    assert!(!run.stderr.contains("building"), "{}", run.stderr);

    // An unknown profile is a usage error too.
    let run = repro(&sb, &["--product", "--profile", "cp299"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("cp299"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------
// --against pins: no baseline build; the varied build is compared with the digest
// `pylon manifest regen` committed (made in regen's own scratch directory, at
// another time: "elsewhere", as a maintainer's pin is).

/// A build script that writes the caller's `FOO` into the code.
const ENV_BUILD_RS: &str = r#"fn main() {
    let foo = std::env::var("FOO").unwrap_or_default();
    let out = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("foo.rs");
    std::fs::write(out, format!("pub static FOO: &str = {foo:?};\n")).unwrap();
}
"#;
const ENV_LIB: &str = r#"include!(concat!(env!("OUT_DIR"), "/foo.rs"));
#[no_mangle]
pub extern "C" fn foo_len() -> usize { std::hint::black_box(FOO).len() }"#;

/// An in-tree cap pinned by `pylon manifest regen` (and, with `sync`, built in place
/// by caps-sync, which publishes the pinned bytes when it matches).
fn pinned_in_tree_cap(name: &str, lib: &str, build_rs: Option<&str>, sync: bool) -> Sandbox {
    let sb = in_tree_cap(name, lib, build_rs);
    let regen = sb.run(&["manifest", "regen", name]);
    assert_eq!(regen.code, 0, "{}\n{}", regen.stdout, regen.stderr);
    if sync {
        let sync = sb.run(&["caps-sync"]);
        assert_eq!(sync.code, 0, "{}\n{}", sync.stdout, sync.stderr);
    }
    sb
}

/// `repro-check --against pins --variations LIST --json` (plus `extra`), expecting
/// exit 1 (a difference); returns the cap's part of the report.
fn pins_differ(sb: &Sandbox, name: &str, variations: &str, extra: &[&str]) -> Value {
    let mut args = vec!["--against", "pins", "--variations", variations, "--json"];
    args.extend_from_slice(extra);
    let run = repro(sb, &args);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    cap(&run.json(), name).clone()
}

fn pinned_sha256(sb: &Sandbox, name: &str) -> String {
    let m = pylon_manifest::read_manifest(&sb.manifest()).unwrap();
    m.cap(name)
        .unwrap()
        .sha256
        .pinned()
        .unwrap()
        .as_str()
        .to_string()
}

#[test]
fn against_pins_builds_each_cap_once_and_the_ledger_counts_it() {
    let sb = pinned_in_tree_cap("steady", GENERATED_LIB, Some(GENERATED_BUILD_RS), false);
    let ledger = sb.path().join("ledger.jsonl");
    let run = Run::from(
        sb.pylon()
            .args(["repro-check", "--against", "pins", "--json"])
            .env("TMPDIR", scratch_parent(&sb))
            .env("PYLON_BUILD_LEDGER", &ledger)
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["against"], "pins");
    let c = cap(&report, "steady");
    // No baseline: the one varied build is compared with the committed digest.
    assert_eq!(c["builds"], 1, "{c:#}");
    assert!(c["baseline"].is_null(), "{c:#}");
    let pin = pinned_sha256(&sb, "steady");
    assert_eq!(c["pins"]["outputs"][0]["sha256"], pin.as_str(), "{c:#}");
    let combined = repro_row(c, "combined");
    assert_eq!(combined["verdict"], "identical", "{combined:#}");
    assert_eq!(combined["sha256"], pin.as_str());
    for v in ["build-path", "home", "tz", "locale", "umask", "extra-env"] {
        assert_eq!(repro_row(c, v)["verdict"], "identical", "{v}");
    }

    // pylon's own ledger, written by the child that compiled: one cold build.
    let text = fs::read_to_string(&ledger).unwrap();
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 1, "{text}");
    assert_eq!(records[0]["subject"], "cap");
    assert_eq!(records[0]["name"], "steady");
    assert_eq!(records[0]["compiled"], true);
    assert_eq!(records[0]["how"], "cold");
    assert_eq!(records[0]["by"], "pylon repro-check");
}

#[test]
fn against_pins_catches_a_home_leak_and_diffs_it_against_the_synced_artifact() {
    let sb = pinned_in_tree_cap("homey", HOME_LIB, Some(HOME_BUILD_RS), true);
    let c = &pins_differ(&sb, "homey", "home,tz,extra-env", &[]);
    // caps-sync's artifact is the pinned bytes: the reference of the diagnosis.
    let reference = c["pins"]["outputs"][0]["reference"].as_str().unwrap();
    assert!(reference.ends_with("target/component/homey.wasm"), "{c:#}");
    assert_eq!(repro_row(c, "combined")["verdict"], "differs");
    let home = repro_row(c, "home");
    assert_eq!(home["verdict"], "differs", "{home:#}");
    assert_eq!(home["alone"], true);
    assert_eq!(
        root_causes(home).first().map(String::as_str),
        Some("embedded-path"),
        "{home:#}"
    );
    let diagnosis = home["diagnosis"].as_str().unwrap();
    assert!(
        diagnosis.starts_with("embedded path:") && diagnosis.contains("home-elsewhere"),
        "{diagnosis}"
    );
    assert_eq!(repro_row(c, "tz")["verdict"], "identical");
    assert_eq!(repro_row(c, "extra-env")["verdict"], "identical");
    // Without the variation this machine builds the pinned bytes.
    assert_eq!(repro_row(c, "control")["verdict"], "identical");
}

#[test]
fn against_pins_attributes_an_environment_leak_to_its_variation() {
    let sb = pinned_in_tree_cap("envy", ENV_LIB, Some(ENV_BUILD_RS), true);
    let c = &pins_differ(&sb, "envy", "tz,extra-env", &[]);
    let env = repro_row(c, "extra-env");
    assert_eq!(env["verdict"], "differs", "{c:#}");
    assert!(env["diagnosis"].as_str().is_some_and(|d| !d.is_empty()));
    assert_eq!(repro_row(c, "tz")["verdict"], "identical", "{c:#}");
    assert_eq!(repro_row(c, "control")["verdict"], "identical", "{c:#}");

    // The text table names the variation and the pin.
    let text = repro(&sb, &["--against", "pins", "--variations", "tz,extra-env"]);
    assert_eq!(text.code, 1);
    let line = text
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("extra-env"))
        .unwrap_or_else(|| panic!("no extra-env row:\n{}", text.stdout));
    assert!(line.contains("differs"), "{line}");
    assert!(
        text.stdout.contains("compared with the pins"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("against pins"), "{}", text.stdout);
}

#[test]
fn against_pins_without_a_local_copy_scans_the_build_and_names_its_path() {
    // Pinned by regen in its own scratch directory; never synced, so no copy of the
    // pinned bytes exists here and the varied build is scanned alone.
    let sb = pinned_in_tree_cap("pathy", MANIFEST_DIR_LIB, None, false);
    let c = &pins_differ(&sb, "pathy", "tz", &[]);
    assert!(c["pins"]["outputs"][0]["reference"].is_null(), "{c:#}");
    let combined = repro_row(c, "combined");
    assert_eq!(combined["verdict"], "differs", "{combined:#}");
    assert_eq!(root_causes(combined), ["embedded-path"], "{combined:#}");
    let diagnosis = combined["diagnosis"].as_str().unwrap();
    assert!(
        diagnosis.starts_with("embedded path:") && diagnosis.contains("/pathy"),
        "{diagnosis}"
    );
    // Built at any path it differs: the control build (no variation) too.
    assert_eq!(repro_row(c, "control")["verdict"], "differs", "{c:#}");
}

#[test]
fn against_pins_catches_the_wall_clock_as_a_timestamp() {
    let sb = pinned_in_tree_cap("clocky", CLOCK_LIB, Some(CLOCK_BUILD_RS), false);
    let c = &pins_differ(&sb, "clocky", "tz", &["--no-attribution"]);
    // --no-attribution: the one varied build, nothing more.
    assert_eq!(c["builds"], 1, "{c:#}");
    let combined = repro_row(c, "combined");
    assert_eq!(combined["verdict"], "differs", "{combined:#}");
    assert_eq!(root_causes(combined), ["timestamp"], "{combined:#}");
    assert!(
        combined["diagnosis"]
            .as_str()
            .unwrap()
            .starts_with("timestamp:"),
        "{combined:#}"
    );
}

#[test]
fn against_pins_refuses_a_placeholder_pin_and_a_bad_mode() {
    let sb = in_tree_cap("fresh", "", None);
    let run = repro(&sb, &["--against", "pins", "--json"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    let c = cap(&report, "fresh");
    assert_eq!(c["error"]["step"], "pins", "{c:#}");
    let message = c["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("placeholder") && message.contains("manifest regen fresh"),
        "{message}"
    );
    assert_eq!(c["builds"], 0);

    let run = repro(&sb, &["--against", "yesterday"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("yesterday"), "{}", run.stderr);
}
