//! The no-reference diagnosis: toolchain lines, the Cargo.lock line and the next
//! step chosen from them.

use pylon_diagnose::*;

/// The smallest valid module: nothing embedded, so only the context speaks.
const EMPTY_MODULE: &[u8] = b"\0asm\x01\0\0\0";

fn tool(tool: &str, recorded: Option<&str>, current: Option<&str>) -> ToolVersion {
    ToolVersion {
        tool: tool.into(),
        recorded: recorded.map(Into::into),
        current: current.map(Into::into),
    }
}

fn ctx(tools: Vec<ToolVersion>) -> DriftContext {
    DriftContext {
        toolchain: tools,
        ..Default::default()
    }
}

fn scan(ctx: &DriftContext, artifact: &ArtifactContext) -> (Vec<String>, String) {
    let d = diagnose_drift(None, EMPTY_MODULE, ctx, artifact);
    (d.lines(), d.next_step().unwrap())
}

#[test]
fn each_differing_tool_is_named_with_both_versions() {
    let c = ctx(vec![
        tool("rustc", Some("rustc 1.95.0 (x)"), Some("rustc 1.95.0 (x)")),
        tool(
            "clang",
            Some("clang-19 1:19.1.7-3"),
            Some("clang-19 1:19.1.8-1"),
        ),
        tool("wasi-libc", Some("wasi-libc 1"), None),
        tool("wasmtime", Some("wasmtime 48.0.8"), Some("wasmtime 48.0.8")),
        tool("wac-graph", None, Some("wac-graph 0.12.0")),
    ]);
    let pylon = ArtifactContext {
        kind: ArtifactKind::Pylon,
        lockfile: None,
    };
    let (lines, next) = scan(&c, &pylon);
    assert_eq!(
        lines[1..],
        [
            "toolchain: clang recorded `clang-19 1:19.1.7-3`, this machine has `clang-19 1:19.1.8-1`",
            "toolchain: wasi-libc recorded `wasi-libc 1`, this machine has none that pylon can find",
        ],
        "{lines:#?}"
    );
    assert_eq!(
        next,
        "build with the profile pins that recorded `clang-19 1:19.1.7-3` \
         (profiles/<profile>.toml [toolchain] of that commit; pylon fetches and unpacks them \
         itself), or regenerate the pins with `pylon manifest regen` if the new toolchain is \
         intended"
    );

    // For a cap, clang is not relevant, but it differs, so it is still named; the
    // next step then is not about clang (nothing relevant differs).
    let (lines, next) = scan(&c, &ArtifactContext::default());
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("toolchain: clang recorded")),
        "{lines:#?}"
    );
    assert!(
        !lines.iter().any(|l| l.contains("as recorded")),
        "{lines:#?}"
    );
    assert!(
        next.starts_with("build with the profile pins that recorded `clang-19"),
        "{next}"
    );
}

#[test]
fn matching_tools_get_one_summary_line() {
    let c = ctx(vec![
        tool("rustc", Some("rustc 1.95.0 (x)"), Some("rustc 1.95.0 (x)")),
        tool("clang", Some("clang-19 1"), Some("clang-19 1")),
        tool(
            "wac-graph",
            Some("wac-graph 0.12.0"),
            Some("wac-graph 0.12.0"),
        ),
    ]);
    let pylon = ArtifactContext {
        kind: ArtifactKind::Pylon,
        lockfile: None,
    };
    let (lines, next) = scan(&c, &pylon);
    assert_eq!(
        lines[1..],
        ["toolchain: as recorded (clang `clang-19 1`, wac-graph `wac-graph 0.12.0`, rustc `rustc 1.95.0 (x)`)"]
    );
    assert!(
        next.contains("keep the old artifact and run `pylon diff"),
        "{next}"
    );
}

#[test]
fn a_changed_lockfile_is_listed_capped_and_comes_first_in_the_advice() {
    let c = ctx(vec![tool(
        "rustc",
        Some("rustc 1.0.0 (x)"),
        Some("rustc 1.95.0 (y)"),
    )]);
    let mut changes: Vec<LockChange> = (0..7)
        .map(|i| LockChange {
            name: format!("dep{i}"),
            old: Some("1.0.0".into()),
            new: Some("1.1.0".into()),
        })
        .collect();
    changes[0].old = None;
    changes[1].new = None;
    let rev = "0123456789abcdef0123456789abcdef01234567";
    let cap = ArtifactContext {
        kind: ArtifactKind::Cap,
        lockfile: Some(LockfileCheck::Differs {
            rev: rev.into(),
            dir: "/src/cap".into(),
            changes,
        }),
    };
    let (lines, next) = scan(&c, &cap);
    assert!(
        lines.contains(
            &"Cargo.lock differs from the pinned rev 0123456789ab: dep0 1.1.0 added, dep1 1.0.0 removed, \
              dep2 1.0.0 -> 1.1.0, dep3 1.0.0 -> 1.1.0, dep4 1.0.0 -> 1.1.0, and 2 more"
                .to_string()
        ),
        "{lines:#?}"
    );
    assert!(
        lines.contains(
            &"toolchain: rustc recorded `rustc 1.0.0 (x)`, this machine has `rustc 1.95.0 (y)`"
                .to_string()
        ),
        "{lines:#?}"
    );
    assert!(
        next.starts_with(&format!(
            "restore the pinned Cargo.lock (`git show {rev}:Cargo.lock > Cargo.lock` in /src/cap)"
        )),
        "{next}"
    );

    // Without the lockfile change, the toolchain is the next thing to try.
    let cap = ArtifactContext {
        kind: ArtifactKind::Cap,
        lockfile: Some(LockfileCheck::AsPinned { rev: rev.into() }),
    };
    let (lines, next) = scan(&c, &cap);
    assert!(lines.contains(&"Cargo.lock: as pinned at 0123456789ab".to_string()));
    assert!(
        next.starts_with("install `rustc 1.0.0 (x)` (`rustup toolchain install 1.0.0`"),
        "{next}"
    );

    // JSON carries the same.
    let d = diagnose_drift(None, EMPTY_MODULE, &c, &cap);
    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(v["kind"], "scan");
    assert_eq!(v["lockfile"]["state"], "as-pinned");
    assert_eq!(v["toolchain"][0]["recorded"], "rustc 1.0.0 (x)");
    assert_eq!(v["next"], next);
}
