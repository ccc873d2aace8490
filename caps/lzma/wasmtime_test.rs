//! The lzma cap as a component (wasm32-wasip2) in wasmtime: an xz stream with each
//! integrity check, a raw delta+BCJ+LZMA2 chain, filter properties both ways, and
//! errors with CPython's messages (run by `cargo test -p pylon-cap-tests`).

use pylon_cap_tests::{harness, Host};
use wasmtime::component::ResourceAny;
use wasmtime::Store;

wasmtime::component::bindgen!({
    path: "../../caps/lzma/wit",
    world: "lzma-cap",
});

use exports::pylon::lzma::lzma::{Error, ErrorKind, Filter};

const FORMAT_AUTO: i32 = 0;
const FORMAT_XZ: i32 = 1;
const FORMAT_RAW: i32 = 3;
const FILTER_LZMA1: u64 = 0x4000000000000001;
const FILTER_LZMA2: u64 = 0x21;
const FILTER_DELTA: u64 = 0x03;
const FILTER_X86: u64 = 0x04;

struct Lzma {
    store: Store<Host>,
    cap: LzmaCap,
}

fn filter(id: u64) -> Filter {
    Filter {
        id,
        preset: 6,
        dict_size: None,
        lc: None,
        lp: None,
        pb: None,
        mode: None,
        nice_len: None,
        mf: None,
        depth: None,
        dist: 1,
        start_offset: 0,
    }
}

impl Lzma {
    fn new() -> Self {
        let mut h = harness("lzma");
        let cap = LzmaCap::instantiate(&mut h.store, &h.component, &h.linker)
            .expect("instantiate the lzma cap");
        Lzma {
            store: h.store,
            cap,
        }
    }

    fn pack(
        &mut self,
        format: i32,
        check: i32,
        filters: Option<&[Filter]>,
        data: &[u8],
    ) -> Vec<u8> {
        let api = self.cap.pylon_lzma_lzma().compressor();
        let c: ResourceAny = api
            .call_create(&mut self.store, format, check, 6, filters)
            .expect("no trap")
            .expect("a compressor");
        let mut out = api
            .call_compress(&mut self.store, c, data)
            .expect("no trap")
            .expect("compress");
        out.extend(
            api.call_flush(&mut self.store, c)
                .expect("no trap")
                .expect("flush"),
        );
        c.resource_drop(&mut self.store).expect("drop");
        out
    }

    fn unpack(
        &mut self,
        format: i32,
        filters: Option<&[Filter]>,
        data: &[u8],
    ) -> Result<(Vec<u8>, i32), Error> {
        let api = self.cap.pylon_lzma_lzma().decompressor();
        let d = api
            .call_create(&mut self.store, format, None, filters)
            .expect("no trap")?;
        let r = api
            .call_decompress(&mut self.store, d, data, -1)
            .expect("no trap")?;
        assert!(r.eof, "one call decompresses the whole stream");
        d.resource_drop(&mut self.store).expect("drop");
        Ok((r.data, r.check))
    }
}

fn sample() -> Vec<u8> {
    (0..200_000u32)
        .map(|i| {
            if i % 5 == 0 {
                (i % 251) as u8
            } else {
                b"xz in wasm "[(i % 11) as usize]
            }
        })
        .collect()
}

#[test]
fn xz_streams_round_trip_with_each_check() {
    let mut l = Lzma::new();
    let data = sample();
    for check in [0, 1, 4, 10] {
        let packed = l.pack(FORMAT_XZ, check, None, &data);
        assert!(packed.starts_with(b"\xfd7zXZ\0"), "an xz header");
        let (out, seen) = l.unpack(FORMAT_AUTO, None, &packed).expect("decompress");
        assert_eq!(out, data);
        assert_eq!(seen, check, "the decoder reports the stream's check");
    }
}

#[test]
fn a_raw_filter_chain_round_trips() {
    let mut l = Lzma::new();
    let data = sample();
    let mut delta = filter(FILTER_DELTA);
    delta.dist = 4;
    let chain = [delta, filter(FILTER_X86), filter(FILTER_LZMA2)];
    let packed = l.pack(FORMAT_RAW, -1, Some(&chain), &data);
    let (out, _) = l
        .unpack(FORMAT_RAW, Some(&chain), &packed)
        .expect("decompress");
    assert_eq!(out, data);
}

#[test]
fn filter_properties_encode_and_decode() {
    let mut l = Lzma::new();
    let api = l.cap.pylon_lzma_lzma();
    let mut f = filter(FILTER_LZMA1);
    f.lc = Some(3);
    f.lp = Some(0);
    f.pb = Some(2);
    f.dict_size = Some(8 << 20);
    let props = api
        .call_encode_filter_properties(&mut l.store, f)
        .expect("no trap")
        .expect("encode");
    // The bytes zipfile's ZIP_LZMA writes (CPython's test_lzma checks the same).
    assert_eq!(props, b"]\x00\x00\x80\x00");
    let back = api
        .call_decode_filter_properties(&mut l.store, FILTER_LZMA1, &props)
        .expect("no trap")
        .expect("decode");
    assert_eq!(
        (back.lc, back.lp, back.pb, back.dict_size),
        (Some(3), Some(0), Some(2), Some(8 << 20))
    );
    let bad = api
        .call_decode_filter_properties(&mut l.store, FILTER_DELTA, b"too long")
        .expect("no trap")
        .expect_err("delta properties are one byte");
    assert_eq!(bad.kind, ErrorKind::Lzma);
    assert_eq!(bad.message, "Invalid or unsupported options");
    assert!(api
        .call_is_check_supported(&mut l.store, 10)
        .expect("no trap"));
    assert!(!api
        .call_is_check_supported(&mut l.store, 3)
        .expect("no trap"));
}

#[test]
fn bad_input_is_cpythons_error() {
    let mut l = Lzma::new();
    let e = l
        .unpack(FORMAT_AUTO, None, b"not xz data")
        .expect_err("bad data");
    assert_eq!(e.kind, ErrorKind::Lzma);
    assert_eq!(e.message, "Input format not supported by decoder");
    let api = l.cap.pylon_lzma_lzma().compressor();
    let e = api
        .call_create(&mut l.store, FORMAT_XZ, -1, 10, None)
        .expect("no trap")
        .expect_err("preset 10");
    assert_eq!(e.kind, ErrorKind::Lzma);
}
