//! Flattening `name` and `component-name` sections into "what → name" maps, so
//! two of them can be compared entry by entry.

use std::collections::BTreeMap;

use wasmparser::{BinaryReader, ComponentName, IndirectNameMap, Name, NameMap};

use crate::report::UnitKind;
use crate::walk::Section;

fn add_map(out: &mut BTreeMap<String, String>, what: &str, map: NameMap<'_>) {
    for naming in map.into_iter().flatten() {
        out.insert(format!("{what} {}", naming.index), naming.name.to_string());
    }
}

fn add_indirect(out: &mut BTreeMap<String, String>, what: &str, map: IndirectNameMap<'_>) {
    for indirect in map.into_iter().flatten() {
        for naming in indirect.names.flatten() {
            out.insert(
                format!("{what} {}.{}", indirect.index, naming.index),
                naming.name.to_string(),
            );
        }
    }
}

/// Every name a name section gives, keyed by what it names (`function 12`,
/// `local 3.1`, `component 2`, …). Unreadable subsections are skipped: a name
/// section never makes a comparison fail.
pub(crate) fn all_names(kind: UnitKind, s: &Section<'_>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let reader = BinaryReader::new(s.data, s.offset);
    match kind {
        UnitKind::Module => {
            for sub in wasmparser::NameSectionReader::new(reader).flatten() {
                match sub {
                    Name::Module { name, .. } => {
                        out.insert("module".into(), name.to_string());
                    }
                    Name::Function(m) => add_map(&mut out, "function", m),
                    Name::Local(m) => add_indirect(&mut out, "local", m),
                    Name::Label(m) => add_indirect(&mut out, "label", m),
                    Name::Type(m) => add_map(&mut out, "type", m),
                    Name::Table(m) => add_map(&mut out, "table", m),
                    Name::Memory(m) => add_map(&mut out, "memory", m),
                    Name::Global(m) => add_map(&mut out, "global", m),
                    Name::Element(m) => add_map(&mut out, "element", m),
                    Name::Data(m) => add_map(&mut out, "data", m),
                    Name::Field(m) => add_indirect(&mut out, "field", m),
                    Name::Tag(m) => add_map(&mut out, "tag", m),
                    Name::Parameter(m) => add_indirect(&mut out, "parameter", m),
                    Name::TagParameter(m) => add_indirect(&mut out, "tag parameter", m),
                    Name::Unknown { ty, data, .. } => {
                        out.insert(format!("subsection {ty}"), crate::text::show_bytes(data));
                    }
                }
            }
        }
        UnitKind::Component => {
            for sub in wasmparser::ComponentNameSectionReader::new(reader).flatten() {
                match sub {
                    ComponentName::Component { name, .. } => {
                        out.insert("component".into(), name.to_string());
                    }
                    ComponentName::CoreFuncs(m) => add_map(&mut out, "core func", m),
                    ComponentName::CoreGlobals(m) => add_map(&mut out, "core global", m),
                    ComponentName::CoreMemories(m) => add_map(&mut out, "core memory", m),
                    ComponentName::CoreTables(m) => add_map(&mut out, "core table", m),
                    ComponentName::CoreTags(m) => add_map(&mut out, "core tag", m),
                    ComponentName::CoreModules(m) => add_map(&mut out, "module", m),
                    ComponentName::CoreInstances(m) => add_map(&mut out, "core instance", m),
                    ComponentName::CoreTypes(m) => add_map(&mut out, "core type", m),
                    ComponentName::Types(m) => add_map(&mut out, "type", m),
                    ComponentName::Instances(m) => add_map(&mut out, "instance", m),
                    ComponentName::Components(m) => add_map(&mut out, "component", m),
                    ComponentName::Funcs(m) => add_map(&mut out, "func", m),
                    ComponentName::Values(m) => add_map(&mut out, "value", m),
                    ComponentName::Unknown { ty, data, .. } => {
                        out.insert(format!("subsection {ty}"), crate::text::show_bytes(data));
                    }
                }
            }
        }
    }
    out
}
