//! Pylon bz2 cap: exports `pylon:bz2/bz2@0.1.0` (world `bz2-cap`), CPython's `_bz2`
//! semantics over libbzip2's C API as ported to Rust by libbz2-rs-sys. The stream
//! logic follows `Modules/_bz2module.c` (3.13): what is consumed when, when
//! `needs_input` flips, which return code becomes which exception.

wit_bindgen::generate!({
    world: "bz2-cap",
    path: "wit",
});

use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_uint};

use exports::pylon::bz2::bz2 as wit;
use libbz2_rs_sys as bz;
use wit::{Decompressed, Error, ErrorKind};

/// Output grows in chunks of this size (CPython's `_bz2` starts at 8 KiB and grows
/// geometrically; the chunking does not change the bytes produced).
const CHUNK: usize = 32 * 1024;

fn error(kind: ErrorKind, message: impl Into<String>) -> Error {
    Error {
        kind,
        message: message.into(),
    }
}

/// CPython's `catch_bz2_error`: a libbzip2 return code as the exception `_bz2` raises;
/// `None` for the codes that are not errors.
fn check(code: c_int) -> Result<c_int, Error> {
    let failure = match code {
        bz::BZ_PARAM_ERROR => error(
            ErrorKind::Value,
            "Internal error - invalid parameters passed to libbzip2",
        ),
        bz::BZ_MEM_ERROR => error(ErrorKind::Memory, ""),
        bz::BZ_DATA_ERROR | bz::BZ_DATA_ERROR_MAGIC => {
            error(ErrorKind::Os, "Invalid data stream")
        }
        bz::BZ_IO_ERROR => error(ErrorKind::Os, "Unknown I/O error"),
        bz::BZ_UNEXPECTED_EOF => error(
            ErrorKind::Eof,
            "Compressed file ended before the logical end-of-stream was detected",
        ),
        bz::BZ_SEQUENCE_ERROR => error(
            ErrorKind::Runtime,
            "Internal error - Invalid sequence of commands sent to libbzip2",
        ),
        c if c < 0 => error(
            ErrorKind::Os,
            format!("Unrecognized error from libbzip2: {c}"),
        ),
        ok => return Ok(ok),
    };
    Err(failure)
}

fn empty_stream() -> Box<bz::bz_stream> {
    // libbzip2 keeps a pointer to the stream in its state and checks it on every call:
    // the stream is boxed so it never moves.
    Box::new(bz::bz_stream {
        next_in: std::ptr::null(),
        avail_in: 0,
        total_in_lo32: 0,
        total_in_hi32: 0,
        next_out: std::ptr::null_mut(),
        avail_out: 0,
        total_out_lo32: 0,
        total_out_hi32: 0,
        state: std::ptr::null_mut(),
        bzalloc: None,
        bzfree: None,
        opaque: std::ptr::null_mut(),
    })
}

/// Room for at least `CHUNK` more bytes at the end of `out`, bounded by `limit`; the
/// stream's output window is pointed at it.
fn grow_output(strm: &mut bz::bz_stream, out: &mut Vec<u8>, limit: Option<usize>) {
    let filled = out.len();
    let room = match limit {
        Some(max) => CHUNK.min(max - filled),
        None => CHUNK,
    };
    out.resize(filled + room, 0);
    strm.next_out = out[filled..].as_mut_ptr().cast::<c_char>();
    strm.avail_out = room as c_uint;
}

struct CompressorState {
    strm: Box<bz::bz_stream>,
    flushed: bool,
}

pub struct Compressor(RefCell<CompressorState>);

impl Drop for Compressor {
    fn drop(&mut self) {
        let state = self.0.get_mut();
        // SAFETY: initialised by BZ2_bzCompressInit in `create`, ended once here.
        unsafe { bz::BZ2_bzCompressEnd(&mut *state.strm) };
    }
}

impl Compressor {
    /// Feeds `data` with `action` (BZ_RUN or BZ_FINISH) until libbzip2 has taken all
    /// of it (BZ_RUN) or ended the stream (BZ_FINISH).
    fn run(state: &mut CompressorState, data: &[u8], action: c_int) -> Result<Vec<u8>, Error> {
        let strm = &mut *state.strm;
        let mut out = Vec::new();
        strm.next_in = data.as_ptr().cast::<c_char>();
        // `data` is at most 4 GiB on wasm32 (a list<u8> in linear memory).
        strm.avail_in = data.len() as c_uint;
        loop {
            // libbzip2 answers BZ_RUN without input with BZ_PARAM_ERROR: stop first.
            if action == bz::BZ_RUN && strm.avail_in == 0 {
                break;
            }
            let filled = out.len();
            grow_output(strm, &mut out, None);
            let room = strm.avail_out;
            // SAFETY: `strm` was initialised by BZ2_bzCompressInit and points at `data`
            // and at `out`'s spare room, both alive across the call.
            let code = check(unsafe { bz::BZ2_bzCompress(strm, action) });
            out.truncate(filled + (room - strm.avail_out) as usize);
            let code = code?;
            if action == bz::BZ_FINISH && code == bz::BZ_STREAM_END {
                break;
            }
        }
        strm.next_in = std::ptr::null();
        strm.next_out = std::ptr::null_mut();
        Ok(out)
    }
}

impl wit::GuestCompressor for Compressor {
    fn create(level: i32) -> Result<wit::Compressor, Error> {
        if !(1..=9).contains(&level) {
            return Err(error(
                ErrorKind::Value,
                "compresslevel must be between 1 and 9",
            ));
        }
        let mut strm = empty_stream();
        // SAFETY: a zeroed stream with no allocator set gets the Rust allocator.
        check(unsafe { bz::BZ2_bzCompressInit(&mut *strm, level, 0, 0) })?;
        Ok(wit::Compressor::new(Compressor(RefCell::new(
            CompressorState {
                strm,
                flushed: false,
            },
        ))))
    }

    fn compress(&self, data: Vec<u8>) -> Result<Vec<u8>, Error> {
        let mut state = self.0.borrow_mut();
        if state.flushed {
            return Err(error(ErrorKind::Value, "Compressor has been flushed"));
        }
        Self::run(&mut state, &data, bz::BZ_RUN)
    }

    fn flush(&self) -> Result<Vec<u8>, Error> {
        let mut state = self.0.borrow_mut();
        if state.flushed {
            return Err(error(ErrorKind::Value, "Repeated call to flush()"));
        }
        state.flushed = true;
        Self::run(&mut state, &[], bz::BZ_FINISH)
    }
}

struct DecompressorState {
    strm: Box<bz::bz_stream>,
    eof: bool,
    /// A call failed: libbzip2 must not be re-entered after an error (CPython 3.13
    /// refuses every later call the same way).
    failed: bool,
    needs_input: bool,
    /// Input given but not consumed yet (kept when `max_length` stopped the output):
    /// `pending[pending_pos..]`. Consumed bytes are dropped lazily, so a caller reading
    /// a large stream a few bytes at a time does not copy the rest on every call.
    pending: Vec<u8>,
    pending_pos: usize,
    unused_data: Vec<u8>,
}

pub struct Decompressor(RefCell<DecompressorState>);

impl Drop for Decompressor {
    fn drop(&mut self) {
        let state = self.0.get_mut();
        // SAFETY: initialised by BZ2_bzDecompressInit in `create`, ended once here.
        unsafe { bz::BZ2_bzDecompressEnd(&mut *state.strm) };
    }
}

impl wit::GuestDecompressor for Decompressor {
    fn create() -> Result<wit::Decompressor, Error> {
        let mut strm = empty_stream();
        // SAFETY: a zeroed stream with no allocator set gets the Rust allocator.
        check(unsafe { bz::BZ2_bzDecompressInit(&mut *strm, 0, 0) })?;
        Ok(wit::Decompressor::new(Decompressor(RefCell::new(
            DecompressorState {
                strm,
                eof: false,
                failed: false,
                needs_input: true,
                pending: Vec::new(),
                pending_pos: 0,
                unused_data: Vec::new(),
            },
        ))))
    }

    fn decompress(&self, data: Vec<u8>, max_length: i64) -> Result<Decompressed, Error> {
        let mut guard = self.0.borrow_mut();
        let state = &mut *guard;
        if state.eof {
            return Err(error(ErrorKind::Eof, "End of stream already reached"));
        }
        if state.failed {
            return Err(error(
                ErrorKind::Value,
                "Decompressor is unusable after a previous error",
            ));
        }
        // The kept input first, then the new.
        if !data.is_empty() {
            if state.pending_pos > 0 {
                state.pending.drain(..state.pending_pos);
                state.pending_pos = 0;
            }
            if state.pending.is_empty() {
                state.pending = data;
            } else {
                state.pending.extend_from_slice(&data);
            }
        }
        let input = &state.pending[state.pending_pos..];
        let limit = usize::try_from(max_length).ok();

        let strm = &mut *state.strm;
        strm.next_in = input.as_ptr().cast::<c_char>();
        strm.avail_in = input.len() as c_uint;
        let mut out = Vec::new();
        let result = loop {
            let filled = out.len();
            grow_output(strm, &mut out, limit);
            let room = strm.avail_out;
            // SAFETY: initialised by BZ2_bzDecompressInit; `input` and `out`'s spare
            // room outlive the call.
            let code = check(unsafe { bz::BZ2_bzDecompress(strm) });
            out.truncate(filled + (room - strm.avail_out) as usize);
            match code {
                Err(e) => break Err(e),
                Ok(bz::BZ_STREAM_END) => {
                    state.eof = true;
                    break Ok(());
                }
                Ok(_) if strm.avail_in == 0 => break Ok(()),
                // The window is full: stop at max_length, else go round with more room.
                Ok(_) if limit == Some(out.len()) => break Ok(()),
                Ok(_) => {}
            }
        };
        let consumed = input.len() - strm.avail_in as usize;
        strm.next_in = std::ptr::null();
        strm.next_out = std::ptr::null_mut();
        if let Err(e) = result {
            state.failed = true;
            state.needs_input = false;
            return Err(e);
        }
        state.pending_pos += consumed;
        let rest = &state.pending[state.pending_pos..];
        if state.eof {
            state.needs_input = false;
            state.unused_data = rest.to_vec();
        } else {
            state.needs_input = rest.is_empty();
        }
        if state.eof || rest.is_empty() {
            state.pending = Vec::new();
            state.pending_pos = 0;
        }
        Ok(Decompressed {
            data: out,
            eof: state.eof,
            needs_input: state.needs_input,
            unused_data: state.unused_data.clone(),
        })
    }
}

struct Component;

impl wit::Guest for Component {
    type Compressor = Compressor;
    type Decompressor = Decompressor;
}

export!(Component);
