//! Shims of the real default caps: names, imports, method tables, determinism.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use common::*;
use wit_bindgen_core::wit_parser::{FunctionKind, Resolve, WorldItem};

/// Every function of the interfaces the cap world exports: (interface, function).
fn wit_functions(wit: &Path) -> Vec<(String, wit_bindgen_core::wit_parser::Function)> {
    let mut resolve = Resolve::default();
    let (pkg, _) = resolve.push_dir(wit).unwrap();
    let world = resolve.select_world(&[pkg], None).unwrap();
    let mut out = Vec::new();
    for (_, item) in resolve.worlds[world].exports.iter() {
        if let WorldItem::Interface { id, .. } = item {
            let iface = &resolve.interfaces[*id];
            for (_, f) in iface.functions.iter() {
                out.push((iface.name.clone().unwrap(), f.clone()));
            }
        }
    }
    out
}

#[test]
fn module_names_and_imports() {
    let expect: [(&str, &[&str]); 3] = [
        ("zlib", &["pylon:zlib/zlib@0.1.0"]),
        ("zstd", &["pylon:zstd/zstd@0.1.0"]),
        (
            "hashing",
            &["pylon:hashing/hashing@0.1.0", "pylon:hashing/kdf@0.1.0"],
        ),
    ];
    for (cap, imports) in expect {
        let shim = pylon_shim::generate_shim(cap, &cap_wit(cap), None).unwrap();
        assert_eq!(shim.module_name(), format!("_pylon_{cap}"));
        assert_eq!(shim.imports(), imports);
        let names: Vec<&str> = shim.files().keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                format!("_pylon_{cap}module.c"),
                "setup.flags".to_string(),
                format!("shim_{cap}.c"),
                format!("shim_{cap}.h"),
                format!("shim_{cap}_component_type.o"),
            ]
        );
        let src = shim.module_source();
        assert!(src.contains(&format!("PyInit__pylon_{cap}(void)")));
        assert!(src.contains(&format!("#include \"shim_{cap}.h\"")));
        for i in imports {
            let iface = i.split('/').nth(1).unwrap().split('@').next().unwrap();
            assert!(
                src.contains(&format!("PyModule_New(\"_pylon_{cap}.{iface}\")")),
                "{cap}: no namespace for {iface}"
            );
        }
    }
}

#[test]
fn every_wit_function_is_in_a_method_table() {
    for cap in DEFAULT_CAPS {
        let shim = pylon_shim::generate_shim(cap, &cap_wit(cap), None).unwrap();
        let src = shim.module_source();
        let funcs = wit_functions(&cap_wit(cap));
        assert!(!funcs.is_empty());
        for (iface, f) in funcs {
            match f.kind {
                FunctionKind::Constructor(_) => {
                    // The class call: a tp_new slot.
                    assert!(
                        src.contains("{Py_tp_new, (void *)pylon_fn_"),
                        "{cap}: {}",
                        f.name
                    );
                }
                _ => {
                    let py = f.item_name().replace('-', "_");
                    let entry = format!("{{\"{py}\", (PyCFunction)(void (*)(void))pylon_fn_");
                    assert!(
                        src.contains(&entry),
                        "{cap}: {iface}.{} has no method table entry",
                        f.name
                    );
                    if matches!(f.kind, FunctionKind::Static(_)) {
                        assert!(src.contains(&format!("{entry}pylon_{}_{}_static_", cap, iface)));
                    }
                }
            }
        }
    }
}

#[test]
fn python_names_follow_the_contract() {
    let zlib = pylon_shim::generate_shim("zlib", &cap_wit("zlib"), None).unwrap();
    let src = zlib.module_source();
    for needle in [
        "\"FLUSH_MODE_FINISH\", 4ULL",
        "\"ERROR_KIND_VALUE\", 1ULL",
        "\"STRATEGY_HUFFMAN_ONLY\", 2ULL",
        "\"_pylon_zlib.zlib.Compressor\"",
        "\"_pylon_zlib.zlib.Decompressor\"",
        "\"_pylon_zlib.zlib.Error\"",
        "PyModule_AddObjectRef(m, \"zlib\", ns)",
        "PyModule_AddObjectRef(ns, \"Compressor\"",
        "PyModule_AddObjectRef(ns, \"Error\"",
        "PyErr_NewExceptionWithDoc(\"_pylon_zlib.WitError\"",
        "{\"close\", pylon_close_",
        "{\"unused_data\", ",
        "\"mem_level\"",
    ] {
        assert!(src.contains(needle), "zlib: missing {needle}");
    }
    let zstd = pylon_shim::generate_shim("zstd", &cap_wit("zstd"), None).unwrap();
    let src = zstd.module_source();
    for needle in [
        "\"_pylon_zstd.zstd.CompressOptions\"",
        "\"_pylon_zstd.zstd.FrameParams\"",
        "\"_pylon_zstd.zstd.LevelRange\"",
        "PyModule_AddObjectRef(ns, \"CompressOptions\"",
        "\"END_DIRECTIVE_FLUSH_FRAME\", 2ULL",
        "\"ERROR_KIND_ALREADY_FINISHED\", 5ULL",
        "{\"content_size\", ",
    ] {
        assert!(src.contains(needle), "zstd: missing {needle}");
    }
    let hashing = pylon_shim::generate_shim("hashing", &cap_wit("hashing"), None).unwrap();
    let src = hashing.module_source();
    for needle in [
        "\"_pylon_hashing.hashing\"",
        "\"_pylon_hashing.kdf\"",
        "\"ALGORITHM_XXH64\", 15ULL",
        "\"ALGORITHM_BLAKE3\", 0ULL",
        "\"_pylon_hashing.hashing.Hasher\"",
        "{\"pbkdf2_hmac\", ",
        "{\"argon2id\", ",
    ] {
        assert!(src.contains(needle), "hashing: missing {needle}");
    }
    // `use hashing.{error}` in kdf: the same type object under kdf.Error.
    let kdf = src.split("/* pylon:hashing/kdf@0.1.0 */").nth(1).unwrap();
    assert!(kdf.contains(
        "PyModule_AddObjectRef(ns, \"Error\", (PyObject *)pylon_stype_pylon_hashing_hashing_error)"
    ));
}

#[test]
fn setup_flags_link_the_component_type_object() {
    for cap in DEFAULT_CAPS {
        let shim = pylon_shim::generate_shim(cap, &cap_wit(cap), None).unwrap();
        let flags = String::from_utf8(shim.files()["setup.flags"].clone()).unwrap();
        let tokens: Vec<&str> = flags
            .lines()
            .map(|l| l.split('#').next().unwrap().trim())
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(
            tokens,
            [format!(
                "-Wl,$(srcdir)/Modules/_pylon_ext/_pylon_{cap}/shim_{cap}_component_type.o"
            )]
        );
        let obj = &shim.files()[&format!("shim_{cap}_component_type.o")];
        assert_eq!(&obj[..4], b"\0asm");
        let section = format!("component-type:shim-{cap}");
        assert!(obj.windows(section.len()).any(|w| w == section.as_bytes()));
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn output_is_deterministic() {
    for cap in DEFAULT_CAPS {
        let a = pylon_shim::generate_shim(cap, &cap_wit(cap), None).unwrap();
        let b = pylon_shim::generate_shim(cap, &cap_wit(cap), None).unwrap();
        assert_eq!(a, b, "{cap}: two generations differ");

        let elsewhere = tempfile::tempdir().unwrap();
        let copy = elsewhere.path().join("some/other/place/wit");
        copy_dir(&cap_wit(cap), &copy);
        let c = pylon_shim::generate_shim(cap, &copy, None).unwrap();
        assert_eq!(
            a.files(),
            c.files(),
            "{cap}: output depends on the WIT's location"
        );

        for (name, bytes) in a.files() {
            let text = String::from_utf8_lossy(bytes);
            for path in [
                elsewhere.path().to_string_lossy().into_owned(),
                env!("CARGO_MANIFEST_DIR").to_string(),
            ] {
                assert!(!text.contains(&path), "{cap}: {name} embeds {path}");
            }
        }
    }
}

#[test]
fn write_to_writes_and_replaces_the_module_directory() {
    let root = tempfile::tempdir().unwrap();
    let ext = root.path().join("cpython-ext");
    let zlib = pylon_shim::generate_shim("zlib", &cap_wit("zlib"), None).unwrap();
    let dir = zlib.write_to(&ext).unwrap();
    assert_eq!(dir, ext.join("_pylon_zlib"));
    assert_eq!(&read_tree(&dir), zlib.files());

    // A stale file from an earlier generation disappears; nothing is left behind.
    fs::write(dir.join("stale.c"), "int x;").unwrap();
    let again = zlib.write_to(&ext).unwrap();
    assert_eq!(&read_tree(&again), zlib.files());
    let entries: Vec<String> = fs::read_dir(&ext)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, ["_pylon_zlib"]);

    // The layout pylon build reads: a module directory with .c sources and setup.flags.
    let modules = pylon_cpython::ext::scan_ext_modules(&ext).unwrap();
    assert_eq!(modules.len(), 1);
    assert_eq!(modules[0].name, "_pylon_zlib");
    let setup = pylon_cpython::ext::setup_local(&modules);
    assert!(setup.contains(
        "_pylon_zlib _pylon_ext/_pylon_zlib/_pylon_zlibmodule.c _pylon_ext/_pylon_zlib/shim_zlib.c -Wl,$(srcdir)/Modules/_pylon_ext/_pylon_zlib/shim_zlib_component_type.o"
    ), "{setup}");
}
