//! A tiny `wasi:cli/run` command used by pylon-launch's tests. argv[1] picks the action.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::process::exit;

fn arg(args: &[String], i: usize) -> &str {
    match args.get(i) {
        Some(a) => a,
        None => {
            eprintln!("guest: missing argument {i}");
            exit_with_code(64)
        }
    }
}

// Rust's std exits through `wasi:cli/exit.exit(result)`, which can only say 0 or 1;
// `exit N` uses wasi:cli@0.2.12's `exit-with-code`, described to wasm-component-ld by
// this custom section (see ../exit.wit).
#[link_section = "component-type:pylon-launch-test-guest-exit"]
#[used]
static EXIT_WITH_CODE_TYPE: [u8; include_bytes!("../exit-with-code.component-type").len()] =
    *include_bytes!("../exit-with-code.component-type");

#[link(wasm_import_module = "wasi:cli/exit@0.2.12")]
extern "C" {
    #[link_name = "exit-with-code"]
    fn wasi_exit_with_code(status_code: i32) -> !;
}

fn exit_with_code(code: u8) -> ! {
    let _ = std::io::stdout().flush();
    // SAFETY: the import's signature is (u8) -> ! as lowered by the canonical ABI.
    unsafe { wasi_exit_with_code(i32::from(code)) }
}

// The working directory the host gives (`wasi:cli/environment`'s `initial-cwd`), which
// neither std nor wasi-libc reads. Declared at wasi-libc's version of the interface,
// whose component type (linked in with libc) describes it.
#[link(wasm_import_module = "wasi:cli/environment@0.2.0")]
extern "C" {
    #[link_name = "initial-cwd"]
    fn wasi_initial_cwd(ret: *mut InitialCwd);
}

/// `option<string>` as the canonical ABI returns it: the case, then the string.
#[repr(C)]
struct InitialCwd {
    is_some: u8,
    ptr: *mut u8,
    len: usize,
}

fn initial_cwd() -> Option<String> {
    let mut ret = InitialCwd {
        is_some: 0,
        ptr: std::ptr::null_mut(),
        len: 0,
    };
    // SAFETY: the import writes an `option<string>` to `ret`; a `some` string's bytes
    // were allocated in this memory by the component's `cabi_realloc` (copied here and
    // left allocated: whose allocator made them is libc's business).
    unsafe {
        wasi_initial_cwd(&mut ret);
        if ret.is_some == 0 {
            return None;
        }
        let bytes = std::slice::from_raw_parts(ret.ptr, ret.len);
        Some(String::from_utf8_lossy(bytes).into_owned())
    }
}

/// Recursion that uses wasm stack, a frame per level (the multiply-add after the call is
/// not a form LLVM turns into a loop), and no linear-memory stack (no local has its
/// address taken, so nothing is kept on Rust's 1 MiB shadow stack).
#[inline(never)]
fn depth(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    depth(n - 1).wrapping_mul(n | 1).wrapping_add(1)
}

#[inline(never)]
fn guest_trap_here() -> ! {
    core::arch::wasm32::unreachable()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str).unwrap_or("") {
        "exit" => exit_with_code(arg(&args, 2).parse().unwrap_or(65)),
        "std-exit" => exit(arg(&args, 2).parse().unwrap_or(65)),
        "print-args" => {
            for (i, a) in args.iter().enumerate() {
                println!("arg[{i}]={a}");
            }
        }
        "initial-cwd" => println!("initial-cwd {:?}", initial_cwd()),
        "print-env" => {
            let mut vars: Vec<(String, String)> = std::env::vars().collect();
            vars.sort();
            for (k, v) in vars {
                println!("{k}={v}");
            }
        }
        "read" => match std::fs::read_to_string(arg(&args, 2)) {
            Ok(text) => print!("{text}"),
            Err(e) => {
                println!("read error: {e}");
                exit_with_code(3)
            }
        },
        "list" => match std::fs::read_dir(arg(&args, 2)) {
            Ok(entries) => {
                let mut names: Vec<String> = entries
                    .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
                    .collect::<Result<_, _>>()
                    .unwrap_or_else(|e| vec![format!("list error: {e}")]);
                names.sort();
                println!("listed {names:?}");
            }
            Err(e) => {
                println!("list error: {e}");
                exit_with_code(3)
            }
        },
        "write" => match std::fs::write(arg(&args, 2), arg(&args, 3)) {
            Ok(()) => println!("written"),
            Err(e) => {
                println!("write error: {e}");
                exit_with_code(3)
            }
        },
        "spin" => {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        "recurse" => {
            let n: u64 = arg(&args, 2).parse().unwrap_or(1);
            println!("recursed {n}: {}", depth(n));
        }
        "flood" => {
            // 64 MiB to stdout or stderr, far more than a pipe holds.
            let chunk = vec![b'x'; 1 << 20];
            let result = (0..64).try_for_each(|_| match arg(&args, 2) {
                "stderr" => std::io::stderr().write_all(&chunk),
                _ => std::io::stdout().write_all(&chunk),
            });
            if result.is_err() {
                exit_with_code(3)
            }
        }
        "alloc-forever" => {
            let mut kept: Vec<Vec<u8>> = Vec::new();
            loop {
                let mut chunk = vec![0u8; 1 << 20];
                for i in (0..chunk.len()).step_by(4096) {
                    chunk[i] = 1;
                }
                kept.push(std::hint::black_box(chunk));
            }
        }
        "alloc" => {
            // Keep N MiB, touched, then exit normally.
            let mib: usize = arg(&args, 2).parse().unwrap_or(1);
            let mut kept: Vec<Vec<u8>> = Vec::new();
            for _ in 0..mib {
                let mut chunk = vec![0u8; 1 << 20];
                for i in (0..chunk.len()).step_by(4096) {
                    chunk[i] = 1;
                }
                kept.push(chunk);
            }
            std::hint::black_box(&kept);
        }
        "connect" => match TcpStream::connect(arg(&args, 2)) {
            Ok(_) => println!("connect ok"),
            Err(e) => {
                println!("connect error: {e}");
                exit_with_code(3)
            }
        },
        "lookup" => match (arg(&args, 2), 0u16).to_socket_addrs() {
            Ok(addrs) => {
                let addrs: Vec<_> = addrs.collect();
                println!("lookup ok: {addrs:?}");
            }
            Err(e) => {
                println!("lookup error: {e}");
                exit_with_code(3)
            }
        },
        "trap" => {
            let _ = std::io::stdout().flush();
            guest_trap_here()
        }
        other => {
            eprintln!("guest: unknown command {other:?}");
            exit_with_code(64)
        }
    }
}
