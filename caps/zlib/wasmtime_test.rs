//! The zlib cap as a component (wasm32-wasip2) in wasmtime: checksums, one-shot
//! calls for every wbits family, the `compressor` and `decompressor`
//! resources with every flush mode, copies and drops, and errors coming back
//! as `result`s with CPython's messages.

use pylon_cap_tests::{harness, Host};
use wasmtime::component::ResourceAny;
use wasmtime::Store;

wasmtime::component::bindgen!({
    path: "../../caps/zlib/wit",
    world: "zlib-cap",
});

use exports::pylon::zlib::zlib::{Error, ErrorKind, FlushMode, Strategy};

/// A fresh instance of the cap and its store.
fn instance() -> (Store<Host>, ZlibCap) {
    let mut h = harness("zlib");
    let cap = ZlibCap::instantiate(&mut h.store, &h.component, &h.linker)
        .expect("instantiate the zlib cap");
    (h.store, cap)
}

/// Deterministic, partly compressible test data.
fn sample(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut v = Vec::with_capacity(n);
    while v.len() < n {
        v.extend_from_slice(b"zlib through the component model; ");
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(n);
    v
}

/// Thin wrappers: the outer `Result` of a call is a trap (never expected),
/// the inner one the cap's own error.
struct Zlib<'a> {
    store: &'a mut Store<Host>,
    cap: &'a ZlibCap,
}

impl Zlib<'_> {
    fn compress(&mut self, data: &[u8], level: i32, wbits: i32) -> Result<Vec<u8>, Error> {
        self.cap
            .pylon_zlib_zlib()
            .call_compress(&mut *self.store, data, level, wbits)
            .expect("compress does not trap")
    }

    fn decompress(&mut self, data: &[u8], wbits: i32, bufsize: i64) -> Result<Vec<u8>, Error> {
        self.cap
            .pylon_zlib_zlib()
            .call_decompress(&mut *self.store, data, wbits, bufsize)
            .expect("decompress does not trap")
    }

    fn compressor(
        &mut self,
        level: i32,
        wbits: i32,
        strategy: Strategy,
        zdict: Option<&[u8]>,
    ) -> Result<ResourceAny, Error> {
        self.cap
            .pylon_zlib_zlib()
            .compressor()
            .call_create(&mut *self.store, level, 8, wbits, 8, strategy, zdict)
            .expect("create does not trap")
    }

    fn c_compress(&mut self, c: ResourceAny, data: &[u8]) -> Result<Vec<u8>, Error> {
        self.cap
            .pylon_zlib_zlib()
            .compressor()
            .call_compress(&mut *self.store, c, data)
            .expect("compress does not trap")
    }

    fn c_flush(&mut self, c: ResourceAny, mode: FlushMode) -> Result<Vec<u8>, Error> {
        self.cap
            .pylon_zlib_zlib()
            .compressor()
            .call_flush(&mut *self.store, c, mode)
            .expect("flush does not trap")
    }

    fn c_copy(&mut self, c: ResourceAny) -> Result<ResourceAny, Error> {
        self.cap
            .pylon_zlib_zlib()
            .compressor()
            .call_copy(&mut *self.store, c)
            .expect("copy does not trap")
    }

    fn decompressor(&mut self, wbits: i32, zdict: Option<&[u8]>) -> Result<ResourceAny, Error> {
        self.cap
            .pylon_zlib_zlib()
            .decompressor()
            .call_create(&mut *self.store, wbits, zdict)
            .expect("create does not trap")
    }

    fn d_decompress(&mut self, d: ResourceAny, data: &[u8], max: i64) -> Result<Vec<u8>, Error> {
        self.cap
            .pylon_zlib_zlib()
            .decompressor()
            .call_decompress(&mut *self.store, d, data, max)
            .expect("decompress does not trap")
    }

    fn d_flush(&mut self, d: ResourceAny, length: i64) -> Result<Vec<u8>, Error> {
        self.cap
            .pylon_zlib_zlib()
            .decompressor()
            .call_flush(&mut *self.store, d, length)
            .expect("flush does not trap")
    }

    fn d_copy(&mut self, d: ResourceAny) -> Result<ResourceAny, Error> {
        self.cap
            .pylon_zlib_zlib()
            .decompressor()
            .call_copy(&mut *self.store, d)
            .expect("copy does not trap")
    }

    /// (eof, unused_data, unconsumed_tail)
    fn d_state(&mut self, d: ResourceAny) -> (bool, Vec<u8>, Vec<u8>) {
        let api = self.cap.pylon_zlib_zlib().decompressor();
        let eof = api
            .call_eof(&mut *self.store, d)
            .expect("eof does not trap");
        let unused = api
            .call_unused_data(&mut *self.store, d)
            .expect("unused-data does not trap");
        let tail = api
            .call_unconsumed_tail(&mut *self.store, d)
            .expect("unconsumed-tail does not trap");
        (eof, unused, tail)
    }

    fn drop(&mut self, r: ResourceAny) {
        r.resource_drop(&mut *self.store).expect("resource drop");
    }
}

fn expect_err<T>(r: Result<T, Error>) -> Error {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

#[test]
fn checksums_and_version() {
    let (mut store, cap) = instance();
    let api = cap.pylon_zlib_zlib();
    let crc = |s: &mut Store<Host>, d: &[u8], v| api.call_crc32(s, d, v).expect("no trap");
    assert_eq!(crc(&mut store, b"hello world", 0), 0x0d4a_1185);
    let running = crc(&mut store, b"hello", 0);
    assert_eq!(crc(&mut store, b" world", running), 0x0d4a_1185);
    // CPython: hex(zlib.crc32(b"abc", 0xffffffff))
    assert_eq!(crc(&mut store, b"abc", 0xffff_ffff), 0x359a_672f);
    let adler = |s: &mut Store<Host>, d: &[u8], v| api.call_adler32(s, d, v).expect("no trap");
    assert_eq!(adler(&mut store, b"Wikipedia", 1), 0x11e6_0398);
    let running = adler(&mut store, b"Wiki", 1);
    assert_eq!(adler(&mut store, b"pedia", running), 0x11e6_0398);
    assert_eq!(adler(&mut store, b"", 1), 1);
    let version = api.call_version(&mut store).expect("no trap");
    assert!(
        version.starts_with("1.") && version.contains("zlib-rs"),
        "{version}"
    );
}

#[test]
fn one_shot_every_wbits_family() {
    let (mut store, cap) = instance();
    let mut z = Zlib {
        store: &mut store,
        cap: &cap,
    };
    let data = sample(100_000);
    for w in 9..=15 {
        for (cw, dws) in [
            (w, vec![w, 0, 47]),
            (-w, vec![-w, -15]),
            (16 + w, vec![16 + w, 31, 47]),
        ] {
            let c = z.compress(&data, 6, cw).expect("compress");
            for dw in dws {
                let d = z.decompress(&c, dw, 16384).expect("decompress");
                assert!(d == data, "compress wbits {cw}, decompress wbits {dw}");
            }
        }
    }
    // gzip magic and a zlib header
    let gz = z.compress(b"abc", 9, 31).expect("gzip");
    assert_eq!(&gz[..3], &[0x1f, 0x8b, 0x08]);
    let zl = z.compress(b"abc", 9, 15).expect("zlib");
    assert_eq!(zl[0], 0x78);
    // Levels, and a stream made by C zlib (CPython: zlib.compress(b"hello"*10).hex()).
    for level in -1..=9 {
        let c = z.compress(&data, level, 15).expect("level");
        assert_eq!(
            z.decompress(&c, 15, 1).expect("decompress"),
            data,
            "level {level}"
        );
    }
    let c = [
        0x78, 0x9c, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0xcf, 0x20, 0x85, 0x00, 0x00, 0x11, 0x6a, 0x14,
        0xc9,
    ];
    assert_eq!(
        z.decompress(&c, 15, 0).expect("C zlib stream"),
        b"hello".repeat(10)
    );
}

#[test]
fn one_shot_errors() {
    let (mut store, cap) = instance();
    let mut z = Zlib {
        store: &mut store,
        cap: &cap,
    };
    let e = expect_err(z.decompress(b"garbage", 15, 16384));
    assert_eq!(e.kind, ErrorKind::Zlib);
    assert_eq!(e.code, -3);
    assert_eq!(
        e.message,
        "Error -3 while decompressing data: incorrect header check"
    );

    let c = z.compress(b"hello hello hello", 6, 15).expect("compress");
    let e = expect_err(z.decompress(&c[..c.len() - 2], 15, 16384));
    assert_eq!(
        e.message,
        "Error -5 while decompressing data: incomplete or truncated stream"
    );
    assert_eq!(e.code, -5);

    let e = expect_err(z.compress(b"x", 10, 15));
    assert_eq!(
        (e.kind, e.code, e.message.as_str()),
        (ErrorKind::Zlib, -2, "Bad compression level")
    );
    let e = expect_err(z.decompress(b"x", 100, 16384));
    assert_eq!(
        e.message,
        "Error -2 while preparing to decompress data: inconsistent stream state"
    );
    let e = expect_err(z.decompress(b"x", 15, -1));
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::Value, "bufsize must be non-negative")
    );
    // The instance is still usable after errors.
    assert_eq!(
        z.decompress(&c, 15, 16384).expect("ok"),
        b"hello hello hello"
    );
}

#[test]
fn compressor_flush_modes_copy_and_drop() {
    let (mut store, cap) = instance();
    let mut z = Zlib {
        store: &mut store,
        cap: &cap,
    };
    let a = sample(50_000);
    let b = sample(7_000);
    let mut expected = a.clone();
    expected.extend_from_slice(&b);
    for mode in [
        FlushMode::NoFlush,
        FlushMode::PartialFlush,
        FlushMode::SyncFlush,
        FlushMode::FullFlush,
        FlushMode::Block,
    ] {
        for strategy in [
            Strategy::Default,
            Strategy::Filtered,
            Strategy::HuffmanOnly,
            Strategy::Rle,
            Strategy::Fixed,
        ] {
            let c = z.compressor(6, 15, strategy, None).expect("create");
            let mut out = z.c_compress(c, &a).expect("compress a");
            let flushed = z.c_flush(c, mode).expect("flush");
            if mode == FlushMode::NoFlush {
                assert!(flushed.is_empty());
            }
            if matches!(mode, FlushMode::SyncFlush | FlushMode::FullFlush) {
                assert_eq!(&flushed[flushed.len() - 4..], &[0, 0, 0xff, 0xff]);
            }
            out.extend(flushed);
            out.extend(z.c_compress(c, &b).expect("compress b"));
            out.extend(z.c_flush(c, FlushMode::Finish).expect("finish"));
            assert_eq!(
                z.decompress(&out, 15, 16384).expect("decompress"),
                expected,
                "{mode:?} {strategy:?}"
            );
            // Finished: further use fails like CPython's.
            let e = expect_err(z.c_compress(c, b"more"));
            assert_eq!(
                e.message,
                "Error -2 while compressing data: inconsistent stream state"
            );
            let e = expect_err(z.c_copy(c));
            assert_eq!(
                (e.kind, e.message.as_str()),
                (ErrorKind::Value, "Inconsistent stream state")
            );
            z.drop(c);
        }
    }

    // copy() forks the stream.
    let c = z
        .compressor(9, 31, Strategy::Default, None)
        .expect("create");
    let head = z.c_compress(c, &a).expect("compress");
    let c2 = z.c_copy(c).expect("copy");
    let mut one = head.clone();
    one.extend(z.c_compress(c, b"one").expect("compress"));
    one.extend(z.c_flush(c, FlushMode::Finish).expect("finish"));
    z.drop(c);
    let mut two = head;
    two.extend(z.c_compress(c2, b"two").expect("compress"));
    two.extend(z.c_flush(c2, FlushMode::Finish).expect("finish"));
    z.drop(c2);
    let mut e1 = a.clone();
    e1.extend_from_slice(b"one");
    let mut e2 = a.clone();
    e2.extend_from_slice(b"two");
    assert_eq!(z.decompress(&one, 31, 16384).expect("one"), e1);
    assert_eq!(z.decompress(&two, 31, 16384).expect("two"), e2);

    // Invalid options come back as ValueError-kind errors.
    let e = expect_err(z.compressor(6, 100, Strategy::Default, None));
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::Value, "Invalid initialization option")
    );
    let e = expect_err(z.compressor(6, 31, Strategy::Default, Some(b"dict")));
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::Value, "Invalid dictionary")
    );
}

#[test]
fn dropped_streams_release_their_memory() {
    let (mut store, cap) = instance();
    let mut z = Zlib {
        store: &mut store,
        cap: &cap,
    };
    // Each deflate state at memLevel 9 takes about 480 KiB of linear memory
    // (zlib-rs: 2 x 32 KiB window, 64 KiB prev, 128 KiB head, 224 KiB literal
    // buffers): 20000 of them would need ~9 GiB, far past wasm32's 4 GiB, if
    // dropping a resource leaked its zlib state.
    for i in 0..20_000 {
        let c = z
            .cap
            .pylon_zlib_zlib()
            .compressor()
            .call_create(&mut *z.store, 9, 8, 15, 9, Strategy::Default, None)
            .expect("no trap")
            .expect("create");
        if i % 2000 == 0 {
            // Some used, some not, one copied.
            z.c_compress(c, b"data").expect("compress");
            let c2 = z.c_copy(c).expect("copy");
            z.drop(c2);
        }
        z.drop(c);
        let d = z.decompressor(15, None).expect("create");
        z.drop(d);
    }
}

#[test]
fn decompressor_streaming_state() {
    let (mut store, cap) = instance();
    let mut z = Zlib {
        store: &mut store,
        cap: &cap,
    };
    let data = sample(200_000);
    let mut c = z.compress(&data, 6, 15).expect("compress");
    c.extend_from_slice(b"TRAIL");

    // max-length: output capped, the rest of the input handed back.
    let d = z.decompressor(15, None).expect("create");
    let mut got = z.d_decompress(d, &c, 1000).expect("decompress");
    assert_eq!(got.len(), 1000);
    let (eof, unused, tail) = z.d_state(d);
    assert!(!eof && unused.is_empty() && !tail.is_empty());
    let mut rounds = 0;
    loop {
        let (eof, _, tail) = z.d_state(d);
        if eof {
            break;
        }
        let piece = z.d_decompress(d, &tail, 4096).expect("more");
        assert!(piece.len() <= 4096);
        got.extend(piece);
        rounds += 1;
        assert!(rounds < 1000, "no progress");
    }
    assert_eq!(got, data);
    let (eof, unused, tail) = z.d_state(d);
    assert!(eof);
    assert_eq!(unused, b"TRAIL");
    // CPython quirk kept: once a tail was set, it repeats the unused data.
    assert_eq!(tail, b"TRAIL");
    assert_eq!(z.d_flush(d, 16384).expect("flush"), b"");
    let e = expect_err(z.d_decompress(d, b"x", 0));
    assert_eq!(
        e.message,
        "Error -2 while decompressing data: inconsistent stream state"
    );
    z.drop(d);

    // Unlimited, in small pieces, then flush.
    let d = z.decompressor(47, None).expect("create");
    let mut got = Vec::new();
    for piece in c.chunks(1000) {
        got.extend(z.d_decompress(d, piece, 0).expect("decompress"));
    }
    got.extend(z.d_flush(d, 1).expect("flush"));
    assert_eq!(got, data);
    assert_eq!(z.d_state(d), (true, b"TRAIL".to_vec(), Vec::new()));
    z.drop(d);

    // copy() mid-stream; both halves finish the same way.
    let d = z.decompressor(15, None).expect("create");
    let half = c.len() / 2;
    let head = z.d_decompress(d, &c[..half], 0).expect("head");
    let d2 = z.d_copy(d).expect("copy");
    for h in [d, d2] {
        let mut out = head.clone();
        out.extend(z.d_decompress(h, &c[half..], 0).expect("rest"));
        assert_eq!(out, data);
        assert_eq!(z.d_state(h), (true, b"TRAIL".to_vec(), Vec::new()));
        z.drop(h);
    }

    // Errors: corrupt data keeps the unconsumed input, as CPython does.
    let d = z.decompressor(15, None).expect("create");
    let e = expect_err(z.d_decompress(d, b"garbage", 0));
    assert_eq!(
        e.message,
        "Error -3 while decompressing data: incorrect header check"
    );
    assert_eq!(z.d_state(d), (false, Vec::new(), b"rbage".to_vec()));
    let e = expect_err(z.d_decompress(d, b"", -1));
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::Value, "max_length must be non-negative")
    );
    let e = expect_err(z.d_flush(d, 0));
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::Value, "length must be greater than zero")
    );
    z.drop(d);
    let e = expect_err(z.decompressor(100, None));
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::Value, "Invalid initialization option")
    );
}

#[test]
fn preset_dictionaries() {
    let (mut store, cap) = instance();
    let mut z = Zlib {
        store: &mut store,
        cap: &cap,
    };
    let dict = b"component model zlib dictionary";
    let data = b"zlib dictionary in the component model, component model zlib".repeat(30);
    for wbits in [15, -15] {
        let c = z
            .compressor(6, wbits, Strategy::Default, Some(dict))
            .expect("create");
        let mut out = z.c_compress(c, &data).expect("compress");
        out.extend(z.c_flush(c, FlushMode::Finish).expect("finish"));
        z.drop(c);
        let d = z.decompressor(wbits, Some(dict)).expect("create");
        assert_eq!(
            z.d_decompress(d, &out, 0).expect("decompress"),
            data,
            "wbits {wbits}"
        );
        z.drop(d);
        if wbits > 0 {
            // Without the dictionary: Z_NEED_DICT (2) as zlib.error.
            let e = expect_err(z.decompress(&out, wbits, 16384));
            assert_eq!(
                (e.code, e.message.as_str()),
                (2, "Error 2 while decompressing data")
            );
            // With the wrong one: the dictionary's Adler-32 does not match.
            let d = z.decompressor(wbits, Some(b"wrong")).expect("create");
            let e = expect_err(z.d_decompress(d, &out, 0));
            assert_eq!(
                e.message,
                "Error -3 while setting zdict: invalid input data"
            );
            z.drop(d);
        }
    }
}

#[test]
fn large_payloads_cross_the_boundary() {
    let (mut store, cap) = instance();
    let mut z = Zlib {
        store: &mut store,
        cap: &cap,
    };
    // 8 MiB of data and a 32 MiB run of zeros (a small "bomb"), decompressed
    // in one piece and under a max-length.
    let data = sample(8 << 20);
    let c = z.compress(&data, 1, 31).expect("compress");
    assert_eq!(z.decompress(&c, 31, 16384).expect("decompress"), data);

    let zeros = vec![0u8; 32 << 20];
    let bomb = z.compress(&zeros, 9, 15).expect("compress zeros");
    assert!(bomb.len() < 64 << 10);
    assert_eq!(z.decompress(&bomb, 15, 0).expect("decompress"), zeros);
    let d = z.decompressor(15, None).expect("create");
    let first = z.d_decompress(d, &bomb, 1 << 20).expect("limited");
    assert_eq!(first.len(), 1 << 20);
    assert!(first.iter().all(|b| *b == 0));
    z.drop(d);
}
