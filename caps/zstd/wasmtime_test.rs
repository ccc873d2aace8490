//! The zstd cap as a component in wasmtime: round trips through the WIT
//! boundary, the streaming `compressor`/`decompressor` resources, frame
//! info/size, dictionaries, and errors coming back as `result`s (never traps).

use pylon_cap_tests::{harness, Host};
use wasmtime::component::ResourceAny;
use wasmtime::Store;

wasmtime::component::bindgen!({
    path: "../../caps/zstd/wit",
    world: "zstd-cap",
});

use exports::pylon::zstd::zstd::{
    CompressOptions, Dictionary, EndDirective, Error, ErrorKind, FrameParams,
};

/// A fresh instance of the cap and its store.
fn instance() -> (Store<Host>, ZstdCap) {
    let mut h = harness("zstd");
    let cap = ZstdCap::instantiate(&mut h.store, &h.component, &h.linker)
        .expect("instantiate the zstd cap");
    (h.store, cap)
}

/// Compressible test data: numbered lines.
fn text(lines: usize) -> Vec<u8> {
    (0..lines)
        .map(|i| {
            format!(
                "line {i}: the quick brown fox jumps over the lazy dog {}\n",
                i % 13
            )
        })
        .collect::<String>()
        .into_bytes()
}

fn raw_dict(content: &[u8]) -> Dictionary {
    Dictionary {
        content: content.to_vec(),
        raw: true,
    }
}

fn ok<T>(r: Result<T, Error>) -> T {
    r.unwrap_or_else(|e| panic!("{:?}: {}", e.kind, e.message))
}

struct Cap {
    store: Store<Host>,
    cap: ZstdCap,
}

/// Each wrapper: the outer `Result` is a trap (a bug), the inner one the
/// cap's own error.
impl Cap {
    fn new() -> Cap {
        let (store, cap) = instance();
        Cap { store, cap }
    }

    fn compress(
        &mut self,
        data: &[u8],
        level: i32,
        dict: Option<&Dictionary>,
    ) -> Result<Vec<u8>, Error> {
        self.cap
            .pylon_zstd_zstd()
            .call_compress(&mut self.store, data, level, dict)
            .expect("compress does not trap")
    }

    fn decompress(&mut self, data: &[u8], dict: Option<&Dictionary>) -> Result<Vec<u8>, Error> {
        self.cap
            .pylon_zstd_zstd()
            .call_decompress(&mut self.store, data, dict)
            .expect("decompress does not trap")
    }

    fn frame_info(&mut self, data: &[u8]) -> Result<FrameParams, Error> {
        self.cap
            .pylon_zstd_zstd()
            .call_frame_info(&mut self.store, data)
            .expect("frame-info does not trap")
    }

    fn frame_size(&mut self, data: &[u8]) -> Result<u64, Error> {
        self.cap
            .pylon_zstd_zstd()
            .call_frame_size(&mut self.store, data)
            .expect("frame-size does not trap")
    }

    fn compressor(
        &mut self,
        options: &CompressOptions,
        dict: Option<&Dictionary>,
    ) -> Result<ResourceAny, Error> {
        self.cap
            .pylon_zstd_zstd()
            .compressor()
            .call_create(&mut self.store, *options, dict)
            .expect("compressor.create does not trap")
    }

    fn compressor_compress(
        &mut self,
        c: ResourceAny,
        data: &[u8],
        mode: EndDirective,
    ) -> Result<Vec<u8>, Error> {
        self.cap
            .pylon_zstd_zstd()
            .compressor()
            .call_compress(&mut self.store, c, data, mode)
            .expect("compressor.compress does not trap")
    }

    fn compressor_flush(&mut self, c: ResourceAny, mode: EndDirective) -> Result<Vec<u8>, Error> {
        self.cap
            .pylon_zstd_zstd()
            .compressor()
            .call_flush(&mut self.store, c, mode)
            .expect("compressor.flush does not trap")
    }

    fn last_mode(&mut self, c: ResourceAny) -> EndDirective {
        self.cap
            .pylon_zstd_zstd()
            .compressor()
            .call_last_mode(&mut self.store, c)
            .expect("compressor.last-mode does not trap")
    }

    fn decompressor(
        &mut self,
        dict: Option<&Dictionary>,
        window_log_max: Option<u8>,
    ) -> Result<ResourceAny, Error> {
        self.cap
            .pylon_zstd_zstd()
            .decompressor()
            .call_create(&mut self.store, dict, window_log_max)
            .expect("decompressor.create does not trap")
    }

    fn decompressor_decompress(
        &mut self,
        d: ResourceAny,
        data: &[u8],
        max_length: Option<u64>,
    ) -> Result<Vec<u8>, Error> {
        self.cap
            .pylon_zstd_zstd()
            .decompressor()
            .call_decompress(&mut self.store, d, data, max_length)
            .expect("decompressor.decompress does not trap")
    }

    /// (eof, needs-input, unused-data)
    fn decompressor_state(&mut self, d: ResourceAny) -> (bool, bool, Vec<u8>) {
        let api = self.cap.pylon_zstd_zstd().decompressor();
        let eof = api.call_eof(&mut self.store, d).expect("eof does not trap");
        let needs = api
            .call_needs_input(&mut self.store, d)
            .expect("needs-input does not trap");
        let unused = api
            .call_unused_data(&mut self.store, d)
            .expect("unused-data does not trap");
        (eof, needs, unused)
    }
}

#[test]
fn one_shot_round_trips() {
    let mut cap = Cap::new();
    let big = text(20_000); // about 1 MiB: several 128 KiB blocks
    for data in [Vec::new(), b"x".to_vec(), text(10), big.clone()] {
        for level in [-5, 0, 1, 3, 19, 22] {
            let c = ok(cap.compress(&data, level, None));
            assert_eq!(
                ok(cap.decompress(&c, None)),
                data,
                "len {} level {level}",
                data.len()
            );
            let info = ok(cap.frame_info(&c));
            assert_eq!(info.content_size, Some(data.len() as u64));
            assert_eq!(info.dictionary_id, 0);
            assert_eq!(ok(cap.frame_size(&c)), c.len() as u64);
        }
    }
    let c = ok(cap.compress(&big, 3, None));
    assert!(c.len() < big.len() / 4, "{} bytes", c.len());

    // Two frames and a skippable frame, concatenated.
    let mut two = ok(cap.compress(b"first ", 3, None));
    two.extend([0x50, 0x2A, 0x4D, 0x18, 2, 0, 0, 0, 0xAA, 0xBB]);
    two.extend(ok(cap.compress(b"second", 3, None)));
    assert_eq!(ok(cap.decompress(&two, None)), b"first second");

    // Levels are real zstd levels: on natural text (the cap's WIT file),
    // level 19 compresses better than level 1. (Not on `big`: its lines are
    // so regular that zstd's level 19 loses to level 1 there, with the
    // reference tool too.)
    let prose = include_bytes!("wit/world.wit");
    let l1 = ok(cap.compress(prose, 1, None));
    let l19 = ok(cap.compress(prose, 19, None));
    assert!(l19.len() < l1.len(), "{} vs {}", l19.len(), l1.len());
    assert_eq!(ok(cap.decompress(&l19, None)), prose);
    let api = cap.cap.pylon_zstd_zstd();
    assert_eq!(
        api.call_effective_level(&mut cap.store, 19)
            .expect("no trap"),
        19
    );
    for (level, effective) in [(0, 3), (23, 22), (i32::MIN, -131_072)] {
        assert_eq!(
            api.call_effective_level(&mut cap.store, level)
                .expect("no trap"),
            effective
        );
    }
    let bounds = api.call_level_bounds(&mut cap.store).expect("no trap");
    assert_eq!(
        (bounds.min, bounds.max, bounds.default_level),
        (-131_072, 22, 3)
    );
}

#[test]
fn errors_are_results() {
    let mut cap = Cap::new();
    let e = cap.decompress(b"definitely not zstd", None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::CorruptData);
    let c = ok(cap.compress(&text(100), 3, None));
    let e = cap.decompress(&c[..c.len() - 3], None).unwrap_err();
    assert!(e.message.contains("ended before"), "{}", e.message);
    assert_eq!(
        cap.decompress(b"", None).unwrap_err().kind,
        ErrorKind::CorruptData
    );
    assert_eq!(
        cap.frame_info(&c[..3]).unwrap_err().kind,
        ErrorKind::CorruptData
    );
    assert_eq!(
        cap.frame_size(&c[..c.len() - 1]).unwrap_err().kind,
        ErrorKind::CorruptData
    );
    // Every truncation and many corruptions: errors, never a trap.
    for cut in 0..c.len() {
        assert!(cap.decompress(&c[..cut], None).is_err());
        let mut m = c.clone();
        m[cut] ^= 0x5A;
        let _ = cap.decompress(&m, None);
    }
    let bad_dict = Dictionary {
        content: b"not a dictionary".to_vec(),
        raw: false,
    };
    assert_eq!(
        cap.compress(b"x", 3, Some(&bad_dict)).unwrap_err().kind,
        ErrorKind::Dictionary
    );
    assert_eq!(
        cap.decompressor(None, Some(40)).unwrap_err().kind,
        ErrorKind::InvalidArgument
    );
    // The instance is still usable after all those errors.
    assert_eq!(ok(cap.decompress(&c, None)), text(100));
}

#[test]
fn streaming_compressor_and_decompressor() {
    let mut cap = Cap::new();
    let data = text(8_000); // about 400 KiB
    let options = CompressOptions {
        level: 3,
        checksum: true,
        content_size: true,
        dictionary_id: true,
    };
    let c = ok(cap.compressor(&options, None));
    assert_eq!(cap.last_mode(c), EndDirective::FlushFrame);
    let mut frame = Vec::new();
    for (i, piece) in data.chunks(50_000).enumerate() {
        let mode = if i == 3 {
            EndDirective::FlushBlock
        } else {
            EndDirective::Continue
        };
        frame.extend(ok(cap.compressor_compress(c, piece, mode)));
        assert_eq!(cap.last_mode(c), mode);
    }
    assert_eq!(
        cap.compressor_flush(c, EndDirective::Continue)
            .unwrap_err()
            .kind,
        ErrorKind::InvalidArgument
    );
    frame.extend(ok(cap.compressor_flush(c, EndDirective::FlushFrame)));
    assert_eq!(cap.last_mode(c), EndDirective::FlushFrame);
    c.resource_drop(&mut cap.store).expect("drop compressor");

    // Streamed: no content size in the header; a checksum at the end.
    assert_eq!(ok(cap.frame_info(&frame)).content_size, None);
    assert_ne!(frame[4] & 0x04, 0);
    assert_eq!(ok(cap.decompress(&frame, None)), data);

    // Decompress in 1000-byte pieces, at most 4096 bytes per call, with a
    // trailer after the frame.
    let mut input = frame.clone();
    input.extend_from_slice(b"TRAILER");
    let d = ok(cap.decompressor(None, None));
    let (eof, needs, _) = cap.decompressor_state(d);
    assert!(!eof && needs);
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        let (eof, needs, unused) = cap.decompressor_state(d);
        if eof {
            assert_eq!(unused, b"TRAILER");
            break;
        }
        let piece: &[u8] = if needs {
            assert!(pos < input.len(), "needs input after all of it was given");
            let end = (pos + 1000).min(input.len());
            let p = &input[pos..end];
            pos = end;
            p
        } else {
            &[]
        };
        let got = ok(cap.decompressor_decompress(d, piece, Some(4096)));
        assert!(got.len() <= 4096);
        out.extend(got);
    }
    assert_eq!(out, data);
    let e = cap.decompressor_decompress(d, b"x", None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::AlreadyFinished);
    d.resource_drop(&mut cap.store).expect("drop decompressor");
}

#[test]
fn dictionaries() {
    let mut cap = Cap::new();
    // A dictionary trained by the reference `zstd --train` (ID 12345) and a
    // frame the reference tool made with it (see caps/zstd/tests/data).
    let trained = Dictionary {
        content: include_bytes!("tests/data/dict.bin").to_vec(),
        raw: false,
    };
    let sample = include_bytes!("tests/data/sample.json");
    let reference = include_bytes!("tests/data/sample.dict.zst");
    let api = cap.cap.pylon_zstd_zstd();
    assert_eq!(
        api.call_dictionary_id(&mut cap.store, &trained.content)
            .expect("no trap"),
        12345
    );
    assert_eq!(
        api.call_dictionary_id(&mut cap.store, b"raw bytes")
            .expect("no trap"),
        0
    );
    assert_eq!(ok(cap.frame_info(reference)).dictionary_id, 12345);
    assert_eq!(ok(cap.decompress(reference, Some(&trained))), sample);
    let e = cap.decompress(reference, None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Dictionary);
    // Compressing with it records its ID and uses it: the frame is much
    // smaller than without.
    let c = ok(cap.compress(sample, 3, Some(&trained)));
    let plain = ok(cap.compress(sample, 3, None));
    assert!(c.len() < plain.len(), "{} vs {}", c.len(), plain.len());
    assert_eq!(ok(cap.frame_info(&c)).dictionary_id, 12345);
    assert_eq!(ok(cap.decompress(&c, Some(&trained))), sample);
    assert_eq!(
        cap.decompress(&c, None).unwrap_err().kind,
        ErrorKind::Dictionary
    );

    let history = text(50);
    let dict = raw_dict(&history);
    let data = text(60)[history.len() / 2..].to_vec();
    let c = ok(cap.compress(&data, 3, Some(&dict)));
    assert_eq!(ok(cap.frame_info(&c)).dictionary_id, 0);
    assert_eq!(ok(cap.decompress(&c, Some(&dict))), data);
    let d = ok(cap.decompressor(Some(&dict), None));
    assert_eq!(ok(cap.decompressor_decompress(d, &c, None)), data);
    assert!(cap.decompressor_state(d).0);
    d.resource_drop(&mut cap.store).expect("drop decompressor");
}

#[test]
fn window_limit() {
    let mut cap = Cap::new();
    // A one-shot frame of about 285 KB is single-segment: its window is its
    // content size, more than 2^18 and less than 2^19.
    let data = text(5_000);
    let c = ok(cap.compress(&data, 3, None));
    let d = ok(cap.decompressor(None, Some(16)));
    let e = cap.decompressor_decompress(d, &c, None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::MemoryLimit, "{}", e.message);
    // The error sticks.
    assert_eq!(
        cap.decompressor_decompress(d, b"", None).unwrap_err().kind,
        ErrorKind::MemoryLimit
    );
    let d = ok(cap.decompressor(None, Some(18)));
    assert_eq!(
        cap.decompressor_decompress(d, &c, None).unwrap_err().kind,
        ErrorKind::MemoryLimit
    );
    let d = ok(cap.decompressor(None, Some(19)));
    assert_eq!(ok(cap.decompressor_decompress(d, &c, None)), data);
}

/// CPython's `d.decompress(c.compress(x, FLUSH_BLOCK)) == x`: flushed data
/// comes out of the decompressor at once.
#[test]
fn flushed_data_decompresses_immediately() {
    let mut cap = Cap::new();
    let data = text(8_000);
    let options = CompressOptions {
        level: 19,
        checksum: true,
        content_size: true,
        dictionary_id: true,
    };
    let c = ok(cap.compressor(&options, None));
    let d = ok(cap.decompressor(None, None));
    for piece in data.chunks(30_000) {
        let flushed = ok(cap.compressor_compress(c, piece, EndDirective::FlushBlock));
        assert_eq!(ok(cap.decompressor_decompress(d, &flushed, None)), piece);
    }
    let end = ok(cap.compressor_flush(c, EndDirective::FlushFrame));
    assert!(ok(cap.decompressor_decompress(d, &end, None)).is_empty());
    assert!(cap.decompressor_state(d).0);
}
