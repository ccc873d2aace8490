//! zlib with the semantics of CPython's `Modules/zlibmodule.c`, independent of
//! the WIT bindings so that it can be tested natively.
//!
//! The loops below follow CPython's structure closely (input arranged in chunks
//! of at most `u32::MAX` bytes, output grown whenever zlib filled all the space
//! it was given, the same return codes treated as errors at the same points)
//! because the Python overlay relies on getting CPython's results, quirks
//! included: which input ends up in `unused_data` or `unconsumed_tail`, which
//! errors are `zlib.error`, `ValueError` or `MemoryError`, and their messages.
//!
//! All zlib calls go through zlib's C API as implemented by `libz-rs-sys`; the
//! `unsafe` in this module is confined to those calls and to handing zlib the
//! spare capacity of an output `Vec`.

use core::ffi::{c_char, c_int, c_ulong, CStr};
use core::ptr;

use libz_rs_sys as z;
use libz_rs_sys::z_stream;

/// `zlib.DEF_BUF_SIZE`: CPython's default initial output size for `decompress`
/// and `Decompress.flush`.
pub const DEF_BUF_SIZE: usize = 16 * 1024;
/// `zlib.DEF_MEM_LEVEL`, used by the one-shot `compress`.
pub const DEF_MEM_LEVEL: c_int = 8;
/// `zlib.DEFLATED`, the only compression method.
pub const DEFLATED: c_int = 8;

/// A caller's size hint (`bufsize`, `flush(length)`) only sets how much is
/// allocated up front, never the result; it is capped so that a huge hint
/// cannot exhaust linear memory before any data exists (CPython's
/// `DEF_MAX_INITIAL_BUF_SIZE` plays the same role for `_ZlibDecompressor`).
const MAX_INITIAL_BUF_SIZE: usize = 16 * 1024 * 1024;
/// First output block when no hint is given (CPython's first block, 32 KiB).
const FIRST_BLOCK: usize = 32 * 1024;
/// Output grows by doubling, but by at most this much at a time (CPython's
/// largest block, 256 MiB), so memory is not wasted near the 4 GiB limit.
const MAX_BLOCK: usize = 256 * 1024 * 1024;
/// zlib's `avail_in`/`avail_out` are `uInt`.
const UINT_MAX: usize = u32::MAX as usize;

/// `n` limited to what fits in zlib's `uInt` (a no-op where usize is 32 bits,
/// i.e. on wasm32, but not natively).
#[allow(
    clippy::unnecessary_min_or_max,
    reason = "only a no-op on 32-bit targets"
)]
fn uint_clamp(n: usize) -> usize {
    n.min(UINT_MAX)
}

/// Which Python exception an [`Error`] becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// `zlib.error`
    Zlib,
    /// `ValueError`
    Value,
    /// `MemoryError`
    Memory,
}

/// An error with the exception type, zlib return code and message CPython
/// would produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    /// zlib's return code, or 0 when zlib was not involved.
    pub code: i32,
    pub message: String,
}

impl Error {
    fn new(kind: ErrorKind, code: c_int, message: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            message: message.into(),
        }
    }

    fn value(message: &str) -> Self {
        Self::new(ErrorKind::Value, 0, message)
    }

    fn memory(code: c_int, message: &str) -> Self {
        Self::new(ErrorKind::Memory, code, message)
    }

    /// The output buffer could not grow (CPython raises a bare MemoryError).
    fn no_memory() -> Self {
        Self::memory(0, "out of memory for the output buffer")
    }

    /// CPython's `zlib_error()`: "Error <code> <context>[: <zlib message>]",
    /// preferring the message zlib left in the stream.
    fn zlib(strm: &z_stream, err: c_int, context: &str) -> Self {
        let zmsg = if err == z::Z_VERSION_ERROR {
            Some("library version mismatch")
        } else {
            stream_msg(strm)
        }
        .or(match err {
            z::Z_BUF_ERROR => Some("incomplete or truncated stream"),
            z::Z_STREAM_ERROR => Some("inconsistent stream state"),
            z::Z_DATA_ERROR => Some("invalid input data"),
            _ => None,
        });
        let message = match zmsg {
            // CPython formats the zlib message with "%.200s".
            Some(m) => format!("Error {err} {context}: {m:.200}"),
            None => format!("Error {err} {context}"),
        };
        Self::new(ErrorKind::Zlib, err, message)
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The message zlib stored in `strm.msg`, if any.
fn stream_msg(strm: &z_stream) -> Option<&'static str> {
    if strm.msg.is_null() {
        return None;
    }
    // SAFETY: zlib only ever stores pointers to static NUL-terminated string
    // literals in `msg` (or leaves it null, checked above).
    let msg = unsafe { CStr::from_ptr(strm.msg.cast_const()) };
    msg.to_str().ok()
}

/// `zlib.ZLIB_RUNTIME_VERSION`, e.g. "1.3.0-zlib-rs-0.6.8".
pub fn version() -> String {
    // SAFETY: zlibVersion returns a pointer to a static NUL-terminated string.
    let v = unsafe { CStr::from_ptr(z::zlibVersion()) };
    v.to_string_lossy().into_owned()
}

/// zlib keeps checksums in `uLong`, which is 64 bits natively and 32 bits on
/// wasm32; CPython masks the result to 32 bits.
#[allow(
    clippy::unnecessary_cast,
    reason = "c_ulong is u32 on wasm32 but u64 natively"
)]
fn low32(v: c_ulong) -> u32 {
    // Truncation is the point: CPython masks with 0xffffffff.
    v as u32
}

/// `zlib.crc32(data, value)`.
pub fn crc32(data: &[u8], value: u32) -> u32 {
    // SAFETY: `data` is a valid slice of `data.len()` bytes; its pointer is
    // never null (an empty slice has a dangling, non-null pointer), so zlib
    // does not take the "return the initial value" shortcut.
    low32(unsafe { z::crc32_z(c_ulong::from(value), data.as_ptr(), data.len()) })
}

/// `zlib.adler32(data, value)`.
pub fn adler32(data: &[u8], value: u32) -> u32 {
    // SAFETY: as in `crc32`.
    low32(unsafe { z::adler32_z(c_ulong::from(value), data.as_ptr(), data.len()) })
}

/// The version string and struct size that zlib's `*Init*_` functions check.
fn init_args() -> (*const c_char, c_int) {
    // z_stream is a few dozen bytes; the cast cannot truncate.
    (z::zlibVersion(), core::mem::size_of::<z_stream>() as c_int)
}

/// A fresh stream using zlib's default allocator (the Rust global allocator).
///
/// The stream is boxed because zlib's API is pointer based: once initialised
/// the stream must stay at one address (C zlib even checks
/// `state->strm == strm`), while the Rust value that owns it may move.
fn new_stream() -> Box<z_stream> {
    Box::new(z_stream::default())
}

/// Output accumulated over several zlib calls, growing like CPython's block
/// buffer, with an optional hard limit (`Decompress.decompress`'s max_length).
struct Output {
    buf: Vec<u8>,
    limit: usize,
}

impl Output {
    /// `first` bytes are allocated up front (capped by `limit`).
    fn new(first: usize, limit: usize) -> Result<Self, Error> {
        let mut buf = Vec::new();
        buf.try_reserve_exact(first.min(limit))
            .map_err(|_| Error::no_memory())?;
        Ok(Self { buf, limit })
    }

    /// Room zlib may write into now (CPython's `avail_out`).
    fn room(&self) -> usize {
        (self.buf.capacity() - self.buf.len()).min(self.limit - self.buf.len())
    }

    fn at_limit(&self) -> bool {
        self.buf.len() >= self.limit
    }

    /// Adds another block; only called when `room() == 0` and not at the limit.
    fn grow(&mut self) -> Result<(), Error> {
        let len = self.buf.len();
        let extra = len
            .clamp(FIRST_BLOCK, MAX_BLOCK)
            .min(self.limit.saturating_sub(len));
        self.buf
            .try_reserve_exact(extra)
            .map_err(|_| Error::no_memory())
    }
}

#[derive(Clone, Copy)]
enum Op {
    Deflate,
    Inflate,
}

/// One `deflate()`/`inflate()` call with `input` as `next_in` and the output's
/// room as `next_out`. Returns zlib's code and how much input was consumed.
///
/// The pointers are cleared again afterwards so the stream never holds a
/// pointer into a buffer that may be freed before the next call.
fn step(
    strm: &mut z_stream,
    op: Op,
    flush: c_int,
    input: &[u8],
    out: &mut Output,
) -> (c_int, usize) {
    let avail_in = uint_clamp(input.len());
    let avail_out = uint_clamp(out.room());
    let spare = out.buf.spare_capacity_mut();
    strm.next_in = input.as_ptr();
    strm.avail_in = avail_in as u32; // <= UINT_MAX, see above
    strm.next_out = spare.as_mut_ptr().cast::<u8>();
    strm.avail_out = avail_out as u32;

    // SAFETY: the stream was initialised by the matching *Init*_ function
    // (or ended, which zlib reports as Z_STREAM_ERROR); next_in/avail_in
    // describe a live slice and next_out/avail_out lie within the Vec's spare
    // capacity (avail_out <= spare.len()), which zlib only writes to.
    let ret = unsafe {
        match op {
            Op::Deflate => z::deflate(strm, flush),
            Op::Inflate => z::inflate(strm, flush),
        }
    };

    let consumed = avail_in - strm.avail_in as usize;
    let produced = avail_out - strm.avail_out as usize;
    strm.next_in = ptr::null();
    strm.avail_in = 0;
    strm.next_out = ptr::null_mut();
    strm.avail_out = 0;
    // SAFETY: zlib wrote exactly `produced` bytes at the start of the spare
    // capacity, so they are initialised and within capacity.
    unsafe { out.buf.set_len(out.buf.len() + produced) };
    (ret, consumed)
}

/// The deflate loop shared by `compress`, `Compress.compress` and
/// `Compress.flush`: each chunk of input is fed with `Z_NO_FLUSH`, the last one
/// with `final_flush`, and zlib is called again while it fills all the output
/// room. Returns the last return code; Z_STREAM_ERROR is returned as `Err`
/// with the code for the caller to word.
fn deflate_loop(
    strm: &mut z_stream,
    input: &[u8],
    final_flush: c_int,
    out: &mut Output,
) -> Result<c_int, DeflateFail> {
    let mut pos = 0;
    loop {
        let chunk_end = pos + uint_clamp(input.len() - pos);
        let flush = if chunk_end == input.len() {
            final_flush
        } else {
            z::Z_NO_FLUSH
        };
        let mut err;
        loop {
            if out.room() == 0 {
                out.grow().map_err(DeflateFail::Memory)?;
            }
            let (ret, consumed) = step(strm, Op::Deflate, flush, &input[pos..chunk_end], out);
            pos += consumed;
            err = ret;
            if err == z::Z_STREAM_ERROR {
                return Err(DeflateFail::Stream);
            }
            if out.room() != 0 {
                break;
            }
        }
        if chunk_end == input.len() {
            return Ok(err);
        }
    }
}

enum DeflateFail {
    /// deflate() returned Z_STREAM_ERROR.
    Stream,
    /// The output buffer could not grow.
    Memory(Error),
}

/// A deflate stream that is ended exactly once.
struct Deflater {
    strm: Box<z_stream>,
    /// Whether deflateEnd is still owed (CPython's `is_initialised`). A
    /// failed deflateCopy can leave the destination pointing at the source's
    /// state, so only streams that initialised successfully are ever ended.
    initialised: bool,
}

impl Deflater {
    /// deflateInit2; returns the stream (for its message) and zlib's code.
    fn init(
        level: c_int,
        method: c_int,
        wbits: c_int,
        mem_level: c_int,
        strategy: c_int,
    ) -> (Self, c_int) {
        let mut strm = new_stream();
        let (version, size) = init_args();
        // SAFETY: `strm` is a default (zeroed, default allocator) stream at a
        // stable heap address; version/size describe this library.
        let err = unsafe {
            z::deflateInit2_(
                &mut *strm, level, method, wbits, mem_level, strategy, version, size,
            )
        };
        let initialised = err == z::Z_OK;
        (Self { strm, initialised }, err)
    }

    /// deflateEnd; returns zlib's code.
    fn end(&mut self) -> c_int {
        if !self.initialised {
            return z::Z_STREAM_ERROR;
        }
        self.initialised = false;
        // SAFETY: the stream was initialised and not yet ended.
        unsafe { z::deflateEnd(&mut *self.strm) }
    }
}

impl Drop for Deflater {
    fn drop(&mut self) {
        // Frees zlib's state; the code is irrelevant here (CPython ignores it
        // in its dealloc too).
        let _ = self.end();
    }
}

/// An inflate stream that is ended exactly once.
struct Inflater {
    strm: Box<z_stream>,
    /// Whether inflateEnd is still owed; see [`Deflater::initialised`].
    initialised: bool,
}

impl Inflater {
    /// inflateInit2; returns the stream (for its message) and zlib's code.
    fn init(wbits: c_int) -> (Self, c_int) {
        let mut strm = new_stream();
        let (version, size) = init_args();
        // SAFETY: as in Deflater::init.
        let err = unsafe { z::inflateInit2_(&mut *strm, wbits, version, size) };
        let initialised = err == z::Z_OK;
        (Self { strm, initialised }, err)
    }

    /// inflateEnd; returns zlib's code.
    fn end(&mut self) -> c_int {
        if !self.initialised {
            return z::Z_STREAM_ERROR;
        }
        self.initialised = false;
        // SAFETY: the stream was initialised and not yet ended.
        unsafe { z::inflateEnd(&mut *self.strm) }
    }
}

impl Drop for Inflater {
    fn drop(&mut self) {
        let _ = self.end();
    }
}

/// CPython's `set_inflate_zdict()`.
fn set_inflate_zdict(strm: &mut z_stream, zdict: &[u8]) -> Result<(), Error> {
    let len = u32::try_from(zdict.len())
        .map_err(|_| Error::value("zdict length does not fit in an unsigned int"))?;
    // SAFETY: the stream is initialised (or ended, reported as
    // Z_STREAM_ERROR); `zdict` is a live slice of `len` bytes.
    let err = unsafe { z::inflateSetDictionary(strm, zdict.as_ptr(), len) };
    if err != z::Z_OK {
        return Err(Error::zlib(strm, err, "while setting zdict"));
    }
    Ok(())
}

/// How the inflate loop flushes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum InflateMode {
    /// `Decompress.decompress`: Z_SYNC_FLUSH throughout.
    Sync,
    /// `decompress` and `Decompress.flush`: Z_NO_FLUSH, Z_FINISH for the last
    /// chunk.
    FinishLast,
}

/// Where the inflate loop stopped (CPython's `save:` label).
struct InflateStop {
    /// zlib's last return code.
    err: c_int,
    /// How much of the input was consumed.
    pos: usize,
    /// Unconsumed input left in the current chunk (CPython's `zst.avail_in`).
    chunk_left: usize,
}

/// The inflate loop shared by `decompress`, `Decompress.decompress` and
/// `Decompress.flush`. Stops at the end of the stream, when the input is used
/// up, when the output limit is reached, or at the first return code other
/// than Z_OK/Z_BUF_ERROR/Z_STREAM_END (which the caller turns into an error or
/// not, as CPython does). With a dictionary, Z_NEED_DICT installs it and goes
/// on. `Err` means a failure that skips saving the input state (CPython's
/// `abort:`).
fn inflate_loop(
    strm: &mut z_stream,
    input: &[u8],
    mode: InflateMode,
    out: &mut Output,
    zdict: Option<&[u8]>,
) -> Result<InflateStop, Error> {
    let mut pos = 0;
    let mut err = z::Z_OK;
    loop {
        let chunk_end = pos + uint_clamp(input.len() - pos);
        let flush = match mode {
            InflateMode::Sync => z::Z_SYNC_FLUSH,
            InflateMode::FinishLast if chunk_end == input.len() => z::Z_FINISH,
            InflateMode::FinishLast => z::Z_NO_FLUSH,
        };
        loop {
            if out.room() == 0 {
                if out.at_limit() {
                    return Ok(InflateStop {
                        err,
                        pos,
                        chunk_left: chunk_end - pos,
                    });
                }
                out.grow()?;
            }
            let (ret, consumed) = step(strm, Op::Inflate, flush, &input[pos..chunk_end], out);
            pos += consumed;
            err = ret;
            match (err, zdict) {
                (z::Z_OK | z::Z_BUF_ERROR | z::Z_STREAM_END, _) => {}
                (z::Z_NEED_DICT, Some(dict)) => set_inflate_zdict(strm, dict)?,
                _ => {
                    return Ok(InflateStop {
                        err,
                        pos,
                        chunk_left: chunk_end - pos,
                    })
                }
            }
            if out.room() != 0 && err != z::Z_NEED_DICT {
                break;
            }
        }
        if err == z::Z_STREAM_END || chunk_end == input.len() {
            return Ok(InflateStop {
                err,
                pos,
                chunk_left: chunk_end - pos,
            });
        }
    }
}

/// `zlib.compress(data, level, wbits)`.
pub fn compress(data: &[u8], level: i32, wbits: i32) -> Result<Vec<u8>, Error> {
    let (mut d, err) = Deflater::init(level, DEFLATED, wbits, DEF_MEM_LEVEL, z::Z_DEFAULT_STRATEGY);
    match err {
        z::Z_OK => {}
        z::Z_MEM_ERROR => return Err(Error::memory(err, "Out of memory while compressing data")),
        // CPython blames the level whatever the bad argument was.
        z::Z_STREAM_ERROR => return Err(Error::new(ErrorKind::Zlib, err, "Bad compression level")),
        _ => return Err(Error::zlib(&d.strm, err, "while compressing data")),
    }
    let mut out = Output::new(FIRST_BLOCK, usize::MAX)?;
    match deflate_loop(&mut d.strm, data, z::Z_FINISH, &mut out) {
        Ok(_) => {}
        Err(DeflateFail::Memory(e)) => return Err(e),
        Err(DeflateFail::Stream) => {
            d.end();
            return Err(Error::zlib(
                &d.strm,
                z::Z_STREAM_ERROR,
                "while compressing data",
            ));
        }
    }
    let err = d.end();
    if err != z::Z_OK {
        return Err(Error::zlib(&d.strm, err, "while finishing compression"));
    }
    Ok(out.buf)
}

/// `zlib.decompress(data, wbits, bufsize)`.
pub fn decompress(data: &[u8], wbits: i32, bufsize: i64) -> Result<Vec<u8>, Error> {
    if bufsize < 0 {
        return Err(Error::value("bufsize must be non-negative"));
    }
    let first = usize::try_from(bufsize)
        .unwrap_or(usize::MAX)
        .clamp(1, MAX_INITIAL_BUF_SIZE);
    let mut out = Output::new(first, usize::MAX)?;
    let (mut inf, err) = Inflater::init(wbits);
    match err {
        z::Z_OK => {}
        z::Z_MEM_ERROR => return Err(Error::memory(err, "Out of memory while decompressing data")),
        _ => {
            return Err(Error::zlib(
                &inf.strm,
                err,
                "while preparing to decompress data",
            ))
        }
    }
    let stop = inflate_loop(&mut inf.strm, data, InflateMode::FinishLast, &mut out, None)?;
    match stop.err {
        z::Z_STREAM_END => {}
        z::Z_MEM_ERROR => {
            return Err(Error::memory(
                stop.err,
                "Out of memory while decompressing data",
            ))
        }
        // Z_OK/Z_BUF_ERROR here mean the input ended before the stream did.
        err => return Err(Error::zlib(&inf.strm, err, "while decompressing data")),
    }
    let err = inf.end();
    if err != z::Z_OK {
        return Err(Error::zlib(&inf.strm, err, "while finishing decompression"));
    }
    Ok(out.buf)
}

/// `zlib.Compress`.
pub struct Compressor {
    inner: Deflater,
}

impl Compressor {
    /// `zlib.compressobj(level, method, wbits, memLevel, strategy, zdict)`.
    /// `strategy` is zlib's integer (Z_DEFAULT_STRATEGY = 0 ... Z_FIXED = 4).
    pub fn new(
        level: i32,
        method: i32,
        wbits: i32,
        mem_level: i32,
        strategy: i32,
        zdict: Option<&[u8]>,
    ) -> Result<Self, Error> {
        // CPython checks the length before anything else (OverflowError there;
        // unreachable on wasm32, where no list is that long).
        let zdict_len = match zdict {
            Some(d) => Some(
                u32::try_from(d.len())
                    .map_err(|_| Error::value("zdict length does not fit in an unsigned int"))?,
            ),
            None => None,
        };
        let (mut d, err) = Deflater::init(level, method, wbits, mem_level, strategy);
        match err {
            z::Z_OK => {}
            z::Z_MEM_ERROR => {
                return Err(Error::memory(
                    err,
                    "Can't allocate memory for compression object",
                ))
            }
            z::Z_STREAM_ERROR => return Err(Error::value("Invalid initialization option")),
            _ => {
                return Err(Error::zlib(
                    &d.strm,
                    err,
                    "while creating compression object",
                ))
            }
        }
        if let (Some(dict), Some(len)) = (zdict, zdict_len) {
            // SAFETY: the stream is initialised; `dict` is a live slice of
            // `len` bytes.
            let err = unsafe { z::deflateSetDictionary(&mut *d.strm, dict.as_ptr(), len) };
            match err {
                z::Z_OK => {}
                // e.g. a gzip stream, which cannot carry a dictionary.
                z::Z_STREAM_ERROR => {
                    return Err(Error::new(ErrorKind::Value, err, "Invalid dictionary"))
                }
                _ => return Err(Error::new(ErrorKind::Value, err, "deflateSetDictionary()")),
            }
        }
        Ok(Self { inner: d })
    }

    /// `Compress.compress(data)`.
    pub fn compress(&mut self, data: &[u8]) -> Result<Vec<u8>, Error> {
        let mut out = Output::new(FIRST_BLOCK, usize::MAX)?;
        match deflate_loop(&mut self.inner.strm, data, z::Z_NO_FLUSH, &mut out) {
            Ok(_) => Ok(out.buf),
            Err(DeflateFail::Memory(e)) => Err(e),
            Err(DeflateFail::Stream) => Err(Error::zlib(
                &self.inner.strm,
                z::Z_STREAM_ERROR,
                "while compressing data",
            )),
        }
    }

    /// `Compress.flush(mode)` with zlib's flush value (Z_NO_FLUSH = 0 ...
    /// Z_BLOCK = 5; anything else fails in zlib as it does in CPython).
    pub fn flush(&mut self, mode: i32) -> Result<Vec<u8>, Error> {
        // Flushing with Z_NO_FLUSH is a no-op in CPython, which does not even
        // look at the stream.
        if mode == z::Z_NO_FLUSH {
            return Ok(Vec::new());
        }
        let mut out = Output::new(FIRST_BLOCK, usize::MAX)?;
        let err = match deflate_loop(&mut self.inner.strm, &[], mode, &mut out) {
            Ok(err) => err,
            Err(DeflateFail::Memory(e)) => return Err(e),
            Err(DeflateFail::Stream) => {
                return Err(Error::zlib(
                    &self.inner.strm,
                    z::Z_STREAM_ERROR,
                    "while flushing",
                ))
            }
        };
        if err == z::Z_STREAM_END && mode == z::Z_FINISH {
            // The stream is complete: release zlib's state now, as CPython
            // does; later calls then fail with "inconsistent stream state".
            let err = self.inner.end();
            if err != z::Z_OK {
                return Err(Error::zlib(
                    &self.inner.strm,
                    err,
                    "while finishing compression",
                ));
            }
        } else if err != z::Z_OK && err != z::Z_BUF_ERROR {
            // Z_BUF_ERROR only means there was nothing more to write.
            return Err(Error::zlib(&self.inner.strm, err, "while flushing"));
        }
        Ok(out.buf)
    }

    /// `Compress.copy()`. (`&mut self` because deflateCopy takes a mutable
    /// source pointer, although it only reads it.)
    pub fn copy(&mut self) -> Result<Self, Error> {
        if !self.inner.initialised {
            return Err(Error::new(
                ErrorKind::Value,
                z::Z_STREAM_ERROR,
                "Inconsistent stream state",
            ));
        }
        let mut dest = new_stream();
        // SAFETY: the source stream is initialised; `dest` is writable and at
        // a stable heap address.
        let err = unsafe { z::deflateCopy(&mut *dest, &mut *self.inner.strm) };
        // Only a successful copy owns a state; see Deflater::initialised.
        let copy = Deflater {
            strm: dest,
            initialised: err == z::Z_OK,
        };
        match err {
            z::Z_OK => Ok(Self { inner: copy }),
            z::Z_STREAM_ERROR => Err(Error::new(
                ErrorKind::Value,
                err,
                "Inconsistent stream state",
            )),
            z::Z_MEM_ERROR => Err(Error::memory(
                err,
                "Can't allocate memory for compression object",
            )),
            _ => Err(Error::zlib(
                &self.inner.strm,
                err,
                "while copying compression object",
            )),
        }
    }
}

/// `zlib.Decompress`.
pub struct Decompressor {
    inner: Inflater,
    zdict: Option<Vec<u8>>,
    unused_data: Vec<u8>,
    unconsumed_tail: Vec<u8>,
    eof: bool,
}

impl Decompressor {
    /// `zlib.decompressobj(wbits, zdict)`.
    pub fn new(wbits: i32, zdict: Option<Vec<u8>>) -> Result<Self, Error> {
        let (mut inf, err) = Inflater::init(wbits);
        match err {
            z::Z_OK => {}
            z::Z_STREAM_ERROR => return Err(Error::value("Invalid initialization option")),
            z::Z_MEM_ERROR => {
                return Err(Error::memory(
                    err,
                    "Can't allocate memory for decompression object",
                ))
            }
            _ => {
                return Err(Error::zlib(
                    &inf.strm,
                    err,
                    "while creating decompression object",
                ))
            }
        }
        // A raw stream has no header to ask for the dictionary, so it is
        // installed now; other streams get it on Z_NEED_DICT.
        if let (Some(dict), true) = (&zdict, wbits < 0) {
            set_inflate_zdict(&mut inf.strm, dict)?;
        }
        Ok(Self {
            inner: inf,
            zdict,
            unused_data: Vec::new(),
            unconsumed_tail: Vec::new(),
            eof: false,
        })
    }

    /// `Decompress.unused_data`.
    pub fn unused_data(&self) -> &[u8] {
        &self.unused_data
    }

    /// `Decompress.unconsumed_tail`.
    pub fn unconsumed_tail(&self) -> &[u8] {
        &self.unconsumed_tail
    }

    /// `Decompress.eof`.
    pub fn eof(&self) -> bool {
        self.eof
    }

    /// CPython's `save_unconsumed_input()`: after the end of the stream the
    /// rest of the input is appended to `unused_data`; input left because of
    /// the output limit becomes `unconsumed_tail`. Like CPython, the tail is
    /// only rewritten when input is left in the chunk or the previous tail was
    /// not empty (so after the end of the stream it may repeat `unused_data`).
    fn save_unconsumed_input(
        &mut self,
        data: &[u8],
        stop: &InflateStop,
        tail_was_empty: bool,
    ) -> Result<(), Error> {
        let rest = &data[stop.pos..];
        let mut chunk_left = stop.chunk_left;
        if stop.err == z::Z_STREAM_END && chunk_left > 0 {
            self.unused_data
                .try_reserve(rest.len())
                .map_err(|_| Error::no_memory())?;
            self.unused_data.extend_from_slice(rest);
            chunk_left = 0;
        }
        if chunk_left > 0 || !tail_was_empty {
            let mut tail = Vec::new();
            tail.try_reserve_exact(rest.len())
                .map_err(|_| Error::no_memory())?;
            tail.extend_from_slice(rest);
            self.unconsumed_tail = tail;
        }
        Ok(())
    }

    /// `Decompress.decompress(data, max_length)`; 0 means no limit.
    pub fn decompress(&mut self, data: &[u8], max_length: i64) -> Result<Vec<u8>, Error> {
        if max_length < 0 {
            return Err(Error::value("max_length must be non-negative"));
        }
        let limit = match max_length {
            0 => usize::MAX,
            n => usize::try_from(n).unwrap_or(usize::MAX),
        };
        let mut out = Output::new(FIRST_BLOCK, limit)?;
        let stop = inflate_loop(
            &mut self.inner.strm,
            data,
            InflateMode::Sync,
            &mut out,
            self.zdict.as_deref(),
        )?;
        let tail_was_empty = self.unconsumed_tail.is_empty();
        self.save_unconsumed_input(data, &stop, tail_was_empty)?;
        match stop.err {
            // CPython keeps the zlib state until flush() (old behaviour).
            z::Z_STREAM_END => self.eof = true,
            // Z_BUF_ERROR: the output was full and there was nothing more.
            z::Z_OK | z::Z_BUF_ERROR => {}
            err => {
                return Err(Error::zlib(
                    &self.inner.strm,
                    err,
                    "while decompressing data",
                ))
            }
        }
        Ok(out.buf)
    }

    /// `Decompress.flush(length)`: decompresses `unconsumed_tail` with no
    /// output limit. Like CPython it reports no error for a truncated or
    /// corrupt stream, only returning what could be decompressed.
    pub fn flush(&mut self, length: i64) -> Result<Vec<u8>, Error> {
        if length <= 0 {
            return Err(Error::value("length must be greater than zero"));
        }
        let first = usize::try_from(length)
            .unwrap_or(usize::MAX)
            .min(MAX_INITIAL_BUF_SIZE);
        let mut out = Output::new(first, usize::MAX)?;
        // CPython's flush installs no dictionary: Z_NEED_DICT just stops it.
        let stop = inflate_loop(
            &mut self.inner.strm,
            &self.unconsumed_tail,
            InflateMode::FinishLast,
            &mut out,
            None,
        )?;
        let data = core::mem::take(&mut self.unconsumed_tail);
        let tail_was_empty = data.is_empty();
        if let Err(e) = self.save_unconsumed_input(&data, &stop, tail_was_empty) {
            self.unconsumed_tail = data;
            return Err(e);
        }
        if stop.err == z::Z_STREAM_END {
            self.eof = true;
            let err = self.inner.end();
            if err != z::Z_OK {
                return Err(Error::zlib(
                    &self.inner.strm,
                    err,
                    "while finishing decompression",
                ));
            }
        }
        Ok(out.buf)
    }

    /// `Decompress.copy()`.
    /// (`&mut self` because of the `next_out` work-around below.)
    pub fn copy(&mut self) -> Result<Self, Error> {
        if !self.inner.initialised {
            return Err(Error::new(
                ErrorKind::Value,
                z::Z_STREAM_ERROR,
                "Inconsistent stream state",
            ));
        }
        let mut dest = new_stream();
        // Unlike C zlib, zlib-rs's inflateCopy refuses a source whose
        // `next_out` is null, which ours always is between calls (see `step`).
        // A dangling, non-null pointer with no room behind it satisfies the
        // check; nothing is ever written through it.
        let src = &mut *self.inner.strm;
        src.next_out = ptr::NonNull::<u8>::dangling().as_ptr();
        src.avail_out = 0;
        // SAFETY: the source stream is initialised and only read; `dest` is
        // writable and at a stable heap address.
        let err = unsafe { z::inflateCopy(&mut *dest, &*src) };
        // Neither stream may keep the dangling pointer.
        src.next_out = ptr::null_mut();
        dest.next_out = ptr::null_mut();
        // Only a successful copy owns a state; see Deflater::initialised.
        let copy = Inflater {
            strm: dest,
            initialised: err == z::Z_OK,
        };
        match err {
            z::Z_OK => Ok(Self {
                inner: copy,
                zdict: self.zdict.clone(),
                unused_data: self.unused_data.clone(),
                unconsumed_tail: self.unconsumed_tail.clone(),
                eof: self.eof,
            }),
            z::Z_STREAM_ERROR => Err(Error::new(
                ErrorKind::Value,
                err,
                "Inconsistent stream state",
            )),
            z::Z_MEM_ERROR => Err(Error::memory(
                err,
                "Can't allocate memory for decompression object",
            )),
            _ => Err(Error::zlib(
                &self.inner.strm,
                err,
                "while copying decompression object",
            )),
        }
    }
}
