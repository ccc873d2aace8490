//! Dictionaries: checking them and preparing them for `mzstd`'s encoder and
//! decoder.

use mzstd::dictionary::{
    DecodeDictionary, DictionaryBuilder, DictionaryContent, PreparedDictionary,
};
use mzstd::EncoderConfig;

use crate::error::dictionary as dict_error;
use crate::frame::{dictionary_id, DICT_MAGIC};
use crate::{Dictionary, Error};

fn content_type(dict: &Dictionary) -> DictionaryContent {
    if dict.raw {
        DictionaryContent::Raw
    } else {
        DictionaryContent::Zstd
    }
}

/// The ID a checked dictionary goes by: its header ID for zstd-format
/// dictionaries, 0 for raw content. Fails for bytes that are not a
/// zstd-format dictionary (no magic number) or have ID 0 (CPython refuses
/// those too: "Invalid zstd dictionary and is_raw not set"). The entropy
/// tables are checked when the dictionary is prepared.
pub fn checked_id(dict: &Dictionary) -> Result<u32, Error> {
    if dict.raw {
        return Ok(0);
    }
    if dict.content.len() < 8 || dict.content[..4] != DICT_MAGIC.to_le_bytes() {
        return Err(dict_error(
            "not a zstd-format dictionary (it does not start with the dictionary magic number); \
             pass it as raw content instead",
        ));
    }
    match dictionary_id(&dict.content) {
        0 => Err(dict_error(
            "zstd-format dictionary has ID 0, which is invalid",
        )),
        id => Ok(id),
    }
}

/// Prepares `dict` for compressing with `config`; returns it with its ID.
pub fn encoder_dict(
    dict: &Dictionary,
    config: EncoderConfig,
) -> Result<(PreparedDictionary, u32), Error> {
    let id = checked_id(dict)?;
    let prepared = DictionaryBuilder::new(&dict.content)
        .with_content(content_type(dict))
        .with_config(config)
        .build()
        .map_err(|e| dict_error(format!("malformed zstd dictionary: {e}")))?;
    Ok((prepared, id))
}

/// Parses `dict` into the form `mzstd`'s decoder takes.
pub fn decoder_dict(dict: &Dictionary) -> Result<DecodeDictionary, Error> {
    checked_id(dict)?;
    DecodeDictionary::new(&dict.content, content_type(dict))
        .map_err(|e| dict_error(format!("malformed zstd dictionary: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_zstd_dictionaries() {
        let not_magic = Dictionary {
            content: b"0123456789".to_vec(),
            raw: false,
        };
        assert!(checked_id(&not_magic).is_err());
        let mut id_zero = DICT_MAGIC.to_le_bytes().to_vec();
        id_zero.extend_from_slice(&[0; 4]);
        id_zero.extend_from_slice(b"content");
        assert!(checked_id(&Dictionary {
            content: id_zero.clone(),
            raw: false
        })
        .is_err());
        // The same bytes as raw content are fine.
        let raw = Dictionary {
            content: id_zero,
            raw: true,
        };
        assert_eq!(checked_id(&raw), Ok(0));
        assert!(decoder_dict(&raw).is_ok());
        assert!(encoder_dict(&raw, EncoderConfig::default()).is_ok());
        // Magic and ID but malformed tables.
        let mut truncated = DICT_MAGIC.to_le_bytes().to_vec();
        truncated.extend_from_slice(&[9, 0, 0, 0, 1, 2, 3]);
        let truncated = Dictionary {
            content: truncated,
            raw: false,
        };
        assert!(decoder_dict(&truncated).is_err());
        assert!(encoder_dict(&truncated, EncoderConfig::default()).is_err());
    }
}
