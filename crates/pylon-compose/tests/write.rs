use std::path::{Path, PathBuf};

use pylon_compose::write_composition;

fn temp_entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(".pylon-tmp"))
        })
        .collect()
}

#[test]
fn writes_the_artifact_and_a_relative_link() {
    let root = tempfile::tempdir().expect("tempdir");
    let build = root.path().join("build");
    let default = build.join("default");
    let link = build.join("pylon.wasm");

    let written = write_composition(b"first", &default, &link).expect("writes");
    assert_eq!(written, default.join("pylon.wasm"));
    assert_eq!(std::fs::read(&written).expect("read"), b"first");
    assert_eq!(
        std::fs::read_link(&link).expect("is a symlink"),
        PathBuf::from("default/pylon.wasm")
    );
    assert_eq!(std::fs::read(&link).expect("read through link"), b"first");

    // Re-pointing an existing link at another profile.
    let other = build.join("other");
    write_composition(b"second", &other, &link).expect("writes");
    assert_eq!(
        std::fs::read_link(&link).expect("is a symlink"),
        PathBuf::from("other/pylon.wasm")
    );
    assert_eq!(std::fs::read(&link).expect("read through link"), b"second");
    assert_eq!(
        std::fs::read(default.join("pylon.wasm")).expect("read"),
        b"first"
    );

    // Overwriting the artifact the link already points at.
    write_composition(b"third", &other, &link).expect("writes");
    assert_eq!(std::fs::read(&link).expect("read through link"), b"third");

    for dir in [&build, &default, &other] {
        assert!(temp_entries(dir).is_empty(), "{:?}", temp_entries(dir));
    }
}

#[test]
fn a_link_elsewhere_is_relative_and_a_plain_file_is_replaced() {
    let root = tempfile::tempdir().expect("tempdir");
    let profile = root.path().join("out").join("release");
    let link_dir = root.path().join("links");
    std::fs::create_dir_all(&link_dir).expect("mkdir");
    let link = link_dir.join("pylon.wasm");
    std::fs::write(&link, b"a regular file").expect("write");

    write_composition(b"bytes", &profile, &link).expect("writes");
    assert_eq!(
        std::fs::read_link(&link).expect("is a symlink"),
        PathBuf::from("../out/release/pylon.wasm")
    );
    assert_eq!(std::fs::read(&link).expect("read through link"), b"bytes");
    assert!(temp_entries(&link_dir).is_empty());
    assert!(temp_entries(&profile).is_empty());
}
