//! This repository's caps, found by looking, agree with the lock: every in-tree cap
//! has a descriptor, and its caps-manifest.toml entry records the descriptor's target
//! and artifact and exactly the exports of its WIT world (what `manifest regen` writes).

mod common;

use pylon_caps::layout::find_caps;
use pylon_caps::regen::describe;

#[test]
fn every_in_tree_cap_entry_is_what_its_descriptor_and_wit_say() {
    let root = common::repo_root();
    let manifest = pylon_manifest::read_manifest(&root.join("caps-manifest.toml")).unwrap();
    let caps = find_caps(&manifest, &root.join("no-git-caps")).unwrap();
    assert!(!caps.is_empty());
    for entry in caps {
        assert!(entry.in_manifest, "{}: in caps/ but not pinned", entry.name);
        let cap = manifest.cap(&entry.name).unwrap();
        if !matches!(cap.repo, pylon_manifest::Repo::InTree(_)) {
            continue;
        }
        let described = describe(&entry.name, &entry.dir)
            .unwrap()
            .unwrap_or_else(|| panic!("{}: no cap.toml", entry.dir.display()));
        assert_eq!(cap.exports, described.exports, "{}", entry.name);
        assert_eq!(cap.target, described.target, "{}", entry.name);
        assert_eq!(
            cap.artifact.to_str(),
            Some(described.artifact.as_str()),
            "{}",
            entry.name
        );
        assert!(entry.smoke_dir.is_some(), "{}: no smoke/", entry.name);
        assert!(
            entry.wasmtime_test.is_some(),
            "{}: no wasmtime_test.rs",
            entry.name
        );
    }
}
