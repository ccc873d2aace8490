//! Splitting a module or component into its sections, one level at a time.
//!
//! Nested modules and components are recorded as sections and only parsed when
//! the diff descends into them, so two 40 MB artifacts that share CPython
//! byte-for-byte never parse CPython's sections, and code sections are skipped
//! as a whole (their bodies are read only when the section differs).

use std::collections::HashMap;
use std::ops::Range;

use wasmparser::{
    BinaryReader, Chunk, ComponentAlias, ComponentExternalKind, ComponentInstance, ComponentName,
    ComponentOuterAliasKind, ComponentTypeRef, Encoding, ExternalKind, Name, Parser, Payload,
    SectionLimited,
};

use crate::report::UnitKind;
use crate::{DiffError, Side};

/// A module or component and its sections, in file order.
pub(crate) struct Unit<'a> {
    pub kind: UnitKind,
    pub bytes: &'a [u8],
    pub sections: Vec<Section<'a>>,
}

#[derive(Clone)]
pub(crate) struct Section<'a> {
    pub id: u8,
    /// Set for custom sections (id 0).
    pub custom_name: Option<&'a str>,
    /// Set for nested modules/components: the nested unit's whole bytes are `data`.
    pub nested: Option<UnitKind>,
    /// Section payload (custom sections: the content after the name).
    pub data: &'a [u8],
    /// File offset of `data[0]`.
    pub offset: u64,
}

impl Section<'_> {
    /// Human name of the section kind, as the report shows it.
    pub fn label(&self, unit: UnitKind) -> String {
        if let Some(name) = self.custom_name {
            return format!("custom \"{name}\"");
        }
        let s = match (unit, self.id) {
            (UnitKind::Module, 1) => "type",
            (UnitKind::Module, 2) => "import",
            (UnitKind::Module, 3) => "function",
            (UnitKind::Module, 4) => "table",
            (UnitKind::Module, 5) => "memory",
            (UnitKind::Module, 6) => "global",
            (UnitKind::Module, 7) => "export",
            (UnitKind::Module, 8) => "start",
            (UnitKind::Module, 9) => "element",
            (UnitKind::Module, 10) => "code",
            (UnitKind::Module, 11) => "data",
            (UnitKind::Module, 12) => "data count",
            (UnitKind::Module, 13) => "tag",
            (UnitKind::Component, 1) => "module",
            (UnitKind::Component, 2) => "core instance",
            (UnitKind::Component, 3) => "core type",
            (UnitKind::Component, 4) => "component",
            (UnitKind::Component, 5) => "instance",
            (UnitKind::Component, 6) => "alias",
            (UnitKind::Component, 7) => "type",
            (UnitKind::Component, 8) => "canonical",
            (UnitKind::Component, 9) => "start",
            (UnitKind::Component, 10) => "import",
            (UnitKind::Component, 11) => "export",
            _ => return format!("section {}", self.id),
        };
        s.to_string()
    }
}

fn malformed(side: Side, e: wasmparser::BinaryReaderError) -> DiffError {
    DiffError::Malformed {
        side,
        offset: e.offset(),
        message: e.message().to_string(),
    }
}

fn truncated(side: Side, offset: u64, what: &str) -> DiffError {
    DiffError::Malformed {
        side,
        offset,
        message: format!("{what} extends past the end of the file (truncated?)"),
    }
}

/// Checks the 8-byte preamble before any parsing, so "this is not wasm at all"
/// gets its own message instead of a parser error at offset 0.
pub(crate) fn check_magic(side: Side, bytes: &[u8]) -> Result<(), DiffError> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        let head = crate::text::show_bytes(&bytes[..bytes.len().min(8)]);
        return Err(DiffError::NotWasm {
            side,
            len: bytes.len() as u64,
            head,
        });
    }
    Ok(())
}

/// Parses the sections of the unit at `range` of `file` (not its nested units).
pub(crate) fn parse_unit<'a>(
    side: Side,
    file: &'a [u8],
    range: Range<usize>,
) -> Result<Unit<'a>, DiffError> {
    let bytes = file
        .get(range.clone())
        .ok_or_else(|| truncated(side, range.start as u64, "nested unit"))?;
    let mut parser = Parser::new(range.start as u64);
    let mut rest = bytes;
    let mut kind = UnitKind::Module;
    let mut sections = Vec::new();
    // Offsets reported by the parser are file offsets; map them to `file`.
    let slice = |r: Range<u64>, what: &str| -> Result<&'a [u8], DiffError> {
        let (s, e) = (r.start as usize, r.end as usize);
        if s > e || e > range.end {
            return Err(truncated(side, r.start, what));
        }
        Ok(&file[s..e])
    };
    loop {
        let (payload, consumed) = match parser.parse(rest, true).map_err(|e| malformed(side, e))? {
            Chunk::Parsed { consumed, payload } => (payload, consumed),
            // With eof = true the parser reports missing bytes as an error; this arm
            // only guards against that changing.
            Chunk::NeedMoreData(_) => {
                return Err(truncated(
                    side,
                    range.end as u64,
                    if sections.is_empty() {
                        "header"
                    } else {
                        "section"
                    },
                ))
            }
        };
        rest = &rest[consumed..];
        match payload {
            Payload::Version { encoding, .. } => {
                kind = match encoding {
                    Encoding::Component => UnitKind::Component,
                    Encoding::Module => UnitKind::Module,
                };
            }
            Payload::CodeSectionStart {
                unchecked_range,
                size,
                ..
            } => {
                let data = slice(unchecked_range.clone(), "code section")?;
                sections.push(Section {
                    id: 10,
                    custom_name: None,
                    nested: None,
                    data,
                    offset: unchecked_range.start,
                });
                parser.skip_section();
                rest = rest
                    .get(size as usize..)
                    .ok_or_else(|| truncated(side, unchecked_range.start, "code section"))?;
            }
            Payload::ModuleSection {
                ref unchecked_range,
                ..
            }
            | Payload::ComponentSection {
                ref unchecked_range,
                ..
            } => {
                let (id, nested) = if matches!(payload, Payload::ModuleSection { .. }) {
                    (1, UnitKind::Module)
                } else {
                    (4, UnitKind::Component)
                };
                let data = slice(unchecked_range.clone(), nested.as_str())?;
                sections.push(Section {
                    id,
                    custom_name: None,
                    nested: Some(nested),
                    data,
                    offset: unchecked_range.start,
                });
                // The parent parser has already moved past the nested bytes; the
                // caller-side buffer must follow.
                rest = rest
                    .get(data.len()..)
                    .ok_or_else(|| truncated(side, unchecked_range.start, nested.as_str()))?;
            }
            Payload::CustomSection(reader) => {
                let start = reader.data_offset();
                let data = reader.data();
                sections.push(Section {
                    id: 0,
                    custom_name: Some(reader.name()),
                    nested: None,
                    data,
                    offset: start,
                });
            }
            Payload::End(_) => break,
            other => {
                if let Some((id, r)) = other.as_section() {
                    let data = slice(r.clone(), "section")?;
                    sections.push(Section {
                        id,
                        custom_name: None,
                        nested: None,
                        data,
                        offset: r.start,
                    });
                }
            }
        }
    }
    Ok(Unit {
        kind,
        bytes,
        sections,
    })
}

impl<'a> Unit<'a> {
    pub fn custom(&self, name: &str) -> Option<&Section<'a>> {
        self.sections.iter().find(|s| s.custom_name == Some(name))
    }

    /// The unit's own name: the module name of a core `name` section, or the
    /// component name of a `component-name` section.
    pub fn own_name(&self) -> Option<String> {
        match self.kind {
            UnitKind::Module => {
                let s = self.custom("name")?;
                let reader =
                    wasmparser::NameSectionReader::new(BinaryReader::new(s.data, s.offset));
                for sub in reader {
                    if let Ok(Name::Module { name, .. }) = sub {
                        return Some(name.to_string());
                    }
                }
                None
            }
            UnitKind::Component => {
                let s = self.custom("component-name")?;
                let reader = wasmparser::ComponentNameSectionReader::new(BinaryReader::new(
                    s.data, s.offset,
                ));
                for sub in reader {
                    if let Ok(ComponentName::Component { name, .. }) = sub {
                        return Some(name.to_string());
                    }
                }
                None
            }
        }
    }

    /// Function names from the `name` section, by function index.
    pub fn function_names(&self) -> HashMap<u32, String> {
        let mut names = HashMap::new();
        let Some(s) = self.custom("name") else {
            return names;
        };
        let reader = wasmparser::NameSectionReader::new(BinaryReader::new(s.data, s.offset));
        for sub in reader.into_iter().flatten() {
            if let Name::Function(map) = sub {
                for naming in map.into_iter().flatten() {
                    names.insert(naming.index, naming.name.to_string());
                }
            }
        }
        names
    }

    /// Number of imported functions: code entry `i` is function `imports + i`.
    pub fn imported_functions(&self) -> u32 {
        let mut n = 0;
        for s in self
            .sections
            .iter()
            .filter(|s| s.id == 2 && s.custom_name.is_none())
        {
            let Ok(reader) =
                wasmparser::ImportSectionReader::new(BinaryReader::new(s.data, s.offset))
            else {
                continue;
            };
            for import in reader.into_imports().flatten() {
                if matches!(
                    import.ty,
                    wasmparser::TypeRef::Func(_) | wasmparser::TypeRef::FuncExact(_)
                ) {
                    n += 1;
                }
            }
        }
        n
    }

    /// Names for the nested modules and components defined in this component, in
    /// section order: what the parent calls them (component-name entries, exports,
    /// the instances made from them and those instances' names or exports).
    /// Components that define no nested units get empty lists.
    pub fn child_names(&self) -> ChildNames {
        if self.kind != UnitKind::Component {
            return ChildNames::default();
        }
        let mut spaces = IndexSpaces::default();
        for s in &self.sections {
            spaces.read_section(s);
        }
        spaces.resolve()
    }
}

/// A component's index spaces as the component model numbers them (imports,
/// definitions and aliases all append), so export and instance references can be
/// resolved, and the names found for their items.
#[derive(Default)]
struct IndexSpaces {
    /// Component index -> position among the components defined here.
    components: Vec<Option<usize>>,
    /// Core module index -> position among the modules defined here.
    modules: Vec<Option<usize>>,
    /// Instance index -> the component it instantiates.
    instances: Vec<Option<u32>>,
    /// Core instance index -> the module it instantiates.
    core_instances: Vec<Option<u32>>,
    defined_components: usize,
    defined_modules: usize,
    comp_export: HashMap<u32, String>,
    module_export: HashMap<u32, String>,
    instance_names: HashMap<u32, String>,
    core_instance_names: HashMap<u32, String>,
    /// `component-name` entries.
    comp_cn: HashMap<u32, String>,
    module_cn: HashMap<u32, String>,
}

impl IndexSpaces {
    /// Takes in what one section defines, imports, aliases, instantiates, exports or
    /// names.
    fn read_section(&mut self, s: &Section<'_>) {
        let reader = BinaryReader::new(s.data, s.offset);
        match (s.id, s.nested, s.custom_name) {
            (4, Some(_), _) => {
                self.components.push(Some(self.defined_components));
                self.defined_components += 1;
            }
            (1, Some(_), _) => {
                self.modules.push(Some(self.defined_modules));
                self.defined_modules += 1;
            }
            (10, None, None) => self.read_imports(reader),
            (6, None, None) => self.read_aliases(reader),
            (5, None, None) => self.read_instances(reader),
            (2, None, None) => self.read_core_instances(reader),
            (11, None, None) => self.read_exports(reader),
            (0, _, Some("component-name")) => self.read_component_names(reader),
            _ => {}
        }
    }

    fn read_imports(&mut self, reader: BinaryReader<'_>) {
        let Ok(r) = wasmparser::ComponentImportSectionReader::new(reader) else {
            return;
        };
        for import in r.into_iter().flatten() {
            match import.ty {
                ComponentTypeRef::Component(_) => self.components.push(None),
                ComponentTypeRef::Module(_) => self.modules.push(None),
                ComponentTypeRef::Instance(_) => {
                    self.instances.push(None);
                    self.instance_names.insert(
                        self.instances.len() as u32 - 1,
                        import.name.full_name().into_owned(),
                    );
                }
                _ => {}
            }
        }
    }

    fn read_aliases(&mut self, reader: BinaryReader<'_>) {
        let Ok(r) = wasmparser::ComponentAliasSectionReader::new(reader) else {
            return;
        };
        for alias in r.into_iter().flatten() {
            match alias {
                ComponentAlias::InstanceExport { kind, .. } => match kind {
                    ComponentExternalKind::Component => self.components.push(None),
                    ComponentExternalKind::Module => self.modules.push(None),
                    ComponentExternalKind::Instance => self.instances.push(None),
                    _ => {}
                },
                ComponentAlias::CoreInstanceExport { .. } => {}
                ComponentAlias::Outer { kind, .. } => match kind {
                    ComponentOuterAliasKind::Component => self.components.push(None),
                    ComponentOuterAliasKind::CoreModule => self.modules.push(None),
                    _ => {}
                },
            }
        }
    }

    fn read_instances(&mut self, reader: BinaryReader<'_>) {
        let Ok(r) = wasmparser::ComponentInstanceSectionReader::new(reader) else {
            return;
        };
        for inst in r.into_iter().flatten() {
            self.instances.push(match inst {
                ComponentInstance::Instantiate {
                    component_index, ..
                } => Some(component_index),
                ComponentInstance::FromExports(_) => None,
            });
        }
    }

    fn read_core_instances(&mut self, reader: BinaryReader<'_>) {
        let Ok(r) = wasmparser::InstanceSectionReader::new(reader) else {
            return;
        };
        for inst in r.into_iter().flatten() {
            self.core_instances.push(match inst {
                wasmparser::Instance::Instantiate { module_index, .. } => Some(module_index),
                wasmparser::Instance::FromExports(_) => None,
            });
        }
    }

    fn read_exports(&mut self, reader: BinaryReader<'_>) {
        let Ok(r) = wasmparser::ComponentExportSectionReader::new(reader) else {
            return;
        };
        for export in r.into_iter().flatten() {
            let name = export.name.full_name().into_owned();
            match export.kind {
                ComponentExternalKind::Component => {
                    self.comp_export.entry(export.index).or_insert(name);
                    self.components.push(None);
                }
                ComponentExternalKind::Module => {
                    self.module_export.entry(export.index).or_insert(name);
                    self.modules.push(None);
                }
                ComponentExternalKind::Instance => {
                    self.instance_names.entry(export.index).or_insert(name);
                    self.instances.push(None);
                }
                _ => {}
            }
        }
    }

    fn read_component_names(&mut self, reader: BinaryReader<'_>) {
        let r = wasmparser::ComponentNameSectionReader::new(reader);
        for sub in r.into_iter().flatten() {
            let (map, into) = match sub {
                ComponentName::Components(m) => (m, &mut self.comp_cn),
                ComponentName::CoreModules(m) => (m, &mut self.module_cn),
                ComponentName::Instances(m) => (m, &mut self.instance_names),
                ComponentName::CoreInstances(m) => (m, &mut self.core_instance_names),
                _ => continue,
            };
            for naming in map.into_iter().flatten() {
                into.insert(naming.index, naming.name.to_string());
            }
        }
    }

    /// Names each defined unit from what was read.
    fn resolve(self) -> ChildNames {
        let mut names = ChildNames {
            components: vec![None; self.defined_components],
            modules: vec![None; self.defined_modules],
            ..ChildNames::default()
        };
        // Priority: an explicit component-name entry, then an export of the item,
        // then a name of an instance made from it.
        let mut by_instance: HashMap<u32, String> = HashMap::new();
        for (i, comp) in self.instances.iter().enumerate() {
            if let (Some(c), Some(n)) = (comp, self.instance_names.get(&(i as u32))) {
                by_instance.entry(*c).or_insert_with(|| n.clone());
            }
        }
        let mut by_core_instance: HashMap<u32, String> = HashMap::new();
        for (i, m) in self.core_instances.iter().enumerate() {
            if let (Some(m), Some(n)) = (m, self.core_instance_names.get(&(i as u32))) {
                by_core_instance.entry(*m).or_insert_with(|| n.clone());
            }
        }
        for (index, pos) in self.components.iter().enumerate() {
            let Some(pos) = pos else { continue };
            let idx = index as u32;
            names.components[*pos] = self
                .comp_cn
                .get(&idx)
                .or_else(|| self.comp_export.get(&idx))
                .or_else(|| by_instance.get(&idx))
                .cloned();
            names.component_index.push(idx);
        }
        for (index, pos) in self.modules.iter().enumerate() {
            let Some(pos) = pos else { continue };
            let idx = index as u32;
            names.modules[*pos] = self
                .module_cn
                .get(&idx)
                .or_else(|| self.module_export.get(&idx))
                .or_else(|| by_core_instance.get(&idx))
                .cloned();
            names.module_index.push(idx);
        }
        names
    }
}

/// Names (and index-space indices) of the nested units a component defines, in
/// the order their sections appear.
#[derive(Default, Debug)]
pub(crate) struct ChildNames {
    pub components: Vec<Option<String>>,
    pub modules: Vec<Option<String>>,
    pub component_index: Vec<u32>,
    pub module_index: Vec<u32>,
}

/// Byte ranges of the items of a vector-shaped section, so sections other than
/// code and data can be compared item by item.
pub(crate) fn item_ranges(unit: UnitKind, s: &Section<'_>) -> Option<Vec<Range<usize>>> {
    fn ranges<'a, T: wasmparser::FromReader<'a>>(s: &Section<'a>) -> Option<Vec<Range<usize>>> {
        let reader = SectionLimited::<T>::new(BinaryReader::new(s.data, s.offset)).ok()?;
        let mut starts = Vec::new();
        for item in reader.into_iter_with_offsets() {
            let (offset, _) = item.ok()?;
            starts.push((offset - s.offset) as usize);
        }
        let mut out = Vec::with_capacity(starts.len());
        for (i, &start) in starts.iter().enumerate() {
            let end = starts.get(i + 1).copied().unwrap_or(s.data.len());
            out.push(start..end);
        }
        Some(out)
    }
    use wasmparser as w;
    match (unit, s.id) {
        (UnitKind::Module, 1) => ranges::<w::RecGroup>(s),
        (UnitKind::Module, 2) => ranges::<w::Imports>(s),
        (UnitKind::Module, 3) => ranges::<u32>(s),
        (UnitKind::Module, 4) => ranges::<w::Table>(s),
        (UnitKind::Module, 5) => ranges::<w::MemoryType>(s),
        (UnitKind::Module, 6) => ranges::<w::Global>(s),
        (UnitKind::Module, 7) => ranges::<w::Export>(s),
        (UnitKind::Module, 9) => ranges::<w::Element>(s),
        (UnitKind::Module, 13) => ranges::<w::TagType>(s),
        (UnitKind::Component, 2) => ranges::<w::Instance>(s),
        (UnitKind::Component, 3) => ranges::<w::CoreType>(s),
        (UnitKind::Component, 5) => ranges::<w::ComponentInstance>(s),
        (UnitKind::Component, 6) => ranges::<w::ComponentAlias>(s),
        (UnitKind::Component, 7) => ranges::<w::ComponentType>(s),
        (UnitKind::Component, 8) => ranges::<w::CanonicalFunction>(s),
        (UnitKind::Component, 10) => ranges::<w::ComponentImport>(s),
        (UnitKind::Component, 11) => ranges::<w::ComponentExport>(s),
        _ => None,
    }
}

/// Export or import names of a section, for "only in A/B" lists.
pub(crate) fn item_names(unit: UnitKind, s: &Section<'_>) -> Option<Vec<String>> {
    let reader = BinaryReader::new(s.data, s.offset);
    let names = match (unit, s.id) {
        (UnitKind::Module, 2) => wasmparser::ImportSectionReader::new(reader)
            .ok()?
            .into_imports()
            .map(|i| i.map(|i| format!("{}::{}", i.module, i.name)))
            .collect::<Result<Vec<_>, _>>()
            .ok()?,
        (UnitKind::Module, 7) => wasmparser::ExportSectionReader::new(reader)
            .ok()?
            .into_iter()
            .map(|e| e.map(|e| format!("{} ({})", e.name, external_kind(e.kind))))
            .collect::<Result<Vec<_>, _>>()
            .ok()?,
        (UnitKind::Component, 10) => wasmparser::ComponentImportSectionReader::new(reader)
            .ok()?
            .into_iter()
            .map(|i| i.map(|i| i.name.full_name().into_owned()))
            .collect::<Result<Vec<_>, _>>()
            .ok()?,
        (UnitKind::Component, 11) => wasmparser::ComponentExportSectionReader::new(reader)
            .ok()?
            .into_iter()
            .map(|e| e.map(|e| e.name.full_name().into_owned()))
            .collect::<Result<Vec<_>, _>>()
            .ok()?,
        _ => return None,
    };
    Some(names)
}

fn external_kind(k: ExternalKind) -> &'static str {
    match k {
        ExternalKind::Func | ExternalKind::FuncExact => "func",
        ExternalKind::Table => "table",
        ExternalKind::Memory => "memory",
        ExternalKind::Global => "global",
        ExternalKind::Tag => "tag",
    }
}
