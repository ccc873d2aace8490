//! The parts of the zstd frame format (RFC 8878, section 3.1) this cap reads
//! and writes itself: frame headers, skippable frames and block headers.
//!
//! `frame-info` and `frame-size` must not decode anything, and the
//! decompressor refuses a bad frame start as soon as it sees it, so the
//! layout is worked out here. (`write_header` and `blocks_of_frame` are
//! used by the tests of this module only since the switch to `mzstd`.)

use crate::error::{corrupt, internal};
use crate::Error;

/// Little-endian magic number that starts every zstd frame.
pub const ZSTD_MAGIC: u32 = 0xFD2F_B528;
/// Skippable frames use magic numbers 0x184D2A50..=0x184D2A5F.
const SKIPPABLE_MAGIC_BASE: u32 = 0x184D_2A50;
const SKIPPABLE_MAGIC_MASK: u32 = 0xFFFF_FFF0;
/// Magic number of a zstd-format dictionary.
pub const DICT_MAGIC: u32 = 0xEC30_A437;

/// `Block_Maximum_Size` upper bound: no block holds more than 128 KiB.
pub const MAX_BLOCK_SIZE: usize = 128 * 1024;
/// Largest window libzstd accepts on 64-bit hosts (`ZSTD_WINDOWLOG_MAX`).
pub const WINDOW_LOG_MAX: u32 = 31;
/// Window descriptor written into non-single-segment frames made here:
/// exponent 7, mantissa 0, i.e. 2^17 = 128 KiB. Every block written here is
/// self-contained (see `compress.rs`), so one block's worth of window is
/// all a decoder needs.
const WINDOW_DESCRIPTOR_128K: u8 = 7 << 3;
/// Window size that `WINDOW_DESCRIPTOR_128K` stands for.
pub const WRITTEN_WINDOW_SIZE: u64 = 128 * 1024;

/// A parsed zstd frame header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZstdHeader {
    /// Bytes the header occupies, magic number included (6 to 18).
    pub len: usize,
    /// `Frame_Content_Size`, when present.
    pub content_size: Option<u64>,
    /// `Dictionary_ID`; 0 when absent.
    pub dict_id: u32,
    /// Whether a 4-byte content checksum follows the last block.
    pub checksum: bool,
    /// Memory the decoder needs for back-references.
    pub window_size: u64,
}

impl ZstdHeader {
    /// `Block_Maximum_Size`: no block of this frame may be larger.
    pub fn block_size_max(&self) -> usize {
        usize::try_from(self.window_size)
            .unwrap_or(usize::MAX)
            .min(MAX_BLOCK_SIZE)
    }
}

/// The header at the start of a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Header {
    Zstd(ZstdHeader),
    /// A skippable frame: 8 header bytes, then `content_len` bytes to ignore.
    Skippable {
        content_len: u32,
    },
}

fn le_u32(b: &[u8]) -> u32 {
    b.iter()
        .take(4)
        .enumerate()
        .fold(0, |acc, (i, &x)| acc | u32::from(x) << (8 * i))
}

fn le_u64(b: &[u8]) -> u64 {
    b.iter()
        .take(8)
        .enumerate()
        .fold(0, |acc, (i, &x)| acc | u64::from(x) << (8 * i))
}

/// Parses the frame header at the start of `buf`.
///
/// `Ok(None)` means `buf` is a valid beginning but too short. Like libzstd, a
/// prefix that cannot start any frame is rejected as soon as it is seen, so a
/// streaming decoder fed garbage fails on the first bytes.
pub fn parse_header(buf: &[u8]) -> Result<Option<Header>, Error> {
    if buf.len() < 4 {
        let zstd_prefix = buf
            .iter()
            .zip(ZSTD_MAGIC.to_le_bytes())
            .all(|(&b, m)| b == m);
        // The skippable range differs from its base only in the low 4 bits
        // of the first byte; the other bytes must match exactly.
        let skippable_prefix = buf
            .iter()
            .zip(SKIPPABLE_MAGIC_BASE.to_le_bytes())
            .enumerate()
            .all(|(i, (&b, m))| if i == 0 { b & 0xF0 == m } else { b == m });
        if zstd_prefix || skippable_prefix {
            return Ok(None);
        }
        return Err(unknown_prefix());
    }
    let magic = le_u32(&buf[..4]);
    if magic & SKIPPABLE_MAGIC_MASK == SKIPPABLE_MAGIC_BASE {
        if buf.len() < 8 {
            return Ok(None);
        }
        return Ok(Some(Header::Skippable {
            content_len: le_u32(&buf[4..8]),
        }));
    }
    if magic != ZSTD_MAGIC {
        return Err(unknown_prefix());
    }
    let Some(&descriptor) = buf.get(4) else {
        return Ok(None);
    };
    let fcs_flag = descriptor >> 6;
    let single_segment = descriptor & 0x20 != 0;
    if descriptor & 0x08 != 0 {
        return Err(corrupt(
            "frame header descriptor has its reserved bit set (unsupported frame parameter)",
        ));
    }
    let checksum = descriptor & 0x04 != 0;
    let dict_id_len = [0, 1, 2, 4][usize::from(descriptor & 0x03)];
    let fcs_len = match fcs_flag {
        0 if single_segment => 1,
        0 => 0,
        1 => 2,
        2 => 4,
        _ => 8,
    };
    let window_len = usize::from(!single_segment);
    let len = 5 + window_len + dict_id_len + fcs_len;
    if buf.len() < len {
        return Ok(None);
    }
    let mut pos = 5;
    let window_descriptor = if single_segment {
        None
    } else {
        pos += 1;
        Some(buf[5])
    };
    let dict_id = le_u32(&buf[pos..pos + dict_id_len]);
    pos += dict_id_len;
    let content_size = (fcs_len > 0).then(|| {
        let raw = le_u64(&buf[pos..pos + fcs_len]);
        // The 2-byte form is stored with an offset of 256.
        if fcs_len == 2 {
            raw + 256
        } else {
            raw
        }
    });
    let window_size = match window_descriptor {
        Some(wd) => {
            let window_log = 10 + u32::from(wd >> 3);
            if window_log > WINDOW_LOG_MAX {
                return Err(corrupt(format!(
                    "frame window 2^{window_log} exceeds the largest zstd allows (2^{WINDOW_LOG_MAX})"
                )));
            }
            let base = 1u64 << window_log;
            base + (base / 8) * u64::from(wd & 7)
        }
        // Single-segment frames always carry a content size (fcs_len >= 1).
        None => content_size.unwrap_or(0),
    };
    Ok(Some(Header::Zstd(ZstdHeader {
        len,
        content_size,
        dict_id,
        checksum,
        window_size,
    })))
}

fn unknown_prefix() -> Error {
    corrupt("unknown frame descriptor: data does not start with a zstd or skippable frame")
}

/// What a block header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    Raw,
    Rle,
    Compressed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockHeader {
    pub last: bool,
    pub kind: BlockKind,
    /// `Block_Size`: stored bytes for raw/compressed, output bytes for RLE.
    pub size: usize,
}

pub const BLOCK_HEADER_LEN: usize = 3;

impl BlockHeader {
    /// Parses a 3-byte block header (the caller checked the length).
    pub fn parse(b: &[u8]) -> Result<BlockHeader, Error> {
        let raw = le_u32(&b[..BLOCK_HEADER_LEN]);
        let kind = match (raw >> 1) & 3 {
            0 => BlockKind::Raw,
            1 => BlockKind::Rle,
            2 => BlockKind::Compressed,
            _ => return Err(corrupt("block uses the reserved block type")),
        };
        Ok(BlockHeader {
            last: raw & 1 != 0,
            kind,
            size: (raw >> 3) as usize,
        })
    }

    /// Bytes the block occupies in the frame, header included.
    pub fn wire_len(&self) -> usize {
        BLOCK_HEADER_LEN
            + match self.kind {
                BlockKind::Rle => 1,
                BlockKind::Raw | BlockKind::Compressed => self.size,
            }
    }

    pub fn encode(&self) -> [u8; 3] {
        let kind = match self.kind {
            BlockKind::Raw => 0,
            BlockKind::Rle => 1,
            BlockKind::Compressed => 2,
        };
        let v = u32::from(self.last) | kind << 1 | (self.size as u32) << 3;
        [v as u8, (v >> 8) as u8, (v >> 16) as u8]
    }
}

/// The header and total size of the complete frame at the start of `data`
/// (libzstd's `ZSTD_findFrameCompressedSize`).
pub fn frame_size(data: &[u8]) -> Result<u64, Error> {
    let truncated = || corrupt("data is shorter than the frame it starts");
    match parse_header(data)?.ok_or_else(truncated)? {
        Header::Skippable { content_len } => {
            let size = 8 + u64::from(content_len);
            if (data.len() as u64) < size {
                return Err(truncated());
            }
            Ok(size)
        }
        Header::Zstd(h) => {
            let mut pos = h.len;
            loop {
                let b = data
                    .get(pos..pos + BLOCK_HEADER_LEN)
                    .ok_or_else(truncated)?;
                let block = BlockHeader::parse(b)?;
                if block.size > h.block_size_max() {
                    return Err(block_too_large(block.size, h.block_size_max()));
                }
                pos += block.wire_len();
                if pos > data.len() {
                    return Err(truncated());
                }
                if block.last {
                    break;
                }
            }
            if h.checksum {
                pos += 4;
                if pos > data.len() {
                    return Err(truncated());
                }
            }
            Ok(pos as u64)
        }
    }
}

pub fn block_too_large(size: usize, max: usize) -> Error {
    corrupt(format!(
        "block of {size} bytes is larger than this frame allows ({max})"
    ))
}

/// Writes a frame header for frames made here.
///
/// With a known content size of at most 128 KiB the frame is single-segment
/// (the window is the content itself, as libzstd does for small inputs);
/// otherwise it declares the 128 KiB window.
pub fn write_header(out: &mut Vec<u8>, content_size: Option<u64>, dict_id: u32, checksum: bool) {
    let single_segment = content_size.is_some_and(|s| s <= WRITTEN_WINDOW_SIZE);
    let (dict_flag, dict_len) = match dict_id {
        0 => (0u8, 0usize),
        1..=0xFF => (1, 1),
        0x100..=0xFFFF => (2, 2),
        _ => (3, 4),
    };
    // (flag, bytes, stored value) for Frame_Content_Size.
    let (fcs_flag, fcs_len, fcs_value) = match content_size {
        None => (0u8, 0usize, 0u64),
        Some(s) if single_segment && s < 256 => (0, 1, s),
        Some(s) if (256..256 + 0x1_0000).contains(&s) => (1, 2, s - 256),
        Some(s) if s <= u64::from(u32::MAX) => (2, 4, s),
        Some(s) => (3, 8, s),
    };
    out.extend_from_slice(&ZSTD_MAGIC.to_le_bytes());
    out.push(fcs_flag << 6 | u8::from(single_segment) << 5 | u8::from(checksum) << 2 | dict_flag);
    if !single_segment {
        out.push(WINDOW_DESCRIPTOR_128K);
    }
    out.extend_from_slice(&dict_id.to_le_bytes()[..dict_len]);
    out.extend_from_slice(&fcs_value.to_le_bytes()[..fcs_len]);
}

/// `frame-info`: content size and dictionary ID from the header at the
/// start of `data`. Skippable frames have content size 0 (as libzstd's
/// `ZSTD_getFrameContentSize` says).
pub fn frame_info(data: &[u8]) -> Result<(Option<u64>, u32), Error> {
    match parse_header(data)? {
        None => Err(corrupt(format!(
            "{} bytes are not enough for the frame header at the start of the data (6 to 18 bytes)",
            data.len()
        ))),
        Some(Header::Skippable { .. }) => Ok((Some(0), 0)),
        Some(Header::Zstd(h)) => Ok((h.content_size, h.dict_id)),
    }
}

/// ID of a zstd-format dictionary; 0 for anything else (`ZDICT_getDictID`).
pub fn dictionary_id(dict: &[u8]) -> u32 {
    if dict.len() < 8 || le_u32(&dict[..4]) != DICT_MAGIC {
        return 0;
    }
    le_u32(&dict[4..8])
}

/// Splits one complete, well-formed frame into its blocks; anything
/// unexpected is an error, not a panic.
pub fn blocks_of_frame(frame: &[u8]) -> Result<Vec<(BlockHeader, &[u8])>, Error> {
    let bad = |what: &str| internal(format!("unexpected frame: {what}"));
    let Some(Header::Zstd(h)) = parse_header(frame)? else {
        return Err(bad("no zstd frame header"));
    };
    let mut pos = h.len;
    let mut blocks = Vec::new();
    loop {
        let hb = frame
            .get(pos..pos + BLOCK_HEADER_LEN)
            .ok_or_else(|| bad("truncated block header"))?;
        let block = BlockHeader::parse(hb)?;
        let body = frame
            .get(pos + BLOCK_HEADER_LEN..pos + block.wire_len())
            .ok_or_else(|| bad("truncated block"))?;
        pos += block.wire_len();
        blocks.push((block, body));
        if block.last {
            break;
        }
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(buf: &[u8]) -> ZstdHeader {
        match parse_header(buf) {
            Ok(Some(Header::Zstd(h))) => h,
            other => panic!("expected a zstd header, got {other:?}"),
        }
    }

    #[test]
    fn written_headers_parse_back() {
        for content_size in [
            None,
            Some(0),
            Some(255),
            Some(256),
            Some(65_791),
            Some(65_792),
            Some(128 * 1024),
            Some(128 * 1024 + 1),
            Some(u64::from(u32::MAX)),
            Some(u64::from(u32::MAX) + 1),
        ] {
            for dict_id in [0, 1, 255, 256, 65_535, 65_536, u32::MAX] {
                for checksum in [false, true] {
                    let mut out = Vec::new();
                    write_header(&mut out, content_size, dict_id, checksum);
                    let h = header(&out);
                    assert_eq!(h.len, out.len());
                    assert_eq!(h.content_size, content_size);
                    assert_eq!(h.dict_id, dict_id);
                    assert_eq!(h.checksum, checksum);
                    let expected_window = match content_size {
                        Some(s) if s <= WRITTEN_WINDOW_SIZE => s,
                        _ => WRITTEN_WINDOW_SIZE,
                    };
                    assert_eq!(h.window_size, expected_window);
                    // Every strict prefix is "need more", never an error.
                    for cut in 0..out.len() {
                        assert_eq!(parse_header(&out[..cut]), Ok(None), "prefix {cut}");
                    }
                }
            }
        }
    }

    #[test]
    fn rejects_bad_prefixes_early() {
        assert!(parse_header(b"x").is_err());
        assert!(parse_header(&[0x28, 0xB5, 0x00]).is_err());
        assert_eq!(parse_header(&[0x28, 0xB5]), Ok(None));
        assert_eq!(parse_header(&[0x5A, 0x2A]), Ok(None));
        assert!(parse_header(&[0x5A, 0x2B]).is_err());
        // Reserved bit.
        assert!(parse_header(&[0x28, 0xB5, 0x2F, 0xFD, 0x08, 0]).is_err());
        // Window log 10 + 31 is too large.
        assert!(parse_header(&[0x28, 0xB5, 0x2F, 0xFD, 0x00, 31 << 3]).is_err());
    }

    #[test]
    fn skippable_header() {
        let buf = [0x5F, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 1, 2, 3];
        assert_eq!(
            parse_header(&buf),
            Ok(Some(Header::Skippable { content_len: 3 }))
        );
        assert_eq!(frame_size(&buf), Ok(11));
        assert!(frame_size(&buf[..10]).is_err());
        assert_eq!(frame_info(&buf), Ok((Some(0), 0)));
    }

    #[test]
    fn block_header_round_trip() {
        for kind in [BlockKind::Raw, BlockKind::Rle, BlockKind::Compressed] {
            for last in [false, true] {
                for size in [0, 1, 1000, MAX_BLOCK_SIZE] {
                    let b = BlockHeader { last, kind, size };
                    assert_eq!(BlockHeader::parse(&b.encode()), Ok(b));
                }
            }
        }
        assert!(BlockHeader::parse(&[0b110, 0, 0]).is_err());
    }

    #[test]
    fn dictionary_ids() {
        assert_eq!(dictionary_id(b""), 0);
        assert_eq!(dictionary_id(&[0x37, 0xA4, 0x30, 0xEC, 1, 2, 0, 0]), 0x0201);
        assert_eq!(dictionary_id(&[0x37, 0xA4, 0x30, 0xEC, 1, 2, 0]), 0);
        assert_eq!(dictionary_id(b"not a dictionary"), 0);
    }
}
