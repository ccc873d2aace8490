//! Native tests of the zlib cap's engine (the code behind the WIT exports).
//!
//! Reference values marked "CPython" were computed with the host's CPython
//! 3.11.7 linked against C zlib 1.2.13, with the `python3 -c` snippet quoted
//! next to them, and pasted here as literals.

use pylon_cap_zlib::engine::{
    adler32, compress, crc32, decompress, version, Compressor, Decompressor, Error, ErrorKind,
    DEF_BUF_SIZE,
};

// zlib's constants, spelled out so the tests read like the Python API.
const Z_NO_FLUSH: i32 = 0;
const Z_PARTIAL_FLUSH: i32 = 1;
const Z_SYNC_FLUSH: i32 = 2;
const Z_FULL_FLUSH: i32 = 3;
const Z_FINISH: i32 = 4;
const Z_BLOCK: i32 = 5;
const DEFLATED: i32 = 8;
const DEF_MEM_LEVEL: i32 = 8;
const Z_DEFAULT_STRATEGY: i32 = 0;
const DEF: i64 = DEF_BUF_SIZE as i64;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("test literal is hex"))
        .collect()
}

/// Deterministic incompressible-ish bytes (a 64-bit LCG).
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as u8
        })
        .collect()
}

/// Text-like, compressible data mixed with some noise.
fn sample(n: usize) -> Vec<u8> {
    let text =
        b"The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs. ";
    let mut v = Vec::with_capacity(n);
    let mut i = 0u64;
    while v.len() < n {
        v.extend_from_slice(text);
        v.extend_from_slice(&noise(7, i));
        i += 1;
    }
    v.truncate(n);
    v
}

fn compressor(level: i32, wbits: i32, strategy: i32, zdict: Option<&[u8]>) -> Compressor {
    Compressor::new(level, DEFLATED, wbits, DEF_MEM_LEVEL, strategy, zdict)
        .expect("valid compressor options")
}

fn expect_err<T>(r: Result<T, Error>) -> Error {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

fn assert_err(e: &Error, kind: ErrorKind, code: i32, message: &str) {
    assert_eq!(e.kind, kind, "{e:?}");
    assert_eq!(e.code, code, "{e:?}");
    assert_eq!(e.message, message);
}

// --- checksums -------------------------------------------------------------

#[test]
fn crc32_known_values() {
    assert_eq!(crc32(b"hello world", 0), 0x0d4a_1185);
    assert_eq!(crc32(b"", 0), 0);
    // CPython: hex(zlib.crc32(b"The quick brown fox jumps over the lazy dog"))
    assert_eq!(
        crc32(b"The quick brown fox jumps over the lazy dog", 0),
        0x414f_a339
    );
    // CPython: hex(zlib.crc32(b"abc", 0xffffffff))
    assert_eq!(crc32(b"abc", 0xffff_ffff), 0x359a_672f);
    // CPython: hex(zlib.crc32(bytes(range(256)) * 1000))
    let big: Vec<u8> = (0..256_000).map(|i| (i % 256) as u8).collect();
    assert_eq!(crc32(&big, 0), 0xfc70_af1a);
    // An empty update keeps the running value.
    assert_eq!(crc32(b"", 0x1234_5678), 0x1234_5678);
}

#[test]
fn adler32_known_values() {
    assert_eq!(adler32(b"Wikipedia", 1), 0x11e6_0398);
    assert_eq!(adler32(b"", 1), 1);
    // CPython: hex(zlib.adler32(b"The quick brown fox jumps over the lazy dog"))
    assert_eq!(
        adler32(b"The quick brown fox jumps over the lazy dog", 1),
        0x5bdc_0fda
    );
    // CPython: hex(zlib.adler32(b"abc", 0xffffffff))
    assert_eq!(adler32(b"abc", 0xffff_ffff), 0x0282_0134);
    // CPython: hex(zlib.adler32(bytes(range(256)) * 1000))
    let big: Vec<u8> = (0..256_000).map(|i| (i % 256) as u8).collect();
    assert_eq!(adler32(&big, 1), 0xa73b_292f);
}

#[test]
fn checksums_chain() {
    let data = sample(100_000);
    for split in [0, 1, 3, 4096, 65_537, 99_999, 100_000] {
        let (a, b) = data.split_at(split);
        assert_eq!(
            crc32(b, crc32(a, 0)),
            crc32(&data, 0),
            "crc32 split {split}"
        );
        assert_eq!(
            adler32(b, adler32(a, 1)),
            adler32(&data, 1),
            "adler32 split {split}"
        );
    }
    assert_eq!(crc32(b" world", crc32(b"hello", 0)), 0x0d4a_1185);
}

#[test]
fn version_string() {
    let v = version();
    assert!(v.contains("zlib-rs"), "{v}");
    // CPython's test_zlib reads ZLIB_RUNTIME_VERSION as "major.minor.patch"
    // before the first '-'.
    let base = v.split('-').next().unwrap_or_default();
    let parts: Vec<u32> = base.split('.').filter_map(|p| p.parse().ok()).collect();
    assert!(parts.len() >= 3 && parts[0] == 1, "{v}");
}

// --- one-shot compress / decompress ----------------------------------------

/// Streams made by C zlib must decompress to the same bytes here.
#[test]
fn decompresses_c_zlib_output() {
    // CPython: data = b"hello hello hello hello, zlib world! " * 3
    let data = b"hello hello hello hello, zlib world! ".repeat(3);
    // CPython: zlib.compress(data, 9).hex()
    let z9 = hex("78dacb48cdc9c957c840277514aa72329314caf38b72521431a5c9560400c6be27a3");
    // CPython: zlib.compress(data, 6, -15).hex()
    let raw = hex("cb48cdc9c957c840277514aa72329314caf38b72521431a5c9560400");
    // CPython: zlib.compress(data, 6, 31).hex()
    let gz = hex(
        "1f8b0800000000000003cb48cdc9c957c840277514aa72329314caf38b72521431a5c9560400e92b0e3d6f000000",
    );
    // CPython: zlib.compress(data, 6, 9).hex()
    let w9 = hex("1895cb48cdc9c957c840277514aa72329314caf38b72521431a5c9560400c6be27a3");

    for (stream, wbits) in [
        (&z9, 15),
        (&z9, 0),
        (&z9, 47),
        (&z9, 32),
        (&raw, -15),
        (&gz, 31),
        (&gz, 47),
        (&w9, 9),
        (&w9, 15),
        (&w9, 0),
    ] {
        assert_eq!(
            decompress(stream, wbits, DEF).as_deref(),
            Ok(&data[..]),
            "wbits {wbits}"
        );
    }
    // The window size must be at least the one the stream was made with.
    let e = expect_err(decompress(&z9, 9, DEF));
    assert_err(
        &e,
        ErrorKind::Zlib,
        -3,
        "Error -3 while decompressing data: invalid window size",
    );
}

#[test]
fn round_trip_every_wbits_family() {
    let inputs = [Vec::new(), b"x".to_vec(), sample(10_000), noise(70_000, 7)];
    let mut families: Vec<(i32, Vec<i32>)> = Vec::new();
    for w in 9..=15 {
        // zlib container: decodable with the same wbits, 15, 0 (from the
        // header) and auto-detection.
        families.push((w, vec![w, 15, 0, 32 + w, 47]));
        // raw deflate
        families.push((-w, vec![-w, -15]));
        // gzip container
        families.push((16 + w, vec![16 + w, 31, 47]));
    }
    for data in &inputs {
        for (cw, dws) in &families {
            let c = compress(data, 6, *cw).expect("compress");
            for dw in dws {
                let d = decompress(&c, *dw, DEF).expect("decompress");
                assert!(d == *data, "compress wbits {cw}, decompress wbits {dw}");
            }
        }
    }
}

#[test]
fn container_headers() {
    let c = compress(b"abc", 6, 31).expect("gzip");
    // gzip magic, CM=8, no flags, mtime 0
    assert_eq!(&c[..8], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
    // trailer: CRC-32 and length of the data
    let n = c.len();
    assert_eq!(&c[n - 8..n - 4], &crc32(b"abc", 0).to_le_bytes());
    assert_eq!(&c[n - 4..], &3u32.to_le_bytes());

    let c = compress(b"abc", 6, 15).expect("zlib");
    assert_eq!(c[0], 0x78);
    assert_eq!((u16::from(c[0]) << 8 | u16::from(c[1])) % 31, 0);
    let n = c.len();
    assert_eq!(&c[n - 4..], &adler32(b"abc", 1).to_be_bytes());

    // zlib turns a window of 8 into 9 for deflate, as CPython shows:
    // zlib.compress(b"hello"*10, 6, 8)[:2].hex() == "1895"
    let c = compress(&b"hello".repeat(10), 6, 8).expect("wbits 8");
    assert_eq!(&c[..2], &[0x18, 0x95]);
}

#[test]
fn levels() {
    let data = sample(200_000);
    let mut sizes = Vec::new();
    for level in -1..=9 {
        let c = compress(&data, level, 15).expect("compress");
        assert_eq!(
            decompress(&c, 15, DEF).expect("decompress"),
            data,
            "level {level}"
        );
        sizes.push((level, c.len()));
    }
    // Level 0 stores: bigger than the input; level 9 beats level 1.
    let size = |l: i32| {
        sizes
            .iter()
            .find(|(x, _)| *x == l)
            .map(|(_, s)| *s)
            .unwrap_or(0)
    };
    assert!(size(0) > data.len());
    assert!(size(9) <= size(1));
    assert_eq!(
        compress(&data, -1, 15).expect("default"),
        compress(&data, 6, 15).expect("level 6")
    );
}

#[test]
fn bad_arguments() {
    // CPython: zlib.compress(b"", 10) and zlib.compress(b"", 5, 100) both
    // raise zlib.error("Bad compression level").
    for (level, wbits) in [
        (10, 15),
        (-2, 15),
        (5, 100),
        (5, 24),
        (5, -8),
        (5, 0),
        (5, 47),
    ] {
        let e = expect_err(compress(b"", level, wbits));
        assert_err(&e, ErrorKind::Zlib, -2, "Bad compression level");
    }
    // CPython: zlib.decompress(b"", 100)
    let e = expect_err(decompress(b"", 100, DEF));
    assert_err(
        &e,
        ErrorKind::Zlib,
        -2,
        "Error -2 while preparing to decompress data: inconsistent stream state",
    );
    let e = expect_err(decompress(b"", 15, -1));
    assert_err(&e, ErrorKind::Value, 0, "bufsize must be non-negative");

    // CPython: zlib.compressobj(wbits=100), (method=9), (strategy=9) and
    // zlib.decompressobj(wbits=100) raise ValueError.
    for (method, wbits, mem, strategy) in [
        (DEFLATED, 100, 8, 0),
        (9, 15, 8, 0),
        (DEFLATED, 15, 8, 9),
        (DEFLATED, 15, 0, 0),
        (DEFLATED, 15, 10, 0),
    ] {
        let e = expect_err(Compressor::new(6, method, wbits, mem, strategy, None));
        assert_err(&e, ErrorKind::Value, 0, "Invalid initialization option");
    }
    let e = expect_err(Compressor::new(10, DEFLATED, 15, 8, 0, None));
    assert_err(&e, ErrorKind::Value, 0, "Invalid initialization option");
    for wbits in [100, 48, -16, 7, -7] {
        let e = expect_err(Decompressor::new(wbits, None));
        assert_err(&e, ErrorKind::Value, 0, "Invalid initialization option");
    }
    // CPython: zlib.decompressobj(w) accepts each of these.
    for wbits in [-8, 8, 24, 0, 16, 32, 40, 47, -15, 31] {
        assert!(Decompressor::new(wbits, None).is_ok(), "wbits {wbits}");
    }
}

/// zlib's verdicts and messages for broken input, as CPython reports them.
#[test]
fn corrupt_input_messages() {
    let data = b"hello hello hello hello, zlib world! ".repeat(3);
    let good = hex("789ccb48cdc9c957c840277514aa72329314caf38b72521431a5c9560400c6be27a3");
    let gz = hex(
        "1f8b0800000000000003cb48cdc9c957c840277514aa72329314caf38b72521431a5c9560400e92b0e3d6f000000",
    );
    assert_eq!(decompress(&good, 15, DEF).as_deref(), Ok(&data[..]));
    assert_eq!(decompress(&gz, 31, DEF).as_deref(), Ok(&data[..]));
    let mut bad_check = good.clone();
    *bad_check.last_mut().expect("non-empty") ^= 1;
    let mut bad_len = gz.clone();
    *bad_len.last_mut().expect("non-empty") ^= 1;
    let mut bad_crc = gz.clone();
    let i = bad_crc.len() - 5;
    bad_crc[i] ^= 1;

    // CPython: zlib.decompress(stream, wbits) for each case; the message is
    // the text of the zlib.error raised.
    let cases: Vec<(Vec<u8>, i32, i32, &str)> = vec![
        (b"garbage data".to_vec(), 15, -3, "incorrect header check"),
        (b"garbage data".to_vec(), 31, -3, "incorrect header check"),
        (b"garbage data".to_vec(), 47, -3, "incorrect header check"),
        (
            hex("770900000000000000000000"),
            15,
            -3,
            "unknown compression method",
        ),
        (
            hex("8898cb48cdc9c957c840277514aa72329314caf38b72521431a5c9560400c6be27a3"),
            15,
            -3,
            "invalid window size",
        ),
        (bad_check.clone(), 15, -3, "incorrect data check"),
        (bad_check, 31, -3, "incorrect header check"),
        (hex("789c07000000"), 15, -3, "invalid block type"),
        (
            hex("789c0105000000"),
            15,
            -3,
            "invalid stored block lengths",
        ),
        (bad_len, 31, -3, "incorrect length check"),
        (bad_crc, 47, -3, "incorrect data check"),
        (
            hex("cb40301590d800"),
            -15,
            -3,
            "invalid distance too far back",
        ),
        (
            hex("789c63000200"),
            15,
            -5,
            "incomplete or truncated stream",
        ),
        (
            good[..good.len() - 3].to_vec(),
            15,
            -5,
            "incomplete or truncated stream",
        ),
        (b"x".to_vec(), 15, -5, "incomplete or truncated stream"),
        (Vec::new(), 15, -5, "incomplete or truncated stream"),
    ];
    for (stream, wbits, code, zmsg) in cases {
        let e = expect_err(decompress(&stream, wbits, DEF));
        assert_err(
            &e,
            ErrorKind::Zlib,
            code,
            &format!("Error {code} while decompressing data: {zmsg}"),
        );
    }
}

#[test]
fn one_shot_decompress_ignores_trailing_data() {
    // CPython: zlib.decompress(zlib.compress(b"abc") + b"junk") == b"abc"
    let mut c = compress(b"abc", 6, 15).expect("compress");
    c.extend_from_slice(b"junk");
    assert_eq!(decompress(&c, 15, DEF).as_deref(), Ok(&b"abc"[..]));
}

#[test]
fn bufsize_is_only_a_hint() {
    let data = sample(300_000);
    let c = compress(&data, 6, 15).expect("compress");
    for bufsize in [0, 1, 2, 1000, DEF, 1 << 30, i64::MAX] {
        assert_eq!(
            decompress(&c, 15, bufsize).expect("decompress"),
            data,
            "bufsize {bufsize}"
        );
    }
}

// --- compressor ------------------------------------------------------------

/// Compresses `data` in pieces through a compressor.
fn stream_compress(c: &mut Compressor, data: &[u8], piece: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in data.chunks(piece.max(1)) {
        out.extend(c.compress(chunk).expect("compress"));
    }
    out.extend(c.flush(Z_FINISH).expect("finish"));
    out
}

#[test]
fn compressor_strategies_and_mem_levels() {
    let data = sample(100_000);
    for strategy in 0..=4 {
        for wbits in [15, -15, 31, 9] {
            let mut c = compressor(6, wbits, strategy, None);
            let out = stream_compress(&mut c, &data, 7_000);
            assert_eq!(
                decompress(&out, wbits, DEF).expect("decompress"),
                data,
                "strategy {strategy} wbits {wbits}"
            );
        }
    }
    for mem in 1..=9 {
        let mut c =
            Compressor::new(9, DEFLATED, 15, mem, Z_DEFAULT_STRATEGY, None).expect("mem level");
        let out = stream_compress(&mut c, &data, 50_000);
        assert_eq!(
            decompress(&out, 15, DEF).expect("decompress"),
            data,
            "mem {mem}"
        );
    }
    // A compressor with default options makes what the one-shot call makes.
    let mut c = compressor(-1, 15, 0, None);
    assert_eq!(
        stream_compress(&mut c, &data, data.len()),
        compress(&data, -1, 15).expect("one-shot")
    );
}

#[test]
fn compressor_no_flush_and_after_finish() {
    let mut c = compressor(6, 15, 0, None);
    let mut out = c.compress(b"hello").expect("compress");
    assert_eq!(c.flush(Z_NO_FLUSH).expect("no-flush"), b"");
    out.extend(c.flush(Z_FINISH).expect("finish"));
    assert_eq!(decompress(&out, 15, DEF).as_deref(), Ok(&b"hello"[..]));

    // CPython, after c.flush(): c.flush(), c.compress(b"x"), c.copy(),
    // c.flush(zlib.Z_SYNC_FLUSH), c.flush(0)
    let e = expect_err(c.flush(Z_FINISH));
    assert_err(
        &e,
        ErrorKind::Zlib,
        -2,
        "Error -2 while flushing: inconsistent stream state",
    );
    let e = expect_err(c.compress(b"x"));
    assert_err(
        &e,
        ErrorKind::Zlib,
        -2,
        "Error -2 while compressing data: inconsistent stream state",
    );
    let e = expect_err(c.copy());
    assert_err(&e, ErrorKind::Value, -2, "Inconsistent stream state");
    let e = expect_err(c.flush(Z_SYNC_FLUSH));
    assert_err(
        &e,
        ErrorKind::Zlib,
        -2,
        "Error -2 while flushing: inconsistent stream state",
    );
    assert_eq!(c.flush(Z_NO_FLUSH).expect("no-flush is a no-op"), b"");
}

#[test]
fn compressor_invalid_flush_mode() {
    // CPython: zlib.compressobj().flush(m) for m in (6, 7, -1)
    let mut c = compressor(6, 15, 0, None);
    for mode in [6, 7, -1] {
        let e = expect_err(c.flush(mode));
        assert_err(
            &e,
            ErrorKind::Zlib,
            -2,
            "Error -2 while flushing: inconsistent stream state",
        );
    }
    // The stream is still usable.
    let out = stream_compress(&mut c, b"still fine", 3);
    assert_eq!(decompress(&out, 15, DEF).as_deref(), Ok(&b"still fine"[..]));
}

#[test]
fn every_flush_mode_round_trips() {
    let a = sample(30_000);
    let b = noise(5_000, 3);
    for mode in [
        Z_NO_FLUSH,
        Z_PARTIAL_FLUSH,
        Z_SYNC_FLUSH,
        Z_FULL_FLUSH,
        Z_BLOCK,
    ] {
        for wbits in [15, -15, 31] {
            let mut c = compressor(6, wbits, 0, None);
            let mut out = c.compress(&a).expect("compress a");
            out.extend(c.flush(mode).expect("flush"));
            // Flushing twice in a row is fine too.
            out.extend(c.flush(mode).expect("flush again"));
            out.extend(c.compress(&b).expect("compress b"));
            out.extend(c.flush(Z_FINISH).expect("finish"));
            let mut expected = a.clone();
            expected.extend_from_slice(&b);
            assert_eq!(
                decompress(&out, wbits, DEF).expect("decompress"),
                expected,
                "mode {mode} wbits {wbits}"
            );
        }
    }
}

#[test]
fn sync_and_full_flush_make_data_available() {
    let a = sample(20_000);
    for mode in [Z_SYNC_FLUSH, Z_FULL_FLUSH] {
        let mut c = compressor(6, 15, 0, None);
        let mut part = c.compress(&a).expect("compress");
        part.extend(c.flush(mode).expect("flush"));
        // A sync/full flush ends with an empty stored block.
        assert_eq!(&part[part.len() - 4..], &[0, 0, 0xff, 0xff], "mode {mode}");
        // Everything compressed so far decompresses from this prefix alone.
        let mut d = Decompressor::new(15, None).expect("decompressor");
        assert_eq!(
            d.decompress(&part, 0).expect("decompress"),
            a,
            "mode {mode}"
        );
        assert!(!d.eof());
    }
    // CPython: c = zlib.compressobj(); (c.compress(b"x"*10) +
    // c.flush(zlib.Z_SYNC_FLUSH)).hex() == "789caaa8800100000000ffff"
    let mut d = Decompressor::new(15, None).expect("decompressor");
    assert_eq!(
        d.decompress(&hex("789caaa8800100000000ffff"), 0).as_deref(),
        Ok(&[b'x'; 10][..])
    );
}

#[test]
fn full_flush_resets_the_dictionary() {
    // After a full flush the rest of a raw stream decodes on its own.
    let a = sample(20_000);
    let b = sample(15_000);
    let mut c = compressor(6, -15, 0, None);
    let mut first = c.compress(&a).expect("compress a");
    first.extend(c.flush(Z_FULL_FLUSH).expect("full flush"));
    let mut second = c.compress(&b).expect("compress b");
    second.extend(c.flush(Z_FINISH).expect("finish"));
    assert_eq!(decompress(&second, -15, DEF).expect("decompress tail"), b);
}

#[test]
fn compressor_copy() {
    let prefix = sample(40_000);
    let mut c = compressor(6, 15, 0, None);
    let head = c.compress(&prefix).expect("compress");
    let mut c2 = c.copy().expect("copy");
    let mut one = head.clone();
    one.extend(c.compress(b"first ending").expect("compress"));
    one.extend(c.flush(Z_FINISH).expect("finish"));
    // The original is finished; the copy is not affected.
    let mut two = head;
    two.extend(c2.compress(b"second ending").expect("compress"));
    two.extend(c2.flush(Z_FINISH).expect("finish"));
    let mut e1 = prefix.clone();
    e1.extend_from_slice(b"first ending");
    let mut e2 = prefix;
    e2.extend_from_slice(b"second ending");
    assert_eq!(decompress(&one, 15, DEF).expect("one"), e1);
    assert_eq!(decompress(&two, 15, DEF).expect("two"), e2);
    // Dropping a copy leaves the original intact.
    let mut c = compressor(6, 31, 0, None);
    drop(c.copy().expect("copy"));
    let out = stream_compress(&mut c, b"after drop", 4);
    assert_eq!(decompress(&out, 31, DEF).as_deref(), Ok(&b"after drop"[..]));
}

// --- dictionaries ----------------------------------------------------------

#[test]
fn zdict_round_trips() {
    let dict = b"hello world, this is a preset dictionary";
    let data = b"hello world hello world, this is a preset dictionary at work".repeat(20);
    for wbits in [15, -15, 9, -9] {
        let mut c = compressor(6, wbits, 0, Some(dict));
        let out = stream_compress(&mut c, &data, 100);
        let mut d = Decompressor::new(wbits, Some(dict.to_vec())).expect("decompressor");
        let mut got = d.decompress(&out, 0).expect("decompress");
        got.extend(d.flush(DEF).expect("flush"));
        assert_eq!(got, data, "wbits {wbits}");
        assert!(d.eof());
        // Auto-detection also finds the dictionary request of a zlib stream.
        if wbits > 0 {
            let mut d = Decompressor::new(47, Some(dict.to_vec())).expect("decompressor");
            assert_eq!(d.decompress(&out, 0).expect("decompress"), data);
        }
    }
    // An empty dictionary is a dictionary.
    let mut c = compressor(6, 15, 0, Some(b""));
    let out = stream_compress(&mut c, b"abc", 10);
    let mut d = Decompressor::new(15, Some(Vec::new())).expect("decompressor");
    assert_eq!(d.decompress(&out, 0).as_deref(), Ok(&b"abc"[..]));
}

#[test]
fn zdict_with_c_zlib_streams() {
    // CPython: c = zlib.compressobj(zdict=b"hello world");
    // (c.compress(b"hello world hello world") + c.flush()).hex()
    let z = hex("78bb1a0b045dcb40301590d80069e708d9");
    // ... and the same with wbits=-15
    let raw = hex("cb40301590d800");
    let data = b"hello world hello world";

    let mut d = Decompressor::new(15, Some(b"hello world".to_vec())).expect("decompressor");
    assert_eq!(d.decompress(&z, 0).as_deref(), Ok(&data[..]));
    assert!(d.eof());
    // Fed one byte at a time, the dictionary request arrives mid-way.
    let mut d = Decompressor::new(15, Some(b"hello world".to_vec())).expect("decompressor");
    let mut got = Vec::new();
    for byte in &z {
        got.extend(d.decompress(&[*byte], 0).expect("decompress"));
    }
    assert_eq!(got, data);
    assert!(d.eof());

    let mut d = Decompressor::new(-15, Some(b"hello world".to_vec())).expect("decompressor");
    assert_eq!(d.decompress(&raw, 0).as_deref(), Ok(&data[..]));

    // CPython: zlib.decompressobj(wbits=-15, zdict=b"wrong world")
    //          .decompress(raw) == b"hrong world hrong world"
    let mut d = Decompressor::new(-15, Some(b"wrong world".to_vec())).expect("decompressor");
    assert_eq!(
        d.decompress(&raw, 0).as_deref(),
        Ok(&b"hrong world hrong world"[..])
    );

    // CPython: zlib.decompress(z) -> "Error 2 while decompressing data"
    let e = expect_err(decompress(&z, 15, DEF));
    assert_err(&e, ErrorKind::Zlib, 2, "Error 2 while decompressing data");

    // CPython: zlib.decompressobj(zdict=b"wrong dictionary").decompress(z)
    // -> "Error -3 while setting zdict: invalid input data", tail untouched.
    let mut d = Decompressor::new(15, Some(b"wrong dictionary".to_vec())).expect("decompressor");
    let e = expect_err(d.decompress(&z, 0));
    assert_err(
        &e,
        ErrorKind::Zlib,
        -3,
        "Error -3 while setting zdict: invalid input data",
    );
    assert_eq!(d.unconsumed_tail(), b"");

    // CPython: d = zlib.decompressobj(); d.decompress(z) -> "Error 2 while
    // decompressing data", d.unconsumed_tail == z[6:] (after the header and
    // dictionary id).
    let mut d = Decompressor::new(15, None).expect("decompressor");
    let e = expect_err(d.decompress(&z, 0));
    assert_err(&e, ErrorKind::Zlib, 2, "Error 2 while decompressing data");
    assert_eq!(d.unconsumed_tail(), &z[6..]);

    // CPython: zlib.decompressobj(wbits=-15, zdict=b"") is fine.
    assert!(Decompressor::new(-15, Some(Vec::new())).is_ok());
}

#[test]
fn gzip_cannot_take_a_dictionary() {
    // CPython: zlib.compressobj(wbits=31, zdict=b"abc") -> ValueError
    let e = expect_err(Compressor::new(6, DEFLATED, 31, 8, 0, Some(b"abc")));
    assert_err(&e, ErrorKind::Value, -2, "Invalid dictionary");
}

// --- decompressor ----------------------------------------------------------

#[test]
fn max_length_and_unconsumed_tail() {
    let data = sample(300_000);
    let c = compress(&data, 6, 15).expect("compress");
    let mut d = Decompressor::new(15, None).expect("decompressor");
    let mut got = d.decompress(&c, 1000).expect("first");
    assert_eq!(got.len(), 1000);
    assert!(!d.unconsumed_tail().is_empty());
    assert!(!d.eof());
    let mut rounds = 1;
    while !d.eof() {
        let tail = d.unconsumed_tail().to_vec();
        let piece = d.decompress(&tail, 1000).expect("more");
        assert!(piece.len() <= 1000);
        got.extend(piece);
        rounds += 1;
        assert!(rounds < 1000, "no progress");
    }
    assert_eq!(got, data);
    assert_eq!(d.unconsumed_tail(), b"");
    assert_eq!(d.unused_data(), b"");
    assert_eq!(d.flush(DEF).expect("flush"), b"");

    let e = expect_err(Decompressor::new(15, None).expect("d").decompress(b"", -1));
    assert_err(&e, ErrorKind::Value, 0, "max_length must be non-negative");
    let e = expect_err(Decompressor::new(15, None).expect("d").flush(0));
    assert_err(&e, ErrorKind::Value, 0, "length must be greater than zero");
}

#[test]
fn max_length_with_pending_output() {
    // Very compressible data: all input may be consumed while output is still
    // pending in zlib; feeding empty input must drain it.
    let data = vec![b'a'; 100_000];
    let c = compress(&data, 9, 15).expect("compress");
    let mut d = Decompressor::new(15, None).expect("decompressor");
    let mut got = Vec::new();
    let mut input = c;
    let mut rounds = 0;
    while !d.eof() {
        got.extend(d.decompress(&input, 4096).expect("decompress"));
        input = d.unconsumed_tail().to_vec();
        rounds += 1;
        assert!(rounds < 1000, "no progress");
    }
    assert_eq!(got, data);
}

/// The sequence CPython 3.11 shows for data after the end of the stream,
/// including its quirk that the tail repeats the unused data once a tail had
/// been set.
#[test]
fn unused_data_and_eof_like_cpython() {
    // CPython: zlib.compress(b"a" * 100000).hex()
    let mut c = hex(
        "789cedc13101000000c2a0aceb5fc21a1e40010000000000000000000000000000000000000000000000000000\
         0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
         0000000000000000000000000000000000000000000000000000af0679660b4d",
    );
    c.extend_from_slice(b"TRAIL");
    let mut d = Decompressor::new(15, None).expect("decompressor");
    let mut out = d.decompress(&c, 10).expect("decompress");
    assert_eq!(out.len(), 10);
    assert!(!d.unconsumed_tail().is_empty());
    assert!(!d.eof());
    let tail = d.unconsumed_tail().to_vec();
    out.extend(d.decompress(&tail, 0).expect("rest"));
    assert_eq!(out, vec![b'a'; 100_000]);
    // CPython: unused_data b'TRAIL', unconsumed_tail b'TRAIL', eof True
    assert_eq!(d.unused_data(), b"TRAIL");
    assert_eq!(d.unconsumed_tail(), b"TRAIL");
    assert!(d.eof());
    // CPython: d.decompress(b"more") -> b'', unused b'TRAILmore', tail b'more'
    assert_eq!(d.decompress(b"more", 0).expect("after eof"), b"");
    assert_eq!(d.unused_data(), b"TRAILmore");
    assert_eq!(d.unconsumed_tail(), b"more");
    // CPython: d.flush() -> b'', unused b'TRAILmoremore', tail b'more'
    assert_eq!(d.flush(DEF).expect("flush"), b"");
    assert_eq!(d.unused_data(), b"TRAILmoremore");
    assert_eq!(d.unconsumed_tail(), b"more");
    assert!(d.eof());
    // flush() released zlib's state.
    let e = expect_err(d.decompress(b"x", 0));
    assert_err(
        &e,
        ErrorKind::Zlib,
        -2,
        "Error -2 while decompressing data: inconsistent stream state",
    );
    let e = expect_err(d.copy());
    assert_err(&e, ErrorKind::Value, -2, "Inconsistent stream state");
    // A second flush returns nothing and is not an error.
    assert_eq!(d.flush(DEF).expect("flush again"), b"");
}

#[test]
fn unused_data_without_tail() {
    let mut c = compress(b"payload", 6, 15).expect("compress");
    c.extend_from_slice(b"extra");
    let mut d = Decompressor::new(15, None).expect("decompressor");
    assert_eq!(d.decompress(&c, 0).as_deref(), Ok(&b"payload"[..]));
    assert!(d.eof());
    assert_eq!(d.unused_data(), b"extra");
    assert_eq!(d.unconsumed_tail(), b"");
}

#[test]
fn concatenated_gzip_members() {
    // What the gzip module relies on: the first member ends, the next one is
    // in unused_data.
    let g1 = compress(b"first member", 6, 31).expect("gz1");
    let g2 = compress(b"second member", 6, 31).expect("gz2");
    let mut both = g1.clone();
    both.extend_from_slice(&g2);
    let mut d = Decompressor::new(31, None).expect("decompressor");
    assert_eq!(d.decompress(&both, 0).as_deref(), Ok(&b"first member"[..]));
    assert!(d.eof());
    assert_eq!(d.unused_data(), &g2[..]);
    let mut d = Decompressor::new(47, None).expect("decompressor");
    assert_eq!(
        d.decompress(&both[g1.len()..], 0).as_deref(),
        Ok(&b"second member"[..])
    );
}

#[test]
fn streaming_in_small_pieces() {
    let data = sample(100_000);
    for wbits in [15, -15, 31] {
        let c = compress(&data, 6, wbits).expect("compress");
        let dw = if wbits == 31 { 47 } else { wbits };
        let mut d = Decompressor::new(dw, None).expect("decompressor");
        let mut got = Vec::new();
        for piece in c.chunks(13) {
            got.extend(d.decompress(piece, 0).expect("decompress"));
        }
        got.extend(d.flush(1).expect("flush"));
        assert_eq!(got, data, "wbits {wbits}");
        assert!(d.eof());
    }
}

#[test]
fn truncated_and_corrupt_streams_in_decompressor() {
    let data = vec![b'x'; 1000];
    let c = compress(&data, 6, 15).expect("compress");
    // CPython: a truncated stream is no error for decompress() or flush().
    let mut d = Decompressor::new(15, None).expect("decompressor");
    let mut got = d.decompress(&c[..c.len() - 6], 0).expect("decompress");
    assert!(!d.eof());
    got.extend(d.flush(DEF).expect("flush"));
    assert!(!d.eof());
    assert!(data.starts_with(&got));
    assert_eq!(d.unconsumed_tail(), b"");

    // CPython: d.decompress(b"garbage") -> "Error -3 while decompressing
    // data: incorrect header check", d.unconsumed_tail == b"rbage";
    // d.flush() then returns b'' and keeps the tail.
    let mut d = Decompressor::new(15, None).expect("decompressor");
    let e = expect_err(d.decompress(b"garbage", 0));
    assert_err(
        &e,
        ErrorKind::Zlib,
        -3,
        "Error -3 while decompressing data: incorrect header check",
    );
    assert_eq!(d.unconsumed_tail(), b"rbage");
    assert_eq!(d.flush(DEF).expect("flush"), b"");
    assert_eq!(d.unconsumed_tail(), b"rbage");

    // CPython: zlib.decompressobj().flush() -> b'', eof False
    let mut d = Decompressor::new(15, None).expect("decompressor");
    assert_eq!(d.flush(DEF).expect("flush"), b"");
    assert!(!d.eof());
    assert_eq!(d.decompress(b"", 0).expect("empty"), b"");
}

#[test]
fn decompressor_copy() {
    let data = sample(200_000);
    let c = compress(&data, 6, 15).expect("compress");
    let (a, b) = c.split_at(c.len() / 2);
    let mut d = Decompressor::new(15, None).expect("decompressor");
    let head = d.decompress(a, 50_000).expect("head");
    let tail = d.unconsumed_tail().to_vec();
    let d2 = d.copy().expect("copy");
    assert_eq!(d2.unconsumed_tail(), &tail[..]);
    let finish = |mut d: Decompressor| {
        let mut out = head.clone();
        let mut input = d.unconsumed_tail().to_vec();
        input.extend_from_slice(b);
        out.extend(d.decompress(&input, 0).expect("rest"));
        assert!(d.eof());
        out
    };
    assert_eq!(finish(d2), data);
    assert_eq!(finish(d), data);

    // Copies keep eof, unused_data and unconsumed_tail.
    let mut c = compress(b"abc", 6, 15).expect("compress");
    c.extend_from_slice(b"zz");
    let mut d = Decompressor::new(15, None).expect("decompressor");
    d.decompress(&c, 0).expect("decompress");
    let d2 = d.copy().expect("copy");
    assert!(d2.eof());
    assert_eq!(d2.unused_data(), b"zz");
    assert_eq!(d2.unconsumed_tail(), d.unconsumed_tail());
}

#[test]
fn large_round_trip() {
    let mut data = sample(3 << 20);
    data.extend(noise(1 << 20, 99));
    for level in [1, 9] {
        let c = compress(&data, level, 31).expect("compress");
        assert_eq!(
            decompress(&c, 31, 1).expect("decompress"),
            data,
            "level {level}"
        );
        let mut d = Decompressor::new(31, None).expect("decompressor");
        let mut got = Vec::new();
        for piece in c.chunks(1 << 16) {
            got.extend(d.decompress(piece, 0).expect("decompress"));
        }
        assert_eq!(got, data);
    }
}
