//! `cargo run -p pylon-shim --example dump -- <cap> <wit-dir> <ext-root>`: writes the
//! shim of one cap, for inspection and for a manual CPython build.

use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: dump <cap> <wit-dir> <ext-root>");
        std::process::exit(2);
    }
    let shim = match pylon_shim::generate_shim(&args[1], Path::new(&args[2]), None) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    match shim.write_to(Path::new(&args[3])) {
        Ok(dir) => println!("{}", dir.display()),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
