//! Decompression: the `decompressor` resource and one-shot `decompress`.
//!
//! ruzstd's `FrameDecoder` reads headers and blocks from an `io::Read` and
//! fails, with its state half-updated, if the reader runs dry in the middle.
//! Input arrives here in arbitrary pieces, so it is buffered, and ruzstd is
//! only handed a frame header or a block once all of its bytes are present
//! (the layout is read by `frame.rs`). Output is taken from ruzstd after each
//! block; ruzstd keeps the frame's last `Window_Size` bytes until the frame
//! ends (it needs them for back-references and offers no way to read them
//! without removing them), so that much output lags behind the input.

use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

use crate::dict::decoder_dict;
use crate::error::{corrupt, dictionary as dict_error, internal, invalid, new as error, TRUNCATED};
use crate::frame::{
    block_too_large, parse_header, BlockHeader, Header, ZstdHeader, BLOCK_HEADER_LEN,
};
use crate::{Dictionary, Error, ErrorKind};

/// libzstd's default `ZSTD_d_windowLogMax` (`ZSTD_WINDOWLOG_LIMIT_DEFAULT`).
const DEFAULT_WINDOW_LOG_MAX: u8 = 27;
/// Smallest and largest `window-log-max` libzstd accepts on 64-bit hosts.
const WINDOW_LOG_RANGE: std::ops::RangeInclusive<u8> = 10..=31;

enum Phase {
    /// Waiting for a frame header.
    Header,
    /// Inside a zstd frame, before its next block.
    Blocks(ZstdHeader),
    /// Inside a skippable frame, this many bytes before its end.
    Skip(u64),
    /// The frame is complete (its output may not all be handed out yet).
    Done,
}

/// Decodes one frame at a time from input handed to it in pieces.
struct FrameState {
    decoder: FrameDecoder,
    /// ID of the dictionary registered with `decoder` (0 for raw content).
    dict_id: Option<u32>,
    max_window: u64,
    phase: Phase,
    /// Output bytes taken from `decoder` for the current frame.
    produced: u64,
}

impl FrameState {
    fn new(dict: Option<&Dictionary>, window_log_max: Option<u8>) -> Result<Self, Error> {
        let log = window_log_max.unwrap_or(DEFAULT_WINDOW_LOG_MAX);
        if !WINDOW_LOG_RANGE.contains(&log) {
            return Err(invalid(format!(
                "window_log_max must be in {}..={}, got {log}",
                WINDOW_LOG_RANGE.start(),
                WINDOW_LOG_RANGE.end()
            )));
        }
        let max_window = 1u64 << log;
        let mut decoder = FrameDecoder::new();
        decoder.set_max_window_size(max_window);
        let mut dict_id = None;
        if let Some(d) = dict {
            let d = decoder_dict(d)?;
            dict_id = Some(d.id);
            decoder
                .add_dict(d)
                .map_err(|e| dict_error(format!("cannot use dictionary: {e}")))?;
        }
        Ok(FrameState {
            decoder,
            dict_id,
            max_window,
            phase: Phase::Header,
            produced: 0,
        })
    }

    fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Done)
    }

    /// Starts on the next frame (one-shot `decompress`).
    fn next_frame(&mut self) {
        self.phase = Phase::Header;
        self.produced = 0;
    }

    /// Whether `step` would make progress (or fail) with just `input`.
    fn ready(&self, input: &[u8]) -> bool {
        match &self.phase {
            Phase::Done => true,
            Phase::Skip(left) => *left == 0 || !input.is_empty(),
            Phase::Header => !matches!(parse_header(input), Ok(None)),
            Phase::Blocks(h) => match input.get(..BLOCK_HEADER_LEN).map(BlockHeader::parse) {
                None => false,
                Some(Err(_)) => true,
                Some(Ok(b)) => input.len() >= unit_len(h, &b),
            },
        }
    }

    /// Makes one unit of progress on `input`, the unconsumed input: reads a
    /// frame header, or decodes one block into `out`, or skips skippable
    /// bytes. Returns the number of input bytes used, or `None` when `input`
    /// does not hold the whole next unit.
    fn step(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<Option<usize>, Error> {
        match &self.phase {
            Phase::Done => Ok(Some(0)),
            Phase::Skip(left) => {
                let take = usize::try_from(*left)
                    .unwrap_or(usize::MAX)
                    .min(input.len());
                let left = left - take as u64;
                if take == 0 && left > 0 {
                    return Ok(None);
                }
                self.phase = if left == 0 {
                    Phase::Done
                } else {
                    Phase::Skip(left)
                };
                Ok(Some(take))
            }
            Phase::Header => {
                let Some(header) = parse_header(input)? else {
                    return Ok(None);
                };
                match header {
                    Header::Skippable { content_len } => {
                        self.phase = Phase::Skip(u64::from(content_len));
                        Ok(Some(8))
                    }
                    Header::Zstd(h) => self.start_frame(h, input),
                }
            }
            Phase::Blocks(h) => {
                let h = h.clone();
                self.decode_block(&h, input, out)
            }
        }
    }

    fn start_frame(&mut self, h: ZstdHeader, input: &[u8]) -> Result<Option<usize>, Error> {
        if h.window_size > self.max_window {
            return Err(error(
                ErrorKind::MemoryLimit,
                format!(
                    "frame requires too much memory for decoding: window of {} bytes, limit {} \
                     (raise window_log_max)",
                    h.window_size, self.max_window
                ),
            ));
        }
        if h.dict_id != 0 && self.dict_id != Some(h.dict_id) {
            return Err(dict_error(match self.dict_id {
                None | Some(0) => format!("frame needs dictionary {}, none given", h.dict_id),
                Some(id) => format!(
                    "frame needs dictionary {}, but dictionary {id} was given",
                    h.dict_id
                ),
            }));
        }
        let mut src = &input[..h.len];
        self.decoder
            .reset(&mut src)
            .map_err(|e| corrupt(format!("bad frame header: {e}")))?;
        if h.dict_id == 0 {
            // A frame that names no dictionary still uses the one given,
            // as libzstd does (raw-content dictionaries never have an ID).
            if let Some(id) = self.dict_id {
                self.decoder
                    .force_dict(id)
                    .map_err(|e| internal(format!("applying dictionary: {e}")))?;
            }
        }
        self.produced = 0;
        let len = h.len;
        self.phase = Phase::Blocks(h);
        Ok(Some(len))
    }

    fn decode_block(
        &mut self,
        h: &ZstdHeader,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Option<usize>, Error> {
        let Some(head) = input.get(..BLOCK_HEADER_LEN) else {
            return Ok(None);
        };
        let block = BlockHeader::parse(head)?;
        if block.size > h.block_size_max() {
            return Err(block_too_large(block.size, h.block_size_max()));
        }
        let len = unit_len(h, &block);
        let Some(unit) = input.get(..len) else {
            return Ok(None);
        };
        let mut src = unit;
        self.decoder
            .decode_blocks(&mut src, BlockDecodingStrategy::UptoBlocks(1))
            .map_err(|e| corrupt(format!("corrupted block: {e}")))?;
        if !src.is_empty() {
            return Err(internal(format!(
                "ruzstd used {} of a {len}-byte block",
                len - src.len()
            )));
        }
        // Before the last block ruzstd hands out only what lies beyond the
        // window; after it, everything (and the checksum is then complete).
        let before = out.len();
        self.decoder
            .collect_to_writer(&mut *out)
            .map_err(|e| internal(format!("collecting output: {e}")))?;
        self.produced += (out.len() - before) as u64;
        if let Some(size) = h.content_size {
            if self.produced > size {
                return Err(content_size_mismatch(size));
            }
        }
        if block.last {
            if !self.decoder.is_finished() || self.decoder.can_collect() != 0 {
                return Err(internal(
                    "ruzstd did not finish the frame at its last block",
                ));
            }
            if h.content_size.is_some_and(|size| size != self.produced) {
                return Err(content_size_mismatch(h.content_size.unwrap_or(0)));
            }
            if h.checksum
                && self.decoder.get_checksum_from_data() != self.decoder.get_calculated_checksum()
            {
                return Err(corrupt("restored data doesn't match checksum"));
            }
            self.phase = Phase::Done;
        }
        Ok(Some(len))
    }
}

/// Bytes of input the next step needs for `block`: the block, plus the
/// checksum after the last block (ruzstd reads it with the block).
fn unit_len(h: &ZstdHeader, block: &BlockHeader) -> usize {
    block.wire_len() + if block.last && h.checksum { 4 } else { 0 }
}

fn content_size_mismatch(size: u64) -> Error {
    corrupt(format!(
        "decompressed size does not match the frame's content size ({size})"
    ))
}

/// State of the `decompressor` resource.
pub struct StreamDecompressor {
    frame: FrameState,
    /// Input not yet used; `input[in_pos..]` is live.
    input: Vec<u8>,
    in_pos: usize,
    /// Output decoded but not yet returned; `output[out_pos..]` is live.
    output: Vec<u8>,
    out_pos: usize,
    eof: bool,
    unused: Vec<u8>,
    /// The error that broke this decompressor, repeated to later calls.
    failed: Option<Error>,
}

impl StreamDecompressor {
    pub fn new(dict: Option<&Dictionary>, window_log_max: Option<u8>) -> Result<Self, Error> {
        Ok(StreamDecompressor {
            frame: FrameState::new(dict, window_log_max)?,
            input: Vec::new(),
            in_pos: 0,
            output: Vec::new(),
            out_pos: 0,
            eof: false,
            unused: Vec::new(),
            failed: None,
        })
    }

    pub fn eof(&self) -> bool {
        self.eof
    }

    pub fn unused_data(&self) -> Vec<u8> {
        self.unused.clone()
    }

    pub fn needs_input(&self) -> bool {
        !self.eof
            && self.failed.is_none()
            && self.out_pos == self.output.len()
            && !self.frame.ready(&self.input[self.in_pos..])
    }

    pub fn decompress(&mut self, data: &[u8], max_length: Option<u64>) -> Result<Vec<u8>, Error> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.eof {
            return Err(error(
                ErrorKind::AlreadyFinished,
                "Already at the end of a Zstandard frame.",
            ));
        }
        let limit = max_length.map_or(usize::MAX, |m| usize::try_from(m).unwrap_or(usize::MAX));
        self.run(data, limit).inspect_err(|e| {
            self.failed = Some(e.clone());
        })
    }

    fn run(&mut self, data: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
        // Drop used input once it is at least half the buffer, so a long
        // series of small calls does not move the same bytes again and again.
        if self.in_pos > 0 && self.in_pos * 2 >= self.input.len() {
            self.input.drain(..self.in_pos);
            self.in_pos = 0;
        }
        self.input.extend_from_slice(data);
        let mut result = Vec::new();
        loop {
            // Hand out what is already decoded.
            let take = (self.output.len() - self.out_pos).min(limit - result.len());
            result.extend_from_slice(&self.output[self.out_pos..self.out_pos + take]);
            self.out_pos += take;
            if self.out_pos == self.output.len() {
                self.output.clear();
                self.out_pos = 0;
                if self.frame.is_done() {
                    self.eof = true;
                    self.unused = self.input.split_off(self.in_pos);
                    self.input = Vec::new();
                    self.in_pos = 0;
                    break;
                }
            }
            if result.len() >= limit {
                break;
            }
            // Without a limit, decode straight into the result.
            let sink = if limit == usize::MAX {
                &mut result
            } else {
                &mut self.output
            };
            match self.frame.step(&self.input[self.in_pos..], sink)? {
                Some(used) => self.in_pos += used,
                None => break,
            }
        }
        Ok(result)
    }
}

/// One-shot `decompress`: all frames in `data`, concatenated; skippable
/// frames are skipped. Like CPython, empty input or input ending inside a
/// frame is an error.
pub fn decompress(data: &[u8], dict: Option<&Dictionary>) -> Result<Vec<u8>, Error> {
    if data.is_empty() {
        return Err(corrupt(TRUNCATED));
    }
    let mut frame = FrameState::new(dict, None)?;
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        frame.next_frame();
        while !frame.is_done() {
            match frame.step(&data[pos..], &mut out)? {
                Some(used) => pos += used,
                None => return Err(corrupt(TRUNCATED)),
            }
        }
    }
    Ok(out)
}
