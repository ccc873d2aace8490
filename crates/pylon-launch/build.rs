//! How the `pylon-launch` binary is linked on GNU/Linux: as a position-dependent
//! executable, unless `PYLON_LAUNCH_PIE` is set when it is built.
//!
//! Why: a position-independent pylon-launch carries ~38,000 relative relocations
//! (wasmtime's and cranelift's tables and vtables) that the dynamic loader applies on
//! every start, writing ~150 pages of `.data.rel.ro` — 0.35 ms of a 4.3 ms warm launch,
//! measured with hyperfine against the same binary linked both ways. Debian builds its
//! own `/usr/bin/python3.11`, the startup peer of BENCHMARKS.md, position-dependent for
//! the same reason. What it costs: the executable's own code and data sit at a fixed
//! address (libc, the heap, the stacks and the compiled wasm stay randomised). A
//! guest that escaped wasmtime's sandbox far enough to use that would also find host
//! code addresses in the instance's own context; still, set `PYLON_LAUNCH_PIE=1` to
//! keep ASLR for the launcher too (`cargo build` again; nothing else changes).
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PYLON_LAUNCH_PIE");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if target_os == "linux" && target_env == "gnu" && std::env::var_os("PYLON_LAUNCH_PIE").is_none()
    {
        // After rustc's own `-pie` on the link line: the last of the two wins.
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
