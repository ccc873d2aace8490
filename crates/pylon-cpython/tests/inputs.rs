//! Cache-key sensitivity, the cpython-ext wiring point and the patch sets.

use std::path::{Path, PathBuf};
use std::process::Command;

use pylon_cpython::build::{apply_patches, BuildError, BuildInputs, Stage};
use pylon_cpython::ext::{list_patches, scan_ext_modules, setup_local, InputFile};
use pylon_cpython::profile::{list_profiles, load_profile};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn inputs() -> BuildInputs {
    BuildInputs {
        recipe: "pylon-cpython/1".into(),
        profile_sha256: "a".repeat(64),
        tarball: "python3.13_3.13.15.orig.tar.xz".into(),
        tarball_sha256: "1".repeat(64),
        host_triple: "wasm32-wasip2".into(),
        toolchain: vec![("clang-19".into(), "1:19.1.7-3~deb12u1".into())],
        toolchain_digest: "3".repeat(64),
        rustc: "rustc 1.95.0".into(),
        wasm_component_ld: "wasm-component-ld 0.5.21".into(),
        host_cc: "cc (Debian 12.2.0-14) 12.2.0".into(),
        patches: vec![],
        ext_modules: vec![],
        overlays: vec![],
        sqlite: Some("sqlite sqlite3_3.53.4.orig.tar.xz 5 unit 6".into()),
    }
}

#[test]
fn every_input_changes_the_key() {
    let base = inputs();
    let key = base.cache_key();
    assert_eq!(
        key,
        inputs().cache_key(),
        "the key is a pure function of the inputs"
    );
    assert_eq!(key.len(), 64);
    type Change = Box<dyn Fn(&mut BuildInputs)>;
    let variants: Vec<(&str, Change)> = vec![
        ("recipe", Box::new(|i| i.recipe.push('x'))),
        ("profile", Box::new(|i| i.profile_sha256 = "b".repeat(64))),
        (
            "tarball digest",
            Box::new(|i| i.tarball_sha256 = "2".repeat(64)),
        ),
        ("host", Box::new(|i| i.host_triple = "wasm32-wasip1".into())),
        (
            "package version",
            Box::new(|i| i.toolchain[0].1 = "1:19.1.7-4".into()),
        ),
        ("rustc", Box::new(|i| i.rustc = "rustc 1.96.0".into())),
        ("component-ld", Box::new(|i| i.wasm_component_ld.push('1'))),
        ("host cc", Box::new(|i| i.host_cc.push('1'))),
        (
            "sqlite source or unit",
            Box::new(|i| i.sqlite = Some("sqlite sqlite3_3.53.4.orig.tar.xz 5 unit 7".into())),
        ),
        ("no sqlite", Box::new(|i| i.sqlite = None)),
        (
            "patch",
            Box::new(|i| {
                i.patches.push(pylon_cpython::ext::Patch {
                    name: "0001-x.patch".into(),
                    path: PathBuf::new(),
                    sha256: "3".repeat(64),
                })
            }),
        ),
        (
            "ext module",
            Box::new(|i| {
                i.ext_modules.push(pylon_cpython::ext::ExtModule {
                    name: "_pylon_demo".into(),
                    dir: PathBuf::new(),
                    files: vec![InputFile {
                        path: "demo.c".into(),
                        sha256: "4".repeat(64),
                    }],
                    flags: String::new(),
                })
            }),
        ),
        (
            "overlay",
            Box::new(|i| {
                i.overlays.push(pylon_cpython::ext::OverlayFile {
                    path: "zlib.py".into(),
                    sha256: "5".repeat(64),
                    source: PathBuf::new(),
                })
            }),
        ),
    ];
    let mut seen = vec![key.clone()];
    for (what, change) in variants {
        let mut i = inputs();
        change(&mut i);
        let k = i.cache_key();
        assert!(
            !seen.contains(&k),
            "changing the {what} did not change the key"
        );
        seen.push(k);
    }
}

#[test]
fn interpreter_key_ignores_overlays_only() {
    let base = inputs();
    let mut overlaid = inputs();
    overlaid.overlays.push(pylon_cpython::ext::OverlayFile {
        path: "zlib.py".into(),
        sha256: "5".repeat(64),
        source: PathBuf::new(),
    });
    // An overlay edit re-zips the stdlib but reuses python.wasm...
    assert_eq!(base.interpreter_key(), overlaid.interpreter_key());
    assert_ne!(base.cache_key(), overlaid.cache_key());
    // ...while anything compiled into python.wasm changes both keys.
    let mut ext = inputs();
    ext.ext_modules.push(pylon_cpython::ext::ExtModule {
        name: "_pylon_demo".into(),
        dir: PathBuf::new(),
        files: vec![],
        flags: String::new(),
    });
    assert_ne!(base.interpreter_key(), ext.interpreter_key());
    assert_ne!(base.cache_key(), ext.cache_key());
}

#[test]
fn build_python_key_ignores_what_only_the_wasi_side_uses() {
    let base = inputs();
    let mut ext_only = inputs();
    ext_only.ext_modules.push(pylon_cpython::ext::ExtModule {
        name: "_pylon_demo".into(),
        dir: PathBuf::new(),
        files: vec![],
        flags: String::new(),
    });
    ext_only.rustc = "rustc 1.96.0".into();
    ext_only.profile_sha256 = "c".repeat(64);
    assert_eq!(base.build_python_key(), ext_only.build_python_key());
    assert_ne!(base.cache_key(), ext_only.cache_key());
    let mut patched = inputs();
    patched.patches.push(pylon_cpython::ext::Patch {
        name: "0001-x.patch".into(),
        path: PathBuf::new(),
        sha256: "3".repeat(64),
    });
    assert_ne!(base.build_python_key(), patched.build_python_key());
}

#[test]
fn ext_modules_become_setup_local_lines_and_key_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let ext = tmp.path().join("cpython-ext");
    assert!(
        scan_ext_modules(&ext).unwrap().is_empty(),
        "no directory: no modules"
    );
    std::fs::create_dir_all(ext.join("_pylon_demo/include")).unwrap();
    std::fs::write(ext.join("README.md"), "not a module").unwrap();
    std::fs::write(ext.join("_pylon_demo/demo.c"), "int x;").unwrap();
    std::fs::write(ext.join("_pylon_demo/util.c"), "int y;").unwrap();
    std::fs::write(ext.join("_pylon_demo/include/demo.h"), "").unwrap();
    std::fs::write(
        ext.join("_pylon_demo/setup.flags"),
        "# extra tokens\n-I$(srcdir)/Modules/_pylon_ext/_pylon_demo/include -DDEMO\n-Wl,--wrap,open\n",
    )
    .unwrap();
    let mods = scan_ext_modules(&ext).unwrap();
    assert_eq!(mods.len(), 1);
    let files: Vec<&str> = mods[0].files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(files, ["demo.c", "include/demo.h", "setup.flags", "util.c"]);
    assert_eq!(
        setup_local(&mods),
        "# Generated by `pylon build` from cpython-ext/ (see docs/build.md); do not edit.\n*static*\n\
         _pylon_demo _pylon_ext/_pylon_demo/demo.c _pylon_ext/_pylon_demo/util.c \
         -I$(srcdir)/Modules/_pylon_ext/_pylon_demo/include -DDEMO -Wl,--wrap,open\n"
    );

    // makesetup reads a line holding '=' as a variable definition: refused, naming it.
    std::fs::write(ext.join("_pylon_demo/setup.flags"), "-DDEMO=1\n").unwrap();
    let err = scan_ext_modules(&ext).unwrap_err().to_string();
    assert!(
        err.contains("setup.flags") && err.contains("\"-DDEMO=1\""),
        "{err}"
    );
    std::fs::write(
        ext.join("_pylon_demo/setup.flags"),
        "-DDEMO\n-Wl,--wrap,open\n",
    )
    .unwrap();

    // Editing one shim changes the key.
    let mut a = inputs();
    a.ext_modules = mods;
    std::fs::write(ext.join("_pylon_demo/util.c"), "int y = 1;").unwrap();
    let mut b = inputs();
    b.ext_modules = scan_ext_modules(&ext).unwrap();
    assert_ne!(a.cache_key(), b.cache_key());

    // A directory that is not a module name, or has no C source, is refused.
    std::fs::create_dir_all(ext.join("bad-name")).unwrap();
    let err = scan_ext_modules(&ext).unwrap_err().to_string();
    assert!(err.contains("bad-name"), "{err}");
    std::fs::remove_dir(ext.join("bad-name")).unwrap();
    std::fs::create_dir_all(ext.join("_empty")).unwrap();
    let err = scan_ext_modules(&ext).unwrap_err().to_string();
    assert!(err.contains("no .c source"), "{err}");
}

#[test]
fn overlays_are_listed_by_zip_path_and_clashes_are_named() {
    use pylon_cpython::ext::list_overlays;
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("zlib"), tmp.path().join("zstd"));
    std::fs::create_dir_all(a.join("pylon")).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    std::fs::write(a.join("zlib.py"), "X = 1\n").unwrap();
    std::fs::write(a.join("pylon/__init__.py"), "").unwrap();
    std::fs::write(a.join("README.md"), "not part of the stdlib").unwrap();
    std::fs::write(b.join("zstd.py"), "Y = 2\n").unwrap();
    let files = list_overlays(&[b.clone(), a.clone()]).unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["pylon/__init__.py", "zlib.py", "zstd.py"]);
    assert_eq!(files[1].source, a.join("zlib.py"));

    // The same zip path from two overlays names both files.
    std::fs::write(b.join("zlib.py"), "X = 2\n").unwrap();
    let err = list_overlays(&[a.clone(), b.clone()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("zlib.py is also provided by"), "{err}");
    assert!(err.contains(&a.display().to_string()), "{err}");

    let err = list_overlays(&[tmp.path().join("missing")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("overlay directory does not exist"), "{err}");
}

#[test]
fn tree_key_ignores_ext_file_contents_but_not_the_module_layout() {
    let with = |sha: &str, path: &str, flags: &str| {
        let mut i = inputs();
        i.ext_modules.push(pylon_cpython::ext::ExtModule {
            name: "_pylon_demo".into(),
            dir: PathBuf::new(),
            files: vec![InputFile {
                path: path.into(),
                sha256: sha.repeat(64),
            }],
            flags: flags.into(),
        });
        i
    };
    let a = with("4", "demo.c", "");
    let edited = with("5", "demo.c", "");
    // A shim edit: same tree (make in the kept tree), different interpreter.
    assert_eq!(a.tree_key(), edited.tree_key());
    assert_ne!(a.interpreter_key(), edited.interpreter_key());
    // A renamed source or new flags change the Makefile: another tree.
    assert_ne!(a.tree_key(), with("4", "other.c", "").tree_key());
    assert_ne!(a.tree_key(), with("4", "demo.c", "-DX=1").tree_key());
    assert_ne!(a.tree_key(), inputs().tree_key());
}

#[test]
fn updating_ext_modules_rewrites_only_what_changed() {
    use pylon_cpython::ext::{install_ext_modules, scan_ext_modules, update_ext_modules};
    let tmp = tempfile::tempdir().unwrap();
    let ext = tmp.path().join("ext");
    let tree = tmp.path().join("tree");
    for (m, body) in [("_pylon_a", "int a;\n"), ("_pylon_b", "int b;\n")] {
        std::fs::create_dir_all(ext.join(m)).unwrap();
        std::fs::write(ext.join(m).join("m.c"), body).unwrap();
        std::fs::write(ext.join(m).join("m.h"), "#define X 1\n").unwrap();
    }
    install_ext_modules(&scan_ext_modules(&ext).unwrap(), &tree).unwrap();
    // Nothing changed: nothing rewritten.
    let mods = scan_ext_modules(&ext).unwrap();
    assert!(update_ext_modules(&mods, &tree).unwrap().is_empty());
    // A header of one module changed: only that module is reported, and updated.
    std::fs::write(ext.join("_pylon_b/m.h"), "#define X 2\n").unwrap();
    let mods = scan_ext_modules(&ext).unwrap();
    assert_eq!(update_ext_modules(&mods, &tree).unwrap(), ["_pylon_b"]);
    let copied = tree.join("Modules/_pylon_ext/_pylon_b/m.h");
    assert_eq!(std::fs::read_to_string(copied).unwrap(), "#define X 2\n");
    assert!(update_ext_modules(&mods, &tree).unwrap().is_empty());
}

#[test]
fn one_module_in_two_ext_dirs_is_an_error() {
    use pylon_cpython::ext::scan_ext_dirs;
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for dir in [&a, &b] {
        std::fs::create_dir_all(dir.join("_pylon_demo")).unwrap();
        std::fs::write(dir.join("_pylon_demo/demo.c"), "int x;\n").unwrap();
    }
    std::fs::create_dir_all(b.join("_pylon_other")).unwrap();
    std::fs::write(b.join("_pylon_other/o.c"), "int y;\n").unwrap();
    let err = scan_ext_dirs(&[a.clone(), b.clone()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("_pylon_demo is also defined in"), "{err}");
    std::fs::remove_dir_all(b.join("_pylon_demo")).unwrap();
    let mods = scan_ext_dirs(&[b, a]).unwrap();
    let names: Vec<&str> = mods.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["_pylon_demo", "_pylon_other"]);
}

#[test]
fn repository_ext_dir_is_valid() {
    scan_ext_modules(&repo().join("cpython-ext")).unwrap();
}

/// The patch mechanism (`profiles/patches/<version>/*.patch`, applied in name order
/// with `patch -p1` in the source's top directory), on a small tree, so that it is
/// tested here without the CPython tarballs the real patches apply to.
#[test]
fn a_patch_set_applies_in_name_order_and_a_wrong_layout_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let top = tmp.path().join("Python-9.9.9");
    std::fs::create_dir_all(top.join("Modules")).unwrap();
    std::fs::write(top.join("Modules/demo.c"), "one\ntwo\nthree\n").unwrap();
    let patches_dir = tmp.path().join("patches");
    std::fs::create_dir_all(patches_dir.join("9.9.9")).unwrap();
    // 0002 only applies after 0001: name order is application order.
    std::fs::write(
        patches_dir.join("9.9.9/0001-two.patch"),
        "--- a/Modules/demo.c\n+++ b/Modules/demo.c\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n",
    )
    .unwrap();
    std::fs::write(
        patches_dir.join("9.9.9/0002-three.patch"),
        "--- a/Modules/demo.c\n+++ b/Modules/demo.c\n@@ -1,3 +1,3 @@\n one\n TWO\n-three\n+THREE\n",
    )
    .unwrap();
    std::fs::write(patches_dir.join("9.9.9/notes.txt"), "not a patch").unwrap();
    let patches = list_patches(&patches_dir, "9.9.9").unwrap();
    let names: Vec<&str> = patches.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["0001-two.patch", "0002-three.patch"]);
    assert!(list_patches(&patches_dir, "1.0.0").unwrap().is_empty());

    let logs = tmp.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    apply_patches(&top, &patches, &logs, 1_700_000_000, Stage::Unpack).unwrap();
    let patched = std::fs::read_to_string(top.join("Modules/demo.c")).unwrap();
    assert_eq!(patched, "one\nTWO\nTHREE\n");

    // The wrong layout (patching from the tarball's parent) fails, naming the log.
    let err = apply_patches(tmp.path(), &patches, &logs, 1_700_000_000, Stage::Unpack).unwrap_err();
    assert!(matches!(err, BuildError::Stage { .. }), "{err}");
    assert!(err.to_string().contains("patch -p1"), "{err}");
    assert!(!err.log_tail().is_empty());
}

/// A profile's patches are found by its exact `[cpython] version`, and an absent
/// directory means no patches, so a directory named for no profile's version would be
/// skipped without a word. Every directory under `profiles/patches/` must be a profile's
/// version, and every profile carries the threadless asyncio executor (README: asyncio
/// without threads).
#[test]
fn every_patch_directory_is_a_profile_version() {
    let profiles = repo().join("profiles");
    let versions: Vec<String> = list_profiles(&profiles)
        .iter()
        .map(|name| load_profile(&profiles, Some(name)).unwrap().version)
        .collect();
    assert!(versions.len() >= 2, "{versions:?}");
    let patches_dir = profiles.join("patches");
    for entry in std::fs::read_dir(&patches_dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            versions.contains(&name),
            "profiles/patches/{name}/ is no profile's version ({versions:?})"
        );
    }
    for version in &versions {
        let names: Vec<String> = list_patches(&patches_dir, version)
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert!(
            names
                .iter()
                .any(|n| n == "0001-asyncio-threadless-default-executor.patch"),
            "{version}: {names:?}"
        );
    }
}

#[test]
fn tarball_without_the_profiles_top_dir_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("src/Other-1.0")).unwrap();
    let tarball = tmp.path().join("t.tar.xz");
    assert!(Command::new("tar")
        .current_dir(tmp.path().join("src"))
        .args(["--create", "--xz", "--file"])
        .arg(&tarball)
        .arg("Other-1.0")
        .status()
        .unwrap()
        .success());
    let dest = tmp.path().join("dest");
    std::fs::create_dir_all(&dest).unwrap();
    let err = pylon_cpython::build::unpack_and_patch(
        &tarball,
        &dest,
        "Python-3.13.15",
        &[],
        tmp.path(),
        1_700_000_000,
        Stage::Unpack,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("no top directory Python-3.13.15/"), "{err}");
}
