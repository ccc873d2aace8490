//! Compression: the `compressor` resource and one-shot `compress`.
//!
//! The work is done by `mzstd`, a safe-Rust port of the zstd 1.5.7 encoder.
//! A `compressor` is one `mzstd` encoder session driven exactly as CPython
//! drives `ZSTD_compressStream2`: `continue`, `flush-block` and
//! `flush-frame` map to `ZSTD_e_continue`, `ZSTD_e_flush` and `ZSTD_e_end`,
//! the level, checksum and content-size options map to the same libzstd
//! parameters, and dictionaries (zstd-format or raw content) are loaded as
//! `ZSTD_CCtx_loadDictionary` loads them, so their content is used for
//! matching and their entropy tables for coding.
//!
//! Two things are done here rather than by `mzstd`:
//! - `dictionary-id = false` (libzstd's `ZSTD_c_dictIDFlag = 0`, which
//!   `mzstd` does not offer): the frame header is rewritten without its
//!   `Dictionary_ID` field. That field only affects the header in libzstd
//!   too, so the result is what libzstd writes.
//! - A pledged input size is checked as the data arrives, so too much input
//!   fails at once (libzstd notices it only when it compresses a block).

use mzstd::dictionary::PreparedDictionary;
use mzstd::{
    Compressor, EncodeError, EncoderConfig, EncoderSessionOwned, EncoderStatus, InputSize, Level,
    Operation, StreamConfig,
};

use crate::dict::encoder_dict;
use crate::error::{internal, invalid, new as error};
use crate::{CompressOptions, Dictionary, EndDirective, Error, ErrorKind, LevelRange};

/// libzstd's level range (`ZSTD_minCLevel()`, `ZSTD_maxCLevel()`) and
/// `ZSTD_CLEVEL_DEFAULT`.
pub const LEVELS: LevelRange = LevelRange {
    min: -131_072,
    max: 22,
    default_level: 3,
};

/// The zstd level that `level` compresses with: libzstd clamps levels to
/// its range, and 0 means the default level, 3.
pub fn effective_level(level: i32) -> i32 {
    match level.clamp(LEVELS.min, LEVELS.max) {
        0 => LEVELS.default_level,
        l => l,
    }
}

/// Output is produced into chunks of this size (libzstd's
/// `ZSTD_CStreamOutSize()` is about the same).
const OUT_CHUNK: usize = 128 * 1024 + 512;

/// State of the `compressor` resource.
pub struct StreamCompressor {
    session: EncoderSessionOwned<PreparedDictionary>,
    /// Remove the `Dictionary_ID` field from frame headers.
    strip_dict_id: bool,
    /// Whether a call has started the current frame.
    frame_begun: bool,
    /// Input bytes in the open frame so far.
    frame_input: u64,
    /// Whether the open frame's header still has to be rewritten (only with
    /// `strip_dict_id`).
    header_pending: bool,
    /// The open frame's bytes produced so far, while `header_pending`.
    head: Vec<u8>,
    pledged: Option<u64>,
    last_mode: EndDirective,
}

fn config(options: &CompressOptions) -> Result<EncoderConfig, Error> {
    let level = Level::try_from(effective_level(options.level))
        .map_err(|e| internal(format!("level {}: {e}", options.level)))?;
    Ok(EncoderConfig::default()
        .with_level(level)
        .with_checksum(options.checksum)
        .with_content_size(options.content_size))
}

fn encode_error(e: EncodeError) -> Error {
    match e {
        EncodeError::InputSizeMismatch { declared } => error(
            ErrorKind::WrongInputSize,
            format!("frame input differs from the {declared} bytes pledged"),
        ),
        other => internal(format!("zstd encoder: {other}")),
    }
}

impl StreamCompressor {
    pub fn new(options: &CompressOptions, dict: Option<&Dictionary>) -> Result<Self, Error> {
        let config = config(options)?;
        let compressor =
            Compressor::new(config).map_err(|e| internal(format!("zstd encoder: {e}")))?;
        let mut strip_dict_id = false;
        let session = match dict {
            Some(d) => {
                let (prepared, id) = encoder_dict(d, config)?;
                strip_dict_id = id != 0 && !options.dictionary_id;
                compressor
                    .into_session_with_dictionary(prepared, StreamConfig::default())
                    .map_err(encode_error)?
            }
            None => compressor.into_session(StreamConfig::default()),
        };
        Ok(StreamCompressor {
            session,
            strip_dict_id,
            frame_begun: false,
            frame_input: 0,
            header_pending: strip_dict_id,
            head: Vec::new(),
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
        self.new_frame();
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
                if mode == EndDirective::FlushFrame {
                    self.pledged = None;
                    self.new_frame();
                }
                Ok(out)
            }
            Err(e) => {
                // Like CPython, which resets the zstd session on an error:
                // the frame is abandoned and the next call starts a new one.
                self.last_mode = EndDirective::FlushFrame;
                self.pledged = None;
                self.new_frame();
                Err(e)
            }
        }
    }

    /// Gets the session ready for a new frame (with the pledged size).
    fn new_frame(&mut self) {
        let size = self.pledged.map_or(InputSize::Unknown, InputSize::Exact);
        self.session
            .reinit(StreamConfig::default().with_input_size(size));
        self.frame_begun = false;
        self.frame_input = 0;
        self.header_pending = self.strip_dict_id;
        self.head.clear();
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
        let op = match mode {
            EndDirective::Continue => Operation::Continue,
            EndDirective::FlushBlock => Operation::Flush,
            EndDirective::FlushFrame => Operation::End,
        };
        self.frame_begun = true;
        self.frame_input = total;
        let mut input = data;
        loop {
            let start = out.len();
            out.resize(start + OUT_CHUNK, 0);
            let step = self.session.process(input, &mut out[start..], op);
            let progress = match step {
                Ok(p) => p,
                Err(e) => {
                    out.truncate(start);
                    return Err(encode_error(e));
                }
            };
            out.truncate(start + progress.produced);
            input = &input[progress.consumed..];
            match progress.status {
                EncoderStatus::NeedsOutput => continue,
                EncoderStatus::Finished => break,
                EncoderStatus::NeedsInput if input.is_empty() => break,
                EncoderStatus::NeedsInput => continue,
            }
        }
        if self.header_pending {
            self.rewrite_header(out)?;
        }
        Ok(())
    }

    /// Removes the `Dictionary_ID` field from the open frame's header, once
    /// all of the header has been produced.
    fn rewrite_header(&mut self, out: &mut Vec<u8>) -> Result<(), Error> {
        // The header is the start of the frame. Output of earlier calls of
        // this frame that did not hold the whole header was held back in
        // `head` (this does not happen in practice: the header is written
        // at once, into an output buffer with room for it).
        self.head.extend_from_slice(out);
        let Some(descriptor) = self.head.get(4).copied() else {
            out.clear();
            return Ok(());
        };
        let single_segment = descriptor & 0x20 != 0;
        let fcs_len = match descriptor >> 6 {
            0 if single_segment => 1,
            0 => 0,
            1 => 2,
            2 => 4,
            _ => 8,
        };
        let dict_at = 5 + usize::from(!single_segment);
        let dict_len = [0, 1, 2, 4][usize::from(descriptor & 0x03)];
        if self.head.len() < dict_at + dict_len + fcs_len {
            out.clear();
            return Ok(());
        }
        if dict_len == 0 {
            return Err(internal("frame header written without a dictionary ID"));
        }
        let mut head = std::mem::take(&mut self.head);
        head[4] &= !0x03;
        head.drain(dict_at..dict_at + dict_len);
        // Nothing of the frame has been returned yet: return all of it.
        *out = head;
        self.header_pending = false;
        Ok(())
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
