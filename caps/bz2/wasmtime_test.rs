//! The bz2 cap as a component (wasm32-wasip2) in wasmtime: a stream compressed in
//! pieces and decompressed under a `max-length`, the decompressor's state record,
//! and errors coming back as `result`s with CPython's messages (run by `cargo test -p
//! pylon-cap-tests`).

use pylon_cap_tests::{harness, Host};
use wasmtime::component::ResourceAny;
use wasmtime::Store;

wasmtime::component::bindgen!({
    path: "../../caps/bz2/wit",
    world: "bz2-cap",
});

use exports::pylon::bz2::bz2::{Decompressed, Error, ErrorKind};

struct Bz2 {
    store: Store<Host>,
    cap: Bz2Cap,
}

impl Bz2 {
    fn new() -> Self {
        let mut h = harness("bz2");
        let cap = Bz2Cap::instantiate(&mut h.store, &h.component, &h.linker)
            .expect("instantiate the bz2 cap");
        Bz2 {
            store: h.store,
            cap,
        }
    }

    fn compressor(&mut self, level: i32) -> Result<ResourceAny, Error> {
        self.cap
            .pylon_bz2_bz2()
            .compressor()
            .call_create(&mut self.store, level)
            .expect("create does not trap")
    }

    fn compress(&mut self, c: ResourceAny, data: &[u8]) -> Result<Vec<u8>, Error> {
        self.cap
            .pylon_bz2_bz2()
            .compressor()
            .call_compress(&mut self.store, c, data)
            .expect("compress does not trap")
    }

    fn flush(&mut self, c: ResourceAny) -> Result<Vec<u8>, Error> {
        self.cap
            .pylon_bz2_bz2()
            .compressor()
            .call_flush(&mut self.store, c)
            .expect("flush does not trap")
    }

    fn decompressor(&mut self) -> ResourceAny {
        self.cap
            .pylon_bz2_bz2()
            .decompressor()
            .call_create(&mut self.store)
            .expect("create does not trap")
            .expect("a decompressor")
    }

    fn decompress(
        &mut self,
        d: ResourceAny,
        data: &[u8],
        max: i64,
    ) -> Result<Decompressed, Error> {
        self.cap
            .pylon_bz2_bz2()
            .decompressor()
            .call_decompress(&mut self.store, d, data, max)
            .expect("decompress does not trap")
    }

    /// A whole stream at `level`, fed in 1000-byte pieces.
    fn pack(&mut self, data: &[u8], level: i32) -> Vec<u8> {
        let c = self.compressor(level).expect("a compressor");
        let mut out = Vec::new();
        for piece in data.chunks(1000) {
            out.extend(self.compress(c, piece).expect("compress"));
        }
        out.extend(self.flush(c).expect("flush"));
        c.resource_drop(&mut self.store).expect("drop");
        out
    }
}

fn sample(n: usize) -> Vec<u8> {
    let mut x: u32 = 2463534242;
    (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if i % 7 == 0 {
                (x % 251) as u8
            } else {
                b"bzip2 over wasm "[i % 16]
            }
        })
        .collect()
}

#[test]
fn a_stream_round_trips_in_pieces_and_under_max_length() {
    let mut b = Bz2::new();
    let data = sample(300_000);
    let packed = b.pack(&data, 9);
    assert!(packed.starts_with(b"BZh9"), "a bzip2 header with block size 9");
    assert!(packed.len() < data.len() / 2);

    let d = b.decompressor();
    let first = b.decompress(d, &packed, 1000).expect("decompress");
    assert_eq!(first.data.len(), 1000);
    assert!(!first.eof && !first.needs_input, "input kept for the next call");
    let mut out = first.data;
    loop {
        let r = b.decompress(d, b"", 65536).expect("decompress kept input");
        out.extend(r.data);
        if r.eof {
            assert!(!r.needs_input && r.unused_data.is_empty());
            break;
        }
    }
    assert_eq!(out, data);
    let again = b.decompress(d, b"x", -1).expect_err("after the end");
    assert_eq!(again.kind, ErrorKind::Eof);
    assert_eq!(again.message, "End of stream already reached");
}

#[test]
fn data_after_the_stream_is_unused_data() {
    let mut b = Bz2::new();
    let packed = b.pack(b"hello", 1);
    let d = b.decompressor();
    let mut input = packed.clone();
    input.extend_from_slice(b"trailing");
    let r = b.decompress(d, &input, -1).expect("decompress");
    assert_eq!(r.data, b"hello");
    assert!(r.eof);
    assert_eq!(r.unused_data, b"trailing");
}

#[test]
fn errors_are_cpythons() {
    let mut b = Bz2::new();
    let e = b.compressor(0).expect_err("level 0");
    assert_eq!(e.kind, ErrorKind::Value);
    assert_eq!(e.message, "compresslevel must be between 1 and 9");

    let c = b.compressor(5).expect("a compressor");
    b.flush(c).expect("flush");
    assert_eq!(
        b.flush(c).expect_err("second flush").message,
        "Repeated call to flush()"
    );
    assert_eq!(
        b.compress(c, b"x").expect_err("after flush").message,
        "Compressor has been flushed"
    );

    let d = b.decompressor();
    let e = b
        .decompress(d, b"this is not a valid bzip2 file", -1)
        .expect_err("bad data");
    assert_eq!(e.kind, ErrorKind::Os);
    assert_eq!(e.message, "Invalid data stream");
    // libbzip2 is not re-entered after an error.
    let e = b.decompress(d, b"BZh9", -1).expect_err("after an error");
    assert_eq!(e.kind, ErrorKind::Value);
    assert!(e.message.contains("previous error"), "{}", e.message);
}
