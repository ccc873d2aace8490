//! Pylon zstd cap: the `pylon:zstd` WIT package implemented with the
//! safe-Rust `mzstd` crate.
//!
//! This file is only the WIT boundary. The work is in [`compress`],
//! [`decompress`], [`frame`] (the frame format pieces read and written here)
//! and [`dict`], which are plain Rust and tested natively with `cargo test`.

use std::cell::RefCell;

wit_bindgen::generate!({
    path: "wit",
    world: "zstd-cap",
    // Lets results (including `error`) be compared, in tests and in code.
    additional_derives: [PartialEq, Eq],
});

pub mod compress;
pub mod decompress;
pub mod dict;
pub mod error;
pub mod frame;

pub use exports::pylon::zstd::zstd::{
    CompressOptions, Dictionary, EndDirective, Error, ErrorKind, FrameParams, LevelRange,
};

use exports::pylon::zstd::zstd::{
    Compressor, Decompressor, Guest, GuestCompressor, GuestDecompressor,
};

/// The type behind the exported `compressor` resource.
///
/// Resource methods get `&self`, so the state sits in a `RefCell`; a component
/// instance is single-threaded and no method re-enters another, so a borrow
/// can never already be held.
pub struct CompressorResource {
    state: RefCell<compress::StreamCompressor>,
}

impl GuestCompressor for CompressorResource {
    fn create(options: CompressOptions, dict: Option<Dictionary>) -> Result<Compressor, Error> {
        let state = compress::StreamCompressor::new(&options, dict.as_ref())?;
        Ok(Compressor::new(CompressorResource {
            state: RefCell::new(state),
        }))
    }

    fn compress(&self, data: Vec<u8>, mode: EndDirective) -> Result<Vec<u8>, Error> {
        self.state.borrow_mut().compress(&data, mode)
    }

    fn flush(&self, mode: EndDirective) -> Result<Vec<u8>, Error> {
        self.state.borrow_mut().flush(mode)
    }

    fn last_mode(&self) -> EndDirective {
        self.state.borrow().last_mode()
    }

    fn set_pledged_input_size(&self, size: Option<u64>) -> Result<(), Error> {
        self.state.borrow_mut().set_pledged_input_size(size)
    }
}

/// The type behind the exported `decompressor` resource (see
/// [`CompressorResource`] for the `RefCell`).
pub struct DecompressorResource {
    state: RefCell<decompress::StreamDecompressor>,
}

impl GuestDecompressor for DecompressorResource {
    fn create(dict: Option<Dictionary>, window_log_max: Option<u8>) -> Result<Decompressor, Error> {
        let state = decompress::StreamDecompressor::new(dict.as_ref(), window_log_max)?;
        Ok(Decompressor::new(DecompressorResource {
            state: RefCell::new(state),
        }))
    }

    fn decompress(&self, data: Vec<u8>, max_length: Option<u64>) -> Result<Vec<u8>, Error> {
        self.state.borrow_mut().decompress(&data, max_length)
    }

    fn eof(&self) -> bool {
        self.state.borrow().eof()
    }

    fn unused_data(&self) -> Vec<u8> {
        self.state.borrow().unused_data()
    }

    fn needs_input(&self) -> bool {
        self.state.borrow().needs_input()
    }
}

// Only exported on wasm: on a native host the export names (which contain
// `:` and `@`) are not valid symbol names for the linker's version script, so
// the native build (used by `cargo test`) checks the glue but exports nothing.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Component;

impl Guest for Component {
    type Compressor = CompressorResource;
    type Decompressor = DecompressorResource;

    fn compress(data: Vec<u8>, level: i32, dict: Option<Dictionary>) -> Result<Vec<u8>, Error> {
        compress::compress(&data, level, dict.as_ref())
    }

    fn decompress(data: Vec<u8>, dict: Option<Dictionary>) -> Result<Vec<u8>, Error> {
        decompress::decompress(&data, dict.as_ref())
    }

    fn frame_info(data: Vec<u8>) -> Result<FrameParams, Error> {
        let (content_size, dictionary_id) = frame::frame_info(&data)?;
        Ok(FrameParams {
            content_size,
            dictionary_id,
        })
    }

    fn frame_size(data: Vec<u8>) -> Result<u64, Error> {
        frame::frame_size(&data)
    }

    fn dictionary_id(dict: Vec<u8>) -> u32 {
        frame::dictionary_id(&dict)
    }

    fn effective_level(level: i32) -> i32 {
        compress::effective_level(level)
    }

    fn level_bounds() -> LevelRange {
        compress::LEVELS
    }
}

#[cfg(target_arch = "wasm32")]
export!(Component);
