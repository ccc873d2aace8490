//! Shared helpers for the native tests.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::PathBuf;

use pylon_cap_zstd::decompress::StreamDecompressor;
use pylon_cap_zstd::{Dictionary, Error};

pub const KIB: usize = 1024;

/// The input behind the `text.*.zst` vectors (see tests/data/make_vectors.sh).
pub fn text() -> Vec<u8> {
    (0..3000)
        .map(|i| {
            format!(
                "line {i}: the quick brown fox jumps over the lazy dog {}\n",
                i * 7 % 13
            )
        })
        .collect::<String>()
        .into_bytes()
}

/// Deterministic incompressible bytes (xorshift64*).
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut s = seed | 1;
    (0..len)
        .map(|_| {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            (s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

/// Compressible bytes of any length: `text()` repeated, with some noise.
pub fn compressible(len: usize) -> Vec<u8> {
    let t = text();
    let n = noise(len / 64 + 1, 7);
    (0..len)
        .map(|i| {
            if i % 64 == 0 {
                n[i / 64]
            } else {
                t[i % t.len()]
            }
        })
        .collect()
}

pub fn data_file(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The zstd-format dictionary trained by the reference tool (ID 12345).
pub fn trained_dict() -> Dictionary {
    Dictionary {
        content: data_file("dict.bin"),
        raw: false,
    }
}

/// The raw-content dictionary behind `raw_input.rawdict.zst`.
pub fn raw_dict() -> Dictionary {
    Dictionary {
        content: text()[..1024].to_vec(),
        raw: true,
    }
}

pub fn raw_input() -> Vec<u8> {
    text()[2048..4096].to_vec()
}

/// Unwraps with the cap's error message.
pub fn ok<T>(r: Result<T, Error>) -> T {
    r.unwrap_or_else(|e| panic!("{:?}: {}", e.kind, e.message))
}

/// Feeds `data` to `d` in `chunk`-byte pieces, asking for at most `max`
/// bytes per call, the way CPython's tests drive a ZstdDecompressor: new
/// input only when `needs_input`. Returns the output; stops at `eof`.
pub fn drive(d: &mut StreamDecompressor, data: &[u8], chunk: usize, max: Option<u64>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut idle = 0;
    while !d.eof() {
        let piece = if d.needs_input() {
            if pos == data.len() {
                break;
            }
            let end = (pos + chunk).min(data.len());
            let p = &data[pos..end];
            pos = end;
            p
        } else {
            &[][..]
        };
        let got = ok(d.decompress(piece, max));
        if let Some(m) = max {
            assert!(got.len() as u64 <= m, "returned more than max_length");
        }
        // A call without new input must make progress.
        idle = if got.is_empty() && piece.is_empty() {
            idle + 1
        } else {
            0
        };
        assert!(idle < 3, "decompressor stalled without asking for input");
        out.extend_from_slice(&got);
    }
    out
}
