//! `pylon-launch`: parse, run, print, exit. See `pylon_launch::USAGE`.

use std::io::Write;
use std::sync::mpsc;
use std::time::Duration;

use pylon_launch::{format_duration, Event, Outcome, EXIT_LAUNCH_ERROR, EXIT_TIMEOUT, EXIT_TRAP};

/// How long a timeout's last words (its message, stdout's buffered bytes) may take to be
/// written before the process ends anyway: a pipe nobody reads must not keep it alive.
const LAST_WORDS_WAIT: Duration = Duration::from_millis(500);

fn main() -> ! {
    let code = match launch() {
        Ok(outcome) => {
            match &outcome {
                Outcome::Exited(code) => {
                    if let Some(note) = own_status_note(*code) {
                        eprintln!("pylon-launch: note: {note}");
                    }
                }
                Outcome::Trapped { report } => eprintln!(
                    "pylon-launch: the guest trapped (the launcher exits with \
                     {EXIT_TRAP}): {report}"
                ),
                Outcome::TimedOut { after } => timed_out(*after),
            }
            outcome.exit_code()
        }
        Err(err) => {
            eprintln!("pylon-launch: error: {err:#}");
            EXIT_LAUNCH_ERROR
        }
    };
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // Guest codes are 0..=255 (wasi exit-with-code takes a u8); anything else is clamped.
    // Ended here, with stdout and stderr flushed: the instance was left for the exit to
    // reclaim (`process_exits_after`), and nothing else runs at exit.
    raw::exit_now(i32::from(u8::try_from(code).unwrap_or(1)))
}

/// A guest that exits with one of the statuses the launcher uses for its own outcomes
/// would otherwise look like a timeout or a trap to whoever reads only the status.
fn own_status_note(code: i32) -> Option<String> {
    let meaning = match code {
        EXIT_TIMEOUT => "a launcher --timeout",
        EXIT_TRAP => "a trap",
        _ => return None,
    };
    Some(format!(
        "exit status {code} is the guest's own (it exited with {code}), not {meaning}"
    ))
}

fn timeout_message(after: Duration) -> String {
    format!(
        "pylon-launch: timed out after {}: the launcher's --timeout stopped the guest \
         (exit status {EXIT_TIMEOUT})\n",
        format_duration(after)
    )
}

/// The guest was interrupted at an epoch check. Its earlier output may still sit in
/// stdout's buffer, and stdout or stderr may be a pipe nobody reads: report and flush
/// with bounded waits, then end the process without another flush.
fn timed_out(after: Duration) -> ! {
    let message = timeout_message(after);
    within(LAST_WORDS_WAIT, move || {
        raw::write_stderr(message.as_bytes())
    });
    within(LAST_WORDS_WAIT, || {
        let _ = std::io::stdout().flush();
    });
    raw::exit_now(EXIT_TIMEOUT)
}

/// Runs `work` on a thread of its own and waits for it at most `limit`; a thread still
/// blocked (in a write to a full pipe) is left behind for the imminent exit to end.
fn within(limit: Duration, work: impl FnOnce() + Send + 'static) {
    let (done, wait) = mpsc::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("pylon-launch-last-words".into())
        .spawn(move || {
            work();
            let _ = done.send(());
        });
    if spawned.is_ok() {
        let _ = wait.recv_timeout(limit);
    }
}

/// The main thread's stack the guest needs: the guest thread's, and room for what main
/// has already used below `launch`.
const MAIN_STACK_FOR_GUEST: u64 = pylon_launch::GUEST_THREAD_STACK as u64 + (1 << 20);

fn launch() -> anyhow::Result<Outcome> {
    let mut opts = pylon_launch::parse_args(std::env::args_os().skip(1).collect())?;
    opts.process_exits_after = true;
    opts.guest_on_calling_thread = raw::main_stack_allows(MAIN_STACK_FOR_GUEST);
    if opts.show_help {
        print!("{}", pylon_launch::USAGE);
        return Ok(Outcome::Exited(0));
    }
    let verbose = opts.verbose;
    // Notes always, the rest with --verbose.
    let mut report = |event: &Event| {
        if verbose || event.is_note() || matches!(event, Event::LinearMemory { .. }) {
            eprintln!("pylon-launch: {event}");
        }
    };
    // The guest is blocked in a host call past --timeout, e.g. writing to a stdout or
    // stderr pipe that nobody reads. That call holds Rust's lock on the stream, so
    // nothing here may take a std stdio lock (eprintln!, stdout().flush(),
    // std::process::exit's flush): the message is one raw write(2) given a bounded
    // time, and the process ends at once.
    let on_stuck: pylon_launch::OnStuck = Box::new(|after| {
        let message = timeout_message(after);
        within(LAST_WORDS_WAIT, move || {
            raw::write_stderr(message.as_bytes())
        });
        raw::exit_now(EXIT_TIMEOUT)
    });
    Ok(pylon_launch::run(&opts, &mut report, Some(on_stuck))?)
}

// GCC's unwinder linked in statically (as `gcc -static-libgcc` does), so the binary
// does not load libgcc_s.so.1: that library's constructor probes the CPU with a few
// dozen `cpuid` instructions, each a trap to the hypervisor on a virtual machine
// (~0.2 ms of every launch measured on the 2-core CI machine). Named here, in the
// binary's own crate, so it comes before std's `-lgcc_s` on the link line and
// supplies every `_Unwind_*` symbol; `--as-needed` then drops libgcc_s. One unwinder
// serves Rust's panics and the frames wasmtime registers for compiled wasm.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[link(name = "gcc_eh", kind = "static", modifiers = "-bundle")]
extern "C" {}

/// The two libc calls std does not expose without its locks and exit handlers.
mod raw {
    use std::ffi::{c_int, c_void};

    extern "C" {
        fn write(fd: c_int, buf: *const c_void, count: usize) -> isize;
        fn _exit(status: c_int) -> !;
    }

    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    #[repr(C)]
    struct Rlimit {
        current: u64,
        max: u64,
    }

    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    extern "C" {
        fn getrlimit(resource: c_int, rlim: *mut Rlimit) -> c_int;
        fn setrlimit(resource: c_int, rlim: *const Rlimit) -> c_int;
    }

    /// Whether the main thread's stack may grow to `bytes`, raising its soft limit
    /// (RLIMIT_STACK) to that if the hard limit allows. Linux grows the main thread's
    /// stack on demand up to the limit in force at the time of the fault, and leaves at
    /// least 128 MiB below it free of mappings at exec, so a raised limit is usable
    /// from here on. Elsewhere: false (the guest gets a thread of its own).
    pub fn main_stack_allows(bytes: u64) -> bool {
        #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
        {
            const RLIMIT_STACK: c_int = 3;
            const RLIM_INFINITY: u64 = u64::MAX;
            let mut limit = Rlimit { current: 0, max: 0 };
            // SAFETY: getrlimit writes one `struct rlimit` (two u64 on 64-bit Linux)
            // to a valid pointer; setrlimit reads one.
            unsafe {
                if getrlimit(RLIMIT_STACK, &mut limit) != 0 {
                    return false;
                }
                if limit.current == RLIM_INFINITY || limit.current >= bytes {
                    return true;
                }
                if limit.max != RLIM_INFINITY && limit.max < bytes {
                    return false;
                }
                let raised = Rlimit {
                    current: bytes,
                    max: limit.max,
                };
                setrlimit(RLIMIT_STACK, &raised) == 0
            }
        }
        #[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
        {
            let _ = bytes;
            false
        }
    }

    /// One write(2) to fd 2, bypassing `std::io::stderr()`'s lock. Callers keep the
    /// message under PIPE_BUF (4096 bytes), so a pipe takes it whole or not at all.
    pub fn write_stderr(bytes: &[u8]) {
        // SAFETY: `bytes` is valid for `bytes.len()` bytes for the duration of the call;
        // fd 2 is only written, never closed or otherwise changed.
        unsafe {
            write(2, bytes.as_ptr().cast(), bytes.len());
        }
    }

    /// Ends the process now: no atexit handlers, no flush of std's stdout (whose lock a
    /// blocked guest thread may hold), as a signal would but with a chosen status.
    pub fn exit_now(code: i32) -> ! {
        // SAFETY: _exit(2) takes any int and never returns; it touches no state of ours.
        unsafe { _exit(code) }
    }
}
