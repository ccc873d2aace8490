//! The compilation cache's trust checks, end to end: the real `pylon-launch` binary, the
//! real wasm32-wasip2 test guest (tests/guest) and real cache files, altered the ways a
//! cache can be (truncated, overwritten, copied, owned by someone else), and a wasm
//! changed in place after it was cached. What each run did is read from its `--verbose`
//! lines.

#![cfg(unix)]

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use pylon_launch::cache::{sha256_hex, sidecar_path, wasm_id_path};

mod common;

use common::tmp_root;

const BIN: &str = env!("CARGO_BIN_EXE_pylon-launch");
const ARGS: &[&str] = &["print-args", "x"];
const PRINTED: &str = "arg[0]=python\narg[1]=print-args\narg[2]=x\n";

/// Builds the test guest once per test process (as tests/launch.rs does, in the same
/// target directory) and returns its component.
fn guest() -> &'static Path {
    static GUEST: OnceLock<PathBuf> = OnceLock::new();
    GUEST.get_or_init(common::build_guest)
}

/// A wasm file of its own (a copy of the guest) and a cache directory of its own.
struct Setup {
    _root: tempfile::TempDir,
    wasm: PathBuf,
    cache: PathBuf,
}

fn setup() -> Setup {
    std::fs::create_dir_all(tmp_root()).unwrap();
    let root = tempfile::tempdir_in(tmp_root()).unwrap();
    let wasm = root.path().join("guest.wasm");
    std::fs::copy(guest(), &wasm).unwrap();
    let wasm = std::fs::canonicalize(&wasm).unwrap();
    let cache = root.path().join("cache");
    Setup {
        _root: root,
        wasm,
        cache,
    }
}

impl Setup {
    /// `pylon-launch --verbose --wasm <wasm> --cache-dir <cache> print-args x`.
    fn run(&self) -> Output {
        self.run_with(&self.cache)
    }

    fn run_with(&self, cache: &Path) -> Output {
        Command::new(BIN)
            .env_remove("PYLON_WASM")
            .env_remove("PYLON_LAUNCH_VERBOSE")
            .env("PYLON_CACHE_DIR", tmp_root().join("default-cache"))
            .arg("--wasm")
            .arg(&self.wasm)
            .arg("--cache-dir")
            .arg(cache)
            .arg("--verbose")
            .args(ARGS)
            .output()
            .expect("running pylon-launch")
    }

    /// The one `.cwasm` entry of the cache.
    fn entry(&self) -> PathBuf {
        let entries: Vec<PathBuf> = std::fs::read_dir(&self.cache)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
            .collect();
        assert_eq!(entries.len(), 1, "{entries:?}");
        entries[0].clone()
    }

    fn wasm_id(&self) -> PathBuf {
        wasm_id_path(&self.cache, &self.wasm)
    }
}

/// Checks that the run succeeded and printed what the guest prints; returns its stderr.
fn ok(out: &Output, printed: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), printed, "{err}");
    err
}

fn has(err: &str, parts: &[&str]) {
    for part in parts {
        assert!(err.contains(part), "no {part:?} in:\n{err}");
    }
}

fn has_not(err: &str, parts: &[&str]) {
    for part in parts {
        assert!(!err.contains(part), "{part:?} in:\n{err}");
    }
}

/// The `file` line of a sidecar: dev, ino, len, mtime_ns, ctime_ns.
fn recorded_identity(entry: &Path) -> Vec<i128> {
    let text = std::fs::read_to_string(sidecar_path(entry)).unwrap();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("file "))
        .unwrap_or_else(|| panic!("no `file` line in {text}"));
    line.split(' ').map(|n| n.parse().unwrap()).collect()
}

fn identity(path: &Path) -> Vec<i128> {
    let m = std::fs::metadata(path).unwrap();
    let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
    vec![
        m.dev().into(),
        m.ino().into(),
        m.len().into(),
        ns(m.mtime(), m.mtime_nsec()),
        ns(m.ctime(), m.ctime_nsec()),
    ]
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The uid files this test process creates get (its effective uid).
fn my_uid(s: &Setup) -> u32 {
    std::fs::metadata(&s.wasm).unwrap().uid()
}

#[test]
fn a_warm_launch_reads_neither_the_wasm_nor_the_entry() {
    let s = setup();
    let err = ok(&s.run(), PRINTED);
    has(
        &err,
        &["read and hashed", "no identity record", "cache miss"],
    );
    let record = std::fs::read_to_string(s.wasm_id()).unwrap();
    let digest = sha256_hex(&std::fs::read(&s.wasm).unwrap());
    has(&record, &[&format!("sha256 {digest}\n")]);
    let entry = s.entry();
    assert_eq!(recorded_identity(&entry), identity(&entry));
    // Recency goes on the sidecar: give it an old time to see the hit refresh it.
    let long_ago = SystemTime::now() - Duration::from_secs(10 * 24 * 3600);
    let sidecar = File::options()
        .write(true)
        .open(sidecar_path(&entry))
        .unwrap();
    sidecar.set_modified(long_ago).unwrap();
    drop(sidecar);
    let before = identity(&entry);

    let err = ok(&s.run(), PRINTED);
    has(&err, &["cache hit"]);
    // Neither hashed: the wasm's identity matched its record, the entry's its sidecar.
    has_not(&err, &["hashed", "sha256", "discarding", "cache miss"]);
    // The entry itself is left alone (its times are its identity) ...
    assert_eq!(identity(&entry), before);
    // ... and its use is marked on the sidecar.
    let used = std::fs::metadata(sidecar_path(&entry))
        .unwrap()
        .modified()
        .unwrap();
    assert!(used > long_ago + Duration::from_secs(24 * 3600));
}

#[test]
fn a_truncated_entry_is_refused_and_recompiled() {
    let s = setup();
    ok(&s.run(), PRINTED);
    let entry = s.entry();
    let len = std::fs::metadata(&entry).unwrap().len();
    File::options()
        .write(true)
        .open(&entry)
        .unwrap()
        .set_len(len / 2)
        .unwrap();

    let err = ok(&s.run(), PRINTED);
    let size = format!("size {len}→{}", len / 2);
    has(
        &err,
        &[
            "discarding cache entry",
            "the file changed since it was written",
            &size,
            "cache miss",
        ],
    );
    assert_eq!(recorded_identity(&entry), identity(&entry), "rewritten");
    let err = ok(&s.run(), PRINTED);
    has(&err, &["cache hit"]);
    has_not(&err, &["discarding", "cache miss"]);
}

#[test]
fn an_entry_overwritten_in_place_is_refused_and_recompiled() {
    let s = setup();
    ok(&s.run(), PRINTED);
    let entry = s.entry();
    let before = identity(&entry);
    // Flip 64 bytes in the middle: same file, same size.
    let mut file = File::options().read(true).write(true).open(&entry).unwrap();
    let mid = std::fs::metadata(&entry).unwrap().len() / 2;
    let mut bytes = [0u8; 64];
    file.seek(SeekFrom::Start(mid)).unwrap();
    file.read_exact(&mut bytes).unwrap();
    for b in &mut bytes {
        *b ^= 0x5a;
    }
    file.seek(SeekFrom::Start(mid)).unwrap();
    file.write_all(&bytes).unwrap();
    drop(file);
    let after = identity(&entry);
    assert_eq!(after[..3], before[..3], "same device, inode and size");

    let err = ok(&s.run(), PRINTED);
    has(
        &err,
        &[
            "discarding cache entry",
            "the file changed since it was written",
            "does not match the recorded",
            "cache miss",
        ],
    );
    let err = ok(&s.run(), PRINTED);
    has(&err, &["cache hit"]);
    has_not(&err, &["discarding", "cache miss"]);
}

/// Only files the user owns and nobody else can write are used: an entry of another
/// user (root can arrange that) or one its group can write, and a sidecar others can
/// write, are discarded and recompiled.
#[test]
fn an_entry_or_sidecar_others_could_write_is_refused_and_recompiled() {
    let s = setup();
    ok(&s.run(), PRINTED);
    let me = my_uid(&s);
    let entry = s.entry();
    let expected = if me == 0 {
        std::os::unix::fs::chown(&entry, Some(65534), None).unwrap();
        "the file is owned by uid 65534"
    } else {
        chmod(&entry, 0o620);
        "the file is writable by its group"
    };
    let err = ok(&s.run(), PRINTED);
    has(&err, &["discarding cache entry", expected, "cache miss"]);
    let meta = std::fs::metadata(&entry).unwrap();
    assert_eq!(meta.uid(), me);
    assert_eq!(meta.mode() & 0o022, 0, "{:o}", meta.mode());

    chmod(&sidecar_path(&entry), 0o666);
    let err = ok(&s.run(), PRINTED);
    has(
        &err,
        &[
            "discarding cache entry",
            "its checksum file is writable by group and others",
            "cache miss",
        ],
    );
    let err = ok(&s.run(), PRINTED);
    has(&err, &["cache hit"]);
    has_not(&err, &["discarding", "cache miss"]);
}

/// A cache copied elsewhere or restored from a backup has other identities but the
/// same bytes: each entry is hashed once, its identity re-recorded, and mapped unread
/// from then on.
#[test]
fn a_copied_entry_is_checked_by_its_digest_once_then_by_its_identity() {
    let s = setup();
    ok(&s.run(), PRINTED);
    let entry = s.entry();
    let copy = s.cache.join("copy.tmp");
    std::fs::copy(&entry, &copy).unwrap();
    std::fs::rename(&copy, &entry).unwrap();
    assert_ne!(recorded_identity(&entry), identity(&entry));

    let err = ok(&s.run(), PRINTED);
    has(
        &err,
        &[
            "cache hit",
            "the file changed since it was written (inode",
            "its sha256 matches the recorded one; identity re-recorded",
        ],
    );
    has_not(&err, &["discarding", "cache miss", "hashed"]);
    assert_eq!(recorded_identity(&entry), identity(&entry));
    let err = ok(&s.run(), PRINTED);
    has(&err, &["cache hit"]);
    has_not(&err, &["sha256", "hashed", "discarding", "cache miss"]);

    // The whole directory copied: the wasm's record still names the wasm, the entry is
    // checked by its digest once.
    let elsewhere = s.cache.with_file_name("cache-copy");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::create_dir(elsewhere.join("wasm-ids")).unwrap();
    for path in [entry.clone(), sidecar_path(&entry), s.wasm_id()] {
        let name = path.strip_prefix(&s.cache).unwrap();
        std::fs::copy(&path, elsewhere.join(name)).unwrap();
    }
    let err = ok(&s.run_with(&elsewhere), PRINTED);
    has(&err, &["cache hit", "identity re-recorded"]);
    has_not(&err, &["hashed", "discarding", "cache miss"]);
    let err = ok(&s.run_with(&elsewhere), PRINTED);
    has(&err, &["cache hit"]);
    has_not(&err, &["sha256", "hashed", "discarding", "cache miss"]);
}

/// The wasm rewritten in place (same file, same size, other code): its identity record
/// no longer matches, so it is hashed again and the new code is what runs.
#[test]
fn a_wasm_changed_in_place_is_hashed_again_and_its_new_code_runs() {
    let s = setup();
    ok(&s.run(), PRINTED);
    let err = ok(&s.run(), PRINTED);
    has(&err, &["cache hit"]);
    has_not(&err, &["hashed"]);

    // The guest prints "arg[{i}]={a}": make it "ARG[…" in its data segment.
    let mut bytes = std::fs::read(&s.wasm).unwrap();
    let at: Vec<usize> = bytes
        .windows(4)
        .enumerate()
        .filter(|(_, w)| w == b"arg[")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1, "the guest's format string, once");
    bytes[at[0]..at[0] + 4].copy_from_slice(b"ARG[");
    let before = identity(&s.wasm);
    let mut file = File::options().write(true).open(&s.wasm).unwrap();
    file.seek(SeekFrom::Start(at[0] as u64)).unwrap();
    file.write_all(b"ARG[").unwrap();
    drop(file);
    assert_eq!(identity(&s.wasm)[..3], before[..3], "same file, same size");
    assert_eq!(std::fs::read(&s.wasm).unwrap(), bytes);

    let printed = PRINTED.replace("arg[", "ARG[");
    let err = ok(&s.run(), &printed);
    let new_entry = format!("{}-", sha256_hex(&bytes));
    has(
        &err,
        &[
            "read and hashed",
            "it changed since its identity was recorded",
            "; identity recorded",
            "cache miss",
            &new_entry,
        ],
    );
    let err = ok(&s.run(), &printed);
    has(&err, &["cache hit", &new_entry]);
    has_not(&err, &["hashed", "cache miss"]);
}

/// Identity records are only trusted from the user: a record others could write is
/// ignored and rewritten, and a `wasm-ids` directory others could write is not used.
#[test]
fn identity_records_others_could_write_are_not_used() {
    let s = setup();
    ok(&s.run(), PRINTED);
    let record = s.wasm_id();

    chmod(&record, 0o664);
    let err = ok(&s.run(), PRINTED);
    has(
        &err,
        &[
            "read and hashed",
            "its identity record is writable by its group",
            "; identity recorded",
            "cache hit",
        ],
    );
    assert_eq!(std::fs::metadata(&record).unwrap().mode() & 0o022, 0);
    let err = ok(&s.run(), PRINTED);
    has_not(&err, &["hashed"]);

    if my_uid(&s) == 0 {
        std::os::unix::fs::chown(&record, Some(65534), None).unwrap();
        let err = ok(&s.run(), PRINTED);
        has(
            &err,
            &["its identity record is owned by uid 65534", "cache hit"],
        );
        assert_eq!(std::fs::metadata(&record).unwrap().uid(), 0);
    }

    let ids = record.parent().unwrap();
    chmod(ids, 0o777);
    for _ in 0..2 {
        let err = ok(&s.run(), PRINTED);
        has(
            &err,
            &[
                "read and hashed",
                "identity records are not used",
                "is writable by group and others",
                "identity not recorded",
                "cache hit",
            ],
        );
    }
    chmod(ids, 0o700);
    let err = ok(&s.run(), PRINTED);
    has(&err, &["cache hit"]);
    has_not(&err, &["hashed"]);
}
