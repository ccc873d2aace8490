//! `pylon snapshot --seed N`: a startup snapshot to ship (pylon-launch makes its own
//! per machine). Same pylon.wasm + same seed + same imports → same bytes, on any
//! machine; see `pylon_launch::snapshot` for what the seed fixes and what sharing it
//! means. Exit status: 0 written, 2 could not make it.

use std::path::PathBuf;
use std::time::Instant;

use pylon_launch::snapshot::{make_from_file, Entropy, SnapshotSpec};
use serde_json::json;

use crate::render::print_json;

const EXIT_OK: u8 = 0;
const EXIT_FAILED: u8 = 2;

#[derive(clap::Args, Debug, Clone)]
#[command(
    after_help = "The snapshot's str-hash secret is PYTHONHASHSEED=SEED's: everyone holding the file\nknows it, so a service exposed to untrusted keys should run pylon-launch's own\nper-machine snapshot (the default) instead.\n\nExamples:\n  pylon snapshot --seed 7\n  pylon snapshot --seed 7 --import json,re -o dist/pylon-snapshot.wasm\n  pylon-launch --wasm build/cp313/pylon-snapshot-seed7.wasm -c 'print(1)'\n\nExit status: 0 written, 2 could not make it (no such wasm, not snapshottable, CPython failed)."
)]
pub struct SnapshotArgs {
    /// The str-hash seed (PYTHONHASHSEED) and the seed of every random value the
    /// initialisation draws: 0..=4294967295.
    #[arg(long)]
    pub seed: u32,
    /// The composition to snapshot (symlinks followed; its record.json and lib/ name
    /// the stdlib).
    #[arg(long, default_value = "build/pylon.wasm")]
    pub wasm: PathBuf,
    /// Modules to import into the snapshot, comma-separated (e.g. json,re).
    #[arg(long = "import", value_delimiter = ',')]
    pub imports: Vec<String>,
    /// Where to write it (default: pylon-snapshot-seed<SEED>.wasm beside the resolved
    /// wasm, where its record.json serves it too).
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// Print a versioned JSON report on stdout instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: SnapshotArgs) -> anyhow::Result<u8> {
    let spec = SnapshotSpec {
        imports: args.imports.clone(),
        entropy: Entropy::Seeded(args.seed),
    };
    let start = Instant::now();
    let made = match make_from_file(&args.wasm, &spec) {
        Ok(made) => made,
        Err(e) => return Ok(failed(&args, &e.to_string())),
    };
    let output = match &args.output {
        Some(path) => path.clone(),
        None => {
            let resolved = std::fs::canonicalize(&args.wasm).unwrap_or(args.wasm.clone());
            resolved
                .parent()
                .unwrap_or(std::path::Path::new("."))
                .join(format!("pylon-snapshot-seed{}.wasm", args.seed))
        }
    };
    if let Err(e) = pylon_util::fs::write_atomic(&output, &made.bytes) {
        return Ok(failed(&args, &format!("writing {}: {e}", output.display())));
    }
    let sha256 = pylon_util::digest::sha256_hex(&made.bytes);
    if args.json {
        print_json(
            "snapshot",
            &json!({
            "output": output,
            "sha256": sha256,
            "size": made.bytes.len(),
            "source_sha256": made.source_sha256,
            "seed": args.seed,
            "imports": args.imports,
            "seconds": start.elapsed().as_secs_f64(),
            }),
            true,
        );
    } else {
        println!(
            "snapshot {} ({} bytes, {:.1}s)\n  sha256 {sha256}\n  of {} (sha256 {}), seed {}, imports [{}]",
            output.display(),
            made.bytes.len(),
            start.elapsed().as_secs_f64(),
            args.wasm.display(),
            made.source_sha256,
            args.seed,
            args.imports.join(", ")
        );
    }
    Ok(EXIT_OK)
}

fn failed(args: &SnapshotArgs, reason: &str) -> u8 {
    if args.json {
        print_json("snapshot", &json!({ "error": reason }), false);
    } else {
        eprintln!("pylon snapshot: {reason}");
    }
    EXIT_FAILED
}
