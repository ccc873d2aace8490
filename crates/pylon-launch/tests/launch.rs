//! End-to-end tests: the real `pylon-launch` binary running a real wasm32-wasip2 guest
//! (tests/guest, built here with cargo) under wasmtime.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const BIN: &str = env!("CARGO_BIN_EXE_pylon-launch");

fn guest_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guest")
}

fn tmp_root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pylon-launch-tests")
}

/// A cache shared by the tests that are not about the cache (warmed once).
fn shared_cache() -> PathBuf {
    tmp_root().join("shared-cache")
}

/// Builds the test guest once per test process and returns its component.
fn guest() -> &'static Path {
    static GUEST: OnceLock<PathBuf> = OnceLock::new();
    GUEST.get_or_init(|| {
        let target = tmp_root().join("guest-target");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "--release",
                "--target",
                "wasm32-wasip2",
                "--offline",
            ])
            .arg("--locked")
            .arg("--target-dir")
            .arg(&target)
            .current_dir(guest_dir())
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_BUILD_TARGET")
            .status()
            .expect("running cargo for the test guest");
        assert!(status.success(), "building the test guest failed");
        let wasm = target.join("wasm32-wasip2/release/pylon-launch-test-guest.wasm");
        assert!(wasm.is_file(), "{} missing", wasm.display());
        // Warm the shared cache so parallel tests do not all compile at once.
        let out = command()
            .arg("--wasm")
            .arg(&wasm)
            .arg("--cache-dir")
            .arg(shared_cache())
            .args(["exit", "0"])
            .output()
            .expect("running pylon-launch");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        wasm
    })
}

fn command() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("PYLON_WASM")
        .env_remove("PYLON_LAUNCH_VERBOSE")
        // Never touch the user's cache, whatever a test forgets.
        .env("PYLON_CACHE_DIR", tmp_root().join("default-cache"));
    cmd
}

/// `pylon-launch --wasm <guest> --cache-dir <shared> <args...>`.
fn launch(args: &[&str]) -> Output {
    command()
        .arg("--wasm")
        .arg(guest())
        .arg("--cache-dir")
        .arg(shared_cache())
        .args(args)
        .output()
        .expect("running pylon-launch")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status
        .code()
        .expect("pylon-launch was killed by a signal")
}

fn tempdir() -> tempfile::TempDir {
    std::fs::create_dir_all(tmp_root()).unwrap();
    tempfile::tempdir_in(tmp_root()).unwrap()
}

#[test]
fn guest_component_type_is_current() {
    let dir = guest_dir();
    let mut resolve = wit_parser::Resolve::default();
    let wit = std::fs::read_to_string(dir.join("exit.wit")).unwrap();
    let pkg = resolve.push_str(dir.join("exit.wit"), &wit).unwrap();
    let world = resolve
        .select_world(&[pkg], Some("pylon-launch-test-guest"))
        .unwrap();
    let bytes = wit_component::metadata::encode(
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
        None,
        false,
    )
    .unwrap();
    let committed = dir.join("exit-with-code.component-type");
    if std::env::var_os("PYLON_LAUNCH_REGEN_GUEST").is_some() {
        std::fs::write(&committed, &bytes).unwrap();
    }
    assert_eq!(
        std::fs::read(&committed).unwrap(),
        bytes,
        "{} is stale: rerun with PYLON_LAUNCH_REGEN_GUEST=1",
        committed.display()
    );
}

#[test]
fn args_pass_through() {
    let out = launch(&["print-args", "a", "b c", "--wasm", "-x"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "arg[0]=python\narg[1]=print-args\narg[2]=a\narg[3]=b c\narg[4]=--wasm\narg[5]=-x\n"
    );
    // `--` ends the launcher options, so guest arguments may look like them.
    let out = launch(&["--", "print-args", "--allow-net"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "arg[0]=python\narg[1]=print-args\narg[2]=--allow-net\n"
    );
}

#[test]
fn env_passes_through_and_nothing_else() {
    let out = command()
        .env("PYLON_LAUNCH_TEST_HOST_ONLY", "secret")
        .env("PYLON_LAUNCH_TEST_COPIED", "copied")
        .arg("--wasm")
        .arg(guest())
        .arg("--cache-dir")
        .arg(shared_cache())
        .args([
            "--env",
            "A=1",
            "--env=B=x=y",
            "--env",
            "PYLON_LAUNCH_TEST_COPIED",
        ])
        .arg("print-env")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "A=1\nB=x=y\nPYLON_LAUNCH_TEST_COPIED=copied\n"
    );
}

#[test]
fn exit_codes_pass_through() {
    for n in [0, 3, 7, 42, 255] {
        let out = launch(&["exit", &n.to_string()]);
        assert_eq!(code(&out), n, "exit {n}: {}", stderr(&out));
    }
    // std's exit goes through `exit(result)`: any failure is reported as 1.
    let out = launch(&["std-exit", "5"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
}

#[test]
fn filesystem_is_only_what_is_mapped() {
    let host = tempdir();
    std::fs::write(host.path().join("in.txt"), "inside\n").unwrap();
    let host_str = host.path().to_str().unwrap();

    // Nothing mapped: the file is invisible.
    let file = host.path().join("in.txt");
    let out = launch(&["read", file.to_str().unwrap()]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(stdout(&out).contains("read error"), "{}", stdout(&out));

    // Read-only mapping: reading works, writing does not.
    let ro = format!("{host_str}::/data");
    let out = launch(&["--dir", &ro, "read", "/data/in.txt"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "inside\n");
    let out = launch(&["--dir", &ro, "write", "/data/out.txt", "hello"]);
    assert_eq!(code(&out), 3, "{}", stdout(&out));
    assert!(stdout(&out).contains("write error"), "{}", stdout(&out));
    assert!(!host.path().join("out.txt").exists());
    let out = launch(&["--dir", &format!("{ro}::ro"), "write", "/data/out.txt", "x"]);
    assert_eq!(code(&out), 3, "{}", stdout(&out));

    // `::rw`: writing works and lands on the host.
    let rw = format!("{host_str}::/data::rw");
    let out = launch(&["--dir", &rw, "write", "/data/out.txt", "hello"]);
    assert_eq!(code(&out), 0, "{} {}", stdout(&out), stderr(&out));
    assert_eq!(
        std::fs::read_to_string(host.path().join("out.txt")).unwrap(),
        "hello"
    );

    // `--dir HOST` maps the same path.
    let out = launch(&["--dir", host_str, "read", file.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "inside\n");
}

#[test]
fn timeout_stops_a_spinning_guest() {
    let out = launch(&["--timeout", "1s", "spin"]);
    assert_eq!(code(&out), 124, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("pylon-launch: timed out after 1s"),
        "{}",
        stderr(&out)
    );
    let out = launch(&["--timeout", "1500ms", "spin"]);
    assert_eq!(code(&out), 124, "{}", stderr(&out));
    assert!(stderr(&out).contains("timed out after 1500ms"));
    // A guest that finishes in time is unaffected.
    let out = launch(&["--timeout", "2m", "exit", "4"]);
    assert_eq!(code(&out), 4, "{}", stderr(&out));
}

#[test]
fn max_memory_stops_a_greedy_guest() {
    let out = launch(&["--max-memory", "32Mi", "alloc-forever"]);
    let c = code(&out);
    assert_ne!(c, 0, "{}", stderr(&out));
    assert_ne!(c, 2, "{}", stderr(&out));
    assert_eq!(c, 134, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("memory allocation"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn network_only_with_allow_net() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();

    let out = launch(&["connect", &addr]);
    assert_eq!(code(&out), 3, "{} {}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("connect error"), "{}", stdout(&out));

    let out = launch(&["--allow-net", "connect", &addr]);
    assert_eq!(code(&out), 0, "{} {}", stdout(&out), stderr(&out));
    assert_eq!(stdout(&out), "connect ok\n");

    let out = launch(&["lookup", "localhost"]);
    assert_eq!(code(&out), 3, "{} {}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("lookup error"), "{}", stdout(&out));
    let out = launch(&["--allow-net", "lookup", "localhost"]);
    assert_eq!(code(&out), 0, "{} {}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("lookup ok"), "{}", stdout(&out));
}

#[test]
fn trap_reports_a_backtrace() {
    let out = launch(&["trap"]);
    assert_eq!(code(&out), 134, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("wasm backtrace"), "{err}");
    assert!(err.contains("guest_trap_here"), "{err}");
    assert!(err.contains("unreachable"), "{err}");
}

#[test]
fn cache_is_written_reused_and_repaired() {
    let cache = tempdir();
    let verbose_run = || {
        command()
            .arg("--wasm")
            .arg(guest())
            .arg("--cache-dir")
            .arg(cache.path())
            .arg("--verbose")
            .args(["print-args", "x"])
            .output()
            .unwrap()
    };
    let expected = "arg[0]=python\narg[1]=print-args\narg[2]=x\n";
    let entries = || {
        let mut names: Vec<PathBuf> = std::fs::read_dir(cache.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        names
    };

    let out = verbose_run();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), expected);
    assert!(stderr(&out).contains("cache miss"), "{}", stderr(&out));
    let names = entries();
    assert_eq!(names.len(), 2, "{names:?}");
    let cwasm = names[0].clone();
    let sidecar = names[1].clone();
    assert!(cwasm.to_str().unwrap().ends_with(".cwasm"), "{names:?}");
    assert!(
        sidecar.to_str().unwrap().ends_with(".cwasm.sha256"),
        "{names:?}"
    );
    let wasm_sha = sha256_hex(&std::fs::read(guest()).unwrap());
    let file_name = cwasm.file_name().unwrap().to_str().unwrap().to_owned();
    assert!(
        file_name.starts_with(&format!("{wasm_sha}-")),
        "{file_name}"
    );
    let check_sidecar = || {
        let recorded = std::fs::read_to_string(&sidecar).unwrap();
        assert_eq!(recorded.trim(), sha256_hex(&std::fs::read(&cwasm).unwrap()));
    };
    check_sidecar();

    let out = verbose_run();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), expected);
    assert!(stderr(&out).contains("cache hit"), "{}", stderr(&out));

    // Corrupt the entry: the checksum catches it before deserialization.
    let mut bytes = std::fs::read(&cwasm).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 64] {
        *b ^= 0x5a;
    }
    std::fs::write(&cwasm, &bytes).unwrap();
    let out = verbose_run();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), expected);
    assert!(
        stderr(&out).contains("discarding cache entry"),
        "{}",
        stderr(&out)
    );
    check_sidecar();
    assert_eq!(entries().len(), 2, "temporary files left: {:?}", entries());

    // A truncated entry and a missing sidecar are repaired the same way.
    std::fs::write(&cwasm, &bytes[..100]).unwrap();
    std::fs::remove_file(&sidecar).unwrap();
    let out = verbose_run();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("discarding cache entry"));
    check_sidecar();

    let out = verbose_run();
    assert!(stderr(&out).contains("cache hit"), "{}", stderr(&out));

    // PYLON_LAUNCH_VERBOSE=1 also turns the line on; --no-cache leaves no entry behind.
    let fresh = tempdir();
    let out = command()
        .env("PYLON_LAUNCH_VERBOSE", "1")
        .env("PYLON_CACHE_DIR", fresh.path())
        .arg("--wasm")
        .arg(guest())
        .args(["--no-cache", "exit", "0"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("no cache"), "{}", stderr(&out));
    assert_eq!(std::fs::read_dir(fresh.path()).unwrap().count(), 0);
}

#[test]
fn concurrent_runs_share_a_cache() {
    let cache = tempdir();
    let children: Vec<_> = (0..3)
        .map(|_| {
            command()
                .arg("--wasm")
                .arg(guest())
                .arg("--cache-dir")
                .arg(cache.path())
                .args(["exit", "9"])
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(code(&out), 9, "{}", stderr(&out));
    }
    let out = command()
        .arg("--wasm")
        .arg(guest())
        .arg("--cache-dir")
        .arg(cache.path())
        .args(["--verbose", "exit", "0"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("cache hit"), "{}", stderr(&out));
}

#[test]
fn stdlib_is_mapped_from_record_json() {
    let root = tempdir();
    let wasm = root.path().join("python.wasm");
    std::fs::copy(guest(), &wasm).unwrap();
    std::fs::write(
        root.path().join("record.json"),
        r#"{"format_version": 1, "stdlib_zip_guest_path": "/usr/local/lib/python313.zip"}"#,
    )
    .unwrap();

    // record.json names a zip that is not there: a launcher error naming both paths.
    let out = command()
        .arg("--wasm")
        .arg(&wasm)
        .args(["--no-cache", "exit", "0"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("/usr/local/lib/python313.zip"), "{err}");
    assert!(
        err.contains(root.path().join("lib/python313.zip").to_str().unwrap()),
        "{err}"
    );

    std::fs::create_dir(root.path().join("lib")).unwrap();
    std::fs::write(root.path().join("lib/python313.zip"), "zip bytes").unwrap();
    // Through a symlink: record.json is found next to the resolved file.
    let link_dir = tempdir();
    let link = link_dir.path().join("pylon.wasm");
    std::os::unix::fs::symlink(&wasm, &link).unwrap();
    let out = command()
        .env("PYLON_WASM", &link)
        .arg("--cache-dir")
        .arg(shared_cache())
        .args(["read", "/usr/local/lib/python313.zip"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "zip bytes");
    // Read-only.
    let out = command()
        .env("PYLON_WASM", &link)
        .arg("--cache-dir")
        .arg(shared_cache())
        .args(["write", "/usr/local/lib/python313.zip", "x"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 3, "{}", stderr(&out));

    // --stdlib points elsewhere.
    let other = tempdir();
    std::fs::write(other.path().join("python313.zip"), "other zip").unwrap();
    let out = command()
        .arg("--wasm")
        .arg(&wasm)
        .arg("--cache-dir")
        .arg(shared_cache())
        .arg("--stdlib")
        .arg(other.path())
        .args(["read", "/usr/local/lib/python313.zip"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "other zip");

    // The stdlib's prefix is the guest's PYTHONHOME (CPython would otherwise warn that
    // it cannot find its landmarks); an explicit --env PYTHONHOME wins.
    let out = command()
        .env("PYLON_WASM", &link)
        .arg("--cache-dir")
        .arg(shared_cache())
        .args(["--env", "A=1", "print-env"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "A=1\nPYTHONHOME=/usr/local\n");
    let out = command()
        .env("PYLON_WASM", &link)
        .arg("--cache-dir")
        .arg(shared_cache())
        .args(["--env", "PYTHONHOME=/opt", "print-env"])
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "PYTHONHOME=/opt\n");
}

/// Memories only grow, so the reported total grows with what the guest keeps.
#[test]
fn report_memory_counts_linear_memory_growth() {
    let memory = |args: &[&str]| -> u64 {
        let mut all = vec!["--report-memory"];
        all.extend_from_slice(args);
        let out = launch(&all);
        let err = stderr(&out);
        let line = err
            .lines()
            .find_map(|l| l.strip_prefix("pylon-launch: linear memory: "))
            .unwrap_or_else(|| panic!("no memory line in {err}"));
        line.trim_end_matches(" bytes").parse().unwrap()
    };
    let idle = memory(&["exit", "0"]);
    assert!(idle > 0, "the guest's initial memory is counted");
    assert_eq!(
        idle,
        memory(&["exit", "0"]),
        "the same run reports the same size"
    );
    let eight = memory(&["alloc", "8"]);
    let forty = memory(&["alloc", "40"]);
    assert!(eight >= idle + (8 << 20), "{idle} then {eight}");
    assert!(forty >= eight + (32 << 20), "{eight} then {forty}");
    let out = launch(&["exit", "0"]);
    assert!(!stderr(&out).contains("linear memory"), "only when asked");
}

#[test]
fn bad_options_are_launcher_errors() {
    let check = |out: Output, needles: &[&str]| {
        assert_eq!(code(&out), 2, "{}", stderr(&out));
        for needle in needles {
            assert!(
                stderr(&out).contains(needle),
                "{needle:?} in {}",
                stderr(&out)
            );
        }
    };
    check(
        launch(&["--max-memory", "12Q", "exit", "0"]),
        &["--max-memory", "12Q"],
    );
    check(
        launch(&["--timeout", "soon", "exit", "0"]),
        &["--timeout", "soon"],
    );
    check(
        launch(&["--dir", "/definitely/missing/pylon::/x", "exit", "0"]),
        &["--dir", "/definitely/missing/pylon"],
    );
    check(launch(&["--bogus", "exit", "0"]), &["--bogus"]);
    check(launch(&["--env"]), &["--env"]);

    let missing = tmp_root().join("no-such.wasm");
    let out = command()
        .arg("--wasm")
        .arg(&missing)
        .args(["--no-cache", "exit", "0"])
        .output()
        .unwrap();
    check(out, &[missing.to_str().unwrap()]);

    let dir = tempdir();
    let text = dir.path().join("not-a-component.wasm");
    std::fs::write(&text, "this is not wasm").unwrap();
    let out = command()
        .arg("--wasm")
        .arg(&text)
        .args(["--no-cache", "exit", "0"])
        .output()
        .unwrap();
    check(out, &[text.to_str().unwrap(), "not a runnable component"]);

    // A core module is not a component either.
    let module = dir.path().join("core.wasm");
    std::fs::write(&module, b"\0asm\x01\0\0\0").unwrap();
    let out = command()
        .arg("--wasm")
        .arg(&module)
        .args(["--no-cache", "exit", "0"])
        .output()
        .unwrap();
    check(out, &[module.to_str().unwrap()]);
}

#[test]
fn help() {
    let out = command().arg("--help").output().unwrap();
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).contains("usage: pylon-launch"));
}

fn sha256_hex(bytes: &[u8]) -> String {
    pylon_launch::cache::sha256_hex(bytes)
}
