//! `ensure` end to end: real `.deb` files (ar + xz-compressed data.tar, made here),
//! served over loopback HTTP to curl, unpacked, wrapped and run. Also what must not
//! happen: a wrong digest, a mirror that is down, a truncated download, a broken
//! archive and a killed unpack leave nothing published.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use pylon_toolchain::{ensure, toolchain_digest, DebPin, Sources, ToolchainError};

/// A data.tar member to put in a test package.
enum Item<'a> {
    File(&'a str, &'a [u8], u32),
    Symlink(&'a str, &'a str),
}

/// The bytes of a `.deb` holding `items`.
fn make_deb(items: &[Item<'_>]) -> Vec<u8> {
    let mut tar_bytes = Vec::new();
    {
        let mut b = tar::Builder::new(&mut tar_bytes);
        for item in items {
            let mut h = tar::Header::new_gnu();
            match item {
                Item::File(path, data, mode) => {
                    h.set_entry_type(tar::EntryType::Regular);
                    h.set_size(data.len() as u64);
                    h.set_mode(*mode);
                    h.set_mtime(1_700_000_000);
                    // The name is written raw: the builder's own setter refuses `..`,
                    // which a hostile package can still contain.
                    let name = &mut h.as_gnu_mut().unwrap().name;
                    name[..path.len()].copy_from_slice(path.as_bytes());
                    h.set_cksum();
                    b.append(&h, *data).unwrap();
                }
                Item::Symlink(path, target) => {
                    h.set_entry_type(tar::EntryType::Symlink);
                    h.set_size(0);
                    h.set_mode(0o777);
                    b.append_link(&mut h, path, target).unwrap();
                }
            }
        }
        b.finish().unwrap();
    }
    let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 6);
    xz.write_all(&tar_bytes).unwrap();
    let data = xz.finish().unwrap();
    ar(&[
        ("debian-binary", b"2.0\n".to_vec()),
        ("control.tar.xz", Vec::new()),
        ("data.tar.xz", data),
    ])
}

fn ar(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = b"!<arch>\n".to_vec();
    for (name, data) in members {
        let header = format!(
            "{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
            name,
            0,
            0,
            0,
            "100644",
            data.len()
        );
        assert_eq!(header.len(), 60);
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        if data.len() % 2 == 1 {
            out.push(b'\n');
        }
    }
    out
}

fn sha256(bytes: &[u8]) -> String {
    pylon_util::digest::sha256_hex(bytes)
}

fn pin(name: &str, bytes: &[u8]) -> DebPin {
    DebPin {
        name: name.into(),
        version: "1.0-1".into(),
        sha256: sha256(bytes),
        pool: Some(format!("pool/main/t/{name}/{name}_1.0-1_amd64.deb")),
    }
}

/// How the test server answers a path.
#[derive(Clone)]
enum Answer {
    Bytes(Vec<u8>),
    /// Announces the full length, sends only the first `n` bytes, then closes.
    Truncated(Vec<u8>, usize),
}

/// A loopback HTTP/1.0 server: `GET /debian/<pool path>` from `files`, 404 otherwise.
fn serve(files: HashMap<String, Answer>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let files = Arc::new(Mutex::new(files));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) <= 2 {
                    break;
                }
            }
            let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
            let answer = files.lock().unwrap().get(&path).cloned();
            let _ = match answer {
                Some(Answer::Bytes(b)) => write!(
                    stream,
                    "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n",
                    b.len()
                )
                .and_then(|_| stream.write_all(&b)),
                Some(Answer::Truncated(b, n)) => write!(
                    stream,
                    "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n",
                    b.len()
                )
                .and_then(|_| stream.write_all(&b[..n])),
                None => write!(
                    stream,
                    "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n"
                ),
            };
        }
    });
    format!("http://{addr}/debian")
}

/// Only a local directory of `.deb` files, no archive.
fn local_only(dir: &Path) -> Sources {
    Sources {
        local_debs: Some(dir.to_path_buf()),
        archives: Vec::new(),
        archives_error: None,
    }
}

fn sources(archives: Vec<String>) -> Sources {
    Sources {
        local_debs: None,
        archives,
        archives_error: None,
    }
}

/// A toolchain-shaped package: a "compiler" (a shell script that prints its library
/// path and its arguments), the Debian entry point symlink to it, and a library.
fn compiler_deb() -> Vec<u8> {
    make_deb(&[
        Item::File(
            "./usr/lib/llvm-19/bin/clang",
            b"#!/bin/sh\necho \"LD=$LD_LIBRARY_PATH\"\necho \"ARGS=$*\"\necho \"NAME=${0##*/}\"\n",
            0o755,
        ),
        Item::Symlink("./usr/lib/llvm-19/bin/clang++", "clang"),
        Item::Symlink("./usr/bin/clang-19", "../lib/llvm-19/bin/clang"),
        // An absolute target, as some packages ship: it must stay inside the tree.
        Item::Symlink("./usr/bin/clang++-19", "/usr/lib/llvm-19/bin/clang++"),
        Item::File(
            "./usr/lib/x86_64-linux-gnu/libLLVM.so.19.1",
            b"not really",
            0o644,
        ),
        Item::File("./usr/share/doc/clang-19/copyright", b"(c)", 0o644),
    ])
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            out.push(e.path());
        }
    }
    out.sort();
    out
}

#[test]
fn fetched_packages_are_unpacked_wrapped_and_run_with_their_own_libraries() {
    let deb = compiler_deb();
    let lib = make_deb(&[Item::File("./lib/x86_64-linux-gnu/libz.so.1", b"z", 0o644)]);
    let pins = vec![pin("clang-19", &deb), pin("zlib1g", &lib)];
    let mut files = HashMap::new();
    files.insert(
        format!("/debian/{}", pins[0].pool.as_ref().unwrap()),
        Answer::Bytes(deb),
    );
    files.insert(
        format!("/debian/{}", pins[1].pool.as_ref().unwrap()),
        Answer::Bytes(lib),
    );
    // The first archive does not have the files: the next one is asked.
    let empty = serve(HashMap::new());
    let mirror = serve(files);
    let cache = tempfile::tempdir().unwrap();
    let events = Mutex::new(Vec::new());
    let unpacked = ensure(
        cache.path(),
        &pins,
        &sources(vec![empty.clone(), mirror]),
        &|e| events.lock().unwrap().push(format!("{e:?}")),
    )
    .unwrap();
    assert_eq!(unpacked.digest, toolchain_digest(&pins));
    assert_eq!(
        unpacked.root,
        cache.path().join("toolchain").join(&unpacked.digest)
    );
    let events = events.into_inner().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.contains("DownloadFailed") && e.contains(&empty)),
        "{events:?}"
    );

    // The entry point is pylon's wrapper; it runs the real program under its own name,
    // with only the tree's library directories on the path.
    let out = Command::new(unpacked.program("clang++-19"))
        .arg("-c")
        .arg("x.c")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let root = unpacked.root.display().to_string();
    assert!(text.contains("ARGS=-c x.c"), "{text}");
    assert!(text.contains("NAME=clang++"), "{text}");
    let ld = text.lines().find_map(|l| l.strip_prefix("LD=")).unwrap();
    let dirs: Vec<&str> = ld.split(':').collect();
    assert_eq!(
        dirs,
        vec![
            format!("{root}/lib/x86_64-linux-gnu"),
            format!("{root}/usr/lib/x86_64-linux-gnu"),
        ],
        "{text}"
    );
    // The absolute symlink now points inside the tree.
    let ab = std::fs::read_link(unpacked.root.join("usr/lib/llvm-19/bin/clang++")).unwrap();
    assert_eq!(ab, PathBuf::from("clang"));
    // Published complete: the record is there, no staging directory is left, and the
    // .deb files are in the input cache under their digests.
    assert!(unpacked.root.join(pylon_toolchain::RECORD).is_file());
    let leftovers: Vec<_> = files_under(&cache.path().join("toolchain"))
        .into_iter()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".tmp-")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    for p in &pins {
        assert!(cache.path().join("inputs").join(&p.sha256).is_file());
    }

    // A second run uses the published tree without any source.
    let again = ensure(cache.path(), &pins, &sources(Vec::new()), &|_| {}).unwrap();
    assert_eq!(again, unpacked);
}

/// Nothing may be published or admitted after a failed run.
fn assert_nothing_published(cache: &Path) {
    let toolchain: Vec<_> = files_under(&cache.join("toolchain"));
    assert!(toolchain.is_empty(), "{toolchain:?}");
    let inputs: Vec<_> = files_under(&cache.join("inputs"));
    assert!(inputs.is_empty(), "{inputs:?}");
}

#[test]
fn a_wrong_digest_is_refused_naming_package_url_and_both_digests() {
    let deb = compiler_deb();
    let mut p = pin("clang-19", &deb);
    let served = make_deb(&[Item::File("./usr/bin/evil", b"x", 0o755)]);
    let mut files = HashMap::new();
    files.insert(
        format!("/debian/{}", p.pool.as_ref().unwrap()),
        Answer::Bytes(served.clone()),
    );
    let mirror = serve(files);
    p.sha256 = sha256(&deb);
    let cache = tempfile::tempdir().unwrap();
    let err = ensure(
        cache.path(),
        &[p.clone()],
        &sources(vec![mirror.clone()]),
        &|_| {},
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ToolchainError::Digest { .. }), "{msg}");
    assert!(msg.contains("clang-19 1.0-1"), "{msg}");
    assert!(
        msg.contains(&format!("{mirror}/{}", p.pool.as_ref().unwrap())),
        "{msg}"
    );
    assert!(
        msg.contains(&p.sha256) && msg.contains(&sha256(&served)),
        "{msg}"
    );
    assert_nothing_published(cache.path());
}

#[test]
fn a_missing_mirror_and_a_truncated_download_are_unavailable_with_a_way_out() {
    let deb = compiler_deb();
    let p = pin("clang-19", &deb);
    // A port nothing listens on.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        format!("http://127.0.0.1:{port}/debian")
    };
    let mut files = HashMap::new();
    files.insert(
        format!("/debian/{}", p.pool.as_ref().unwrap()),
        Answer::Truncated(deb.clone(), deb.len() / 2),
    );
    let truncating = serve(files);
    let cache = tempfile::tempdir().unwrap();
    let err = ensure(
        cache.path(),
        std::slice::from_ref(&p),
        &sources(vec![closed.clone(), truncating.clone()]),
        &|_| {},
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ToolchainError::Unavailable { .. }), "{msg}");
    assert!(msg.contains(&closed) && msg.contains(&truncating), "{msg}");
    assert!(
        msg.contains("PYLON_DEBIAN_MIRROR") && msg.contains("PYLON_TOOLCHAIN_DEBS"),
        "{msg}"
    );
    assert!(msg.contains("clang-19_1.0-1_amd64.deb"), "{msg}");
    assert_nothing_published(cache.path());
    // No partial download is left in the input cache either.
    let partial: Vec<_> = files_under(&cache.path().join("inputs"));
    assert!(partial.is_empty(), "{partial:?}");

    // With no archive at all, the reason the apt configuration gave is shown.
    let none = Sources {
        local_debs: None,
        archives: Vec::new(),
        archives_error: Some("no Debian archive found in the apt configuration".into()),
    };
    let msg = ensure(cache.path(), &[p], &none, &|_| {})
        .unwrap_err()
        .to_string();
    assert!(msg.contains("no Debian archive found"), "{msg}");
}

#[test]
fn a_local_directory_serves_files_by_digest_whatever_their_names() {
    let deb = compiler_deb();
    let p = pin("clang-19", &deb);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("renamed.deb"), &deb).unwrap();
    std::fs::write(dir.path().join("other.deb"), b"not this").unwrap();
    let cache = tempfile::tempdir().unwrap();
    let s = local_only(dir.path());
    let unpacked = ensure(cache.path(), &[p], &s, &|_| {}).unwrap();
    assert!(unpacked.program("clang-19").is_file());
    // The user's files are left where they are.
    assert!(dir.path().join("renamed.deb").is_file());
}

#[test]
fn a_broken_archive_stops_the_unpack_and_publishes_nothing() {
    // A package whose data.tar is cut short (pinned as it is: a digest proves bytes,
    // not a well-formed archive).
    let good = compiler_deb();
    let full = compiler_data_xz();
    let broken = ar(&[
        ("debian-binary", b"2.0\n".to_vec()),
        ("data.tar.xz", full[..full.len() / 2].to_vec()),
    ]);
    let pins = vec![pin("good", &good), pin("broken", &broken)];
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.deb"), &good).unwrap();
    std::fs::write(dir.path().join("broken.deb"), &broken).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let s = local_only(dir.path());
    let err = ensure(cache.path(), &pins, &s, &|_| {}).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ToolchainError::Deb(_)), "{msg}");
    assert!(msg.contains("data.tar.xz"), "{msg}");
    let toolchain: Vec<_> = files_under(&cache.path().join("toolchain"));
    assert!(
        toolchain.is_empty(),
        "nothing published, no staging left: {toolchain:?}"
    );

    // A file that is not a package at all is named as such.
    let p = pin("text", b"hello");
    std::fs::write(dir.path().join("text.deb"), b"hello").unwrap();
    let msg = ensure(cache.path(), &[p], &s, &|_| {})
        .unwrap_err()
        .to_string();
    assert!(msg.contains("not a Debian package"), "{msg}");
}

fn compiler_data_xz() -> Vec<u8> {
    let deb = compiler_deb();
    let members = pylon_toolchain::deb::members(&{
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), &deb).unwrap();
        f.into_temp_path().keep().unwrap()
    })
    .unwrap();
    let m = members.iter().find(|m| m.name == "data.tar.xz").unwrap();
    deb[m.offset as usize..(m.offset + m.size) as usize].to_vec()
}

#[test]
fn members_escaping_the_tree_are_refused() {
    for (item, what) in [
        (Item::File("./../escape", b"x", 0o644), "../escape"),
        (
            Item::Symlink("./usr/bin/x", "../../../../etc/passwd"),
            "etc/passwd",
        ),
    ] {
        let deb = make_deb(&[item]);
        let p = pin("hostile", &deb);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("h.deb"), &deb).unwrap();
        let cache = tempfile::tempdir().unwrap();
        let s = local_only(dir.path());
        let msg = ensure(cache.path(), &[p], &s, &|_| {})
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("outside the destination") && msg.contains(what),
            "{msg}"
        );
        assert!(!cache.path().join("escape").exists());
        assert!(files_under(&cache.path().join("toolchain")).is_empty());
    }
}

#[test]
fn a_killed_unpack_leaves_nothing_trusted_and_its_leftovers_are_swept() {
    let deb = compiler_deb();
    let p = pin("clang-19", &deb);
    let digest = toolchain_digest(std::slice::from_ref(&p));
    let cache = tempfile::tempdir().unwrap();
    let parent = cache.path().join("toolchain");
    // What a run killed mid-unpack leaves: its staging directory, half full, old.
    let stale = parent.join(format!(".tmp-{digest}-killed"));
    std::fs::create_dir_all(stale.join("usr/bin")).unwrap();
    std::fs::write(stale.join("usr/bin/clang-19"), b"half").unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3 * 24 * 3600);
    std::fs::File::open(&stale)
        .unwrap()
        .set_modified(old)
        .unwrap();
    // A directory at the final name without the record (not pylon's) is refused.
    let fake = parent.join(&digest);
    std::fs::create_dir_all(&fake).unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.deb"), &deb).unwrap();
    let s = local_only(dir.path());
    let msg = ensure(cache.path(), std::slice::from_ref(&p), &s, &|_| {})
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains(".pylon-toolchain.json") && msg.contains("remove it"),
        "{msg}"
    );
    std::fs::remove_dir(&fake).unwrap();
    let unpacked = ensure(cache.path(), &[p], &s, &|_| {}).unwrap();
    assert!(
        !stale.exists(),
        "the killed run's staging directory is swept"
    );
    assert!(unpacked.program("clang-19").is_file());
    // A published tree others can write is not used.
    std::fs::set_permissions(&unpacked.root, std::fs::Permissions::from_mode(0o777)).unwrap();
    let msg = pylon_toolchain::published(&unpacked.root, &unpacked.digest)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("writable by"), "{msg}");
}

#[test]
fn concurrent_runs_publish_one_tree() {
    let deb = compiler_deb();
    let p = pin("clang-19", &deb);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.deb"), &deb).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let s = local_only(dir.path());
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    ensure(cache.path(), std::slice::from_ref(&p), &s, &|_| {})
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }
    let entries = files_under(&cache.path().join("toolchain"));
    assert_eq!(entries.len(), 1, "{entries:?}");
    let mut out = String::new();
    std::fs::File::open(entries[0].join(pylon_toolchain::RECORD))
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(out.contains(&toolchain_digest(&[p])));
}
