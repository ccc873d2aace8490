//! Pylon zlib cap: exports `pylon:zlib/zlib@0.1.0` (world `zlib-cap`).
//!
//! The work is done in [`engine`], which reproduces CPython's
//! `Modules/zlibmodule.c` on top of zlib-rs (through its zlib C API) and is
//! tested natively. This file only maps WIT types to and from it.

pub mod engine;

use std::cell::RefCell;

wit_bindgen::generate!({
    world: "zlib-cap",
    path: "wit",
});

use exports::pylon::zlib::zlib as wit;

/// The component; all state lives in the resources.
struct Component;

impl From<engine::Error> for wit::Error {
    fn from(e: engine::Error) -> Self {
        wit::Error {
            kind: match e.kind {
                engine::ErrorKind::Zlib => wit::ErrorKind::Zlib,
                engine::ErrorKind::Value => wit::ErrorKind::Value,
                engine::ErrorKind::Memory => wit::ErrorKind::Memory,
            },
            code: e.code,
            message: e.message,
        }
    }
}

/// zlib's integer for a strategy (Z_DEFAULT_STRATEGY ... Z_FIXED).
fn strategy_code(s: wit::Strategy) -> i32 {
    match s {
        wit::Strategy::Default => libz_rs_sys::Z_DEFAULT_STRATEGY,
        wit::Strategy::Filtered => libz_rs_sys::Z_FILTERED,
        wit::Strategy::HuffmanOnly => libz_rs_sys::Z_HUFFMAN_ONLY,
        wit::Strategy::Rle => libz_rs_sys::Z_RLE,
        wit::Strategy::Fixed => libz_rs_sys::Z_FIXED,
    }
}

/// zlib's integer for a flush mode (Z_NO_FLUSH ... Z_BLOCK).
fn flush_code(m: wit::FlushMode) -> i32 {
    match m {
        wit::FlushMode::NoFlush => libz_rs_sys::Z_NO_FLUSH,
        wit::FlushMode::PartialFlush => libz_rs_sys::Z_PARTIAL_FLUSH,
        wit::FlushMode::SyncFlush => libz_rs_sys::Z_SYNC_FLUSH,
        wit::FlushMode::FullFlush => libz_rs_sys::Z_FULL_FLUSH,
        wit::FlushMode::Finish => libz_rs_sys::Z_FINISH,
        wit::FlushMode::Block => libz_rs_sys::Z_BLOCK,
    }
}

impl wit::Guest for Component {
    type Compressor = Compressor;
    type Decompressor = Decompressor;

    fn version() -> String {
        engine::version()
    }

    fn crc32(data: Vec<u8>, value: u32) -> u32 {
        engine::crc32(&data, value)
    }

    fn adler32(data: Vec<u8>, value: u32) -> u32 {
        engine::adler32(&data, value)
    }

    fn compress(data: Vec<u8>, level: i32, wbits: i32) -> Result<Vec<u8>, wit::Error> {
        Ok(engine::compress(&data, level, wbits)?)
    }

    fn decompress(data: Vec<u8>, wbits: i32, bufsize: i64) -> Result<Vec<u8>, wit::Error> {
        Ok(engine::decompress(&data, wbits, bufsize)?)
    }
}

// Resource methods get `&self`, hence the RefCells. A component instance runs
// one call at a time and these methods call no imports, so a method can never
// re-enter while a borrow is held: `borrow_mut` cannot fail.

/// The `compressor` resource.
struct Compressor(RefCell<engine::Compressor>);

impl wit::GuestCompressor for Compressor {
    fn create(
        level: i32,
        method: i32,
        wbits: i32,
        mem_level: i32,
        strategy: wit::Strategy,
        zdict: Option<Vec<u8>>,
    ) -> Result<wit::Compressor, wit::Error> {
        let c = engine::Compressor::new(
            level,
            method,
            wbits,
            mem_level,
            strategy_code(strategy),
            zdict.as_deref(),
        )?;
        Ok(wit::Compressor::new(Compressor(RefCell::new(c))))
    }

    fn compress(&self, data: Vec<u8>) -> Result<Vec<u8>, wit::Error> {
        Ok(self.0.borrow_mut().compress(&data)?)
    }

    fn flush(&self, mode: wit::FlushMode) -> Result<Vec<u8>, wit::Error> {
        Ok(self.0.borrow_mut().flush(flush_code(mode))?)
    }

    fn copy(&self) -> Result<wit::Compressor, wit::Error> {
        let c = self.0.borrow_mut().copy()?;
        Ok(wit::Compressor::new(Compressor(RefCell::new(c))))
    }
}

/// The `decompressor` resource.
struct Decompressor(RefCell<engine::Decompressor>);

impl wit::GuestDecompressor for Decompressor {
    fn create(wbits: i32, zdict: Option<Vec<u8>>) -> Result<wit::Decompressor, wit::Error> {
        let d = engine::Decompressor::new(wbits, zdict)?;
        Ok(wit::Decompressor::new(Decompressor(RefCell::new(d))))
    }

    fn decompress(&self, data: Vec<u8>, max_length: i64) -> Result<Vec<u8>, wit::Error> {
        Ok(self.0.borrow_mut().decompress(&data, max_length)?)
    }

    fn flush(&self, length: i64) -> Result<Vec<u8>, wit::Error> {
        Ok(self.0.borrow_mut().flush(length)?)
    }

    fn copy(&self) -> Result<wit::Decompressor, wit::Error> {
        let d = self.0.borrow_mut().copy()?;
        Ok(wit::Decompressor::new(Decompressor(RefCell::new(d))))
    }

    fn unused_data(&self) -> Vec<u8> {
        self.0.borrow().unused_data().to_vec()
    }

    fn unconsumed_tail(&self) -> Vec<u8> {
        self.0.borrow().unconsumed_tail().to_vec()
    }

    fn eof(&self) -> bool {
        self.0.borrow().eof()
    }
}

// The export glue names its symbols after the WIT functions
// (`pylon:zlib/zlib@0.1.0#compress`), which a native linker's version script
// rejects. Natively the crate is only used by `cargo test` through
// [`engine`], so the glue is emitted for wasm only.
#[cfg(target_arch = "wasm32")]
export!(Component);
