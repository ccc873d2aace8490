//! `profiles/expected/<profile>.toml` is read strictly: a misspelled key or a missing
//! digest is an error naming the file and key, never a silent match.

use std::fs;
use std::path::Path;

use pylon_cpython::build::{expected_digests, verify_outputs};

const A: &str = "d9b116517907256634c0fd8d0356becbb4f5ff72cad0b320816872904cdef736";
const B: &str = "21c7c85d42e8a12fcad03e292b01376dea367f8f1c21cfe30e2c30e4521fa1f9";

fn write_expected(profiles: &Path, text: &str) {
    fs::create_dir_all(profiles.join("expected")).unwrap();
    fs::write(profiles.join("expected/cpx.toml"), text).unwrap();
}

#[test]
fn well_formed_digests_are_read() {
    let dir = tempfile::tempdir().unwrap();
    write_expected(
        dir.path(),
        &format!(
            "python_wasm_sha256 = \"{A}\"\npython_wasm_size = 1\nstdlib_zip_sha256 = \"{B}\"\n"
        ),
    );
    let d = expected_digests(dir.path(), "cpx").unwrap().unwrap();
    assert_eq!(d.python_wasm.as_deref(), Some(A));
    assert_eq!(d.stdlib_zip.as_deref(), Some(B));
    // No file: nothing recorded, not an error.
    assert!(expected_digests(dir.path(), "other").unwrap().is_none());
}

#[test]
fn a_misspelled_key_is_an_error_not_a_match() {
    let dir = tempfile::tempdir().unwrap();
    write_expected(
        dir.path(),
        &format!("python_wasm_sha265 = \"{A}\"\nstdlib_zip_sha256 = \"{B}\"\n"),
    );
    let err = expected_digests(dir.path(), "cpx").unwrap_err().to_string();
    assert!(err.contains("cpx.toml"), "{err}");
    assert!(err.contains("unknown key `python_wasm_sha265`"), "{err}");

    // verify reads the same file: it must fail too, whatever the outputs hash to.
    let out = dir.path().join("out");
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("python.wasm"), b"x").unwrap();
    fs::write(out.join("stdlib.zip"), b"y").unwrap();
    let err = verify_outputs(dir.path(), "cpx", &out)
        .unwrap_err()
        .to_string();
    assert!(err.contains("python_wasm_sha265"), "{err}");
}

#[test]
fn a_missing_or_malformed_digest_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write_expected(dir.path(), &format!("python_wasm_sha256 = \"{A}\"\n"));
    let err = expected_digests(dir.path(), "cpx").unwrap_err().to_string();
    assert!(err.contains("`stdlib_zip_sha256` is missing"), "{err}");

    write_expected(
        dir.path(),
        &format!(
            "python_wasm_sha256 = \"{}\"\nstdlib_zip_sha256 = \"{B}\"\n",
            &A[..40]
        ),
    );
    let err = expected_digests(dir.path(), "cpx").unwrap_err().to_string();
    assert!(err.contains("not a sha256"), "{err}");
}

#[test]
fn verify_profile_outputs_reports_each_state() {
    use pylon_cpython::verify::{verify_profile_outputs, CpythonStatus};
    let root = tempfile::tempdir().unwrap();
    // No profiles/: a caps-only tree, nothing to verify.
    assert!(verify_profile_outputs(root.path(), None).unwrap().is_none());

    let repo_profiles = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../profiles");
    let profiles = root.path().join("profiles");
    fs::create_dir_all(&profiles).unwrap();
    for f in ["default", "cp313.toml"] {
        fs::copy(repo_profiles.join(f), profiles.join(f)).unwrap();
    }
    let status = |root: &Path| verify_profile_outputs(root, None).unwrap().unwrap().status;
    assert_eq!(status(root.path()), CpythonStatus::NotBuilt);
    // What is linked in from pinned sources is named, whatever the outputs' state.
    let check = verify_profile_outputs(root.path(), None).unwrap().unwrap();
    assert_eq!(
        check.static_libraries.len(),
        1,
        "{:?}",
        check.static_libraries
    );
    assert!(check.static_libraries[0]
        .starts_with("_sqlite3: SQLite from sqlite3_3.53.4.orig.tar.xz sha256 05366adc"));

    let out = root.path().join("build/cp313");
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("python.wasm"), b"abc").unwrap();
    fs::write(out.join("stdlib.zip"), b"").unwrap();
    assert_eq!(status(root.path()), CpythonStatus::NotRecorded);

    // sha256("abc") and sha256("").
    let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    fs::create_dir_all(profiles.join("expected")).unwrap();
    let expected = profiles.join("expected/cp313.toml");
    fs::write(
        &expected,
        format!("python_wasm_sha256 = \"{abc}\"\nstdlib_zip_sha256 = \"{empty}\"\n"),
    )
    .unwrap();
    assert_eq!(status(root.path()), CpythonStatus::Ok);
    fs::write(out.join("stdlib.zip"), b"changed").unwrap();
    assert_eq!(status(root.path()), CpythonStatus::Mismatch);
    // A malformed expected file is never a pass.
    fs::write(&expected, "python_wasm_sha256 = \"x\"\n").unwrap();
    assert_eq!(status(root.path()), CpythonStatus::Mismatch);

    assert!(verify_profile_outputs(root.path(), Some("cp299")).is_err());
}

fn record(sha256: &str, size: u64) -> pylon_cpython::build::FileRecord {
    pylon_cpython::build::FileRecord {
        sha256: sha256.to_string(),
        size,
    }
}

#[test]
fn render_expected_keeps_comments_and_replaces_the_digests() {
    let dir = tempfile::tempdir().unwrap();
    write_expected(
        dir.path(),
        &format!(
            "# What cpx must produce.\npython_wasm_sha256 = \"{A}\"  # the interpreter\npython_wasm_size = 1\n\
             stdlib_zip_sha256 = \"{B}\"\nstdlib_zip_size = 2\n"
        ),
    );
    let (path, text) = pylon_cpython::build::render_expected(
        dir.path(),
        "cpx",
        &record(B, 7196268),
        &record(A, 20929305),
        None,
    )
    .unwrap();
    assert_eq!(path, dir.path().join("expected/cpx.toml"));
    assert!(text.starts_with("# What cpx must produce.\n"), "{text}");
    assert!(
        text.contains(&format!("python_wasm_sha256 = \"{B}\"  # the interpreter")),
        "{text}"
    );
    assert!(text.contains("python_wasm_size = 7196268"), "{text}");
    assert!(
        text.contains(&format!("stdlib_zip_sha256 = \"{A}\"")),
        "{text}"
    );
    // Nothing was written: the caller writes (regen, with the manifest).
    let on_disk = fs::read_to_string(&path).unwrap();
    assert!(on_disk.contains("python_wasm_size = 1\n"));
    // What it renders reads back as the new digests.
    fs::write(&path, &text).unwrap();
    let d = expected_digests(dir.path(), "cpx").unwrap().unwrap();
    assert_eq!(d.python_wasm.as_deref(), Some(B));
    assert_eq!(d.stdlib_zip.as_deref(), Some(A));
}

#[test]
fn render_expected_creates_a_missing_file_and_refuses_a_misspelled_one() {
    let dir = tempfile::tempdir().unwrap();
    let (_, text) = pylon_cpython::build::render_expected(
        dir.path(),
        "new",
        &record(A, 1),
        &record(B, 2),
        None,
    )
    .unwrap();
    assert!(
        text.starts_with("# Digests `pylon build --profile new`"),
        "{text}"
    );
    assert!(text.contains("stdlib_zip_size = 2"), "{text}");

    write_expected(
        dir.path(),
        &format!("python_wasm_sha265 = \"{A}\"\nstdlib_zip_sha256 = \"{B}\"\n"),
    );
    let err = pylon_cpython::build::render_expected(
        dir.path(),
        "cpx",
        &record(A, 1),
        &record(B, 2),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("python_wasm_sha265"), "{err}");
}

#[test]
fn the_seeded_snapshot_pin_is_optional_and_checked() {
    use pylon_cpython::build::SnapshotPin;
    let dir = tempfile::tempdir().unwrap();
    let base = format!("python_wasm_sha256 = \"{A}\"\nstdlib_zip_sha256 = \"{B}\"\n");
    write_expected(dir.path(), &base);
    assert_eq!(
        expected_digests(dir.path(), "cpx")
            .unwrap()
            .unwrap()
            .snapshot,
        None
    );

    // A seed alone asks regen for a digest.
    write_expected(dir.path(), &format!("{base}snapshot_seed = 1\n"));
    let pin = expected_digests(dir.path(), "cpx")
        .unwrap()
        .unwrap()
        .snapshot
        .unwrap();
    assert_eq!(
        pin,
        SnapshotPin {
            seed: 1,
            sha256: None
        }
    );
    assert_eq!(pin.file_name(), "pylon-snapshot-seed1.wasm");

    // regen records it, keeping the seed and the comments.
    let (path, text) = pylon_cpython::build::render_expected(
        dir.path(),
        "cpx",
        &record(A, 1),
        &record(B, 2),
        Some(&record(B, 3)),
    )
    .unwrap();
    assert!(text.contains("snapshot_seed = 1\n"), "{text}");
    assert!(text.contains("snapshot_size = 3"), "{text}");
    fs::write(&path, &text).unwrap();
    let pin = expected_digests(dir.path(), "cpx")
        .unwrap()
        .unwrap()
        .snapshot
        .unwrap();
    assert_eq!(pin.sha256.as_deref(), Some(B));

    // A digest without its seed, a seed out of range, a malformed digest: named errors.
    for (extra, says) in [
        (
            format!("snapshot_sha256 = \"{A}\"\n"),
            "needs `snapshot_seed`",
        ),
        (
            "snapshot_seed = -1\n".to_string(),
            "`snapshot_seed` must be an integer",
        ),
        (
            "snapshot_seed = \"1\"\n".to_string(),
            "`snapshot_seed` must be an integer",
        ),
        (
            "snapshot_seed = 1\nsnapshot_sha256 = \"abc\"\n".to_string(),
            "`snapshot_sha256` = \"abc\" is not a sha256",
        ),
    ] {
        write_expected(dir.path(), &format!("{base}{extra}"));
        let err = expected_digests(dir.path(), "cpx").unwrap_err().to_string();
        assert!(
            err.contains(says) && err.contains("cpx.toml"),
            "{extra}: {err}"
        );
    }
}
