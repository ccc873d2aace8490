//! `cargo run -p pylon-diagnose --example diag -- A.wasm B.wasm`: the library's
//! report as JSON, for poking at artifacts while developing (the product is
//! `pylon diff`).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let read = |p: &String| std::fs::read(p).unwrap_or_else(|e| panic!("{p}: {e}"));
    match args.as_slice() {
        [a] => {
            let f = pylon_diagnose::scan_artifact(&read(a));
            println!("{}", serde_json::to_string_pretty(&f).unwrap_or_default());
        }
        [a, b] => match pylon_diagnose::diff_wasm(&read(a), &read(b)) {
            Ok(r) => println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default()),
            Err(e) => eprintln!("{e}"),
        },
        _ => eprintln!("usage: diag A.wasm [B.wasm]"),
    }
}
