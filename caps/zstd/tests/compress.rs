//! Compression: one-shot and streaming, checked by decompressing again.

mod common;

use common::*;
use pylon_cap_zstd::compress::{
    compress, default_options, effective_level, StreamCompressor, LEVELS,
};
use pylon_cap_zstd::decompress::{decompress, StreamDecompressor};
use pylon_cap_zstd::frame::{frame_info, frame_size};
use pylon_cap_zstd::{CompressOptions, Dictionary, EndDirective, ErrorKind};

use EndDirective::{Continue, FlushBlock, FlushFrame};

const MIB: usize = 1024 * 1024;

fn round_trip(data: &[u8]) -> Vec<u8> {
    let c = ok(compress(data, 3, None));
    assert_eq!(ok(decompress(&c, None)), data, "len {}", data.len());
    assert_eq!(ok(frame_info(&c)), (Some(data.len() as u64), 0));
    assert_eq!(ok(frame_size(&c)), c.len() as u64);
    c
}

#[test]
fn one_shot_sizes() {
    let empty = round_trip(b"");
    // Magic, single-segment descriptor, content size 0, empty last raw block.
    assert_eq!(
        empty,
        [0x28, 0xB5, 0x2F, 0xFD, 0x20, 0x00, 0x01, 0x00, 0x00]
    );
    round_trip(b"x");
    round_trip(b"ab");
    for len in [
        255,
        256,
        1000,
        65_791,
        65_792,
        128 * KIB - 1,
        128 * KIB,
        128 * KIB + 1,
        3 * 128 * KIB,
    ] {
        round_trip(&compressible(len));
        round_trip(&noise(len, len as u64));
    }
    // Runs of one byte become RLE blocks.
    let zeros = round_trip(&vec![0u8; 5 * 128 * KIB + 17]);
    assert!(zeros.len() < 64, "{} bytes", zeros.len());
}

#[test]
fn one_mib_compressible_and_incompressible() {
    let text = compressible(MIB);
    let c = round_trip(&text);
    assert!(
        c.len() < text.len() / 4,
        "{} bytes for 1 MiB of text",
        c.len()
    );
    let rand = noise(MIB, 99);
    let c = round_trip(&rand);
    // Incompressible blocks are stored raw: 3 bytes of overhead per block.
    assert!(c.len() <= rand.len() + 8 * 3 + 18, "{} bytes", c.len());
}

#[test]
fn every_level_round_trips_and_levels_are_real() {
    let data = compressible(200 * KIB);
    let mut levels: Vec<i32> = (LEVELS.min..=LEVELS.min + 3).collect();
    levels.extend(-10..=LEVELS.max + 3);
    levels.extend([i32::MIN, i32::MAX]);
    let mut outputs = std::collections::BTreeMap::new();
    for level in levels {
        let c = ok(compress(&data, level, None));
        assert_eq!(ok(decompress(&c, None)), data, "level {level}");
        let effective = effective_level(level);
        let expected = if level == 0 {
            3
        } else {
            level.clamp(-131_072, 22)
        };
        assert_eq!(effective, expected, "level {level}");
        // Levels outside the range give what the nearest bound gives.
        if let Some(prev) = outputs.get(&effective) {
            assert_eq!(&c, prev, "level {level}");
        }
        outputs.insert(effective, c);
    }
    // Level 0 is the default, 3.
    assert_eq!(ok(compress(&data, 0, None)), outputs[&3]);
    // Different levels give different output, and higher levels compress
    // this text better.
    for (a, b) in [(1, 3), (3, 9), (9, 19), (-1, 1), (-5, -1)] {
        assert_ne!(outputs[&a], outputs[&b], "levels {a} and {b}");
    }
    let text = text();
    let l1 = ok(compress(&text, 1, None)).len();
    let l19 = ok(compress(&text, 19, None)).len();
    assert!(l19 < l1, "level 19: {l19} bytes, level 1: {l1}");
    let fast = ok(compress(&text, -5, None)).len();
    assert!(l1 < fast, "level 1: {l1} bytes, level -5: {fast}");
    assert_eq!(
        (LEVELS.min, LEVELS.max, LEVELS.default_level),
        (-131_072, 22, 3)
    );
}

fn options(checksum: bool, content_size: bool) -> CompressOptions {
    CompressOptions {
        checksum,
        content_size,
        ..default_options(3)
    }
}

#[test]
fn checksum_is_written_and_verified() {
    let data = compressible(300 * KIB);
    let mut c = ok(StreamCompressor::new(&options(true, true), None));
    let frame = ok(c.compress(&data, FlushFrame));
    assert_ne!(frame[4] & 0x04, 0, "checksum flag");
    assert_eq!(ok(decompress(&frame, None)), data);
    // Damage the checksum itself, then a raw data byte (noise is stored raw).
    let mut bad = frame.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let e = decompress(&bad, None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::CorruptData);
    assert!(e.message.contains("checksum"), "{}", e.message);

    let raw = noise(1000, 5);
    let mut frame = ok(compress_with(&options(true, true), &raw));
    frame[20] ^= 0x40;
    let e = decompress(&frame, None).unwrap_err();
    assert!(e.message.contains("checksum"), "{}", e.message);

    // Empty input: identical to the reference tool's empty frame.
    assert_eq!(
        ok(compress_with(&options(true, true), b"")),
        data_file("empty.zst")
    );
}

fn compress_with(opts: &CompressOptions, data: &[u8]) -> Result<Vec<u8>, pylon_cap_zstd::Error> {
    StreamCompressor::new(opts, None)?.compress(data, FlushFrame)
}

#[test]
fn content_size_flag() {
    let data = compressible(1000);
    let c = ok(compress_with(&options(false, false), &data));
    assert_eq!(ok(frame_info(&c)), (None, 0));
    assert_eq!(ok(decompress(&c, None)), data);
    // Streamed frames have no size unless it was pledged.
    let mut s = ok(StreamCompressor::new(&options(false, true), None));
    let mut frame = ok(s.compress(&data, Continue));
    frame.extend(ok(s.flush(FlushFrame)));
    assert_eq!(ok(frame_info(&frame)), (None, 0));
    assert_eq!(ok(decompress(&frame, None)), data);
}

/// Compresses `data` in `chunk`-sized `Continue` calls, then flushes the frame.
fn streamed(opts: &CompressOptions, data: &[u8], chunk: usize) -> Vec<u8> {
    let mut s = ok(StreamCompressor::new(opts, None));
    let mut out = Vec::new();
    for piece in data.chunks(chunk.max(1)) {
        out.extend(ok(s.compress(piece, Continue)));
        assert_eq!(s.last_mode(), Continue);
    }
    out.extend(ok(s.flush(FlushFrame)));
    assert_eq!(s.last_mode(), FlushFrame);
    out
}

#[test]
fn streaming_continue_is_independent_of_chunking() {
    let data = compressible(700 * KIB + 3);
    for checksum in [false, true] {
        let opts = options(checksum, true);
        let reference = streamed(&opts, &data, data.len());
        assert_eq!(ok(decompress(&reference, None)), data);
        for chunk in [1000, 4096, 128 * KIB, 128 * KIB + 1, 500 * KIB] {
            assert_eq!(streamed(&opts, &data, chunk), reference, "chunk {chunk}");
        }
    }
    // With Continue, output appears once a whole block is buffered (as
    // libzstd: `ZSTD_e_continue` compresses full blocks).
    let mut s = ok(StreamCompressor::new(&default_options(3), None));
    assert!(ok(s.compress(&data[..128 * KIB - 1], Continue)).is_empty());
    assert!(!ok(s.compress(&data[128 * KIB - 1..128 * KIB + 1], Continue)).is_empty());
}

#[test]
fn flush_block_emits_everything_so_far() {
    let data = compressible(300 * KIB);
    let mut s = ok(StreamCompressor::new(&options(false, true), None));
    let mut sent = Vec::new();
    let mut stream = Vec::new();
    for (i, piece) in data.chunks(50 * KIB).enumerate() {
        stream.extend(ok(
            s.compress(piece, if i % 2 == 0 { Continue } else { FlushBlock })
        ));
        sent.extend_from_slice(piece);
        if i % 2 == 1 {
            assert_eq!(s.last_mode(), FlushBlock);
            // Not a complete frame yet ...
            let e = decompress(&stream, None).unwrap_err();
            assert!(e.message.contains("ended before"), "{}", e.message);
            // ... but all data sent so far is in it: an empty last block
            // completes the frame.
            let mut closed = stream.clone();
            closed.extend([0x01, 0x00, 0x00]);
            assert_eq!(ok(decompress(&closed, None)), sent);
        }
    }
    // A second flush-block with nothing new writes nothing.
    assert!(ok(s.flush(FlushBlock)).is_empty());
    stream.extend(ok(s.flush(FlushFrame)));
    assert_eq!(ok(decompress(&stream, None)), data);
    assert_eq!(ok(frame_size(&stream)), stream.len() as u64);
}

#[test]
fn flush_block_on_new_frame_writes_nothing() {
    // As libzstd: `ZSTD_e_flush` with no input at all produces no bytes.
    let mut s = ok(StreamCompressor::new(&default_options(3), None));
    let head = ok(s.flush(FlushBlock));
    assert!(head.is_empty());
    let mut frame = head;
    frame.extend(ok(s.flush(FlushFrame)));
    assert_eq!(ok(decompress(&frame, None)), b"");
}

#[test]
fn empty_continue_then_flush_frame() {
    for checksum in [false, true] {
        let mut s = ok(StreamCompressor::new(&options(checksum, true), None));
        assert!(ok(s.compress(b"", Continue)).is_empty());
        let frame = ok(s.flush(FlushFrame));
        // A streamed frame: no content size, so not single-segment.
        assert_eq!(ok(frame_info(&frame)), (None, 0));
        assert_eq!(ok(frame_size(&frame)), frame.len() as u64);
        assert_eq!(ok(decompress(&frame, None)), b"");
        // A small streamed frame buffers everything until the flush.
        assert!(ok(s.compress(b"abc", Continue)).is_empty());
        assert!(ok(s.compress(b"def", Continue)).is_empty());
        let frame = ok(s.flush(FlushFrame));
        assert_eq!(ok(decompress(&frame, None)), b"abcdef");
    }
}

#[test]
fn several_frames_from_one_compressor() {
    let mut s = ok(StreamCompressor::new(&options(true, true), None));
    let a = compressible(10 * KIB);
    let b = noise(200 * KIB, 3);
    let mut out = ok(s.compress(&a, FlushFrame));
    let first = out.len();
    out.extend(ok(s.compress(&b, Continue)));
    out.extend(ok(s.flush(FlushFrame)));
    // flush-frame with no open frame: an empty frame, as libzstd writes.
    let empty = ok(s.flush(FlushFrame));
    assert_eq!(empty, data_file("empty.zst"));
    out.extend(empty);
    assert_eq!(ok(frame_size(&out)), first as u64);
    let mut expected = a.clone();
    expected.extend_from_slice(&b);
    assert_eq!(ok(decompress(&out, None)), expected);
}

#[test]
fn flush_rejects_continue() {
    let mut s = ok(StreamCompressor::new(&default_options(3), None));
    assert_eq!(
        s.flush(Continue).unwrap_err().kind,
        ErrorKind::InvalidArgument
    );
}

#[test]
fn pledged_input_size() {
    let data = compressible(300 * KIB);
    let mut s = ok(StreamCompressor::new(&default_options(3), None));
    ok(s.set_pledged_input_size(Some(data.len() as u64)));
    let mut frame = Vec::new();
    for piece in data.chunks(100 * KIB) {
        frame.extend(ok(s.compress(piece, Continue)));
    }
    // Only between frames.
    assert_eq!(
        s.set_pledged_input_size(None).unwrap_err().kind,
        ErrorKind::InvalidArgument
    );
    frame.extend(ok(s.flush(FlushFrame)));
    assert_eq!(ok(frame_info(&frame)), (Some(data.len() as u64), 0));
    assert_eq!(ok(decompress(&frame, None)), data);

    // Too little, then too much: errors, and the compressor starts afresh.
    ok(s.set_pledged_input_size(Some(10)));
    ok(s.compress(b"12345", Continue));
    let e = s.flush(FlushFrame).unwrap_err();
    assert_eq!(e.kind, ErrorKind::WrongInputSize);
    assert_eq!(s.last_mode(), FlushFrame);
    ok(s.set_pledged_input_size(Some(3)));
    assert_eq!(
        s.compress(b"1234", Continue).unwrap_err().kind,
        ErrorKind::WrongInputSize
    );
    let frame = ok(s.compress(b"fresh", FlushFrame));
    assert_eq!(ok(decompress(&frame, None)), b"fresh");

    // Pledged 0 is an empty frame with content size 0.
    ok(s.set_pledged_input_size(Some(0)));
    let frame = ok(s.flush(FlushFrame));
    assert_eq!(ok(frame_info(&frame)), (Some(0), 0));
}

#[test]
fn dictionary_id_is_recorded() {
    let dict = trained_dict();
    let sample = data_file("sample.json");
    let c = ok(compress(&sample, 3, Some(&dict)));
    assert_eq!(ok(frame_info(&c)), (Some(sample.len() as u64), 12345));
    assert_eq!(ok(decompress(&c, Some(&dict))), sample);
    let e = decompress(&c, None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Dictionary);
    // A different dictionary is refused too.
    let e = decompress(&c, Some(&raw_dict())).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Dictionary);

    // Without the ID flag, or with raw content, the header names none.
    let opts = CompressOptions {
        dictionary_id: false,
        ..default_options(3)
    };
    let mut s = ok(StreamCompressor::new(&opts, Some(&dict)));
    let c = ok(s.compress(&sample, FlushFrame));
    assert_eq!(ok(frame_info(&c)), (Some(sample.len() as u64), 0));
    assert_eq!(ok(decompress(&c, Some(&dict))), sample);
    let c = ok(compress(&sample, 3, Some(&raw_dict())));
    assert_eq!(ok(frame_info(&c)).1, 0);
    assert_eq!(ok(decompress(&c, Some(&raw_dict()))), sample);

    // A malformed dictionary is refused up front.
    let bad = Dictionary {
        content: b"no magic here".to_vec(),
        raw: false,
    };
    assert_eq!(
        compress(b"x", 3, Some(&bad)).unwrap_err().kind,
        ErrorKind::Dictionary
    );
}

#[test]
fn streamed_output_decodes_incrementally() {
    let data = compressible(MIB);
    let frame = streamed(&options(true, false), &data, 33_333);
    let mut d = ok(StreamDecompressor::new(None, None));
    assert_eq!(drive(&mut d, &frame, 10_000, Some(50_000)), data);
    assert!(d.eof());
}

#[test]
fn dictionary_improves_small_inputs() {
    // Small JSON records like those the dictionary was trained on.
    let records: Vec<Vec<u8>> = (1000..1020)
        .map(|i| {
            format!(
                "{{\"id\": {i}, \"name\": \"user{i}\", \"email\": \"user{i}@example.org\", \
                 \"active\": true, \"score\": {}}}\n",
                i % 101
            )
            .into_bytes()
        })
        .collect();
    let dict = trained_dict();
    let raw = raw_dict();
    let (mut plain, mut with_dict, mut with_raw) = (0, 0, 0);
    for r in &records {
        plain += ok(compress(r, 3, None)).len();
        let c = ok(compress(r, 3, Some(&dict)));
        assert_eq!(ok(decompress(&c, Some(&dict))), *r);
        with_dict += c.len();
        // Without the dictionary ID in the header: same blocks, 2 bytes less.
        let opts = CompressOptions {
            dictionary_id: false,
            ..default_options(3)
        };
        let n = ok(ok(StreamCompressor::new(&opts, Some(&dict))).compress(r, FlushFrame));
        assert_eq!(n.len() + 2, c.len());
        assert_eq!(ok(decompress(&n, Some(&dict))), *r);
        let c = ok(compress(r, 3, Some(&raw)));
        assert_eq!(ok(decompress(&c, Some(&raw))), *r);
        with_raw += c.len();
    }
    assert!(
        with_dict * 2 < plain,
        "{with_dict} bytes with the dictionary, {plain} without"
    );
    // The raw dictionary is text lines, unlike the records: it may not help
    // much, but it must round-trip and not hurt.
    assert!(
        with_raw <= plain,
        "{with_raw} bytes with raw content, {plain} without"
    );
    // Raw content similar to the input does help.
    let text = text();
    let history = Dictionary {
        content: text[..8 * KIB].to_vec(),
        raw: true,
    };
    let piece = &text[8 * KIB..9 * KIB];
    let with = ok(compress(piece, 3, Some(&history)));
    assert_eq!(ok(decompress(&with, Some(&history))), piece);
    let without = ok(compress(piece, 3, None));
    assert!(
        with.len() < without.len(),
        "{} vs {}",
        with.len(),
        without.len()
    );
}
