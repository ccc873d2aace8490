//! Bad input: every failure names what is wrong and where.

use std::fs;
use std::path::Path;

use pylon_shim::{generate_shim, ShimError};

fn wit_dir(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("world.wit"), text).unwrap();
    dir
}

fn err(dir: &Path, world: Option<&str>) -> ShimError {
    generate_shim("bad", dir, world).expect_err("generation should fail")
}

#[test]
fn missing_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let e = err(&missing, None);
    assert!(matches!(e, ShimError::NoWitDir { .. }), "{e:?}");
    assert!(
        e.to_string().contains(&missing.display().to_string()),
        "{e}"
    );
}

#[test]
fn syntax_error_names_the_file_and_line() {
    let dir = wit_dir("package a:b;\ninterface x {\n  f: func() -> ;\n}\nworld w { export x; }\n");
    let e = err(dir.path(), None);
    assert!(matches!(e, ShimError::Wit { .. }), "{e:?}");
    let msg = e.to_string();
    let file = dir.path().join("world.wit");
    assert!(msg.contains(&format!("{}:3:", file.display())), "{msg}");
}

#[test]
fn stream_is_unsupported_and_named() {
    let dir = wit_dir(
        "package a:b;\ninterface x {\n  ok: func() -> u32;\n  pipe: func() -> stream<u8>;\n}\nworld w { export x; }\n",
    );
    match err(dir.path(), None) {
        ShimError::Unsupported {
            cap,
            function,
            what,
        } => {
            assert_eq!(cap, "bad");
            assert_eq!(function, "x.pipe");
            assert!(what.contains("stream"), "{what}");
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn future_and_option_option_are_unsupported() {
    let dir = wit_dir(
        "package a:b;\ninterface x {\n  later: func(f: future<string>);\n}\nworld w { export x; }\n",
    );
    assert!(matches!(
        err(dir.path(), None),
        ShimError::Unsupported { ref function, ref what, .. } if function == "x.later" && what.contains("future")
    ));
    let dir = wit_dir(
        "package a:b;\ninterface x {\n  maybe: func() -> option<option<u32>>;\n}\nworld w { export x; }\n",
    );
    let e = err(dir.path(), None);
    assert!(
        matches!(e, ShimError::Unsupported { ref function, .. } if function == "x.maybe"),
        "{e:?}"
    );
    assert!(e.to_string().contains("option<option<u32>>"), "{e}");
}

#[test]
fn a_method_named_close_is_unsupported() {
    let dir = wit_dir(
        "package a:b;\ninterface x {\n  resource file {\n    close: func();\n  }\n}\nworld w { export x; }\n",
    );
    let e = err(dir.path(), None);
    assert!(
        matches!(e, ShimError::Unsupported { ref function, .. } if function == "File.close"),
        "{e:?}"
    );
}

#[test]
fn ambiguous_world() {
    let dir = wit_dir(
        "package a:b;\ninterface x {\n  f: func();\n}\nworld one { export x; }\nworld two { export x; }\n",
    );
    let e = err(dir.path(), None);
    match &e {
        ShimError::AmbiguousWorld { worlds, dir: d, .. } => {
            assert_eq!(worlds, &["one", "two"]);
            assert_eq!(d, dir.path());
        }
        e => panic!("{e:?}"),
    }
    assert!(e.to_string().contains(&dir.path().display().to_string()));
    // Naming the world resolves it; naming an absent one is an error naming it.
    let shim = generate_shim("bad", dir.path(), Some("two")).unwrap();
    assert_eq!(shim.imports(), ["a:b/x"]);
    let e = err(dir.path(), Some("three"));
    assert!(e.to_string().contains("three"), "{e}");
}

#[test]
fn world_without_exports_and_bad_cap_names() {
    let dir = wit_dir("package a:b;\ninterface x {\n  f: func();\n}\nworld w { import x; }\n");
    assert!(err(dir.path(), None)
        .to_string()
        .contains("exports no interface"));
    let dir = wit_dir("package a:b;\ninterface x {\n  f: func();\n}\nworld w { export x; }\n");
    for bad in ["", "Zlib", "1x", "a b", "a-", "a__b"] {
        assert!(
            matches!(
                generate_shim(bad, dir.path(), None),
                Err(ShimError::InvalidCapName { .. })
            ),
            "{bad:?}"
        );
    }
    let shim = generate_shim("my-cap_2", dir.path(), None).unwrap();
    assert_eq!(shim.module_name(), "_pylon_my_cap_2");
}
