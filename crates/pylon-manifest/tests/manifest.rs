//! Parsing, validation and format-preserving edits of caps-manifest.toml.

use std::path::Path;

use pylon_manifest::*;

const ZERO: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn good() -> String {
    format!(
        r#"# header comment
schema = 1
pylon_sha256 = "{ZERO}"

[toolchain]
rustc = "rustc 1.95.0"

[[cap]]
name = "zlib"
repo = "caps/zlib"   # in-tree
rev = "0123456789abcdef0123456789abcdef01234567"
target = "wasm32-wasip2"
artifact = "target/component/zlib.wasm"
sha256 = "{d}"
size = 12
exports = ["pylon:zlib/zlib@0.1.0"]

[[cap]]
name = "v86-posix"
local_dir = "v86"
repo = "https://example.invalid/v86.git"
rev = "0000000000000000000000000000000000000000"
target = ""
artifact = "out/v86.wasm"
sha256 = "{ZERO}"
exports = []
"#,
        d = "AB".repeat(32)
    )
}

#[test]
fn parses_every_field() {
    let m = parse_manifest(Path::new("dir/caps-manifest.toml"), &good()).unwrap();
    assert_eq!(m.schema, 1);
    assert!(m.pylon_sha256.is_placeholder());
    assert_eq!(m.toolchain.rustc.as_deref(), Some("rustc 1.95.0"));
    assert_eq!(m.root(), Path::new("dir"));
    let zlib = m.cap("zlib").unwrap();
    assert_eq!(zlib.repo, Repo::InTree("caps/zlib".into()));
    assert_eq!(zlib.target, Target::Wasip2);
    assert_eq!(
        zlib.sha256.pinned().unwrap().as_str(),
        "ab".repeat(32),
        "stored lowercase"
    );
    assert_eq!(zlib.size, Some(12));
    assert_eq!(zlib.exports, vec!["pylon:zlib/zlib@0.1.0"]);
    assert_eq!(zlib.line, 8);
    assert!(!zlib.is_placeholder());
    let v86 = m.cap("v86-posix").unwrap();
    assert_eq!(v86.dir_name(), "v86");
    assert_eq!(v86.target, Target::Make);
    assert!(matches!(v86.repo, Repo::Git(_)));
    assert!(v86.is_placeholder());
    assert_eq!(
        Manifest {
            path: "m.toml".into(),
            ..m
        }
        .root(),
        Path::new(".")
    );
}

#[test]
fn repo_classification() {
    assert_eq!(Repo::classify("caps/x"), Repo::InTree("caps/x".into()));
    // A ':' after the first '/' is part of a path, as git reads it.
    assert_eq!(Repo::classify("caps/a:b"), Repo::InTree("caps/a:b".into()));
    for remote in [
        "file:///srv/x",
        "https://h/x.git",
        "/abs/x",
        "../x-wasm",
        "git@h:x.git",
        "user@host:path/x",
        "host:x.git",
    ] {
        assert!(matches!(Repo::classify(remote), Repo::Git(_)), "{remote}");
    }
}

fn problems(text: &str) -> Vec<String> {
    match parse_manifest(Path::new("m.toml"), text) {
        Ok(_) => vec![],
        Err(ManifestError::Invalid { diagnostics }) => diagnostics
            .items
            .iter()
            .map(|d| format!("{}:{} {}: {}", d.line, d.column, d.field, d.message))
            .collect(),
        Err(e) => panic!("unexpected {e}"),
    }
}

#[test]
fn reports_every_problem_at_once_with_positions() {
    let text = good()
        .replace("schema = 1", "schema = 3")
        .replace("target = \"wasm32-wasip2\"", "target = \"wasm32-unknown\"")
        .replace("local_dir = \"v86\"", "local_dir = \"a/b\"")
        .replace("size = 12", "size = -1")
        .replace("exports = []", "exports = [\"not an interface\"]");
    let p = problems(&text);
    assert_eq!(p.len(), 5, "{p:#?}");
    assert!(
        p[0].starts_with("2:10 schema: unsupported schema version 3"),
        "{p:#?}"
    );
    assert!(
        p[1].starts_with("12:10 cap \"zlib\".target: unknown target \"wasm32-unknown\""),
        "{p:#?}"
    );
    assert!(p[2].starts_with("15:8 cap \"zlib\".size"), "{p:#?}");
    assert!(
        p[3].starts_with("20:13 cap \"v86-posix\".local_dir"),
        "{p:#?}"
    );
    assert!(
        p[4].starts_with("26:12 cap \"v86-posix\".exports"),
        "{p:#?}"
    );
}

#[test]
fn rejects_bad_digests_revs_names_and_types() {
    let cases = [
        (
            good().replace(&"AB".repeat(32), &"AB".repeat(31)),
            "sha256: invalid sha256: expected 64 hex digits, found 62 characters",
        ),
        (
            good().replace(&"AB".repeat(32), &("AB".repeat(31) + "XY")),
            "found 'X' at position 63",
        ),
        (
            good().replace(
                "0123456789abcdef0123456789abcdef01234567",
                "0123456789abcdef",
            ),
            "rev: invalid git revision: expected 40 hex digits",
        ),
        (
            good().replace("name = \"zlib\"", "name = \"../evil\""),
            "cap[0].name: a cap name is letters",
        ),
        (
            good().replace("name = \"zlib\"", "name = 5"),
            "cap[0].name: expected a string, found integer",
        ),
        (
            good().replace(
                "artifact = \"target/component/zlib.wasm\"",
                "artifact = \"/etc/passwd\"",
            ),
            "artifact: must be a relative path",
        ),
        (
            good().replace("[toolchain]", "toolchain = 1\n[x]"),
            "toolchain: expected a table",
        ),
        (good().replace("schema = 1\n", ""), "schema: missing"),
        (
            good().replace("[[cap]]\nname = \"v86-posix\"", "[[cap]]\nname = \"zlib\""),
            "duplicate cap name (first defined by the [[cap]] at line 8)",
        ),
        ("schema = 1\npylon_sha256 = \"".to_string(), "toml: "),
    ];
    for (text, want) in cases {
        let p = problems(&text);
        assert!(
            p.iter().any(|l| l.contains(want)),
            "want {want:?} in {p:#?}"
        );
    }
}

#[test]
fn diagnostics_render_file_line_column_field() {
    let err = parse_manifest(Path::new("caps-manifest.toml"), "schema = \"one\"\n").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("caps-manifest.toml:1:10: schema: expected an integer"),
        "{text}"
    );
    assert!(
        text.contains("caps-manifest.toml:1:1: pylon_sha256: missing"),
        "{text}"
    );
}

#[test]
fn editor_rewrites_pins_and_keeps_comments_and_layout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("caps-manifest.toml");
    std::fs::write(&path, good()).unwrap();
    let (mut editor, _) = ManifestEditor::open(&path).unwrap();
    let update = CapUpdate {
        rev: Rev::parse(&"c".repeat(40)).unwrap(),
        sha256: Sha256::parse(&"d".repeat(64)).unwrap(),
        size: 99,
    };
    editor.set_cap("zlib", &update).unwrap();
    editor.set_toolchain_rustc("rustc 9.9.9");
    assert!(matches!(
        editor.set_cap("nope", &update),
        Err(ManifestError::UnknownCap { .. })
    ));
    editor.save().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let expected = good()
        .replace("0123456789abcdef0123456789abcdef01234567", &"c".repeat(40))
        .replace(&"AB".repeat(32), &"d".repeat(64))
        .replace("size = 12", "size = 99")
        .replace("rustc = \"rustc 1.95.0\"", "rustc = \"rustc 9.9.9\"");
    assert_eq!(text, expected, "only the pinned values changed");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temp files left: {leftovers:?}");
}

#[test]
fn write_atomic_replaces_whole_file_and_keeps_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, "old").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    write_atomic(&path, b"new content").unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "new content");
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o640
    );
    let missing_dir = dir.path().join("no/such/dir/f");
    assert!(write_atomic(&missing_dir, b"x").is_err());
}

#[test]
fn toolchain_records_every_tool() {
    let text = good().replace(
        "rustc = \"rustc 1.95.0\"",
        "rustc = \"rustc 1.95.0\"\nclang = \"clang-19 1:19.1.7-3~deb12u1\"\n\
         wasi-libc = \"wasi-libc 0.0~git20230113.4362b18-2\"\n\
         wasi-toolchain = \"sha256:3833bf2c\"\nwasmtime = \"wasmtime 48.0.8\"\n\
         wac-graph = \"wac-graph 0.9.0\"",
    );
    let m = parse_manifest(Path::new("m.toml"), &text).unwrap();
    let t = &m.toolchain;
    assert_eq!(t.rustc.as_deref(), Some("rustc 1.95.0"));
    assert_eq!(t.clang.as_deref(), Some("clang-19 1:19.1.7-3~deb12u1"));
    assert_eq!(
        t.wasi_libc.as_deref(),
        Some("wasi-libc 0.0~git20230113.4362b18-2")
    );
    assert_eq!(t.wasi_toolchain.as_deref(), Some("sha256:3833bf2c"));
    assert_eq!(t.wasmtime.as_deref(), Some("wasmtime 48.0.8"));
    assert_eq!(t.wac_graph.as_deref(), Some("wac-graph 0.9.0"));
    assert_eq!(
        t.recorded().iter().map(|(k, _)| *k).collect::<Vec<_>>(),
        TOOLCHAIN_FIELDS.to_vec()
    );
    // Every key is optional.
    let m = parse_manifest(Path::new("m.toml"), &good()).unwrap();
    assert_eq!(m.toolchain.clang, None);
    assert_eq!(m.toolchain.recorded(), vec![("rustc", "rustc 1.95.0")]);
}

#[test]
fn toolchain_rejects_wrong_types_and_unknown_keys() {
    let cases = [
        ("clang = 19", "6:9 toolchain.clang: expected a string, found integer"),
        (
            "wasi-libc = [\"x\"]",
            "6:13 toolchain.wasi-libc: expected a string, found array",
        ),
        (
            "wasmtime = true",
            "6:12 toolchain.wasmtime: expected a string, found boolean",
        ),
        (
            "wac-graph = 1.0",
            "6:13 toolchain.wac-graph: expected a string, found float",
        ),
        (
            "wac_graph = \"wac-graph 0.9.0\"",
            "6:1 toolchain.wac_graph: unknown key (expected one of: rustc, clang, wasi-libc, wasi-toolchain, wasmtime, wac-graph)",
        ),
        ("rustc = 1", "6:9 toolchain.rustc: expected a string, found integer"),
    ];
    for (line, want) in cases {
        let text = good().replace("rustc = \"rustc 1.95.0\"", line);
        let p = problems(&text);
        assert_eq!(p.len(), 1, "{line}: {p:#?}");
        assert!(p[0].starts_with(want), "{line}: want {want:?} in {p:#?}");
    }
}

#[test]
fn editor_sets_toolchain_fields_keeping_existing_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("caps-manifest.toml");
    let text = good().replace(
        "rustc = \"rustc 1.95.0\"",
        "rustc = \"rustc 1.95.0\" # made here\nclang = \"clang-19 1:19.1.7-3~deb12u1\"",
    );
    std::fs::write(&path, &text).unwrap();
    let (mut editor, _) = ManifestEditor::open(&path).unwrap();
    editor.set_toolchain_all(&Toolchain {
        rustc: Some("rustc 9.9.9".into()),
        clang: None,
        wasi_libc: Some("wasi-libc 1".into()),
        wasi_toolchain: Some("sha256:abc".into()),
        wasmtime: Some("wasmtime 48.0.8".into()),
        wac_graph: Some("wac-graph 0.9.0".into()),
    });
    assert!(editor.set_toolchain("gcc", "gcc 12").is_err());
    editor.save().unwrap();
    let m = read_manifest(&path).unwrap();
    assert_eq!(m.toolchain.rustc.as_deref(), Some("rustc 9.9.9"));
    assert_eq!(
        m.toolchain.clang.as_deref(),
        Some("clang-19 1:19.1.7-3~deb12u1"),
        "an unknown current value never deletes the recorded one"
    );
    assert_eq!(m.toolchain.wasi_libc.as_deref(), Some("wasi-libc 1"));
    assert_eq!(m.toolchain.wasi_toolchain.as_deref(), Some("sha256:abc"));
    assert_eq!(m.toolchain.wac_graph.as_deref(), Some("wac-graph 0.9.0"));
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(
        written.contains("rustc = \"rustc 9.9.9\" # made here"),
        "{written}"
    );
}

#[test]
fn rejects_checkout_directories_that_collide_or_hide_and_option_like_repos() {
    // A local_dir starting with '.' (pylon's own `.pylon-*` live beside checkouts).
    let hidden = good().replace("local_dir = \"v86\"", "local_dir = \".pylon-locks\"");
    let p = problems(&hidden);
    assert_eq!(p.len(), 1, "{p:#?}");
    assert!(
        p[0].contains(
            "v86-posix\".local_dir: must be a single directory name, not starting with '.'"
        ),
        "{p:#?}"
    );

    // A local_dir equal to another cap's name.
    let clash = good().replace("local_dir = \"v86\"", "local_dir = \"zlib\"");
    let p = problems(&clash);
    assert_eq!(p.len(), 1, "{p:#?}");
    assert!(p[0].starts_with("20:13 cap \"v86-posix\".local_dir: checkout directory \"zlib\" is already cap \"zlib\"'s (the [[cap]] at line 8)"), "{p:#?}");

    // Two caps with the same local_dir.
    let twice = good().replace(
        "repo = \"caps/zlib\"",
        "local_dir = \"v86\"\nrepo = \"caps/zlib\"",
    );
    let p = problems(&twice);
    assert_eq!(p.len(), 1, "{p:#?}");
    assert!(
        p[0].contains(
            "cap \"v86-posix\".local_dir: checkout directory \"v86\" is already cap \"zlib\"'s"
        ),
        "{p:#?}"
    );

    // A repo git would parse as an option.
    let option = good().replace(
        "https://example.invalid/v86.git",
        "--upload-pack=touch /tmp/x",
    );
    let p = problems(&option);
    assert_eq!(p.len(), 1, "{p:#?}");
    assert!(
        p[0].contains("v86-posix\".repo: must not start with '-'"),
        "{p:#?}"
    );
}
