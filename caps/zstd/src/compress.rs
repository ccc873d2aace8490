//! Compression: the `compressor` resource and one-shot `compress`.
//!
//! ruzstd's encoder (`FrameCompressor`) only writes whole frames from a
//! reader, always with a checksum (with its `hash` feature) and never with a
//! content size or dictionary ID. CPython needs streaming with block flushes
//! and control over those header fields, so frames are assembled here:
//! the header and checksum are written by this module, and ruzstd is asked
//! to compress one block's worth of input (at most 128 KiB) at a time, as a
//! frame of its own, whose blocks are copied into the frame being built.
//!
//! This is sound because each piece ruzstd compresses is self-contained:
//! - its match finder is reset for every frame, and its window is one
//!   128 KiB slice anyway, so it never refers to data before the piece;
//! - it always writes offsets as plain values (`offset + 3`, no repeat-offset
//!   codes), so the decoder's offset history does not matter;
//! - it always describes new FSE tables (never "repeat"), and its Huffman
//!   table is reset for every frame, so the first block of a piece never
//!   uses "treeless" literals that would refer to an earlier block's table.
//!
//! Compressing each piece as its own ruzstd frame costs nothing in ratio for
//! the same reason (ruzstd only matches within the current 128 KiB).

use std::hash::Hasher as _;
use std::io::Cursor;

use ruzstd::encoding::{CompressionLevel, FrameCompressor, MatchGeneratorDriver};
use twox_hash::XxHash64;

use crate::dict::checked_id;
use crate::error::{invalid, new as error};
use crate::frame::{blocks_of_frame, write_header, BlockHeader, BlockKind, MAX_BLOCK_SIZE};
use crate::{CompressOptions, Dictionary, EndDirective, Error, ErrorKind, LevelRange};

/// libzstd's level range (`ZSTD_minCLevel()`, `ZSTD_maxCLevel()`) and
/// `ZSTD_CLEVEL_DEFAULT`.
pub const LEVELS: LevelRange = LevelRange {
    min: -131_072,
    max: 22,
    default_level: 3,
};

/// The zstd level the output of any requested level resembles. ruzstd
/// implements `Uncompressed` (stored blocks, which no zstd level means) and
/// `Fastest` (about level 1); `Default`, `Better` and `Best` are declared
/// but panic with `unimplemented!()`. So every level maps to `Fastest`.
pub fn effective_level(_level: i32) -> i32 {
    1
}

/// An empty raw block marked last: ends a frame whose data is all written.
const EMPTY_LAST_BLOCK: BlockHeader = BlockHeader {
    last: true,
    kind: BlockKind::Raw,
    size: 0,
};

/// Compresses pieces of at most 128 KiB into blocks with ruzstd.
struct BlockEncoder {
    inner: FrameCompressor<Cursor<Vec<u8>>, Vec<u8>, MatchGeneratorDriver>,
    /// Input and output buffers handed back and forth to `inner`, kept to
    /// avoid reallocating them for every block.
    spare_in: Vec<u8>,
    spare_out: Vec<u8>,
}

impl BlockEncoder {
    fn new() -> Self {
        BlockEncoder {
            inner: FrameCompressor::new(CompressionLevel::Fastest),
            spare_in: Vec::new(),
            spare_out: Vec::new(),
        }
    }

    /// Appends `piece` (1..=128 KiB bytes) to `out` as one or more blocks,
    /// the final one marked last if `last`.
    fn encode(&mut self, piece: &[u8], last: bool, out: &mut Vec<u8>) -> Result<(), Error> {
        debug_assert!(!piece.is_empty() && piece.len() <= MAX_BLOCK_SIZE);
        let mut src = std::mem::take(&mut self.spare_in);
        src.clear();
        src.extend_from_slice(piece);
        let mut dst = std::mem::take(&mut self.spare_out);
        dst.clear();
        self.inner.set_source(Cursor::new(src));
        self.inner.set_drain(dst);
        // Reading from a Cursor and writing to a Vec cannot fail, so the
        // `unwrap`s inside ruzstd's `compress` cannot fire.
        self.inner.compress();
        if let Some(src) = self.inner.take_source() {
            self.spare_in = src.into_inner();
        }
        let frame = self.inner.take_drain().unwrap_or_default();
        // ruzstd ends a piece of exactly 128 KiB with an extra empty raw
        // block; empty raw blocks carry nothing and are dropped.
        let blocks: Vec<_> = blocks_of_frame(&frame)?
            .into_iter()
            .filter(|(b, _)| !(b.kind == BlockKind::Raw && b.size == 0))
            .collect();
        let n = blocks.len();
        if n == 0 {
            return Err(error(
                ErrorKind::Internal,
                "ruzstd wrote no block for non-empty input",
            ));
        }
        for (i, (mut block, body)) in blocks.into_iter().enumerate() {
            block.last = last && i + 1 == n;
            out.extend_from_slice(&block.encode());
            out.extend_from_slice(body);
        }
        self.spare_out = frame;
        Ok(())
    }
}

/// State of the `compressor` resource.
pub struct StreamCompressor {
    checksum: bool,
    content_size: bool,
    /// Written into frame headers; 0 for none.
    dict_id: u32,
    encoder: BlockEncoder,
    /// Input of the open frame not yet compressed; at most 128 KiB after
    /// each call, so blocks fall on fixed 128 KiB boundaries whatever sizes
    /// the data arrives in (until a `flush-block`).
    pending: Vec<u8>,
    /// Whether a call has started the current frame. Like libzstd, only a
    /// frame that one `flush-frame` call produces whole knows its size.
    frame_begun: bool,
    /// Whether the open frame's header has been written (it is delayed
    /// until the first block, or a flush).
    header_written: bool,
    /// Input bytes in the open frame so far.
    frame_input: u64,
    hasher: XxHash64,
    pledged: Option<u64>,
    last_mode: EndDirective,
}

impl StreamCompressor {
    pub fn new(options: &CompressOptions, dict: Option<&Dictionary>) -> Result<Self, Error> {
        let dict_id = match dict {
            Some(d) => checked_id(d)?,
            None => 0,
        };
        Ok(StreamCompressor {
            checksum: options.checksum,
            content_size: options.content_size,
            dict_id: if options.dictionary_id { dict_id } else { 0 },
            encoder: BlockEncoder::new(),
            pending: Vec::new(),
            frame_begun: false,
            header_written: false,
            frame_input: 0,
            hasher: XxHash64::with_seed(0),
            pledged: None,
            last_mode: EndDirective::FlushFrame,
        })
    }

    pub fn last_mode(&self) -> EndDirective {
        self.last_mode
    }

    pub fn set_pledged_input_size(&mut self, size: Option<u64>) -> Result<(), Error> {
        if self.last_mode != EndDirective::FlushFrame {
            return Err(invalid(
                "set_pledged_input_size() must be called when last_mode == FLUSH_FRAME",
            ));
        }
        self.pledged = size;
        Ok(())
    }

    pub fn flush(&mut self, mode: EndDirective) -> Result<Vec<u8>, Error> {
        if mode == EndDirective::Continue {
            return Err(invalid("flush mode must be FLUSH_BLOCK or FLUSH_FRAME"));
        }
        self.compress(&[], mode)
    }

    pub fn compress(&mut self, data: &[u8], mode: EndDirective) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        match self.compress_into(data, mode, &mut out) {
            Ok(()) => {
                self.last_mode = mode;
                Ok(out)
            }
            Err(e) => {
                // Like CPython, which resets the zstd session on an error:
                // the frame is abandoned and the next call starts a new one.
                self.end_frame();
                self.last_mode = EndDirective::FlushFrame;
                Err(e)
            }
        }
    }

    fn compress_into(
        &mut self,
        data: &[u8],
        mode: EndDirective,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let total = self.frame_input + data.len() as u64;
        if let Some(pledged) = self.pledged {
            if total > pledged || (mode == EndDirective::FlushFrame && total != pledged) {
                return Err(error(
                    ErrorKind::WrongInputSize,
                    format!("frame input is {total} bytes but {pledged} were pledged"),
                ));
            }
        }
        if mode == EndDirective::FlushFrame && !self.frame_begun {
            // This call is the whole frame: its size can go in the header.
            self.write_header(out, Some(total));
        }
        self.frame_begun = true;
        self.frame_input = total;
        if self.checksum {
            self.hasher.write(data);
        }
        self.feed(data, out)?;
        match mode {
            EndDirective::Continue => {}
            EndDirective::FlushBlock => {
                // libzstd writes the header even when there is no data yet.
                self.write_header(out, None);
                self.emit_pending(false, out)?;
            }
            EndDirective::FlushFrame => {
                // Not out yet if every earlier call of this frame was an
                // empty `continue`.
                self.write_header(out, None);
                if self.pending.is_empty() {
                    out.extend_from_slice(&EMPTY_LAST_BLOCK.encode());
                } else {
                    self.emit_pending(true, out)?;
                }
                if self.checksum {
                    // The content checksum is the low 32 bits of XXH64.
                    out.extend_from_slice(&(self.hasher.finish() as u32).to_le_bytes());
                }
                self.end_frame();
            }
        }
        Ok(())
    }

    /// Buffers `data`, compressing every complete 128 KiB block except the
    /// last one (which a later flush may still have to mark as last).
    fn feed(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        if !self.pending.is_empty() || data.len() <= MAX_BLOCK_SIZE {
            let take = (MAX_BLOCK_SIZE - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if data.is_empty() {
                return Ok(());
            }
            // `pending` is a full block and more follows: it is not last.
            self.emit_pending(false, out)?;
        }
        // Compress straight from `data` rather than copying it to `pending`.
        while data.len() > MAX_BLOCK_SIZE {
            self.write_header(out, None);
            self.encoder.encode(&data[..MAX_BLOCK_SIZE], false, out)?;
            data = &data[MAX_BLOCK_SIZE..];
        }
        self.pending.extend_from_slice(data);
        Ok(())
    }

    fn emit_pending(&mut self, last: bool, out: &mut Vec<u8>) -> Result<(), Error> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.write_header(out, None);
        self.encoder.encode(&self.pending, last, out)?;
        self.pending.clear();
        Ok(())
    }

    /// Writes the open frame's header unless it is out already. `known_size`
    /// is the frame's total input when the caller knows it; a pledged size
    /// is used otherwise.
    fn write_header(&mut self, out: &mut Vec<u8>, known_size: Option<u64>) {
        if self.header_written {
            return;
        }
        let content_size = if self.content_size {
            self.pledged.or(known_size)
        } else {
            None
        };
        write_header(out, content_size, self.dict_id, self.checksum);
        self.header_written = true;
    }

    fn end_frame(&mut self) {
        self.pending.clear();
        self.frame_begun = false;
        self.header_written = false;
        self.frame_input = 0;
        self.hasher = XxHash64::with_seed(0);
        self.pledged = None;
    }
}

/// Options of the one-shot `compress`: zstd's defaults.
pub fn default_options(level: i32) -> CompressOptions {
    CompressOptions {
        level,
        checksum: false,
        content_size: true,
        dictionary_id: true,
    }
}

/// One-shot `compress`: `data` as a single frame.
pub fn compress(data: &[u8], level: i32, dict: Option<&Dictionary>) -> Result<Vec<u8>, Error> {
    StreamCompressor::new(&default_options(level), dict)?.compress(data, EndDirective::FlushFrame)
}
