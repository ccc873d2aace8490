//! Pylon lz4 cap: exports `pylon:lz4/block` and `pylon:lz4/frame` (world `lz4-cap`),
//! liblz4 1.10.0 (compiled from lz4-sys' bundled sources by the pinned clang) called
//! the way the python-lz4 package's C extension calls it, so that the Python modules
//! `lz4.block` and `lz4.frame` over this cap produce and accept what python-lz4 does.
//! Argument checks, the block size prefix and the exception messages are the Python
//! side's; what touches compressed bytes is here.

wit_bindgen::generate!({
    world: "lz4-cap",
    path: "wit",
});

mod ffi;

// liblz4 itself: the crate's build script compiles it; nothing of its Rust API is used.
extern crate lz4_sys;

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void, CStr};

use exports::pylon::lz4::block as wit_block;
use exports::pylon::lz4::frame as wit_frame;
use wit_block::{BlockError, Mode};
use wit_frame::{Decompressed, FrameError, FrameInfo, LibraryError, Preferences};

/// LZ4 never expands a block's content more than ~255 times (a match length grows by
/// 255 per input byte at most), so no valid block decodes to more than this; a size
/// prefix claiming more is only ever answered with an error, without allocating it.
fn block_output_limit(input_len: usize) -> usize {
    input_len.saturating_mul(255).saturating_add(64)
}

/// A buffer of `len` zero bytes, or `None` when the allocation fails (a hostile size
/// becomes the Python side's MemoryError, not a trap). Never a dangling pointer: see
/// [`input`].
fn zeroed(len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    out.try_reserve_exact(len.max(1)).ok()?;
    out.resize(len, 0);
    Some(out)
}

/// Where liblz4 may point for an empty input.
static EMPTY: [u8; 16] = [0; 16];

/// The address liblz4 gets for an input buffer. An empty Vec's pointer is dangling
/// (address 1 in wasm32): liblz4 HC derives its window base by subtracting up to 64 KiB
/// from the input's address, which then wraps below 0 and the next load traps; real
/// addresses of this module's data are above its 1 MiB stack.
fn input(buf: &[u8]) -> *const c_char {
    if buf.is_empty() {
        EMPTY.as_ptr().cast()
    } else {
        buf.as_ptr().cast()
    }
}

struct Component;

impl wit_block::Guest for Component {
    fn compress(
        source: Vec<u8>,
        mode: Mode,
        acceleration: i32,
        compression: i32,
        dict: Vec<u8>,
    ) -> Result<Vec<u8>, BlockError> {
        // The Python side refuses inputs and dictionaries over i32::MAX bytes.
        let src_len = source.len() as c_int;
        let bound = unsafe { ffi::LZ4_compressBound(src_len) };
        if bound <= 0 {
            return Err(BlockError::Failed(0));
        }
        let mut out = zeroed(bound as usize).ok_or(BlockError::OutOfMemory)?;
        let (dict_buf, dict_len) = (input(&dict), dict.len() as c_int);
        let written = unsafe {
            match mode {
                Mode::HighCompression => {
                    let stream = ffi::LZ4_createStreamHC();
                    if stream.is_null() {
                        return Err(BlockError::OutOfMemory);
                    }
                    ffi::LZ4_resetStreamHC_fast(stream, compression);
                    if dict_len > 0 {
                        ffi::LZ4_loadDictHC(stream, dict_buf, dict_len);
                    }
                    let n = ffi::LZ4_compress_HC_continue(
                        stream,
                        input(&source),
                        out.as_mut_ptr().cast(),
                        src_len,
                        bound,
                    );
                    ffi::LZ4_freeStreamHC(stream);
                    n
                }
                Mode::Default | Mode::Fast => {
                    let stream = ffi::LZ4_createStream();
                    if stream.is_null() {
                        return Err(BlockError::OutOfMemory);
                    }
                    if dict_len > 0 {
                        ffi::LZ4_loadDict(stream, dict_buf, dict_len);
                    }
                    // python-lz4 ignores `acceleration` outside fast mode.
                    let accel = if matches!(mode, Mode::Fast) {
                        acceleration
                    } else {
                        1
                    };
                    let n = ffi::LZ4_compress_fast_continue(
                        stream,
                        input(&source),
                        out.as_mut_ptr().cast(),
                        src_len,
                        bound,
                        accel,
                    );
                    ffi::LZ4_freeStream(stream);
                    n
                }
            }
        };
        // An empty input compresses to one token; 0 means the output did not fit.
        if written <= 0 {
            return Err(BlockError::Failed(written.unsigned_abs()));
        }
        out.truncate(written as usize);
        Ok(out)
    }

    fn decompress(source: Vec<u8>, capacity: u32, dict: Vec<u8>) -> Result<Vec<u8>, BlockError> {
        let capacity = (capacity as usize).min(block_output_limit(source.len()));
        let mut out = zeroed(capacity).ok_or(BlockError::OutOfMemory)?;
        let (dict_buf, dict_len) = (input(&dict), dict.len() as c_int);
        let written = unsafe {
            ffi::LZ4_decompress_safe_usingDict(
                input(&source),
                out.as_mut_ptr().cast(),
                source.len() as c_int,
                capacity as c_int,
                dict_buf,
                dict_len,
            )
        };
        if written < 0 {
            return Err(BlockError::Failed(written.unsigned_abs()));
        }
        out.truncate(written as usize);
        Ok(out)
    }

    fn version_number() -> u32 {
        unsafe { ffi::LZ4_versionNumber() as u32 }
    }

    fn version_string() -> String {
        unsafe { CStr::from_ptr(ffi::LZ4_versionString()) }
            .to_string_lossy()
            .into_owned()
    }
}

/// A liblz4 frame-API result: the size it returned, or the error it names.
fn check(function: &str, code: usize) -> Result<usize, FrameError> {
    if unsafe { ffi::LZ4F_isError(code) } == 0 {
        return Ok(code);
    }
    let name = unsafe { CStr::from_ptr(ffi::LZ4F_getErrorName(code)) }
        .to_string_lossy()
        .into_owned();
    Err(FrameError::Library(LibraryError {
        function: function.to_string(),
        name,
    }))
}

fn preferences(p: &Preferences) -> ffi::Preferences {
    ffi::Preferences {
        frame_info: ffi::FrameInfo {
            block_size_id: p.block_size_id,
            block_mode: u32::from(!p.block_linked),
            content_checksum_flag: u32::from(p.content_checksum),
            frame_type: 0,
            content_size: p.content_size,
            dict_id: 0,
            block_checksum_flag: u32::from(p.block_checksum),
        },
        compression_level: p.compression_level,
        auto_flush: u32::from(p.auto_flush),
        favor_dec_speed: 0,
        reserved: [0; 3],
    }
}

/// Calls `f` with a zeroed buffer of `capacity` bytes and keeps the first n bytes it
/// reports writing.
fn produce(
    function: &str,
    capacity: usize,
    f: impl FnOnce(*mut c_void, usize) -> usize,
) -> Result<Vec<u8>, FrameError> {
    let mut out = zeroed(capacity).ok_or(FrameError::OutOfMemory)?;
    let n = check(function, f(out.as_mut_ptr().cast(), capacity))?;
    out.truncate(n);
    Ok(out)
}

impl wit_frame::Guest for Component {
    type Compressor = Compressor;
    type Decompressor = Decompressor;

    fn compress_frame(source: Vec<u8>, p: Preferences) -> Result<Vec<u8>, FrameError> {
        let prefs = preferences(&p);
        let bound = unsafe { ffi::LZ4F_compressFrameBound(source.len(), &prefs) };
        check("LZ4F_compressFrameBound", bound)?;
        produce("LZ4F_compressFrame", bound, |dst, cap| unsafe {
            ffi::LZ4F_compressFrame(dst, cap, input(&source).cast(), source.len(), &prefs)
        })
    }

    fn get_frame_info(data: Vec<u8>) -> Result<FrameInfo, FrameError> {
        let dctx = Dctx::new()?;
        let mut info = ffi::FrameInfo::default();
        let mut len = data.len();
        check("LZ4F_getFrameInfo", unsafe {
            ffi::LZ4F_getFrameInfo(dctx.0, &mut info, input(&data).cast(), &mut len)
        })?;
        frame_info(&info)
    }
}

/// python-lz4's view of a header: the default block size is reported as 64 KiB.
fn frame_info(info: &ffi::FrameInfo) -> Result<FrameInfo, FrameError> {
    let unrecognized = |what: &str, value: u64| {
        Err(FrameError::Library(LibraryError {
            function: String::new(),
            name: format!("Unrecognized {what} in get_frame_info: {value}"),
        }))
    };
    let (block_size_id, block_size) = match info.block_size_id {
        0 | ffi::LZ4F_MAX64KB => (ffi::LZ4F_MAX64KB, 64 << 10),
        ffi::LZ4F_MAX256KB => (ffi::LZ4F_MAX256KB, 256 << 10),
        ffi::LZ4F_MAX1MB => (ffi::LZ4F_MAX1MB, 1 << 20),
        ffi::LZ4F_MAX4MB => (ffi::LZ4F_MAX4MB, 4 << 20),
        other => return unrecognized("blockSizeID", other.into()),
    };
    Ok(FrameInfo {
        block_size_id,
        block_size,
        block_linked: info.block_mode == 0,
        content_checksum: info.content_checksum_flag != 0,
        block_checksum: info.block_checksum_flag != 0,
        skippable: info.frame_type != 0,
        content_size: info.content_size,
    })
}

/// An owned `LZ4F_dctx`, freed on drop.
struct Dctx(*mut ffi::Dctx);

impl Dctx {
    fn new() -> Result<Self, FrameError> {
        let mut ptr = std::ptr::null_mut();
        check("LZ4F_createDecompressionContext", unsafe {
            ffi::LZ4F_createDecompressionContext(&mut ptr, ffi::LZ4F_VERSION)
        })?;
        Ok(Dctx(ptr))
    }
}

impl Drop for Dctx {
    fn drop(&mut self) {
        unsafe { ffi::LZ4F_freeDecompressionContext(self.0) };
    }
}

pub struct Compressor {
    cctx: *mut ffi::Cctx,
    /// The preferences of the frame begun last: liblz4 sizes output buffers by them.
    prefs: Cell<ffi::Preferences>,
}

impl wit_frame::GuestCompressor for Compressor {
    fn new() -> Self {
        let mut cctx = std::ptr::null_mut();
        // Creation only fails when malloc does; a null context then makes every call
        // fail with liblz4's own error instead of trapping here.
        unsafe { ffi::LZ4F_createCompressionContext(&mut cctx, ffi::LZ4F_VERSION) };
        Compressor {
            cctx,
            prefs: Cell::new(ffi::Preferences::default()),
        }
    }

    fn begin(&self, p: Preferences) -> Result<Vec<u8>, FrameError> {
        self.prefs.set(preferences(&p));
        let prefs = self.prefs.get();
        // LZ4F_HEADER_SIZE_MAX is 19; python-lz4 allows 32.
        produce("LZ4F_compressBegin", 32, |dst, cap| unsafe {
            ffi::LZ4F_compressBegin(self.cctx, dst, cap, &prefs)
        })
    }

    fn update(&self, data: Vec<u8>) -> Result<Vec<u8>, FrameError> {
        let prefs = self.prefs.get();
        // LZ4F_compressBound covers the data plus whatever earlier calls buffered.
        let bound = unsafe { ffi::LZ4F_compressBound(data.len(), &prefs) };
        produce("LZ4F_compressUpdate", bound, |dst, cap| unsafe {
            let options = ffi::CompressOptions::default();
            ffi::LZ4F_compressUpdate(
                self.cctx,
                dst,
                cap,
                input(&data).cast(),
                data.len(),
                &options,
            )
        })
    }

    fn flush(&self, end_frame: bool) -> Result<Vec<u8>, FrameError> {
        let prefs = self.prefs.get();
        // With no new data, the bound is the buffered data plus end mark and checksum.
        let bound = unsafe { ffi::LZ4F_compressBound(0, &prefs) };
        let options = ffi::CompressOptions::default();
        if end_frame {
            produce("LZ4F_compressEnd", bound, |dst, cap| unsafe {
                ffi::LZ4F_compressEnd(self.cctx, dst, cap, &options)
            })
        } else {
            produce("LZ4F_flush", bound, |dst, cap| unsafe {
                ffi::LZ4F_flush(self.cctx, dst, cap, &options)
            })
        }
    }
}

impl Drop for Compressor {
    fn drop(&mut self) {
        unsafe { ffi::LZ4F_freeCompressionContext(self.cctx) };
    }
}

pub struct Decompressor {
    dctx: Result<Dctx, FrameError>,
}

impl Decompressor {
    fn dctx(&self) -> Result<*mut ffi::Dctx, FrameError> {
        self.dctx.as_ref().map(|d| d.0).map_err(Clone::clone)
    }
}

impl wit_frame::GuestDecompressor for Decompressor {
    fn new() -> Self {
        Decompressor { dctx: Dctx::new() }
    }

    fn decompress(
        &self,
        data: Vec<u8>,
        max_length: i64,
        whole_frame: bool,
    ) -> Result<Decompressed, FrameError> {
        decompress(self.dctx()?, &data, max_length, whole_frame)
    }

    fn reset(&self) {
        if let Ok(dctx) = self.dctx() {
            unsafe { ffi::LZ4F_resetDecompressionContext(dctx) };
        }
    }
}

/// python-lz4's decompression loop (`__decompress` in `_frame.c`): feed the input to
/// `LZ4F_decompress` until the frame ends, the input is used up, or the output
/// reaches `max_length`; without a limit the output buffer grows by factors 2, 4, 8…
fn decompress(
    dctx: *mut ffi::Dctx,
    data: &[u8],
    max_length: i64,
    whole_frame: bool,
) -> Result<Decompressed, FrameError> {
    let mut consumed = 0usize;
    let limit = usize::try_from(max_length).ok();
    let mut size = if whole_frame {
        let mut info = ffi::FrameInfo::default();
        let mut header_len = data.len();
        check("LZ4F_getFrameInfo", unsafe {
            ffi::LZ4F_getFrameInfo(dctx, &mut info, input(data).cast(), &mut header_len)
        })?;
        consumed = header_len;
        let remaining = data.len() - consumed;
        match usize::try_from(info.content_size) {
            // The header's size is believed up to what the input could decode to
            // (at most ~255x); beyond that the loop grows the buffer as it goes.
            Ok(n) if n > 0 => n.min(block_output_limit(remaining)),
            _ => 2 * remaining,
        }
    } else {
        limit.unwrap_or(2 * (data.len()))
    };
    let mut out = zeroed(size).ok_or(FrameError::OutOfMemory)?;
    let mut written = 0usize;
    let mut factor = 1usize;
    let options = ffi::DecompressOptions::default();
    let mut hint;
    loop {
        let mut dst_len = size - written;
        let mut src_len = data.len() - consumed;
        hint = check("LZ4F_decompress", unsafe {
            ffi::LZ4F_decompress(
                dctx,
                out.as_mut_ptr().add(written).cast(),
                &mut dst_len,
                input(data).add(consumed).cast(),
                &mut src_len,
                &options,
            )
        })?;
        written += dst_len;
        consumed += src_len;
        if hint == 0 || consumed == data.len() {
            break;
        }
        if written == size {
            if limit.is_some() {
                break;
            }
            factor = factor.saturating_mul(2);
            // An empty buffer must still grow (python-lz4 never reaches this with 0).
            size = size.saturating_mul(factor).max(64 << 10);
            let extra = size - out.len();
            out.try_reserve_exact(extra)
                .map_err(|_| FrameError::OutOfMemory)?;
            out.resize(size, 0);
        }
    }
    if whole_frame && hint > 0 {
        return Err(FrameError::Incomplete(hint as u64));
    }
    out.truncate(written);
    Ok(Decompressed {
        data: out,
        consumed: consumed as u64,
        end_of_frame: hint == 0,
    })
}

export!(Component);
