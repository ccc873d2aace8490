//! Diagnosis of real cap builds with injected non-determinism: each case must
//! be named with the right cause and location.

mod fixtures;

use std::thread::sleep;
use std::time::Duration;

use fixtures::*;
use pylon_diagnose::{diff_wasm, Cause, Detail, DiffReport, UnitKind};

fn root_causes(r: &DiffReport) -> Vec<Cause> {
    r.causes
        .iter()
        .filter(|c| !c.knock_on)
        .map(|c| c.cause)
        .collect()
}

#[test]
fn same_source_in_two_paths_is_identical() {
    let root = tempdir();
    let files = cap_files("same", "", "", None);
    let (_, a) = build_at(root.path(), "one", "same", &files);
    let (_, b) = build_at(root.path(), "a/much/deeper/second", "same", &files);
    let r = diff_wasm(&a, &b).unwrap();
    assert!(r.identical, "{:#?}", r.causes);
    assert!(r.causes.is_empty() && r.differences.is_empty());
}

#[test]
fn embedded_build_path_is_named_with_both_paths_and_its_data_segment() {
    let root = tempdir();
    let files = cap_files("path", EMBEDS_PATH, "", None);
    let (dir_a, a) = build_at(root.path(), "short", "path", &files);
    let (dir_b, b) = build_at(root.path(), "a-longer/checkout-dir", "path", &files);
    let r = diff_wasm(&a, &b).unwrap();
    assert_eq!(root_causes(&r), [Cause::EmbeddedPath], "{:#?}", r.causes);
    let d = &r.differences[0];
    assert_eq!(d.cause, Cause::EmbeddedPath);
    assert_eq!(d.evidence_a, [dir_a.display().to_string()]);
    assert_eq!(d.evidence_b, [dir_b.display().to_string()]);
    // Inside the cap component: its core module, data section.
    assert_eq!(d.location.section, "data");
    assert_eq!(d.location.units.len(), 1, "{:?}", d.location);
    assert_eq!(d.location.units[0].kind, UnitKind::Module);
    let Detail::DataSegments { segments, .. } = &d.detail else {
        panic!("{:?}", d.detail)
    };
    let range = &segments[0].ranges[0];
    assert!(
        range.address.is_some() && range.len_b > range.len_a,
        "{range:?}"
    );
    assert!(
        r.causes[0].line.contains(&dir_a.display().to_string()),
        "{}",
        r.causes[0].line
    );
    // The longer path moved everything after it: explained as a knock-on.
    assert!(r
        .causes
        .iter()
        .skip(1)
        .all(|c| c.knock_on && c.cause == Cause::CodeData));
}

#[test]
fn embedded_build_time_is_a_timestamp_with_both_values() {
    let root = tempdir();
    let files = cap_files("clock", EMBEDS_TIME_LIB, "", Some(EMBEDS_TIME_BUILD_RS));
    let dir = root.path().join("clock");
    std::fs::create_dir_all(&dir).unwrap();
    write_files(&dir, &files);
    // Same checkout, two target dirs: remapping makes the paths equal, so only the
    // time differs. The stamp has seconds; wait for the next second.
    let a = build(&dir, "clock", Some(root.path().join("target-1")));
    sleep(Duration::from_millis(1100));
    let b = build(&dir, "clock", Some(root.path().join("target-2")));
    let r = diff_wasm(&a, &b).unwrap();
    assert_eq!(root_causes(&r), [Cause::Timestamp], "{:#?}", r.causes);
    let d = &r.differences[0];
    assert_eq!(d.location.section, "data");
    let stamp = |ev: &[String]| {
        assert_eq!(ev.len(), 1, "{ev:?}");
        assert!(ev[0].len() == 19 && ev[0].as_bytes()[4] == b'-', "{ev:?}");
    };
    stamp(&d.evidence_a);
    stamp(&d.evidence_b);
    assert_ne!(d.evidence_a, d.evidence_b);
}

#[test]
fn different_opt_level_is_code_in_the_code_section() {
    let root = tempdir();
    let (_, a) = build_at(
        root.path(),
        "o3",
        "opt",
        &cap_files("opt", "", "opt-level = 3", None),
    );
    let (_, b) = build_at(
        root.path(),
        "o1",
        "opt",
        &cap_files("opt", "", "opt-level = 1", None),
    );
    let r = diff_wasm(&a, &b).unwrap();
    let causes = root_causes(&r);
    assert!(causes.contains(&Cause::CodeData), "{:#?}", r.causes);
    assert!(
        !causes.contains(&Cause::EmbeddedPath)
            && !causes.contains(&Cause::Timestamp)
            && !causes.contains(&Cause::Toolchain)
    );
    let code = r
        .differences
        .iter()
        .find(|d| d.location.section == "code" && !d.knock_on)
        .expect("a code difference");
    assert_eq!(code.cause, Cause::CodeData);
    let Detail::FunctionBodies {
        differing,
        functions,
        count_a,
        count_b,
        only_in_a,
        only_in_b,
    } = &code.detail
    else {
        panic!("{:?}", code.detail)
    };
    assert!(*differing > 0 || count_a != count_b, "{:?}", code.detail);
    // Functions are named from the name section.
    let named = functions.iter().any(|f| f.name.is_some())
        || only_in_a
            .iter()
            .chain(only_in_b)
            .any(|n| !n.starts_with('#'));
    assert!(named, "{:?}", code.detail);
}

/// A composed artifact: an outer component holding two caps as nested
/// components, named in its component-name section as a composition names them.
fn compose(caps: &[(&str, &[u8])]) -> Vec<u8> {
    use wasm_encoder::{Component, ComponentNameSection, ComponentSectionId, NameMap, RawSection};
    let mut outer = Component::new();
    let mut names = NameMap::new();
    for (i, (name, bytes)) in caps.iter().enumerate() {
        outer.section(&RawSection {
            id: ComponentSectionId::Component as u8,
            data: bytes,
        });
        names.append(i as u32, name);
    }
    let mut section = ComponentNameSection::new();
    section.component("pylon");
    section.components(&names);
    outer.section(&section);
    outer.finish()
}

#[test]
fn composed_artifact_names_the_nested_cap_that_changed() {
    let root = tempdir();
    let (_, steady) = build_at(
        root.path(),
        "steady",
        "steady",
        &cap_files("steady", "", "", None),
    );
    let files = cap_files("clock", EMBEDS_TIME_LIB, "", Some(EMBEDS_TIME_BUILD_RS));
    let dir = root.path().join("clock");
    std::fs::create_dir_all(&dir).unwrap();
    write_files(&dir, &files);
    let clock_a = build(&dir, "clock", Some(root.path().join("t1")));
    sleep(Duration::from_millis(1100));
    let clock_b = build(&dir, "clock", Some(root.path().join("t2")));

    let a = compose(&[("steady", &steady), ("clock", &clock_a)]);
    let b = compose(&[("steady", &steady), ("clock", &clock_b)]);
    let r = diff_wasm(&a, &b).unwrap();
    assert_eq!(root_causes(&r), [Cause::Timestamp], "{:#?}", r.causes);
    let d = &r.differences[0];
    let path: Vec<(UnitKind, Option<&str>)> = d
        .location
        .units
        .iter()
        .map(|u| (u.kind, u.name.as_deref()))
        .collect();
    assert_eq!(
        path[0],
        (UnitKind::Component, Some("clock")),
        "{:?}",
        d.location
    );
    assert_eq!(path[1].0, UnitKind::Module);
    assert_eq!(d.location.units[0].index, 1);
    assert!(
        r.causes[0]
            .line
            .contains("component[1] \"clock\" › module[0]"),
        "{}",
        r.causes[0].line
    );
    // The unchanged cap is never reported.
    assert!(r
        .differences
        .iter()
        .all(|d| d.location.units[0].name.as_deref() == Some("clock")));
}
