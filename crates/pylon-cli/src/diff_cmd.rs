//! `pylon diff A.wasm B.wasm`: why two artifacts differ (`pylon_diagnose`).
//! One summary line per cause, then the detail of each difference, then the next
//! thing to try; or one versioned JSON document with `--json`. Exit status in
//! diff's convention: 0 identical, 1 different, 2 could not compare.
//!
//! Errors are rendered here (not returned), so `main` only maps the returned code.

use std::path::{Path, PathBuf};

use pylon_diagnose::{diff_wasm, ByteRange, Detail, DiffReport, Difference};
use serde_json::json;

use crate::render::print_json;

const EXIT_IDENTICAL: u8 = 0;
const EXIT_DIFFERENT: u8 = 1;
const EXIT_CANNOT_COMPARE: u8 = 2;

#[derive(clap::Args, Debug, Clone)]
#[command(
    after_help = "Causes, most explanatory first: toolchain (producers versions differ), embedded path,\ntimestamp, code/data, ordering, metadata only. \"knock-on\" marks differences that are only\naddresses moved by another change.\n\nExamples:\n  pylon diff build/pylon.wasm /tmp/rebuild/pylon.wasm\n  pylon diff --json old/zlib.wasm ~/git/zlib-wasm/target/component/zlib.wasm\n\nExit status: 0 identical, 1 different, 2 could not compare (missing file, not wasm, malformed)."
)]
pub struct DiffArgs {
    /// The reference artifact (e.g. the one whose digest the manifest pins).
    pub a: PathBuf,
    /// The artifact to explain.
    pub b: PathBuf,
    /// Items listed per difference in the text output (functions, segments,
    /// ranges); JSON lists what the library keeps, with complete counts.
    #[arg(long, default_value_t = 5)]
    pub max_items: usize,
    /// Print a versioned JSON document on stdout instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `pylon diff`; the returned value is the process exit code.
pub fn run(args: DiffArgs) -> anyhow::Result<u8> {
    let (a, b) = match (read(&args.a), read(&args.b)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Ok(cannot_compare(&args, e)),
    };
    let report = match diff_wasm(&a, &b) {
        Ok(r) => r,
        Err(e) => {
            let path = match e.side() {
                pylon_diagnose::Side::A => &args.a,
                pylon_diagnose::Side::B => &args.b,
            };
            return Ok(cannot_compare(
                &args,
                format!("{}: {}", path.display(), e.reason()),
            ));
        }
    };
    let code = if report.identical {
        EXIT_IDENTICAL
    } else {
        EXIT_DIFFERENT
    };
    if args.json {
        let mut body = json!({
            "a": args.a,
            "b": args.b,
            "exit_code": code,
        });
        if let (Some(obj), Ok(serde_json::Value::Object(r))) =
            (body.as_object_mut(), serde_json::to_value(&report))
        {
            obj.extend(r);
        }
        print_json("diff", &body, report.identical);
    } else {
        print_text(&args, &report);
    }
    Ok(code)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn cannot_compare(args: &DiffArgs, message: String) -> u8 {
    eprintln!("error: {message}");
    if args.json {
        print_json(
            "diff",
            &json!({
                "a": args.a,
                "b": args.b,
                "error": message,
                "exit_code": EXIT_CANNOT_COMPARE,
            }),
            false,
        );
    }
    EXIT_CANNOT_COMPARE
}

fn print_text(args: &DiffArgs, r: &DiffReport) {
    if r.identical {
        println!("identical: {} bytes", r.size_a);
        return;
    }
    for cause in &r.causes {
        println!("{}", cause.line);
    }
    println!();
    println!("A: {} ({} bytes)", args.a.display(), r.size_a);
    println!("B: {} ({} bytes)", args.b.display(), r.size_b);
    if let Some(at) = r.first_difference_offset {
        println!("first differing byte: {at} ({at:#x})");
    }
    for d in &r.differences {
        println!();
        print_difference(d, args.max_items);
    }
    println!();
    println!("next:");
    for cause in &r.causes {
        let label = if cause.knock_on {
            format!("{} (knock-on)", cause.cause.label())
        } else {
            cause.cause.label().to_string()
        };
        println!("  {label}: {}", cause.advice);
    }
}

fn print_difference(d: &Difference, max: usize) {
    let knock = if d.knock_on { ", knock-on" } else { "" };
    println!("[{}{knock}] {}", d.cause.label(), d.location.describe());
    println!("    {}", d.summary);
    match &d.detail {
        Detail::FunctionBodies {
            functions,
            differing,
            ..
        } => {
            for f in functions.iter().take(max) {
                let name = f
                    .name
                    .as_deref()
                    .map(|n| format!(" `{n}`"))
                    .unwrap_or_default();
                let renamed = f
                    .name_b
                    .as_deref()
                    .map(|n| format!(" (B: `{n}`)"))
                    .unwrap_or_default();
                println!(
                    "    func #{}{name}{renamed}: {} vs {} bytes at {:#x} / {:#x}",
                    f.index, f.size_a, f.size_b, f.file_offset_a, f.file_offset_b
                );
                if let Some(i) = &f.first_difference {
                    println!("        instruction {}: {}  vs  {}", i.position, i.a, i.b);
                }
            }
            more(*differing, max, "functions");
        }
        Detail::DataSegments { segments, .. } => {
            for s in segments.iter().take(max) {
                let at = s
                    .memory_offset
                    .map(|m| format!(" at address {m:#x}"))
                    .unwrap_or_default();
                let moved = s
                    .memory_offset_b
                    .map(|m| format!(" (B: {m:#x})"))
                    .unwrap_or_default();
                println!(
                    "    segment {}{at}{moved}: {} vs {} bytes",
                    s.index, s.len_a, s.len_b
                );
                for range in s.ranges.iter().take(max) {
                    // Moved pointers are binary noise; their count says enough.
                    print_range(range, !d.knock_on);
                }
                more(s.ranges.len() + s.more_ranges, max, "ranges");
            }
            more(segments.len(), max, "segments");
        }
        Detail::Bytes {
            ranges,
            more_ranges,
            ..
        } => {
            for range in ranges.iter().take(max) {
                print_range(range, true);
            }
            more(ranges.len() + more_ranges, max, "ranges");
        }
        Detail::Producers { changes } => {
            for c in changes {
                println!(
                    "    {} {}: A {}  B {}",
                    c.field,
                    c.name,
                    c.version_a.as_deref().unwrap_or("(absent)"),
                    c.version_b.as_deref().unwrap_or("(absent)")
                );
            }
        }
        Detail::Names { examples, .. } => {
            for n in examples.iter().take(max) {
                println!(
                    "    {}: {:?} vs {:?}",
                    n.what,
                    n.a.as_deref().unwrap_or("(none)"),
                    n.b.as_deref().unwrap_or("(none)")
                );
            }
        }
        Detail::Items { .. }
        | Detail::SectionOrder { .. }
        | Detail::SectionPresence { .. }
        | Detail::NestedUnits { .. }
        | Detail::Encoding { .. } => {}
    }
}

fn print_range(r: &ByteRange, context: bool) {
    let address = r
        .address
        .map(|a| format!(", address {a:#x}"))
        .unwrap_or_default();
    println!(
        "        +{:#x}{address}: {} vs {} bytes (file {:#x} / {:#x})",
        r.offset, r.len_a, r.len_b, r.file_offset_a, r.file_offset_b
    );
    // The library already escaped non-printable bytes; quote, don't re-escape.
    if context {
        println!("          A: \"{}\"", r.context_a);
        println!("          B: \"{}\"", r.context_b);
    }
}

fn more(total: usize, shown: usize, what: &str) {
    if total > shown {
        println!(
            "    … {} more {what} (--max-items, or --json)",
            total - shown
        );
    }
}
