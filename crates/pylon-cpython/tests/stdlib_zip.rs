//! The stdlib zip is a function of names and contents only: the same files written in
//! another order, with other mtimes and permissions, give the same bytes; test
//! packages and excluded names are left out; Python's own zipfile/zipimport read it.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use pylon_cpython::profile::StdlibSpec;
use pylon_cpython::stdlib::{collect_files, replace_paths, write_zip};

const FILES: &[(&str, &str)] = &[
    ("os.py", "import sys\n"),
    ("json/__init__.py", "from .decoder import x\n"),
    ("json/decoder.py", "x = 1\n"),
    ("email/architecture.rst", "data file\n"),
    ("test/test_os.py", "assert True\n"),
    ("unittest/tests/test_case.py", "pass\n"),
    ("idlelib/idle.py", "pass\n"),
    ("json/__pycache__/decoder.cpython-313.pyc", "stale"),
    ("pylon_probe.py", "VALUE = 42\n"),
];

fn write_tree(root: &Path, order: &[usize], mtime: SystemTime, mode: u32) {
    for &i in order {
        let (rel, text) = FILES[i];
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(mtime).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

fn spec() -> StdlibSpec {
    StdlibSpec {
        include_tests: false,
        exclude: vec!["idlelib".into()],
    }
}

#[test]
fn same_content_in_other_order_mtimes_and_modes_gives_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a/Lib"), tmp.path().join("elsewhere/b/Lib"));
    let n = FILES.len();
    write_tree(
        &a,
        &(0..n).collect::<Vec<_>>(),
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000),
        0o644,
    );
    write_tree(
        &b,
        &(0..n).rev().collect::<Vec<_>>(),
        SystemTime::now(),
        0o600,
    );

    let (za, zb) = (tmp.path().join("a.zip"), tmp.path().join("b.zip"));
    write_zip(&collect_files(&a, &spec()).unwrap(), 1_700_000_000, &za).unwrap();
    write_zip(&collect_files(&b, &spec()).unwrap(), 1_700_000_000, &zb).unwrap();
    let (ba, bb) = (std::fs::read(&za).unwrap(), std::fs::read(&zb).unwrap());
    assert_eq!(ba, bb);

    // Same inputs twice: same bytes (nothing depends on the clock).
    let zc = tmp.path().join("c.zip");
    write_zip(&collect_files(&a, &spec()).unwrap(), 1_700_000_000, &zc).unwrap();
    assert_eq!(std::fs::read(&zc).unwrap(), ba);

    // Another SOURCE_DATE_EPOCH is another archive.
    write_zip(&collect_files(&a, &spec()).unwrap(), 1_600_000_000, &zc).unwrap();
    assert_ne!(std::fs::read(&zc).unwrap(), ba);
}

#[test]
fn selection_leaves_out_tests_caches_and_excluded_names() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = tmp.path().join("Lib");
    write_tree(
        &lib,
        &(0..FILES.len()).collect::<Vec<_>>(),
        SystemTime::now(),
        0o644,
    );
    let files = collect_files(&lib, &spec()).unwrap();
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "email/architecture.rst",
            "json/__init__.py",
            "json/decoder.py",
            "os.py",
            "pylon_probe.py"
        ]
    );
    let with_tests = StdlibSpec {
        include_tests: true,
        exclude: vec![],
    };
    let files = collect_files(&lib, &with_tests).unwrap();
    assert!(files.contains_key("test/test_os.py"));
    assert!(files.contains_key("unittest/tests/test_case.py"));
    assert!(files.contains_key("idlelib/idle.py"));
    assert!(!files.keys().any(|k| k.contains("__pycache__")));
}

#[test]
fn python_reads_and_imports_from_the_zip() {
    // Any CPython 3 on the machine will do to check the format; skip without one.
    let python = ["/usr/bin/python3", "/usr/local/bin/python3"]
        .into_iter()
        .find(|p| Path::new(p).is_file());
    let Some(python) = python else {
        eprintln!("no python3 here; zip format checked by the other tests only");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut files = BTreeMap::new();
    files.insert("pylon_probe.py".to_string(), b"VALUE = 42\n".to_vec());
    files.insert("pkg/__init__.py".to_string(), b"".to_vec());
    files.insert("pkg/data.txt".to_string(), "héllo".as_bytes().to_vec());
    let zip = tmp.path().join("t.zip");
    write_zip(&files, 1_700_000_000, &zip).unwrap();
    let script = "import sys, zipfile, importlib.resources as r\n\
        z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None\n\
        i = z.getinfo('pylon_probe.py'); assert i.date_time == (2023, 11, 14, 22, 13, 20), i.date_time\n\
        assert i.compress_type == zipfile.ZIP_STORED\n\
        assert [n for n in z.namelist()] == sorted(z.namelist())\n\
        sys.path.insert(0, sys.argv[1])\n\
        import pylon_probe, pkg; print(pylon_probe.VALUE, r.files(pkg).joinpath('data.txt').read_text('utf-8'))";
    let out = Command::new(python)
        .args(["-I", "-c", script])
        .arg(&zip)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "42 héllo");
}

#[test]
fn build_paths_are_replaced_longest_first() {
    let text = "'srcdir': '/w/k/Python-3.13.15', 'CC': '/w/k/toolchain/x', 'B': '/w/k'";
    let maps = vec![
        ("/w/k".to_string(), "/build".to_string()),
        ("/w/k/Python-3.13.15".to_string(), "/cpython".to_string()),
        ("/w/k/toolchain".to_string(), "/wasi-toolchain".to_string()),
    ];
    assert_eq!(
        replace_paths(text, &maps),
        "'srcdir': '/cpython', 'CC': '/wasi-toolchain/x', 'B': '/build'"
    );
}

/// The interpreter cache keeps the stdlib's own files as a tree; reading it back gives
/// the same map, so the zip assembled later is the one a single-pass build would make.
#[test]
fn stdlib_tree_round_trips() {
    let mut files = BTreeMap::new();
    files.insert("os.py".to_string(), b"import sys\n".to_vec());
    files.insert("encodings/__init__.py".to_string(), Vec::new());
    files.insert("encodings/utf_8.py".to_string(), b"# utf-8\n".to_vec());
    files.insert(
        "_sysconfigdata__wasi_wasm32-wasi.py".to_string(),
        b"x = 1\n".to_vec(),
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("stdlib-base");
    pylon_cpython::stdlib::write_tree(&files, &dir).unwrap();
    assert_eq!(pylon_cpython::stdlib::read_tree(&dir).unwrap(), files);
    let err = pylon_cpython::stdlib::read_tree(&tmp.path().join("missing"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing"), "{err}");
}
