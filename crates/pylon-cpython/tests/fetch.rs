//! Digest checks of the source tarball, on real .tar.xz files made here: a tampered
//! local file and a tampered download (from a one-shot HTTP server on 127.0.0.1) are
//! refused and never enter the cache; a good download is cached and not fetched again.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use pylon_cpython::fetch::{sha256_file, FetchError, InputCache};
use pylon_cpython::profile::{load_profile, Sha256, SourceLocation, SourceSpec};

/// A real xz tarball of a tiny tree.
fn make_tarball(dir: &Path) -> PathBuf {
    let top = dir.join("Python-0.0.1");
    std::fs::create_dir_all(top.join("Lib")).unwrap();
    std::fs::write(top.join("Lib/os.py"), "# not really os\n").unwrap();
    let out = dir.join("python_0.0.1.orig.tar.xz");
    let status = Command::new("tar")
        .current_dir(dir)
        .args(["--create", "--xz", "--file"])
        .arg(&out)
        .arg("Python-0.0.1")
        .status()
        .unwrap();
    assert!(status.success());
    out
}

/// Flips one byte in a copy of `file`.
fn tampered_copy(file: &Path, dir: &Path) -> PathBuf {
    let mut bytes = std::fs::read(file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    let out = dir.join("tampered.tar.xz");
    std::fs::write(&out, bytes).unwrap();
    out
}

fn spec(tarball: &Path, sources: Vec<SourceLocation>) -> SourceSpec {
    SourceSpec {
        tarball: "python_0.0.1.orig.tar.xz".into(),
        sha256: Sha256::parse(&sha256_file(tarball).unwrap()).unwrap(),
        size: None,
        top_dir: "Python-0.0.1".into(),
        sources,
    }
}

/// Serves `body` to `n` requests on a loopback port; returns the URL.
fn serve(body: Vec<u8>, n: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(n) {
            let mut stream = stream.unwrap();
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    format!("http://127.0.0.1:{port}/python_0.0.1.orig.tar.xz")
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn tampered_local_tarball_is_refused_and_not_cached() {
    let tmp = tempfile::tempdir().unwrap();
    let good = make_tarball(tmp.path());
    let bad = tampered_copy(&good, tmp.path());
    let spec = spec(&good, vec![]);
    let cache = InputCache::new(&tmp.path().join("cache"));
    let err = cache
        .tarball(&spec, Some(&bad), Path::new("/nonexistent"), &|_| {})
        .unwrap_err();
    let msg = err.to_string();
    let actual = sha256_file(&bad).unwrap();
    assert!(
        matches!(err, FetchError::DigestMismatch { deleted: false, .. }),
        "{msg}"
    );
    assert!(msg.contains("python_0.0.1.orig.tar.xz"), "{msg}");
    assert!(msg.contains(&format!("expected {}", spec.sha256)), "{msg}");
    assert!(msg.contains(&format!("got {actual}")), "{msg}");
    assert!(bad.is_file(), "a user's own file is never deleted");
    assert!(!cache.path_of(&spec.sha256).exists());

    // The good file is admitted under its digest.
    let path = cache
        .tarball(&spec, Some(&good), Path::new("/nonexistent"), &|_| {})
        .unwrap();
    assert_eq!(path, cache.path_of(&spec.sha256));
    assert_eq!(std::fs::read(&path).unwrap(), std::fs::read(&good).unwrap());
}

#[test]
fn tampered_download_is_deleted_and_good_one_cached_once() {
    let tmp = tempfile::tempdir().unwrap();
    let good = make_tarball(tmp.path());
    let bad = tampered_copy(&good, tmp.path());
    let cache = InputCache::new(&tmp.path().join("cache"));

    let url = serve(std::fs::read(&bad).unwrap(), 1);
    let spec_bad = spec(&good, vec![SourceLocation::Url(url.clone())]);
    let err = cache
        .tarball(&spec_bad, None, Path::new("/nonexistent"), &|_| {})
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, FetchError::DigestMismatch { deleted: true, .. }),
        "{msg}"
    );
    assert!(
        msg.contains(&url) && msg.contains("the download was deleted"),
        "{msg}"
    );
    assert!(
        entries(&cache.dir).is_empty(),
        "left behind: {:?}",
        entries(&cache.dir)
    );

    let url = serve(std::fs::read(&good).unwrap(), 1);
    let spec_good = spec(&good, vec![SourceLocation::Url(url)]);
    let fetched = std::sync::Mutex::new(0);
    let on_event = |ev: pylon_cpython::fetch::FetchEvent<'_>| {
        if matches!(ev, pylon_cpython::fetch::FetchEvent::Downloading { .. }) {
            *fetched.lock().unwrap() += 1;
        }
    };
    cache
        .tarball(&spec_good, None, Path::new("/nonexistent"), &on_event)
        .unwrap();
    // The server is gone now: a second request can only be answered by the cache.
    cache
        .tarball(&spec_good, None, Path::new("/nonexistent"), &on_event)
        .unwrap();
    assert_eq!(*fetched.lock().unwrap(), 1);
    assert_eq!(entries(&cache.dir), vec![spec_good.sha256.to_string()]);
}

#[test]
fn unreachable_source_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let good = make_tarball(tmp.path());
    // A port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let spec = spec(
        &good,
        vec![SourceLocation::Url(format!(
            "http://127.0.0.1:{port}/x.tar.xz"
        ))],
    );
    let cache = InputCache::new(&tmp.path().join("cache"));
    let msg = cache
        .tarball(&spec, None, Path::new("/nonexistent"), &|_| {})
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("is not cached and could not be fetched"),
        "{msg}"
    );
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
}

#[test]
fn cp314_refuses_a_tarball_that_is_not_the_pinned_one() {
    let tmp = tempfile::tempdir().unwrap();
    let profiles = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../profiles");
    let p = load_profile(&profiles, Some("cp314")).unwrap();
    // A real tarball that claims to be 3.14.10 but is not the pinned file.
    let fake = make_tarball(tmp.path());
    let cache = InputCache::new(&tmp.path().join("cache"));
    let msg = cache
        .tarball(&p.source, Some(&fake), Path::new("/nonexistent"), &|_| {})
        .unwrap_err()
        .to_string();
    assert!(msg.contains("python3.14_3.14.10.orig.tar.xz"), "{msg}");
    assert!(
        msg.contains("expected de414a57119abef52784d8993e341d53aed635fc2b05c2607d9f98a2c5b72032"),
        "{msg}"
    );
    assert!(!cache.path_of(&p.source.sha256).exists());
}

#[test]
fn debian_pool_paths_resolve_against_the_apt_host() {
    let tmp = tempfile::tempdir().unwrap();
    let good = make_tarball(tmp.path());
    let url = serve(std::fs::read(&good).unwrap(), 1);
    // An apt configuration whose Debian archive is our loopback server.
    let base = url.trim_end_matches("/python_0.0.1.orig.tar.xz");
    let apt = tmp.path().join("apt");
    std::fs::create_dir_all(apt.join("sources.list.d")).unwrap();
    std::fs::write(
        apt.join("sources.list.d/debian.sources"),
        format!("Types: deb\nURIs: {base}/debian\nSuites: bookworm\nComponents: main\n"),
    )
    .unwrap();
    let spec = spec(
        &good,
        vec![SourceLocation::DebianPool(
            "pool/main/p/python_0.0.1.orig.tar.xz".into(),
        )],
    );
    let cache = InputCache::new(&tmp.path().join("cache"));
    let urls = std::sync::Mutex::new(Vec::new());
    cache
        .tarball(&spec, None, &apt, &|ev| {
            if let pylon_cpython::fetch::FetchEvent::Downloading { url } = ev {
                urls.lock().unwrap().push(url.to_string());
            }
        })
        .unwrap();
    assert_eq!(
        *urls.lock().unwrap(),
        vec![format!(
            "{base}/debian/pool/main/p/python_0.0.1.orig.tar.xz"
        )]
    );
}
