//! The `producers` custom section: which language, tools and SDK made a unit.
//! The toolchain cause rests on it.

use wasmparser::{BinaryReader, ProducersSectionReader};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Producer {
    /// `language`, `processed-by` or `sdk`.
    pub field: String,
    pub name: String,
    pub version: String,
}

/// Entries of a producers section; an unreadable section gives what was read.
pub(crate) fn producers_of(data: &[u8], offset: u64) -> Vec<Producer> {
    let mut out = Vec::new();
    let Ok(reader) = ProducersSectionReader::new(BinaryReader::new(data, offset)) else {
        return out;
    };
    for field in reader.into_iter().flatten() {
        for value in field.values.into_iter().flatten() {
            out.push(Producer {
                field: field.name.to_string(),
                name: value.name.to_string(),
                version: value.version.to_string(),
            });
        }
    }
    out
}
