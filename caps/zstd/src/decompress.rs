//! Decompression: the `decompressor` resource and one-shot `decompress`.
//!
//! The work is done by `mzstd`'s decoder, written from the format
//! specification. Its incremental session takes input in any pieces,
//! decodes each block as soon as all of its bytes are present and hands the
//! block's output out at once, so everything a compressor flushed
//! (`flush-block`) comes out of a `decompressor` immediately.
//!
//! The first bytes of a frame are also checked here (`frame.rs`), so that
//! input that cannot start a zstd or skippable frame is refused as soon as
//! it is seen, as libzstd does, rather than after four bytes.

use mzstd::dictionary::DecodeDictionary;
use mzstd::{
    DecodeError, DecodeLimits, DecodeOperation, DecoderConfig, DecoderSessionOwned, DecoderStatus,
    Decompressor, FrameMode,
};

use crate::dict::decoder_dict;
use crate::error::{corrupt, dictionary as dict_error, internal, invalid, new as error, TRUNCATED};
use crate::frame::{parse_header, MAX_BLOCK_SIZE};
use crate::{Dictionary, Error, ErrorKind};

/// libzstd's default `ZSTD_d_windowLogMax` (`ZSTD_WINDOWLOG_LIMIT_DEFAULT`).
const DEFAULT_WINDOW_LOG_MAX: u8 = 27;
/// Smallest and largest `window-log-max` libzstd accepts on 64-bit hosts.
const WINDOW_LOG_RANGE: std::ops::RangeInclusive<u8> = 10..=31;
/// Longest zstd frame header.
const MAX_HEADER_LEN: usize = 18;

fn decode_error(e: DecodeError) -> Error {
    match e {
        DecodeError::UnexpectedEndOfInput => corrupt(TRUNCATED),
        DecodeError::WindowLimitExceeded { window_size, limit } => error(
            ErrorKind::MemoryLimit,
            format!(
                "frame requires too much memory for decoding: window of {window_size} bytes, \
                 limit {limit} (raise window_log_max)"
            ),
        ),
        DecodeError::DictionaryUnsupported { id } => {
            dict_error(format!("frame needs dictionary {id}, none given"))
        }
        e @ DecodeError::DictionaryMismatch { .. } => dict_error(e.to_string()),
        DecodeError::ChecksumMismatch { .. } => corrupt("restored data doesn't match checksum"),
        DecodeError::ContentSizeMismatch { declared, .. } => corrupt(format!(
            "decompressed size does not match the frame's content size ({declared})"
        )),
        e @ (DecodeError::InvalidState | DecodeError::OutputTooSmall { .. }) => {
            internal(format!("zstd decoder: {e}"))
        }
        e @ DecodeError::AllocationFailed => error(ErrorKind::MemoryLimit, e.to_string()),
        e => corrupt(format!("corrupted data: {e}")),
    }
}

fn limits(window_log_max: Option<u8>) -> Result<DecodeLimits, Error> {
    let log = window_log_max.unwrap_or(DEFAULT_WINDOW_LOG_MAX);
    if !WINDOW_LOG_RANGE.contains(&log) {
        return Err(invalid(format!(
            "window_log_max must be in {}..={}, got {log}",
            WINDOW_LOG_RANGE.start(),
            WINDOW_LOG_RANGE.end()
        )));
    }
    DecodeLimits::DEFAULT
        .with_max_window_log(log)
        .map_err(|e| invalid(e.to_string()))
}

/// State of the `decompressor` resource.
pub struct StreamDecompressor {
    session: DecoderSessionOwned<DecodeDictionary>,
    /// The frame's first bytes, until its header is known to be plausible.
    head: Vec<u8>,
    head_checked: bool,
    /// Input given but not yet taken by the session (only when it stopped
    /// for lack of output room).
    input: Vec<u8>,
    /// The session has output ready without new input.
    output_ready: bool,
    eof: bool,
    unused: Vec<u8>,
    /// The error that broke this decompressor, repeated to later calls.
    failed: Option<Error>,
}

impl StreamDecompressor {
    pub fn new(dict: Option<&Dictionary>, window_log_max: Option<u8>) -> Result<Self, Error> {
        let config = DecoderConfig::DEFAULT
            .with_frame_mode(FrameMode::Single)
            .with_limits(limits(window_log_max)?);
        let decoder = Decompressor::new(config);
        let session = match dict {
            Some(d) => decoder.into_session_with_dictionary(decoder_dict(d)?),
            None => decoder.into_session(),
        };
        Ok(StreamDecompressor {
            session,
            head: Vec::new(),
            head_checked: false,
            input: Vec::new(),
            output_ready: false,
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
        !self.eof && self.failed.is_none() && !self.output_ready
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

    /// Refuses a frame start that cannot be a zstd or skippable frame.
    fn check_head(&mut self, data: &[u8]) -> Result<(), Error> {
        if self.head_checked {
            return Ok(());
        }
        let take = (MAX_HEADER_LEN - self.head.len()).min(data.len());
        self.head.extend_from_slice(&data[..take]);
        if parse_header(&self.head)?.is_some() {
            self.head_checked = true;
            self.head = Vec::new();
        }
        Ok(())
    }

    fn run(&mut self, data: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
        self.check_head(data)?;
        let mut pending = std::mem::take(&mut self.input);
        pending.extend_from_slice(data);
        let mut input = pending.as_slice();
        let mut out = Vec::new();
        loop {
            let start = out.len();
            let room = (limit - start).min(MAX_BLOCK_SIZE.max(2 * input.len()));
            out.resize(start + room, 0);
            let step = self
                .session
                .process(input, &mut out[start..], DecodeOperation::Process);
            let progress = step.map_err(|f| decode_error(f.error))?;
            out.truncate(start + progress.produced);
            input = &input[progress.consumed..];
            match progress.status {
                DecoderStatus::Finished => {
                    self.eof = true;
                    self.output_ready = false;
                    self.unused = input.to_vec();
                    return Ok(out);
                }
                DecoderStatus::NeedsInput => {
                    if !input.is_empty() {
                        return Err(internal("zstd decoder left input unread"));
                    }
                    self.output_ready = false;
                    return Ok(out);
                }
                DecoderStatus::NeedsOutput if out.len() >= limit => {
                    self.output_ready = true;
                    self.input = input.to_vec();
                    return Ok(out);
                }
                DecoderStatus::NeedsOutput => {}
            }
        }
    }
}

/// One-shot `decompress`: all frames in `data`, concatenated; skippable
/// frames are skipped. Like CPython, empty input or input ending inside a
/// frame is an error.
pub fn decompress(data: &[u8], dict: Option<&Dictionary>) -> Result<Vec<u8>, Error> {
    if data.is_empty() {
        return Err(corrupt(TRUNCATED));
    }
    let config = DecoderConfig::DEFAULT.with_limits(limits(None)?);
    let mut decoder = Decompressor::new(config);
    match dict {
        Some(d) => decoder.decompress_with_dictionary(&decoder_dict(d)?, data),
        None => decoder.decompress(data),
    }
    .map_err(decode_error)
}
