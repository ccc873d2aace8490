//! Runs a published build under wasmtime 48.0.8 with only its stdlib zip mapped:
//!
//!     cargo run -p pylon-cpython --example run-python -- build/cp313 -c 'import sys; print(sys.version)'
//!
//! Prints the guest's stdout and stderr; exits 1 when the guest did not exit cleanly.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: run-python BUILD_DIR [python args...]");
        std::process::exit(2);
    };
    let rest: Vec<String> = args.collect();
    let record: serde_json::Value = match std::fs::read_to_string(dir.join("record.json"))
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{}: {e}", dir.join("record.json").display());
            std::process::exit(2);
        }
    };
    let guest_zip = record["stdlib_zip_guest_path"]
        .as_str()
        .unwrap_or("/usr/local/lib/python313.zip");
    let argv: Vec<&str> = rest.iter().map(String::as_str).collect();
    let t = std::time::Instant::now();
    let (ok, out, err) = support::run_python(
        &dir.join("python.wasm"),
        &dir.join("stdlib.zip"),
        guest_zip,
        &argv,
    );
    print!("{out}");
    eprint!("{err}");
    eprintln!(
        "[run-python: {:.2}s including compilation]",
        t.elapsed().as_secs_f64()
    );
    std::process::exit(if ok { 0 } else { 1 });
}
