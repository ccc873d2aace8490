//! End-to-end tests: the real `pylon-launch` binary running a real wasm32-wasip2 guest
//! (tests/guest, built here with cargo) under wasmtime.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

mod common;

use common::{guest_dir, tmp_root};

const BIN: &str = env!("CARGO_BIN_EXE_pylon-launch");

/// A cache shared by the tests that are not about the cache (warmed once).
fn shared_cache() -> PathBuf {
    tmp_root().join("shared-cache")
}

/// Builds the test guest once per test process and returns its component.
fn guest() -> &'static Path {
    static GUEST: OnceLock<PathBuf> = OnceLock::new();
    GUEST.get_or_init(|| {
        let wasm = common::build_guest();
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
    launch_with_cache(&shared_cache(), args)
}

/// `pylon-launch --wasm <guest> --cache-dir <cache> <args...>`.
fn launch_with_cache(cache: &Path, args: &[&str]) -> Output {
    command()
        .arg("--wasm")
        .arg(guest())
        .arg("--cache-dir")
        .arg(cache)
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
fn network_only_to_granted_services() {
    let granted = TcpListener::bind("127.0.0.1:0").unwrap();
    let other = TcpListener::bind("127.0.0.1:0").unwrap();
    let granted = granted.local_addr().unwrap();
    let other = other.local_addr().unwrap().to_string();
    let grant = format!("--allow-net=127.0.0.1:{}", granted.port());

    let out = launch(&[&grant, "connect", &granted.to_string()]);
    assert_eq!(code(&out), 0, "{} {}", stdout(&out), stderr(&out));
    assert_eq!(stdout(&out), "connect ok\n");
    let out = launch(&[&grant, "connect", &other]);
    assert_eq!(code(&out), 3, "{} {}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("connect error"), "{}", stdout(&out));

    // A name is resolved by the launcher; lookups in the guest stay possible.
    let by_name = format!("--allow-net=localhost:{}", granted.port());
    let out = launch(&[&by_name, "connect", &granted.to_string()]);
    assert_eq!(code(&out), 0, "{} {}", stdout(&out), stderr(&out));
    let out = launch(&[&by_name, "lookup", "localhost"]);
    assert_eq!(code(&out), 0, "{} {}", stdout(&out), stderr(&out));

    // Repeated grants add up.
    let out = launch(&[&grant, &format!("--allow-net={other}"), "connect", &other]);
    assert_eq!(code(&out), 0, "{} {}", stdout(&out), stderr(&out));

    // A grant that names nothing is the launcher's error (2), before the guest runs.
    let out = launch(&["--allow-net=no-such-host.invalid:80", "exit", "0"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no-such-host.invalid"),
        "{}",
        stderr(&out)
    );
    let out = launch(&["--allow-net=127.0.0.1", "exit", "0"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("--allow-net"), "{}", stderr(&out));
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
    let verbose_run = || launch_with_cache(cache.path(), &["--verbose", "print-args", "x"]);
    let expected = "arg[0]=python\narg[1]=print-args\narg[2]=x\n";
    // The files of the cache directory (not its `wasm-ids` directory).
    let entries = || {
        let mut names: Vec<PathBuf> = std::fs::read_dir(cache.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
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
        let field = |name: &str| {
            recorded
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .unwrap_or_else(|| panic!("no {name:?} in {recorded}"))
                .to_owned()
        };
        assert_eq!(field("cwasm "), sha256_hex(&std::fs::read(&cwasm).unwrap()));
        assert_eq!(field("wasm "), wasm_sha);
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
    // `pylon-launch` finding its wasm through PYLON_WASM, the link.
    let via_link = |args: &[&str]| {
        command()
            .env("PYLON_WASM", &link)
            .arg("--cache-dir")
            .arg(shared_cache())
            .args(args)
            .output()
            .unwrap()
    };
    let out = via_link(&["read", "/usr/local/lib/python313.zip"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "zip bytes");
    // Read-only.
    let out = via_link(&["write", "/usr/local/lib/python313.zip", "x"]);
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
    let out = via_link(&["--env", "A=1", "print-env"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "A=1\nPYTHONHOME=/usr/local\n");
    let out = via_link(&["--env", "PYTHONHOME=/opt", "print-env"]);
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

/// Deep recursion needs more wasm stack than wasmtime's 512 KiB default (CPython's C
/// recursion limit assumes 8 MiB), and the thread running the guest must have room for
/// all of it: recursion past the limit is a clean trap, not a crash of the launcher.
#[test]
fn deep_recursion_has_the_wasm_stack_it_needs() {
    let out = launch(&["recurse", "100000"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("recursed 100000: "),
        "{}",
        stdout(&out)
    );
    let out = launch(&["recurse", "100000000"]);
    assert_eq!(code(&out), 134, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("call stack exhausted"),
        "{}",
        stderr(&out)
    );
}

/// The guest runs on the launcher's main thread when its stack limit can be raised to
/// what the guest needs, and on a thread of its own when the hard limit forbids that
/// (`ulimit -H -s 8192`); an unlimited stack needs no raising. Each way, recursion to the
/// wasm stack's end is a clean trap: a guest put on a stack too small for it would
/// crash the launcher with SIGSEGV instead.
#[cfg(target_os = "linux")]
#[test]
fn deep_recursion_is_a_trap_whatever_the_stack_limit() {
    for limits in [
        "ulimit -S -s 8192",
        "ulimit -S -s 8192 && ulimit -H -s 8192",
        // Where the hard limit is lower, this case is the first one again.
        "{ ulimit -S -s unlimited 2>/dev/null || true; }",
    ] {
        for (depth, want) in [("100000", 0), ("100000000", 134)] {
            let out = Command::new("sh")
                .arg("-c")
                .arg(format!("{limits} && exec \"$0\" \"$@\""))
                .arg(BIN)
                .arg("--wasm")
                .arg(guest())
                .arg("--cache-dir")
                .arg(shared_cache())
                .args(["recurse", depth])
                .env("PYLON_CACHE_DIR", tmp_root().join("default-cache"))
                .output()
                .unwrap();
            assert_eq!(
                code(&out),
                want,
                "{limits}, depth {depth}: {}",
                stderr(&out)
            );
            if want == 134 {
                assert!(
                    stderr(&out).contains("call stack exhausted"),
                    "{limits}: {}",
                    stderr(&out)
                );
            }
        }
    }
}

/// `--timeout` ends a guest blocked writing to a pipe nobody reads (the write holds
/// Rust's lock on the stream, which the timeout's message must not need), for stdout
/// and for stderr, at once.
#[test]
fn timeout_fires_while_the_guest_is_blocked_on_a_full_pipe() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let runs: Vec<_> = ["stdout", "stderr"]
        .into_iter()
        .map(|stream| {
            // Both pipes stay open and unread until the child is gone.
            let child = command()
                .arg("--wasm")
                .arg(guest())
                .arg("--cache-dir")
                .arg(shared_cache())
                .args(["--timeout", "2s", "flood", stream])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (stream, Instant::now(), child)
        })
        .collect();
    for (stream, start, mut child) in runs {
        // Generous: the timeout, its grace period and a loaded CI machine.
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if start.elapsed() > Duration::from_secs(20) {
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let Some(status) = status else {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("flood {stream}: still running 20 s after a 2 s timeout");
        };
        assert_eq!(status.code(), Some(124), "flood {stream}");
        if stream == "stdout" {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            assert!(
                err.contains("timed out after 2s: the launcher's --timeout"),
                "{err}"
            );
        }
    }
}

/// 124 and 134 are also the launcher's own statuses (timeout, trap): when the guest
/// exits with one of them itself, a note says so; the launcher's own messages say they
/// are the launcher's.
#[test]
fn guest_statuses_that_look_like_the_launchers_are_marked() {
    for (status, meaning) in [(124, "not a launcher --timeout"), (134, "not a trap")] {
        let out = launch(&["exit", &status.to_string()]);
        assert_eq!(code(&out), status, "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "pylon-launch: note: exit status {status} is the guest's own"
            )) && err.contains(meaning),
            "{err}"
        );
    }
    let out = launch(&["exit", "3"]);
    assert_eq!(code(&out), 3);
    assert_eq!(stderr(&out), "", "no note for other statuses");

    let out = launch(&["trap"]);
    assert_eq!(code(&out), 134);
    assert!(
        stderr(&out).contains("pylon-launch: the guest trapped (the launcher exits with 134)"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("guest's own"), "{}", stderr(&out));
    let out = launch(&["--timeout", "500ms", "spin"]);
    assert_eq!(code(&out), 124);
    assert!(
        stderr(&out).contains(
            "pylon-launch: timed out after 500ms: the launcher's --timeout stopped the guest"
        ),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("guest's own"), "{}", stderr(&out));
}

/// The guest's working directory, `/`, exists (an empty read-only directory) unless the
/// user maps a directory there, which then wins.
#[test]
fn root_is_an_empty_read_only_directory_unless_mapped() {
    let out = launch(&["list", "/"]);
    assert_eq!(code(&out), 0, "{} {}", stdout(&out), stderr(&out));
    assert_eq!(stdout(&out), "listed []\n");
    let out = launch(&["write", "/new.txt", "x"]);
    assert_eq!(code(&out), 3, "{} {}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("write error"), "{}", stdout(&out));

    let host = tempdir();
    std::fs::write(host.path().join("in.txt"), "at the root\n").unwrap();
    let root = format!("{}::/::rw", host.path().to_str().unwrap());
    let out = launch(&["--dir", &root, "read", "/in.txt"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "at the root\n");
    let out = launch(&["--dir", &root, "list", "/"]);
    assert_eq!(stdout(&out), "listed [\"in.txt\"]\n");
    let out = launch(&["--dir", &root, "write", "/new.txt", "x"]);
    assert_eq!(code(&out), 0, "{} {}", stdout(&out), stderr(&out));
    assert_eq!(
        std::fs::read_to_string(host.path().join("new.txt")).unwrap(),
        "x"
    );
}

/// `--cwd` reaches the guest as `wasi:cli/environment`'s `initial-cwd` (python.wasm's
/// libc correction enters it; scripts/snapshot-check.py checks that end to end), spelled
/// one way; a directory no mapping holds, or one that is not there, is a launcher error
/// naming the option.
#[test]
fn cwd_is_given_to_the_guest_only_inside_a_mapped_directory() {
    let out = launch(&["initial-cwd"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "initial-cwd None\n");

    let host = tempdir();
    std::fs::create_dir_all(host.path().join("a/b")).unwrap();
    std::fs::write(host.path().join("file"), "").unwrap();
    let data = format!("{}::/data", host.path().to_str().unwrap());
    let out = launch(&["--dir", &data, "--cwd", "/data//a/./b/../b/", "initial-cwd"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "initial-cwd Some(\"/data/a/b\")\n");
    let out = launch(&["--cwd", "/", "initial-cwd"]);
    assert_eq!(
        stdout(&out),
        "initial-cwd Some(\"/\")\n",
        "{}",
        stderr(&out)
    );

    let refused = |args: &[&str], needle: &str| {
        let out = launch(args);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(
            stdout(&out).is_empty(),
            "{args:?} ran the guest: {}",
            stdout(&out)
        );
        assert!(
            stderr(&out).contains("--cwd") && stderr(&out).contains(needle),
            "{args:?}: {needle:?} in {}",
            stderr(&out)
        );
    };
    refused(&["--cwd", "data", "initial-cwd"], "absolute");
    refused(&["--cwd", "/data", "initial-cwd"], "--dir HOST::/data");
    refused(
        &["--dir", &data, "--cwd", "/data/missing", "initial-cwd"],
        "missing",
    );
    refused(
        &["--dir", &data, "--cwd", "/data/file", "initial-cwd"],
        "not a directory",
    );
}

/// With a cache directory, `/` is `<cache>/empty-root/`, kept between launches: made
/// once, read-only even to its owner (0500), and used only while it is still empty and
/// unchanged; anything else falls back to a fresh removed directory, so the guest's `/`
/// is empty either way.
#[cfg(unix)]
#[test]
fn the_kept_empty_root_is_used_only_while_it_is_empty_and_read_only() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let cache = tempdir();
    let run = || launch_with_cache(cache.path(), &["list", "/"]);
    let out = run();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "listed []\n");
    let kept = cache.path().join("empty-root");
    let meta = std::fs::symlink_metadata(&kept).unwrap();
    assert!(meta.is_dir());
    assert_eq!(meta.mode() & 0o7777, 0o500);
    assert_eq!(std::fs::read_dir(&kept).unwrap().count(), 0);
    // Nothing of the staging is left beside it.
    let staged: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".empty-root"))
        .collect();
    assert!(staged.is_empty(), "{staged:?}");

    // Something put in it: not used (the guest sees an empty root all the same).
    std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(kept.join("planted.txt"), "host data").unwrap();
    std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o500)).unwrap();
    let out = run();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "listed []\n");

    // Emptied but left writable: not used either.
    std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::remove_file(kept.join("planted.txt")).unwrap();
    let out = run();
    assert_eq!(stdout(&out), "listed []\n");
    assert_eq!(
        std::fs::symlink_metadata(&kept).unwrap().mode() & 0o7777,
        0o700,
        "the launcher does not repair it behind the user's back"
    );
}

#[cfg(unix)]
#[test]
fn cache_dir_writable_by_others_or_owned_by_another_user_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let cache = tempdir();
    seed_cache(cache.path());
    let run = || {
        command()
            .arg("--wasm")
            .arg(guest())
            .arg("--cache-dir")
            .arg(cache.path())
            .args(["--verbose", "exit", "0"])
            .output()
            .unwrap()
    };
    let dir = cache.path().to_str().unwrap().to_owned();
    for (mode, who) in [(0o777, "group and others"), (0o720, "its group")] {
        std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(mode)).unwrap();
        let out = run();
        assert_eq!(code(&out), 2, "{mode:o}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(&dir), "{err}");
        assert!(err.contains(&format!("writable by {who}")), "{err}");
        assert!(
            err.contains("chmod go-w") && err.contains("--no-cache"),
            "{err}"
        );
        assert!(!err.contains("cache hit"), "{err}");
        assert_eq!(
            std::fs::read_dir(cache.path()).unwrap().count(),
            2,
            "nothing written"
        );
    }
    std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let out = run();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("cache hit"), "{}", stderr(&out));

    // Another owner: only root can arrange that.
    let chown = Command::new("chown")
        .arg("12345")
        .arg(cache.path())
        .stderr(std::process::Stdio::null())
        .status();
    if chown.is_ok_and(|s| s.success()) {
        let out = run();
        assert_eq!(code(&out), 2, "{}", stderr(&out));
        assert!(
            stderr(&out).contains("owned by uid 12345"),
            "{}",
            stderr(&out)
        );
    }

    // A missing cache directory is created private, before anything is compiled (so
    // a file that is not a component, which fails fast, shows it too).
    let fresh = tempdir();
    let nested = fresh.path().join("a/b");
    let not_wasm = fresh.path().join("not.wasm");
    std::fs::write(&not_wasm, "not wasm").unwrap();
    let out = command()
        .arg("--wasm")
        .arg(&not_wasm)
        .arg("--cache-dir")
        .arg(&nested)
        .args(["exit", "0"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let mode = std::fs::metadata(&nested).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "{mode:o}");
}

/// An entry is only good for the wasm it was compiled from: a pair copied to another
/// wasm's name is discarded and recompiled, as is an entry other users could write.
#[test]
fn cache_entry_is_bound_to_its_wasm() {
    let cache = tempdir();
    let other_dir = tempdir();
    // Another component: the guest with one more custom section (id 0, name "x").
    let mut bytes = std::fs::read(guest()).unwrap();
    bytes.extend_from_slice(&[0, 3, 1, b'x', b'!']);
    let other = other_dir.path().join("other.wasm");
    std::fs::write(&other, &bytes).unwrap();
    let run = |wasm: &Path| {
        command()
            .arg("--wasm")
            .arg(wasm)
            .arg("--cache-dir")
            .arg(cache.path())
            .args(["--verbose", "exit", "5"])
            .output()
            .unwrap()
    };
    seed_cache(cache.path());
    let entry = |wasm_bytes: &[u8]| {
        std::fs::read_dir(cache.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                let name = p.file_name().unwrap().to_str().unwrap();
                name.starts_with(&sha256_hex(wasm_bytes)) && name.ends_with(".cwasm")
            })
    };
    let ours = entry(&std::fs::read(guest()).unwrap()).expect("the guest's entry");
    let name = ours.file_name().unwrap().to_str().unwrap();
    let engine_part = name.split_once('-').unwrap().1;
    let theirs = cache
        .path()
        .join(format!("{}-{engine_part}", sha256_hex(&bytes)));
    std::fs::copy(&ours, &theirs).unwrap();
    std::fs::copy(sidecar(&ours), sidecar(&theirs)).unwrap();
    let out = run(&other);
    assert_eq!(code(&out), 5, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("discarding cache entry") && err.contains("compiled from another wasm"),
        "{err}"
    );
    let out = run(&other);
    assert!(stderr(&out).contains("cache hit"), "{}", stderr(&out));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&ours, std::fs::Permissions::from_mode(0o666)).unwrap();
        let out = run(guest());
        assert_eq!(code(&out), 5, "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("discarding cache entry") && err.contains("writable by"),
            "{err}"
        );
        let mode = std::fs::metadata(&ours).unwrap().permissions().mode();
        assert_eq!(mode & 0o022, 0, "rewritten: {mode:o}");
    }
}

/// After a miss, the cache keeps this engine's most recently used entries and other
/// engines' recent ones; files it did not name are never touched.
#[test]
fn cache_is_pruned_after_a_miss() {
    use std::time::{Duration, SystemTime};
    let cache = tempdir();
    let engine = pylon_launch::engine().unwrap();
    let ours = &pylon_launch::cache::engine_hash_hex(&engine)[..16];
    let now = SystemTime::now();
    let day = Duration::from_secs(24 * 3600);
    let fake = |n: u8, engine: &str, age: Duration| {
        let entry = cache.path().join(format!("{}-{engine}.cwasm", hex64(n)));
        for path in [entry.clone(), sidecar(&entry)] {
            let file = std::fs::File::create(&path).unwrap();
            file.set_modified(now - age).unwrap();
        }
        entry
    };
    // Five of this engine, used 1..=5 days ago; two of another engine.
    let mine: Vec<PathBuf> = (1..=5).map(|n| fake(n, ours, day * u32::from(n))).collect();
    let recent_other = fake(10, "00000000000000aa", day * 2);
    let old_other = fake(11, "00000000000000bb", day * 40);
    let stray = cache.path().join("notes.txt");
    std::fs::write(&stray, "not the launcher's").unwrap();

    let out = command()
        .arg("--wasm")
        .arg(guest())
        .arg("--cache-dir")
        .arg(cache.path())
        .args(["--verbose", "exit", "0"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("cache pruned"), "{}", stderr(&out));
    // The new entry and the three most recently used of this engine stay.
    for (i, entry) in mine.iter().enumerate() {
        assert_eq!(entry.exists(), i < 3, "{}", entry.display());
        assert_eq!(sidecar(entry).exists(), i < 3, "{}", entry.display());
    }
    assert!(recent_other.exists());
    assert!(!old_other.exists() && !sidecar(&old_other).exists());
    assert!(stray.exists());
    let entries = std::fs::read_dir(cache.path())
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_str().unwrap().ends_with(&format!("{ours}.cwasm"))
        })
        .count();
    assert_eq!(entries, 4);
}

/// Copies the guest's entry (and sidecar) from the shared cache into `dir`, sparing a
/// compilation. Only this engine's: the shared cache outlives test runs, so it may also
/// hold entries an earlier engine configuration compiled.
fn seed_cache(dir: &Path) {
    guest();
    let engine = pylon_launch::engine().unwrap();
    let entry = format!(
        "{}-{}.cwasm",
        sha256_hex(&std::fs::read(guest()).unwrap()),
        &pylon_launch::cache::engine_hash_hex(&engine)[..16]
    );
    for item in std::fs::read_dir(shared_cache()).unwrap() {
        let path = item.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap();
        if name.starts_with(&entry) {
            std::fs::copy(&path, dir.join(name)).unwrap();
        }
    }
    assert_eq!(std::fs::read_dir(dir).unwrap().count(), 2, "seeded");
}

fn hex64(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

fn sidecar(entry: &Path) -> PathBuf {
    pylon_launch::cache::sidecar_path(entry)
}

// --- build/pylon.wasm ---------------------------------------------------------------
//
// What only CPython shows: RecursionError, MemoryError, its view of the working
// directory. These run the product when `make build` has made it (as in CI, where the
// test step follows the build) and are skipped with a note otherwise.
//
// They use the launcher's default cache (PYLON_CACHE_DIR/XDG_CACHE_HOME/~/.cache, as
// every pylon-launch run and `make smoke` do) rather than a private one: compiling
// pylon.wasm takes ~2 minutes in a debug build, and an entry is content-addressed and
// checked, so sharing it is safe.

fn product() -> Option<&'static Path> {
    static PRODUCT: OnceLock<Option<PathBuf>> = OnceLock::new();
    PRODUCT
        .get_or_init(|| {
            let wasm = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../build/pylon.wasm");
            if !wasm.exists() {
                // CI builds the product before it tests: there, absent is a failure.
                assert!(
                    std::env::var_os("CI").is_none(),
                    "{} is missing under CI (make build runs first)",
                    wasm.display()
                );
                eprintln!(
                    "skipping: {} is missing (make build); the build/pylon.wasm tests \
                     did not run",
                    wasm.display()
                );
                return None;
            }
            // Warm the cache once for the tests running in parallel.
            let out = product_run(&wasm, &[], "pass");
            assert_eq!(code(&out), 0, "{}", stderr(&out));
            Some(wasm)
        })
        .as_deref()
}

fn product_run(wasm: &Path, launcher: &[&str], python: &str) -> Output {
    Command::new(BIN)
        .env_remove("PYLON_WASM")
        .env_remove("PYLON_LAUNCH_VERBOSE")
        .arg("--wasm")
        .arg(wasm)
        .args(launcher)
        .args(["--", "-c", python])
        .output()
        .expect("running pylon-launch")
}

/// CPython's C recursion limit (5000 for WASI) is reached before the wasm stack runs
/// out: each of these raises RecursionError (the parser's own limit: MemoryError)
/// instead of trapping.
#[test]
fn python_deep_recursion_raises_recursion_error() {
    let Some(wasm) = product() else { return };
    let script = r#"
import ast, copy, json, pickle
nested, other = [], []
for _ in range(100000):
    nested, other = [nested], [other]
def f():
    f()
cases = {
    "repr": lambda: repr(nested),
    "json.dumps": lambda: json.dumps(nested),
    "json.loads": lambda: json.loads("[" * 100000 + "]" * 100000),
    "copy.deepcopy": lambda: copy.deepcopy(nested),
    "pickle.dumps": lambda: pickle.dumps(nested),
    "==": lambda: nested == other,
    "compile": lambda: compile("1" + "+1" * 100000, "s", "eval"),
    "ast.literal_eval": lambda: ast.literal_eval("-" * 100000 + "1"),
    "def f(): f()": f,
}
for name, case in cases.items():
    try:
        case()
        print(name, "returned")
    except (RecursionError, MemoryError) as e:
        print(name, type(e).__name__)
"#;
    let out = product_run(wasm, &[], script);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    for line in text.lines() {
        let ok = if line.starts_with("ast.") {
            line.ends_with(" MemoryError") || line.ends_with(" RecursionError")
        } else {
            line.ends_with(" RecursionError")
        };
        assert!(ok, "{line}\n{text}");
    }
    assert_eq!(text.lines().count(), 9, "{text}");
}

/// The composition has several linear memories (CPython's and one per cap): the limit
/// holds for their total. A 24 MiB allocation fits under a 40 MiB per-memory cap but
/// not under a 40 MiB total, whose report stays under the limit.
#[test]
fn python_max_memory_bounds_the_total() {
    let Some(wasm) = product() else { return };
    let script = "
b = bytearray(4 << 20)
print('4 MiB ok')
del b
try:
    c = bytearray(24 << 20)
    print('24 MiB allocated')
except MemoryError:
    print('MemoryError')
";
    let out = product_run(wasm, &["--max-memory", "40Mi", "--report-memory"], script);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "4 MiB ok\nMemoryError\n");
    let total = reported_memory(&stderr(&out));
    assert!(total <= 40 << 20, "{total}");

    // Without a limit, the same allocation succeeds and the total shows it.
    let out = product_run(wasm, &["--report-memory"], script);
    assert_eq!(stdout(&out), "4 MiB ok\n24 MiB allocated\n");
    assert!(reported_memory(&stderr(&out)) > 40 << 20);

    // Less than the memories the component starts with: a launcher error saying so.
    let out = product_run(wasm, &["--max-memory", "16Mi"], "pass");
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--max-memory 16777216 is too small"),
        "{}",
        stderr(&out)
    );
}

fn reported_memory(err: &str) -> u64 {
    let line = err
        .lines()
        .find_map(|l| l.strip_prefix("pylon-launch: linear memory: "))
        .unwrap_or_else(|| panic!("no memory line in {err}"));
    line.trim_end_matches(" bytes").parse().unwrap()
}

/// CPython's working directory exists: it can be stat'ed and chdir'ed back to (as
/// CPython's test runner does), and holds nothing.
#[test]
fn python_working_directory_exists() {
    let Some(wasm) = product() else { return };
    let script = "
import os
cwd = os.getcwd()
os.stat(cwd)
os.chdir(cwd)
os.stat('.')
print(cwd, os.listdir('.'))
try:
    open('new-file', 'w')
except OSError as e:
    print(type(e).__name__)
";
    let out = product_run(wasm, &[], script);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "/ []\nPermissionError\n");
}

fn sha256_hex(bytes: &[u8]) -> String {
    pylon_launch::cache::sha256_hex(bytes)
}

/// How the binary is linked (build.rs, main.rs): position-dependent unless built with
/// PYLON_LAUNCH_PIE, and without libgcc_s (GCC's unwinder is linked in), both for
/// startup time.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn binary_is_linked_for_startup() {
    let bytes = std::fs::read(BIN).unwrap();
    assert_eq!(&bytes[..4], b"\x7fELF");
    // e_type, little-endian: 2 = ET_EXEC (position-dependent), 3 = ET_DYN (PIE).
    let e_type = u16::from_le_bytes([bytes[16], bytes[17]]);
    let expected = if option_env!("PYLON_LAUNCH_PIE").is_some() {
        3
    } else {
        2
    };
    assert_eq!(e_type, expected, "ELF type of {BIN}");
    assert!(
        !bytes.windows(11).any(|w| w == b"libgcc_s.so"),
        "{BIN} still names libgcc_s"
    );
}
