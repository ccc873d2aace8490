//! Makes the benchmark pair for `pylon diff` (BENCHMARKS.md): a composed
//! artifact holding the given components (CPython's python.wasm and the caps),
//! and a copy in which one i32.const in one function of the largest core module
//! is changed by one (same length, so only that function body differs).
//!
//! `PYLON_BENCH_PAYLOAD=stdlib.bin cargo run --release -p pylon-diagnose --example bench_pair -- OUT_DIR python.wasm cap.wasm…`

use wasm_encoder::{Component, ComponentNameSection, ComponentSectionId, NameMap, RawSection};
use wasmparser::{Operator, Parser, Payload};

fn compose(parts: &[(String, Vec<u8>)], extra: Option<&[u8]>) -> Vec<u8> {
    let mut outer = Component::new();
    // Bulk data next to the code, as a composed artifact carrying the stdlib has.
    if let Some(data) = extra {
        outer.section(&wasm_encoder::CustomSection {
            name: "pylon-stdlib".into(),
            data: data.into(),
        });
    }
    let mut names = NameMap::new();
    for (i, (name, bytes)) in parts.iter().enumerate() {
        outer.section(&RawSection {
            id: ComponentSectionId::Component as u8,
            data: bytes,
        });
        names.append(i as u32, name);
    }
    let mut section = ComponentNameSection::new();
    section.component("pylon");
    section.components(&names);
    outer.section(&section);
    outer.finish()
}

/// Offset of the first byte of an i32.const immediate in the middle function of
/// the largest code section in `bytes` (nested units included).
fn const_in_middle_function(bytes: &[u8]) -> Option<usize> {
    let mut best: Option<(usize, Vec<wasmparser::FunctionBody<'_>>)> = None;
    let mut current: Vec<wasmparser::FunctionBody<'_>> = Vec::new();
    let mut size = 0;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.ok()? {
            Payload::CodeSectionStart { size: s, .. } => {
                current.clear();
                size = s as usize;
            }
            Payload::CodeSectionEntry(body) => {
                current.push(body);
            }
            Payload::End(_) if !current.is_empty() => {
                if best.as_ref().is_none_or(|(s, _)| size > *s) {
                    best = Some((size, std::mem::take(&mut current)));
                }
                current.clear();
            }
            _ => {}
        }
    }
    let (_, bodies) = best?;
    for body in bodies.iter().skip(bodies.len() / 2) {
        let mut ops = body.get_operators_reader().ok()?;
        while !ops.eof() {
            let (op, offset) = ops.read_with_offset().ok()?;
            if let Operator::I32Const { value } = op {
                if value > 0 && value < 64 {
                    return usize::try_from(offset + 1).ok();
                }
            }
        }
    }
    None
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((out, inputs)) = args.split_first() else {
        eprintln!("usage: bench_pair OUT_DIR python.wasm [cap.wasm…]");
        std::process::exit(2);
    };
    let parts: Vec<(String, Vec<u8>)> = inputs
        .iter()
        .map(|p| {
            let name = std::path::Path::new(p)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            (
                name,
                std::fs::read(p).unwrap_or_else(|e| panic!("{p}: {e}")),
            )
        })
        .collect();
    // PYLON_BENCH_PAYLOAD: a file carried as a custom section, to reach the size
    // of a composed artifact with its stdlib.
    let extra =
        std::env::var_os("PYLON_BENCH_PAYLOAD").map(|p| std::fs::read(&p).expect("payload"));
    let a = compose(&parts, extra.as_deref());
    let at = const_in_middle_function(&a).expect("an i32.const to change");
    let mut b = a.clone();
    // A small positive i32.const is one LEB byte below 0x40: flipping bit 0 keeps
    // it one byte and positive.
    b[at] ^= 1;
    std::fs::create_dir_all(out).expect("output directory");
    std::fs::write(format!("{out}/a.wasm"), &a).expect("write a.wasm");
    std::fs::write(format!("{out}/b.wasm"), &b).expect("write b.wasm");
    println!("{} bytes each; byte {at:#x} changed", a.len());
}
