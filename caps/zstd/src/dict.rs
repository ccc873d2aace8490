//! Dictionaries: checking them and turning them into ruzstd decoder
//! dictionaries.

use ruzstd::decoding::Dictionary as DecoderDict;

use crate::error::{dictionary as dict_error, internal};
use crate::frame::{dictionary_id, DICT_MAGIC};
use crate::{Dictionary, Error};

/// The entropy-table part of a zstd-format dictionary with ID 0 and no
/// content: magic, ID, Huffman and FSE table descriptions, then the three
/// starting repeat offsets 1, 4, 8.
///
/// ruzstd can only build its `Dictionary` by parsing a zstd-format one; its
/// table types cannot be constructed from outside the crate. A raw-content
/// dictionary is therefore made by parsing this template and then putting the
/// raw bytes in as content. The tables come from a dictionary trained by the
/// reference `zstd --train` (tests/data/dict.bin, the bytes before its
/// content). They are never consulted for valid input: frames made with a
/// raw-content dictionary cannot refer to dictionary tables (libzstd has none
/// to offer them), so only a corrupt frame could reach them, and then it
/// decodes to garbage or fails instead of failing with a clearer message.
const RAW_TEMPLATE: [u8; 118] = [
    55, 164, 48, 236, 0, 0, 0, 0, 22, 16, 240, 236, 28, 0, 0, 0, 188, 72, 82, 38, 41, 83, 122, 198,
    216, 123, 239, 189, 247, 222, 59, 115, 7, 0, 0, 0, 128, 19, 104, 232, 56, 0, 0, 4, 64, 0, 0, 1,
    15, 128, 124, 136, 32, 8, 0, 0, 68, 252, 96, 232, 80, 0, 0, 0, 0, 96, 81, 16, 0, 0, 0, 0, 32,
    0, 0, 0, 24, 138, 0, 0, 0, 64, 0, 202, 29, 0, 0, 148, 172, 204, 91, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 8, 0, 0, 0,
];

/// The ID a checked dictionary goes by: its header ID for zstd-format
/// dictionaries, 0 for raw content. Fails for a zstd-format dictionary that
/// is malformed or has ID 0 (CPython refuses those too: "Invalid zstd
/// dictionary and is_raw not set").
pub fn checked_id(dict: &Dictionary) -> Result<u32, Error> {
    if dict.raw {
        return Ok(0);
    }
    Ok(decoder_dict(dict)?.id)
}

/// Parses `dict` into the form ruzstd's decoder takes.
pub fn decoder_dict(dict: &Dictionary) -> Result<DecoderDict, Error> {
    if dict.raw {
        let mut d = DecoderDict::decode_dict(&RAW_TEMPLATE)
            .map_err(|e| internal(format!("raw dictionary template does not parse: {e}")))?;
        d.id = 0;
        d.dict_content = dict.content.clone();
        // RFC 8878 3.1.1.5: repeat offsets start as 1, 4, 8 without a
        // zstd-format dictionary.
        d.offset_hist = [1, 4, 8];
        return Ok(d);
    }
    if dict.content.len() < 8 || dict.content[..4] != DICT_MAGIC.to_le_bytes() {
        return Err(dict_error(
            "not a zstd-format dictionary (it does not start with the dictionary magic number); \
             pass it as raw content instead",
        ));
    }
    if dictionary_id(&dict.content) == 0 {
        return Err(dict_error(
            "zstd-format dictionary has ID 0, which is invalid",
        ));
    }
    DecoderDict::decode_dict(&dict.content)
        .map_err(|e| dict_error(format!("malformed zstd dictionary: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_template_parses_to_empty_content() {
        let d = decoder_dict(&Dictionary {
            content: b"some raw history".to_vec(),
            raw: true,
        });
        let d = d.unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(d.id, 0);
        assert_eq!(d.dict_content, b"some raw history");
        assert_eq!(d.offset_hist, [1, 4, 8]);
    }

    #[test]
    fn rejects_bad_zstd_dictionaries() {
        let not_magic = Dictionary {
            content: b"0123456789".to_vec(),
            raw: false,
        };
        assert!(checked_id(&not_magic).is_err());
        let mut id_zero = RAW_TEMPLATE.to_vec();
        id_zero.extend_from_slice(b"content");
        assert!(checked_id(&Dictionary {
            content: id_zero.clone(),
            raw: false
        })
        .is_err());
        // The same bytes as raw content are fine.
        assert_eq!(
            checked_id(&Dictionary {
                content: id_zero,
                raw: true
            }),
            Ok(0)
        );
        let mut truncated = RAW_TEMPLATE[..40].to_vec();
        truncated[4] = 9;
        assert!(checked_id(&Dictionary {
            content: truncated,
            raw: false
        })
        .is_err());
    }
}
