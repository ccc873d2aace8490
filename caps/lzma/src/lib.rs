//! Pylon lzma cap: exports `pylon:lzma/lzma@0.1.0` (world `lzma-cap`), CPython's
//! `_lzma` semantics over xz's liblzma. The stream logic follows
//! `Modules/_lzmamodule.c` (3.13): which encoder/decoder each format uses, when
//! `needs_input` flips, which liblzma return code becomes which message.

wit_bindgen::generate!({
    world: "lzma-cap",
    path: "wit",
});

use std::alloc::Layout;
use std::cell::RefCell;
use std::ffi::c_void;

use exports::pylon::lzma::lzma as wit;
use liblzma_sys as lz;
use wit::{DecodedFilter, Decompressed, Error, ErrorKind, Filter};

const FORMAT_AUTO: i32 = 0;
const FORMAT_XZ: i32 = 1;
const FORMAT_ALONE: i32 = 2;
const FORMAT_RAW: i32 = 3;
/// CPython's `CHECK_UNKNOWN` (LZMA_CHECK_ID_MAX + 1).
const CHECK_UNKNOWN: i32 = 16;
/// LZMA_FILTERS_MAX.
const FILTERS_MAX: usize = 4;
/// Output grows in chunks of this size (the chunking does not change the bytes).
const CHUNK: usize = 32 * 1024;

fn error(kind: ErrorKind, message: impl Into<String>) -> Error {
    Error {
        kind,
        message: message.into(),
    }
}

/// CPython's `catch_lzma_error`: `Ok` for the codes that are not errors.
fn check(ret: lz::lzma_ret) -> Result<lz::lzma_ret, Error> {
    let message = match ret {
        lz::LZMA_OK | lz::LZMA_GET_CHECK | lz::LZMA_NO_CHECK | lz::LZMA_STREAM_END => {
            return Ok(ret)
        }
        lz::LZMA_UNSUPPORTED_CHECK => "Unsupported integrity check",
        lz::LZMA_MEM_ERROR => return Err(error(ErrorKind::Memory, "")),
        lz::LZMA_MEMLIMIT_ERROR => "Memory usage limit exceeded",
        lz::LZMA_FORMAT_ERROR => "Input format not supported by decoder",
        lz::LZMA_OPTIONS_ERROR => "Invalid or unsupported options",
        lz::LZMA_DATA_ERROR => "Corrupt input data",
        lz::LZMA_BUF_ERROR => "Insufficient buffer space",
        lz::LZMA_PROG_ERROR => "Internal error",
        other => {
            return Err(error(
                ErrorKind::Lzma,
                format!("Unrecognized error from liblzma: {other}"),
            ))
        }
    };
    Err(error(ErrorKind::Lzma, message))
}

/// The C layout of `lzma_options_delta` (liblzma-sys does not bind it).
#[repr(C)]
struct OptionsDelta {
    kind: u32,
    dist: u32,
    reserved_int: [u32; 4],
    reserved_ptr: [*mut c_void; 2],
}

/// Options of one filter, owned here for as long as liblzma reads them.
enum Options {
    Lzma(Box<lz::lzma_options_lzma>),
    Delta(Box<OptionsDelta>),
    Bcj(Box<lz::lzma_options_bcj>),
}

impl Options {
    fn as_ptr(&mut self) -> *mut c_void {
        match self {
            Options::Lzma(o) => (&mut **o as *mut lz::lzma_options_lzma).cast(),
            Options::Delta(o) => (&mut **o as *mut OptionsDelta).cast(),
            Options::Bcj(o) => (&mut **o as *mut lz::lzma_options_bcj).cast(),
        }
    }
}

fn is_bcj(id: u64) -> bool {
    matches!(
        id,
        lz::LZMA_FILTER_X86
            | lz::LZMA_FILTER_POWERPC
            | lz::LZMA_FILTER_IA64
            | lz::LZMA_FILTER_ARM
            | lz::LZMA_FILTER_ARMTHUMB
            | lz::LZMA_FILTER_SPARC
    )
}

/// `lzma_options_lzma` from a preset (CPython: "Invalid compression preset: N" as
/// LZMAError) with the given overrides.
fn lzma_options(f: &Filter) -> Result<Box<lz::lzma_options_lzma>, Error> {
    // SAFETY: lzma_options_lzma is plain data (integers and null pointers); all zero
    // is a valid value for lzma_lzma_preset to fill in.
    let mut o: Box<lz::lzma_options_lzma> = Box::new(unsafe { std::mem::zeroed() });
    // SAFETY: `o` is a valid, writable lzma_options_lzma.
    if unsafe { lz::lzma_lzma_preset(&mut *o, f.preset) } != 0 {
        return Err(error(
            ErrorKind::Lzma,
            format!("Invalid compression preset: {}", f.preset),
        ));
    }
    let set = |field: &mut u32, v: Option<u32>| {
        if let Some(v) = v {
            *field = v;
        }
    };
    set(&mut o.dict_size, f.dict_size);
    set(&mut o.lc, f.lc);
    set(&mut o.lp, f.lp);
    set(&mut o.pb, f.pb);
    set(&mut o.mode, f.mode);
    set(&mut o.nice_len, f.nice_len);
    set(&mut o.mf, f.mf);
    set(&mut o.depth, f.depth);
    Ok(o)
}

fn options_for(f: &Filter) -> Result<Options, Error> {
    match f.id {
        lz::LZMA_FILTER_LZMA1 | lz::LZMA_FILTER_LZMA2 => Ok(Options::Lzma(lzma_options(f)?)),
        lz::LZMA_FILTER_DELTA => Ok(Options::Delta(Box::new(OptionsDelta {
            kind: 0, // LZMA_DELTA_TYPE_BYTE
            dist: f.dist,
            reserved_int: [0; 4],
            reserved_ptr: [std::ptr::null_mut(); 2],
        }))),
        id if is_bcj(id) => Ok(Options::Bcj(Box::new(lz::lzma_options_bcj {
            start_offset: f.start_offset,
        }))),
        id => Err(error(ErrorKind::Value, format!("Invalid filter ID: {id}"))),
    }
}

/// A filter chain as liblzma takes it: the `lzma_filter` array (terminated by
/// LZMA_VLI_UNKNOWN) and the options it points at.
struct Chain {
    filters: Vec<lz::lzma_filter>,
    _options: Vec<Options>,
}

impl Chain {
    fn new(specs: &[Filter]) -> Result<Chain, Error> {
        if specs.len() > FILTERS_MAX {
            return Err(error(
                ErrorKind::Value,
                format!("Too many filters - liblzma supports a maximum of {FILTERS_MAX}"),
            ));
        }
        let mut options = specs.iter().map(options_for).collect::<Result<Vec<_>, _>>()?;
        let mut filters: Vec<lz::lzma_filter> = specs
            .iter()
            .zip(options.iter_mut())
            .map(|(f, o)| lz::lzma_filter {
                id: f.id,
                options: o.as_ptr(),
            })
            .collect();
        filters.push(lz::lzma_filter {
            id: lz::LZMA_VLI_UNKNOWN,
            options: std::ptr::null_mut(),
        });
        Ok(Chain {
            filters,
            _options: options,
        })
    }

    fn as_ptr(&self) -> *const lz::lzma_filter {
        self.filters.as_ptr()
    }
}

/// A zeroed `lzma_stream` (LZMA_STREAM_INIT), boxed: liblzma keeps pointers into it.
fn new_stream() -> Box<lz::lzma_stream> {
    // SAFETY: LZMA_STREAM_INIT is all zeros / null pointers.
    Box::new(unsafe { std::mem::zeroed() })
}

/// Room for at most `CHUNK` more bytes at the end of `out` (bounded by `limit`); the
/// stream's output window is pointed at it.
fn grow_output(strm: &mut lz::lzma_stream, out: &mut Vec<u8>, limit: Option<usize>) {
    let filled = out.len();
    let room = match limit {
        Some(max) => CHUNK.min(max - filled),
        None => CHUNK,
    };
    out.resize(filled + room, 0);
    strm.next_out = out[filled..].as_mut_ptr();
    strm.avail_out = room;
}

struct CompressorState {
    strm: Box<lz::lzma_stream>,
    flushed: bool,
}

pub struct Compressor(RefCell<CompressorState>);

impl Drop for Compressor {
    fn drop(&mut self) {
        // SAFETY: initialised by an encoder in `create`, ended once here.
        unsafe { lz::lzma_end(&mut *self.0.get_mut().strm) };
    }
}

fn encoder(
    strm: &mut lz::lzma_stream,
    format: i32,
    check: i32,
    preset: u32,
    filters: Option<&[Filter]>,
) -> Result<(), Error> {
    match format {
        FORMAT_XZ => {
            let check = if check == -1 { lz::LZMA_CHECK_CRC64 as i32 } else { check };
            let ret = match filters {
                // SAFETY: `strm` is a zeroed stream; the chain outlives the call.
                None => unsafe { lz::lzma_easy_encoder(strm, preset, check as lz::lzma_check) },
                Some(specs) => {
                    let chain = Chain::new(specs)?;
                    unsafe { lz::lzma_stream_encoder(strm, chain.as_ptr(), check as lz::lzma_check) }
                }
            };
            check_ret(ret)
        }
        FORMAT_ALONE => {
            let options = match filters {
                None => lzma_options(&Filter {
                    id: lz::LZMA_FILTER_LZMA1,
                    preset,
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
                })?,
                Some(specs) => {
                    // Every spec is parsed (and so checked) first, as CPython does.
                    Chain::new(specs)?;
                    match specs {
                        [only] if only.id == lz::LZMA_FILTER_LZMA1 => lzma_options(only)?,
                        _ => {
                            return Err(error(
                                ErrorKind::Value,
                                "Invalid filter chain for FORMAT_ALONE - must be a single LZMA1 filter",
                            ))
                        }
                    }
                }
            };
            // SAFETY: `strm` is a zeroed stream; `options` outlives the call.
            check_ret(unsafe { lz::lzma_alone_encoder(strm, &*options) })
        }
        FORMAT_RAW => {
            let Some(specs) = filters else {
                return Err(error(ErrorKind::Value, "Must specify filters for FORMAT_RAW"));
            };
            let chain = Chain::new(specs)?;
            // SAFETY: as above.
            check_ret(unsafe { lz::lzma_raw_encoder(strm, chain.as_ptr()) })
        }
        other => Err(error(
            ErrorKind::Value,
            format!("Invalid container format: {other}"),
        )),
    }
}

fn check_ret(ret: lz::lzma_ret) -> Result<(), Error> {
    check(ret).map(|_| ())
}

impl wit::GuestCompressor for Compressor {
    fn create(
        format: i32,
        check: i32,
        preset: u32,
        filters: Option<Vec<Filter>>,
    ) -> Result<wit::Compressor, Error> {
        let mut strm = new_stream();
        encoder(&mut strm, format, check, preset, filters.as_deref())?;
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
        run_encoder(&mut state.strm, &data, lz::LZMA_RUN)
    }

    fn flush(&self) -> Result<Vec<u8>, Error> {
        let mut state = self.0.borrow_mut();
        if state.flushed {
            return Err(error(ErrorKind::Value, "Repeated call to flush()"));
        }
        state.flushed = true;
        run_encoder(&mut state.strm, &[], lz::LZMA_FINISH)
    }
}

/// CPython's `compress()`: LZMA_RUN until the input is taken, LZMA_FINISH until the
/// stream ends.
fn run_encoder(
    strm: &mut lz::lzma_stream,
    data: &[u8],
    action: lz::lzma_action,
) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    strm.next_in = data.as_ptr();
    strm.avail_in = data.len();
    let result = loop {
        let filled = out.len();
        grow_output(strm, &mut out, None);
        let room = strm.avail_out;
        // SAFETY: an initialised encoder; `data` and `out`'s spare room outlive the call.
        let mut ret = unsafe { lz::lzma_code(strm, action) };
        out.truncate(filled + (room - strm.avail_out));
        if ret == lz::LZMA_BUF_ERROR && data.is_empty() && strm.avail_out > 0 {
            ret = lz::LZMA_OK; // not a real error
        }
        match check(ret) {
            Err(e) => break Err(e),
            Ok(r) => {
                if (action == lz::LZMA_RUN && strm.avail_in == 0)
                    || (action == lz::LZMA_FINISH && r == lz::LZMA_STREAM_END)
                {
                    break Ok(());
                }
            }
        }
    };
    strm.next_in = std::ptr::null();
    strm.next_out = std::ptr::null_mut();
    result.map(|()| out)
}

struct DecompressorState {
    strm: Box<lz::lzma_stream>,
    check: i32,
    eof: bool,
    needs_input: bool,
    /// Input given but not consumed yet: `pending[pending_pos..]`.
    pending: Vec<u8>,
    pending_pos: usize,
    unused_data: Vec<u8>,
}

pub struct Decompressor(RefCell<DecompressorState>);

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: initialised by a decoder in `create`, ended once here.
        unsafe { lz::lzma_end(&mut *self.0.get_mut().strm) };
    }
}

impl wit::GuestDecompressor for Decompressor {
    fn create(
        format: i32,
        memlimit: Option<u64>,
        filters: Option<Vec<Filter>>,
    ) -> Result<wit::Decompressor, Error> {
        let mut strm = new_stream();
        let memlimit = memlimit.unwrap_or(u64::MAX);
        let flags = lz::LZMA_TELL_ANY_CHECK | lz::LZMA_TELL_NO_CHECK;
        let mut check_id = CHECK_UNKNOWN;
        // SAFETY (all arms): `strm` is a zeroed stream; the chain outlives the call.
        let ret = match format {
            FORMAT_AUTO => unsafe { lz::lzma_auto_decoder(&mut *strm, memlimit, flags) },
            FORMAT_XZ => unsafe { lz::lzma_stream_decoder(&mut *strm, memlimit, flags) },
            FORMAT_ALONE => {
                check_id = lz::LZMA_CHECK_NONE as i32;
                unsafe { lz::lzma_alone_decoder(&mut *strm, memlimit) }
            }
            FORMAT_RAW => {
                check_id = lz::LZMA_CHECK_NONE as i32;
                let Some(specs) = filters.as_deref() else {
                    return Err(error(ErrorKind::Value, "Must specify filters for FORMAT_RAW"));
                };
                let chain = Chain::new(specs)?;
                unsafe { lz::lzma_raw_decoder(&mut *strm, chain.as_ptr()) }
            }
            other => {
                return Err(error(
                    ErrorKind::Value,
                    format!("Invalid container format: {other}"),
                ))
            }
        };
        check_ret(ret)?;
        Ok(wit::Decompressor::new(Decompressor(RefCell::new(
            DecompressorState {
                strm,
                check: check_id,
                eof: false,
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
            return Err(error(ErrorKind::Eof, "Already at end of stream"));
        }
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
        strm.next_in = input.as_ptr();
        strm.avail_in = input.len();
        let mut out = Vec::new();
        // CPython's decompress_buf: the output window is checked before the input,
        // since liblzma may hold output it can give without more input.
        let result = loop {
            let filled = out.len();
            grow_output(strm, &mut out, limit);
            let room = strm.avail_out;
            // SAFETY: an initialised decoder; `input` and `out`'s spare room outlive it.
            let mut ret = unsafe { lz::lzma_code(strm, lz::LZMA_RUN) };
            out.truncate(filled + (room - strm.avail_out));
            if ret == lz::LZMA_BUF_ERROR && strm.avail_in == 0 && strm.avail_out > 0 {
                ret = lz::LZMA_OK; // not a real error
            }
            let ret = match check(ret) {
                Ok(r) => r,
                Err(e) => break Err(e),
            };
            if ret == lz::LZMA_GET_CHECK || ret == lz::LZMA_NO_CHECK {
                // SAFETY: an initialised decoder.
                state.check = unsafe { lz::lzma_get_check(strm) } as i32;
            }
            if ret == lz::LZMA_STREAM_END {
                state.eof = true;
                break Ok(false);
            }
            if strm.avail_out == 0 {
                if limit == Some(out.len()) {
                    break Ok(true);
                }
            } else if strm.avail_in == 0 {
                break Ok(false);
            }
        };
        let consumed = input.len() - strm.avail_in;
        strm.next_in = std::ptr::null();
        strm.next_out = std::ptr::null_mut();
        let window_full = result?;
        state.pending_pos += consumed;
        let rest = &state.pending[state.pending_pos..];
        if state.eof {
            state.needs_input = false;
            state.unused_data = rest.to_vec();
        } else if rest.is_empty() {
            // Input used up; with a full window liblzma may still hold output.
            state.needs_input = !window_full;
        } else {
            state.needs_input = false;
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
            check: state.check,
        })
    }
}

// liblzma allocates the options `lzma_properties_decode` returns; this allocator
// (Rust's, with the size kept in front) lets them be freed here.
const HEADER: usize = 16;

extern "C" fn props_alloc(_opaque: *mut c_void, nmemb: usize, size: usize) -> *mut c_void {
    let Some(total) = nmemb
        .checked_mul(size)
        .and_then(|n| n.checked_add(HEADER))
    else {
        return std::ptr::null_mut();
    };
    let Ok(layout) = Layout::from_size_align(total, HEADER) else {
        return std::ptr::null_mut();
    };
    // SAFETY: `layout` has a non-zero size.
    let base = unsafe { std::alloc::alloc_zeroed(layout) };
    if base.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: `base` has room for the header, which is aligned for usize.
    unsafe {
        base.cast::<usize>().write(total);
        base.add(HEADER).cast()
    }
}

extern "C" fn props_free(_opaque: *mut c_void, ptr: *mut c_void) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: `ptr` came from `props_alloc`, so its header holds the total size.
    unsafe {
        let base = ptr.cast::<u8>().sub(HEADER);
        let total = base.cast::<usize>().read();
        std::alloc::dealloc(base, Layout::from_size_align_unchecked(total, HEADER));
    }
}

fn props_allocator() -> lz::lzma_allocator {
    lz::lzma_allocator {
        alloc: Some(props_alloc),
        free: Some(props_free),
        opaque: std::ptr::null_mut(),
    }
}

struct Component;

impl wit::Guest for Component {
    type Compressor = Compressor;
    type Decompressor = Decompressor;

    fn is_check_supported(check: i32) -> bool {
        // CPython passes the C int as liblzma's enum (an unsigned on this target).
        // SAFETY: a pure function of its argument.
        unsafe { lz::lzma_check_is_supported(check as lz::lzma_check) != 0 }
    }

    fn encode_filter_properties(filter: Filter) -> Result<Vec<u8>, Error> {
        let chain = Chain::new(std::slice::from_ref(&filter))?;
        let f = &chain.filters[0];
        let mut size = 0u32;
        // SAFETY: `f` points at options owned by `chain`.
        check_ret(unsafe { lz::lzma_properties_size(&mut size, f) })?;
        let mut out = vec![0u8; size as usize];
        // SAFETY: `out` has the size liblzma asked for.
        check_ret(unsafe { lz::lzma_properties_encode(f, out.as_mut_ptr()) })?;
        Ok(out)
    }

    fn decode_filter_properties(id: u64, props: Vec<u8>) -> Result<DecodedFilter, Error> {
        let mut f = lz::lzma_filter {
            id,
            options: std::ptr::null_mut(),
        };
        let allocator = props_allocator();
        // SAFETY: liblzma allocates `f.options` with `allocator`; freed below.
        check_ret(unsafe {
            lz::lzma_properties_decode(&mut f, &allocator, props.as_ptr(), props.len())
        })?;
        let mut out = DecodedFilter {
            id,
            lc: None,
            lp: None,
            pb: None,
            dict_size: None,
            dist: None,
            start_offset: None,
        };
        let options = f.options;
        // SAFETY: for each id, liblzma allocated the matching options struct (or
        // none, for a BCJ filter without a start offset).
        unsafe {
            match id {
                lz::LZMA_FILTER_LZMA1 => {
                    let o = &*options.cast::<lz::lzma_options_lzma>();
                    out.lc = Some(o.lc);
                    out.lp = Some(o.lp);
                    out.pb = Some(o.pb);
                    out.dict_size = Some(o.dict_size);
                }
                lz::LZMA_FILTER_LZMA2 => {
                    out.dict_size = Some((*options.cast::<lz::lzma_options_lzma>()).dict_size);
                }
                lz::LZMA_FILTER_DELTA => {
                    out.dist = Some((*options.cast::<OptionsDelta>()).dist);
                }
                id if is_bcj(id) => {
                    if !options.is_null() {
                        out.start_offset =
                            Some((*options.cast::<lz::lzma_options_bcj>()).start_offset);
                    }
                }
                _ => {}
            }
            props_free(std::ptr::null_mut(), options);
        }
        if !(id == lz::LZMA_FILTER_LZMA1
            || id == lz::LZMA_FILTER_LZMA2
            || id == lz::LZMA_FILTER_DELTA
            || is_bcj(id))
        {
            return Err(error(ErrorKind::Value, format!("Invalid filter ID: {id}")));
        }
        Ok(out)
    }
}

export!(Component);
