//! Decompression semantics: CPython's ZstdDecompressor (eof, unused_data,
//! needs_input, max_length) and one-shot decompress over several frames.

mod common;

use common::*;
use pylon_cap_zstd::compress::{compress, default_options, StreamCompressor};
use pylon_cap_zstd::decompress::{decompress, StreamDecompressor};
use pylon_cap_zstd::frame::frame_size;
use pylon_cap_zstd::{EndDirective, ErrorKind};

/// CPython's COMPRESSED_100_PLUS_32KB: 100 + 32 KiB of data, one frame.
fn frame_100_plus_32k() -> (Vec<u8>, Vec<u8>) {
    let mut data = vec![b'a'; 100];
    data.extend(compressible(32 * KIB));
    (ok(compress(&data, 3, None)), data)
}

fn skippable(content: &[u8]) -> Vec<u8> {
    let mut f = vec![0x50, 0x2A, 0x4D, 0x18];
    f.extend((content.len() as u32).to_le_bytes());
    f.extend_from_slice(content);
    f
}

#[test]
fn one_call_whole_frame() {
    let (frame, data) = frame_100_plus_32k();
    let mut d = ok(StreamDecompressor::new(None, None));
    assert!(d.needs_input());
    assert!(!d.eof());
    assert_eq!(ok(d.decompress(&frame, None)), data);
    assert!(d.eof());
    assert!(!d.needs_input());
    assert!(d.unused_data().is_empty());
    let e = d.decompress(b"more", None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::AlreadyFinished);
}

#[test]
fn chunks_and_max_length() {
    let (frame, data) = frame_100_plus_32k();
    let mut input = frame.clone();
    input.extend_from_slice(b"89234893abcd");
    for chunk in [1, 3, 300, 5000, input.len()] {
        for max in [None, Some(0), Some(1), Some(7), Some(4096), Some(1 << 20)] {
            if max == Some(0) {
                // max_length 0 returns nothing and never needs input for it.
                let mut d = ok(StreamDecompressor::new(None, None));
                assert!(ok(d.decompress(&input, Some(0))).is_empty());
                assert!(!d.needs_input());
                continue;
            }
            if chunk == 1 && max == Some(1) {
                continue; // slow and covered by chunk 3
            }
            let mut d = ok(StreamDecompressor::new(None, None));
            assert_eq!(
                drive(&mut d, &input, chunk, max),
                data,
                "chunk {chunk} max {max:?}"
            );
            assert!(d.eof());
            // The trailer bytes fed with the frame's last chunk.
            let fed = (frame.len().div_ceil(chunk) * chunk).min(input.len());
            assert_eq!(
                d.unused_data(),
                input[frame.len()..fed],
                "chunk {chunk} max {max:?}"
            );
        }
    }
}

#[test]
fn needs_input_after_max_length() {
    let (frame, data) = frame_100_plus_32k();
    let mut d = ok(StreamDecompressor::new(None, None));
    let first = ok(d.decompress(&frame, Some(10)));
    assert_eq!(first, data[..10]);
    assert!(!d.needs_input());
    assert!(!d.eof());
    let rest = ok(d.decompress(b"", None));
    assert_eq!(rest, data[10..]);
    assert!(d.eof());
}

#[test]
fn truncated_stream_waits_for_input() {
    let (frame, data) = frame_100_plus_32k();
    let mut d = ok(StreamDecompressor::new(None, None));
    let got = ok(d.decompress(&frame[..frame.len() - 1], None));
    assert!(!d.eof());
    assert!(d.needs_input());
    let mut all = got;
    all.extend(ok(d.decompress(&frame[frame.len() - 1..], None)));
    assert_eq!(all, data);
    assert!(d.eof());

    assert!(decompress(&frame[..frame.len() - 1], None)
        .unwrap_err()
        .message
        .contains("ended before"));
    assert_eq!(
        decompress(b"", None).unwrap_err().kind,
        ErrorKind::CorruptData
    );
}

#[test]
fn concatenated_and_skippable_frames() {
    let a = compressible(1000);
    let b = noise(200 * KIB, 1);
    let mut s = ok(StreamCompressor::new(&default_options(3), None));
    let fa = ok(s.compress(&a, EndDirective::FlushFrame));
    let fb = ok(s.compress(&b, EndDirective::FlushFrame));
    let skip = skippable(b"metadata that is not zstd");
    let mut all = Vec::new();
    for part in [&skip, &fa, &skip, &skippable(b""), &fb, &skip] {
        all.extend_from_slice(part);
    }
    let mut expected = a.clone();
    expected.extend_from_slice(&b);
    assert_eq!(ok(decompress(&all, None)), expected);

    // The streaming decompressor stops after one frame; a skippable frame
    // counts as one, with no output.
    let mut d = ok(StreamDecompressor::new(None, None));
    assert!(ok(d.decompress(&all, None)).is_empty());
    assert!(d.eof());
    assert_eq!(d.unused_data(), all[skip.len()..]);
    let mut d = ok(StreamDecompressor::new(None, None));
    let rest = &all[skip.len()..];
    assert_eq!(ok(d.decompress(rest, Some(100))), a[..100]);
    assert_eq!(ok(d.decompress(b"", None)), a[100..]);
    assert_eq!(d.unused_data(), rest[fa.len()..]);
    assert_eq!(frame_size(&all), Ok(skip.len() as u64));
}

#[test]
fn corrupt_input_is_an_error_and_sticks() {
    let e = decompress(b"this is not zstd", None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::CorruptData);
    let mut d = ok(StreamDecompressor::new(None, None));
    // Rejected as soon as the magic number cannot match.
    assert_eq!(
        d.decompress(b"th", None).unwrap_err().kind,
        ErrorKind::CorruptData
    );
    assert_eq!(
        d.decompress(b"", None).unwrap_err().kind,
        ErrorKind::CorruptData
    );

    // A declared content size that is wrong.
    let mut frame = ok(compress(b"hello hello hello", 3, None));
    frame[5] += 1;
    assert!(decompress(&frame, None)
        .unwrap_err()
        .message
        .contains("content size"));

    // Reserved block type.
    let bad_block = [0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x38, 0b111, 0, 0];
    assert_eq!(
        decompress(&bad_block, None).unwrap_err().kind,
        ErrorKind::CorruptData
    );
}

/// Mutations of valid frames must give an error or some output, never a
/// panic (a panic is a trap in the component).
#[test]
fn mutated_frames_never_panic() {
    let inputs = [
        ok(compress(&compressible(3000), 3, None)),
        ok(compress(&noise(500, 2), 3, None)),
        data_file("text.l19.zst")[..600].to_vec(),
        data_file("text.l3.zst")[..600].to_vec(),
        data_file("sample.dict.zst"),
    ];
    let dict = trained_dict();
    for input in &inputs {
        for i in 0..input.len() {
            for flip in [0x01u8, 0x10, 0x80, 0xFF] {
                let mut m = input.clone();
                m[i] ^= flip;
                let _ = decompress(&m, None);
                let _ = decompress(&m, Some(&dict));
                let mut d = ok(StreamDecompressor::new(None, None));
                for piece in m.chunks(7) {
                    if d.decompress(piece, Some(100)).is_err() || d.eof() {
                        break;
                    }
                }
            }
        }
        for cut in 0..input.len() {
            assert!(decompress(&input[..cut], Some(&dict)).is_err());
        }
    }
}

#[test]
fn window_log_max() {
    // The reference tool's streamed frame declares a 2^19 window.
    let frame = data_file("text.stream.zst");
    let mut d = ok(StreamDecompressor::new(None, Some(18)));
    let e = d.decompress(&frame, None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::MemoryLimit, "{}", e.message);
    let mut d = ok(StreamDecompressor::new(None, Some(19)));
    assert_eq!(ok(d.decompress(&frame, None)), text());
    for bad in [0, 9, 32, 255] {
        assert_eq!(
            StreamDecompressor::new(None, Some(bad))
                .err()
                .map(|e| e.kind),
            Some(ErrorKind::InvalidArgument)
        );
    }
}

/// Everything a compressor flushed comes out of a decompressor at once
/// (CPython: `d.decompress(c.compress(x, FLUSH_BLOCK)) == x`), whatever
/// the frame's window.
#[test]
fn flushed_output_comes_out_immediately() {
    let data = compressible(700 * KIB);
    for level in [1, 3, 19] {
        let mut s = ok(StreamCompressor::new(&default_options(level), None));
        let mut d = ok(StreamDecompressor::new(None, None));
        for piece in data.chunks(37 * KIB + 11) {
            let flushed = ok(s.compress(piece, EndDirective::FlushBlock));
            assert_eq!(ok(d.decompress(&flushed, None)), piece, "level {level}");
            assert!(d.needs_input());
        }
        let end = ok(s.flush(EndDirective::FlushFrame));
        assert!(ok(d.decompress(&end, None)).is_empty());
        assert!(d.eof());
    }
    // A frame from the reference tool, fed a byte at a time: output appears
    // as soon as each block is complete, never later.
    let frame = data_file("text.stream.zst");
    let mut d = ok(StreamDecompressor::new(None, None));
    let mut out = Vec::new();
    for b in frame.chunks(1) {
        out.extend(ok(d.decompress(b, None)));
    }
    assert_eq!(out, text());
    assert!(d.eof());
}
