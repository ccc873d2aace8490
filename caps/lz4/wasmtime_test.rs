//! The lz4 cap as a component (wasm32-wasip2) in wasmtime: blocks with and without a
//! dictionary in every mode, frames for every block size and checksum setting, one
//! frame fed in pieces and read back under a `max-length`, a frame made by the `lz4`
//! command line tool, and errors coming back as `result`s (run by `cargo test -p
//! pylon-cap-tests`).

use pylon_cap_tests::{harness, Host};
use wasmtime::component::ResourceAny;
use wasmtime::Store;

wasmtime::component::bindgen!({
    path: "../../caps/lz4/wit",
    world: "lz4-cap",
});

use exports::pylon::lz4::block::{BlockError, Mode};
use exports::pylon::lz4::frame::{Decompressed, FrameError, Preferences};

struct Lz4 {
    store: Store<Host>,
    cap: Lz4Cap,
}

/// Text with repeats (compressible) followed by bytes from an LCG (not compressible).
fn sample(len: usize) -> Vec<u8> {
    let text = b"lz4 frames carry blocks; blocks carry literals and matches. ";
    let mut out: Vec<u8> = text.iter().copied().cycle().take(len / 2).collect();
    let mut x: u32 = 0x1234_5678;
    while out.len() < len {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        out.push((x >> 16) as u8);
    }
    out
}

fn prefs(block_size_id: u32, linked: bool, checksums: bool, level: i32) -> Preferences {
    Preferences {
        compression_level: level,
        block_size_id,
        block_linked: linked,
        content_checksum: checksums,
        block_checksum: checksums,
        auto_flush: false,
        content_size: 0,
    }
}

impl Lz4 {
    fn new() -> Self {
        let mut h = harness("lz4");
        let cap = Lz4Cap::instantiate(&mut h.store, &h.component, &h.linker)
            .expect("instantiate the lz4 cap");
        Lz4 {
            store: h.store,
            cap,
        }
    }

    fn block_compress(&mut self, data: &[u8], mode: Mode, level: i32, dict: &[u8]) -> Vec<u8> {
        self.cap
            .pylon_lz4_block()
            .call_compress(&mut self.store, data, mode, 1, level, dict)
            .expect("compress does not trap")
            .expect("compress succeeds")
    }

    fn block_decompress(
        &mut self,
        data: &[u8],
        capacity: u32,
        dict: &[u8],
    ) -> Result<Vec<u8>, BlockError> {
        self.cap
            .pylon_lz4_block()
            .call_decompress(&mut self.store, data, capacity, dict)
            .expect("decompress does not trap")
    }

    fn frame(&mut self, data: &[u8], p: Preferences) -> Result<Vec<u8>, FrameError> {
        self.cap
            .pylon_lz4_frame()
            .call_compress_frame(&mut self.store, data, p)
            .expect("compress-frame does not trap")
    }

    fn decompressor(&mut self) -> ResourceAny {
        self.cap
            .pylon_lz4_frame()
            .decompressor()
            .call_constructor(&mut self.store)
            .expect("constructor does not trap")
    }

    fn decompress(
        &mut self,
        d: ResourceAny,
        data: &[u8],
        max_length: i64,
        whole: bool,
    ) -> Result<Decompressed, FrameError> {
        self.cap
            .pylon_lz4_frame()
            .decompressor()
            .call_decompress(&mut self.store, d, data, max_length, whole)
            .expect("decompress does not trap")
    }

    fn unframe(&mut self, frame: &[u8]) -> Result<Decompressed, FrameError> {
        let d = self.decompressor();
        let out = self.decompress(d, frame, -1, true);
        d.resource_drop(&mut self.store).expect("drop");
        out
    }
}

#[test]
fn blocks_round_trip_in_every_mode_with_and_without_a_dictionary() {
    let mut lz4 = Lz4::new();
    let data = sample(100_000);
    let dict = &data[1000..9000];
    for (mode, level) in [
        (Mode::Default, 0),
        (Mode::Fast, 0),
        (Mode::HighCompression, 1),
        (Mode::HighCompression, 9),
        (Mode::HighCompression, 12),
    ] {
        for dict in [&[][..], dict] {
            let block = lz4.block_compress(&data, mode, level, dict);
            assert!(
                block.len() < data.len(),
                "{mode:?} compresses the text half"
            );
            let back = lz4
                .block_decompress(&block, data.len() as u32, dict)
                .expect("decompresses");
            assert_eq!(back, data, "{mode:?} level {level}");
        }
    }
    // HC at its top level finds at least what the fast compressor finds.
    let fast = lz4.block_compress(&data, Mode::Default, 0, &[]);
    let hc = lz4.block_compress(&data, Mode::HighCompression, 12, &[]);
    assert!(
        hc.len() <= fast.len(),
        "HC {} vs fast {}",
        hc.len(),
        fast.len()
    );
    // An empty input is one token, in every mode: HC levels 10 and up (the optimal
    // parser) once trapped on the empty slice's dangling pointer.
    for (mode, level) in [
        (Mode::Default, 0),
        (Mode::Fast, 0),
        (Mode::HighCompression, 9),
        (Mode::HighCompression, 10),
        (Mode::HighCompression, 12),
    ] {
        let empty = lz4.block_compress(b"", mode, level, &[]);
        assert_eq!(lz4.block_decompress(&empty, 0, &[]).expect("empty"), b"");
    }
}

#[test]
fn block_errors_are_results_not_traps() {
    let mut lz4 = Lz4::new();
    let data = sample(4096);
    let dict = &data[100..300];
    let block = lz4.block_compress(&data, Mode::Default, 0, dict);
    // Without its dictionary the block refers to bytes that are not there.
    assert!(matches!(
        lz4.block_decompress(&block, 4096, &[]),
        Err(BlockError::Failed(n)) if n > 0
    ));
    // Too little room; truncated input; and a capacity far beyond what the input could
    // decode to (a hostile size prefix) is not allocated, only answered.
    let plain = lz4.block_compress(&data, Mode::Default, 0, &[]);
    assert!(matches!(
        lz4.block_decompress(&plain, 100, &[]),
        Err(BlockError::Failed(_))
    ));
    assert!(matches!(
        lz4.block_decompress(&plain[..plain.len() / 2], 4096, &[]),
        Err(BlockError::Failed(_))
    ));
    assert_eq!(
        lz4.block_decompress(&plain, u32::MAX, &[]).expect("fits"),
        data
    );
}

#[test]
fn frames_round_trip_for_every_block_size_mode_and_checksum() {
    let mut lz4 = Lz4::new();
    let data = sample(300_000);
    for block_size_id in [0, 4, 5, 6, 7] {
        for linked in [true, false] {
            for checksums in [false, true] {
                for level in [0, 3, 16, -5] {
                    let p = prefs(block_size_id, linked, checksums, level);
                    let frame = lz4.frame(&data, p).expect("compress-frame");
                    let info = lz4
                        .cap
                        .pylon_lz4_frame()
                        .call_get_frame_info(&mut lz4.store, &frame)
                        .expect("no trap")
                        .expect("a header");
                    // A one-shot frame uses the smallest block size (from 64 KiB up to
                    // the one asked for) that holds the whole input, and then needs no
                    // links between blocks (LZ4F_compressFrame's documented choice).
                    let asked = block_size_id.max(4);
                    let fits = (4..asked).find(|id| data.len() <= 1 << (8 + 2 * id));
                    assert_eq!(info.block_size_id, fits.unwrap_or(asked));
                    let one_block = data.len() <= 1 << (8 + 2 * info.block_size_id);
                    assert_eq!(info.block_linked, linked && !one_block);
                    assert_eq!(info.content_checksum, checksums);
                    assert_eq!(info.block_checksum, checksums);
                    assert!(!info.skippable);
                    let out = lz4.unframe(&frame).expect("decompresses");
                    assert!(out.end_of_frame);
                    assert_eq!(out.consumed, frame.len() as u64);
                    assert_eq!(out.data, data);
                }
            }
        }
    }
}

#[test]
fn a_frame_made_in_pieces_reads_back_under_a_max_length() {
    let mut lz4 = Lz4::new();
    let data = sample(300_000);
    let frame_api = lz4.cap.pylon_lz4_frame().compressor();
    let c = frame_api.call_constructor(&mut lz4.store).expect("no trap");
    let mut p = prefs(5, true, true, 0);
    p.content_size = data.len() as u64;
    let mut frame = frame_api
        .call_begin(&mut lz4.store, c, p)
        .expect("no trap")
        .expect("header");
    for piece in data.chunks(70_001) {
        let out = frame_api
            .call_update(&mut lz4.store, c, piece)
            .expect("no trap")
            .expect("update");
        frame.extend(out);
    }
    let tail = frame_api
        .call_flush(&mut lz4.store, c, true)
        .expect("no trap")
        .expect("end");
    frame.extend(tail);
    c.resource_drop(&mut lz4.store).expect("drop");

    let info = lz4
        .cap
        .pylon_lz4_frame()
        .call_get_frame_info(&mut lz4.store, &frame)
        .expect("no trap")
        .expect("header");
    assert_eq!(info.content_size, data.len() as u64);

    // Chunked: at most 10_000 bytes per call; input not consumed is passed again.
    let d = lz4.decompressor();
    let (mut out, mut pending, mut calls) = (Vec::<u8>::new(), &frame[..], 0);
    loop {
        let step = lz4.decompress(d, pending, 10_000, false).expect("chunk");
        assert!(step.data.len() <= 10_000);
        out.extend(&step.data);
        pending = &pending[step.consumed as usize..];
        calls += 1;
        if step.end_of_frame {
            break;
        }
        assert!(calls < 10_000, "no progress");
    }
    assert!(pending.is_empty());
    assert_eq!(out, data);
    // The context is ready for the next frame after a reset.
    lz4.cap
        .pylon_lz4_frame()
        .decompressor()
        .call_reset(&mut lz4.store, d)
        .expect("reset");
    let again = lz4.decompress(d, &frame, -1, true).expect("second frame");
    assert_eq!(again.data, data);
}

#[test]
fn reads_a_frame_written_by_the_lz4_command_line_tool() {
    // `printf '…' | lz4 -c` (lz4 v1.9.4): content checksum on, 4 MiB blocks.
    let cli_frame: &[u8] = &[
        0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7, 0x40, 0x00, 0x00, 0x00, 0xfa, 0x27, 0x50, 0x79,
        0x6c, 0x6f, 0x6e, 0x20, 0x72, 0x65, 0x61, 0x64, 0x73, 0x20, 0x66, 0x72, 0x61, 0x6d, 0x65,
        0x73, 0x20, 0x6d, 0x61, 0x64, 0x65, 0x20, 0x62, 0x79, 0x20, 0x74, 0x68, 0x65, 0x20, 0x6c,
        0x7a, 0x34, 0x20, 0x63, 0x6f, 0x6d, 0x6d, 0x61, 0x6e, 0x64, 0x20, 0x6c, 0x69, 0x6e, 0x65,
        0x20, 0x74, 0x6f, 0x6f, 0x6c, 0x2e, 0x20, 0x36, 0x00, 0x50, 0x61, 0x6d, 0x65, 0x73, 0x2e,
        0x00, 0x00, 0x00, 0x00, 0x1e, 0xfa, 0x3a, 0x15,
    ];
    let mut lz4 = Lz4::new();
    let out = lz4.unframe(cli_frame).expect("decompresses");
    assert_eq!(
        out.data,
        b"Pylon reads frames made by the lz4 command line tool. Pylon reads frames."
    );
    // One flipped bit in the content is caught by the checksum.
    let mut bad = cli_frame.to_vec();
    bad[20] ^= 1;
    match lz4.unframe(&bad) {
        Err(FrameError::Library(e)) => {
            assert_eq!(e.function, "LZ4F_decompress");
            assert!(e.name.contains("Checksum"), "{}", e.name);
        }
        other => panic!("expected a checksum error, got {other:?}"),
    }
}

#[test]
fn frame_errors_are_results_not_traps() {
    let mut lz4 = Lz4::new();
    let data = sample(50_000);
    let frame = lz4.frame(&data, prefs(4, true, false, 0)).expect("frame");
    // Cut short: the whole frame was wanted.
    assert!(matches!(
        lz4.unframe(&frame[..frame.len() - 10]),
        Err(FrameError::Incomplete(n)) if n > 0
    ));
    // Not a frame at all.
    match lz4.unframe(b"this is not an lz4 frame") {
        Err(FrameError::Library(e)) => assert_eq!(e.function, "LZ4F_getFrameInfo"),
        other => panic!("expected a header error, got {other:?}"),
    }
    // A block size id liblz4 does not know: the compressor writes it as asked (liblz4
    // checks ids only when reading), the header is then refused, as a result.
    let frame_api = lz4.cap.pylon_lz4_frame().compressor();
    let c = frame_api.call_constructor(&mut lz4.store).expect("no trap");
    let odd_header = frame_api
        .call_begin(&mut lz4.store, c, prefs(3, true, false, 0))
        .expect("no trap")
        .expect("header");
    match lz4
        .cap
        .pylon_lz4_frame()
        .call_get_frame_info(&mut lz4.store, &odd_header)
        .expect("no trap")
    {
        Err(FrameError::Library(e)) => assert!(e.name.contains("maxBlockSize"), "{}", e.name),
        other => panic!("expected maxBlockSize_invalid, got {other:?}"),
    }
    // A header claiming 2^60 bytes of content is not believed for the allocation.
    let mut p = prefs(4, true, false, 0);
    p.content_size = 1 << 60;
    let c = lz4
        .cap
        .pylon_lz4_frame()
        .compressor()
        .call_constructor(&mut lz4.store)
        .expect("no trap");
    let header = lz4
        .cap
        .pylon_lz4_frame()
        .compressor()
        .call_begin(&mut lz4.store, c, p)
        .expect("no trap")
        .expect("header");
    let mut lying = header.clone();
    lying.extend(&frame[7..]);
    assert!(lz4.unframe(&lying).is_err(), "a size mismatch is an error");
}
