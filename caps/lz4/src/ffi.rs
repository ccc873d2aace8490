//! The part of liblz4 1.10.0's C API this cap calls, declared from `lz4.h`, `lz4hc.h`
//! and `lz4frame.h`. lz4-sys compiles and links the library; its own declarations
//! are not used because they model `blockSizeID` as a Rust enum (a value liblz4 must
//! be able to reject, like 3, would be undefined behaviour) and `compressionLevel` as
//! unsigned (python-lz4 passes negative levels for acceleration).

use std::ffi::{c_char, c_int, c_uint, c_ulonglong, c_void};

/// `LZ4F_VERSION`: the frame API version the contexts are created for.
pub const LZ4F_VERSION: c_uint = 100;

/// `LZ4F_blockSizeID_t` values that have a size.
pub const LZ4F_MAX64KB: c_uint = 4;
pub const LZ4F_MAX256KB: c_uint = 5;
pub const LZ4F_MAX1MB: c_uint = 6;
pub const LZ4F_MAX4MB: c_uint = 7;

/// `LZ4F_frameInfo_t`; every enum is a C `int`-sized value.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct FrameInfo {
    pub block_size_id: c_uint,
    /// 0 linked, 1 independent
    pub block_mode: c_uint,
    pub content_checksum_flag: c_uint,
    /// 0 a frame, 1 a skippable frame
    pub frame_type: c_uint,
    pub content_size: c_ulonglong,
    pub dict_id: c_uint,
    pub block_checksum_flag: c_uint,
}

/// `LZ4F_preferences_t`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Preferences {
    pub frame_info: FrameInfo,
    pub compression_level: c_int,
    pub auto_flush: c_uint,
    pub favor_dec_speed: c_uint,
    pub reserved: [c_uint; 3],
}

/// `LZ4F_compressOptions_t`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct CompressOptions {
    pub stable_src: c_uint,
    pub reserved: [c_uint; 3],
}

/// `LZ4F_decompressOptions_t`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct DecompressOptions {
    pub stable_dst: c_uint,
    pub skip_checksums: c_uint,
    pub reserved1: c_uint,
    pub reserved0: c_uint,
}

/// Opaque liblz4 states.
#[repr(C)]
pub struct Stream(c_void);
#[repr(C)]
pub struct StreamHc(c_void);
#[repr(C)]
pub struct Cctx(c_void);
#[repr(C)]
pub struct Dctx(c_void);

extern "C" {
    pub fn LZ4_versionNumber() -> c_int;
    pub fn LZ4_versionString() -> *const c_char;
    pub fn LZ4_compressBound(input_size: c_int) -> c_int;

    pub fn LZ4_createStream() -> *mut Stream;
    pub fn LZ4_freeStream(stream: *mut Stream) -> c_int;
    pub fn LZ4_loadDict(stream: *mut Stream, dict: *const c_char, dict_size: c_int) -> c_int;
    pub fn LZ4_compress_fast_continue(
        stream: *mut Stream,
        src: *const c_char,
        dst: *mut c_char,
        src_size: c_int,
        dst_capacity: c_int,
        acceleration: c_int,
    ) -> c_int;

    pub fn LZ4_createStreamHC() -> *mut StreamHc;
    pub fn LZ4_freeStreamHC(stream: *mut StreamHc) -> c_int;
    pub fn LZ4_resetStreamHC_fast(stream: *mut StreamHc, level: c_int);
    pub fn LZ4_loadDictHC(stream: *mut StreamHc, dict: *const c_char, dict_size: c_int) -> c_int;
    pub fn LZ4_compress_HC_continue(
        stream: *mut StreamHc,
        src: *const c_char,
        dst: *mut c_char,
        src_size: c_int,
        dst_capacity: c_int,
    ) -> c_int;

    pub fn LZ4_decompress_safe_usingDict(
        src: *const c_char,
        dst: *mut c_char,
        src_size: c_int,
        dst_capacity: c_int,
        dict: *const c_char,
        dict_size: c_int,
    ) -> c_int;

    pub fn LZ4F_isError(code: usize) -> c_uint;
    pub fn LZ4F_getErrorName(code: usize) -> *const c_char;

    pub fn LZ4F_compressFrameBound(src_size: usize, prefs: *const Preferences) -> usize;
    pub fn LZ4F_compressFrame(
        dst: *mut c_void,
        dst_capacity: usize,
        src: *const c_void,
        src_size: usize,
        prefs: *const Preferences,
    ) -> usize;

    pub fn LZ4F_createCompressionContext(cctx: *mut *mut Cctx, version: c_uint) -> usize;
    pub fn LZ4F_freeCompressionContext(cctx: *mut Cctx) -> usize;
    pub fn LZ4F_compressBegin(
        cctx: *mut Cctx,
        dst: *mut c_void,
        dst_capacity: usize,
        prefs: *const Preferences,
    ) -> usize;
    pub fn LZ4F_compressBound(src_size: usize, prefs: *const Preferences) -> usize;
    pub fn LZ4F_compressUpdate(
        cctx: *mut Cctx,
        dst: *mut c_void,
        dst_capacity: usize,
        src: *const c_void,
        src_size: usize,
        options: *const CompressOptions,
    ) -> usize;
    pub fn LZ4F_flush(
        cctx: *mut Cctx,
        dst: *mut c_void,
        dst_capacity: usize,
        options: *const CompressOptions,
    ) -> usize;
    pub fn LZ4F_compressEnd(
        cctx: *mut Cctx,
        dst: *mut c_void,
        dst_capacity: usize,
        options: *const CompressOptions,
    ) -> usize;

    pub fn LZ4F_createDecompressionContext(dctx: *mut *mut Dctx, version: c_uint) -> usize;
    pub fn LZ4F_freeDecompressionContext(dctx: *mut Dctx) -> usize;
    pub fn LZ4F_resetDecompressionContext(dctx: *mut Dctx);
    pub fn LZ4F_getFrameInfo(
        dctx: *mut Dctx,
        info: *mut FrameInfo,
        src: *const c_void,
        src_size: *mut usize,
    ) -> usize;
    pub fn LZ4F_decompress(
        dctx: *mut Dctx,
        dst: *mut c_void,
        dst_size: *mut usize,
        src: *const c_void,
        src_size: *mut usize,
        options: *const DecompressOptions,
    ) -> usize;
}

/// lz4-sys compiles liblz4 for wasm32-wasi* with its `wasm-shim/` headers, which
/// send the library's malloc/calloc/free and mem* calls to these functions; lz4-sys
/// defines them only for wasm32-unknown-unknown, so on WASI the cap provides them,
/// over the wasi-libc that Rust's std links anyway.
#[cfg(target_os = "wasi")]
mod wasm_shim {
    use std::ffi::{c_int, c_void};

    extern "C" {
        fn malloc(size: usize) -> *mut c_void;
        fn calloc(count: usize, size: usize) -> *mut c_void;
        fn free(ptr: *mut c_void);
        fn memcmp(a: *const c_void, b: *const c_void, n: usize) -> c_int;
        fn memcpy(dst: *mut c_void, src: *const c_void, n: usize) -> *mut c_void;
        fn memmove(dst: *mut c_void, src: *const c_void, n: usize) -> *mut c_void;
        fn memset(dst: *mut c_void, c: c_int, n: usize) -> *mut c_void;
    }

    #[no_mangle]
    pub unsafe extern "C" fn rust_lz4_wasm_shim_malloc(size: usize) -> *mut c_void {
        unsafe { malloc(size) }
    }
    #[no_mangle]
    pub unsafe extern "C" fn rust_lz4_wasm_shim_calloc(count: usize, size: usize) -> *mut c_void {
        unsafe { calloc(count, size) }
    }
    #[no_mangle]
    pub unsafe extern "C" fn rust_lz4_wasm_shim_free(ptr: *mut c_void) {
        unsafe { free(ptr) }
    }
    #[no_mangle]
    pub unsafe extern "C" fn rust_lz4_wasm_shim_memcmp(
        a: *const c_void,
        b: *const c_void,
        n: usize,
    ) -> c_int {
        unsafe { memcmp(a, b, n) }
    }
    #[no_mangle]
    pub unsafe extern "C" fn rust_lz4_wasm_shim_memcpy(
        dst: *mut c_void,
        src: *const c_void,
        n: usize,
    ) -> *mut c_void {
        unsafe { memcpy(dst, src, n) }
    }
    #[no_mangle]
    pub unsafe extern "C" fn rust_lz4_wasm_shim_memmove(
        dst: *mut c_void,
        src: *const c_void,
        n: usize,
    ) -> *mut c_void {
        unsafe { memmove(dst, src, n) }
    }
    #[no_mangle]
    pub unsafe extern "C" fn rust_lz4_wasm_shim_memset(
        dst: *mut c_void,
        c: c_int,
        n: usize,
    ) -> *mut c_void {
        unsafe { memset(dst, c, n) }
    }
}
