//! `cpython-ext/_pylon_snapshot/component_type.h` is the component-type custom section
//! of `snapshot.wit`, as wit-component encodes it (what wit-bindgen would embed). It is
//! committed rather than made by the build so that the CPython build needs no WIT
//! tooling; this test proves it is the encoding of the committed WIT.

use std::fmt::Write as _;
use std::path::PathBuf;

const SECTION: &str = "component-type:pylon-snapshot";

fn ext_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../cpython-ext/_pylon_snapshot")
}

/// The header text for the encoded section: one `__asm__` statement that places the
/// bytes in a wasm custom section (clang turns a `section` attribute on data into a
/// data segment, not a custom section).
fn header(bytes: &[u8]) -> String {
    let mut text = String::from(
        "/* Generated from snapshot.wit by crates/pylon-cpython/tests/snapshot_world.rs\n \
         * (PYLON_REGEN_SNAPSHOT_WORLD=1 cargo test -p pylon-cpython --test snapshot_world);\n \
         * do not edit. The component-type section that declares python.wasm's\n \
         * `pylon-snapshot-initialize` export to wasm-component-ld. */\n",
    );
    writeln!(
        text,
        "__asm__(\".section \\\".custom_section.{SECTION}\\\",\\\"\\\",@\\n\""
    )
    .unwrap();
    for line in bytes.chunks(16) {
        let list: Vec<String> = line.iter().map(|b| format!("{b:#04x}")).collect();
        writeln!(text, "        \".byte {}\\n\"", list.join(",")).unwrap();
    }
    text.push_str("        \".text\\n\");\n");
    text
}

#[test]
fn snapshot_component_type_is_current() {
    let dir = ext_dir();
    let wit_path = dir.join("snapshot.wit");
    let wit = std::fs::read_to_string(&wit_path).unwrap();
    let mut resolve = wit_parser::Resolve::default();
    let pkg = resolve.push_str(&wit_path, &wit).unwrap();
    let world = resolve.select_world(&[pkg], Some("snapshot")).unwrap();
    let bytes = wit_component::metadata::encode(
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
        None,
        false,
    )
    .unwrap();
    let expected = header(&bytes);
    let committed = dir.join("component_type.h");
    if std::env::var_os("PYLON_REGEN_SNAPSHOT_WORLD").is_some() {
        std::fs::write(&committed, &expected).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&committed).unwrap_or_default(),
        expected,
        "{} is stale: rerun with PYLON_REGEN_SNAPSHOT_WORLD=1",
        committed.display()
    );
}
