//! The values a diagnosis returns. Plain data (serde for the CLI's JSON); the
//! one-line summaries are built here so every front end (diff, verify,
//! caps-sync, repro-check) words a cause the same way.

use serde::Serialize;

/// Why two artifacts differ, most explanatory first: a toolchain change explains
/// every other difference, an embedded path or timestamp explains the bytes it
/// covers, and "metadata only" is the least alarming.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    /// The producers section records other tool versions (rustc, clang, wit-component…).
    Toolchain,
    /// An absolute build path differs.
    EmbeddedPath,
    /// A date/time string or epoch-like value differs.
    Timestamp,
    /// Real content: code or data that is not explained by the above.
    CodeData,
    /// The same items in a different order.
    Ordering,
    /// Only names or custom sections that do not affect execution.
    MetadataOnly,
}

impl Cause {
    pub const ALL: [Cause; 6] = [
        Cause::Toolchain,
        Cause::EmbeddedPath,
        Cause::Timestamp,
        Cause::CodeData,
        Cause::Ordering,
        Cause::MetadataOnly,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Cause::Toolchain => "toolchain",
            Cause::EmbeddedPath => "embedded path",
            Cause::Timestamp => "timestamp",
            Cause::CodeData => "code/data",
            Cause::Ordering => "ordering",
            Cause::MetadataOnly => "metadata only",
        }
    }

    /// The next thing to try, as the spec's troubleshooting section words it.
    pub fn advice(self) -> &'static str {
        match self {
            Cause::Toolchain => {
                "build with the toolchain the manifest records ([toolchain] in caps-manifest.toml); \
                 digests are reproducible per toolchain version, not across"
            }
            Cause::EmbeddedPath => {
                "the build leaks its directory: find the env!/file!/__FILE__ or build script that \
                 embeds it, or add a --remap-path-prefix for that directory"
            }
            Cause::Timestamp => {
                "the build embeds the time: make it honour SOURCE_DATE_EPOCH (or drop the \
                 timestamp) in the build script or C macro that writes it"
            }
            Cause::CodeData => {
                "the inputs differ: compare the source revision, Cargo.lock and build flags \
                 (opt-level, features) of the two builds"
            }
            Cause::Ordering => {
                "something iterates in an unstable order (a HashMap, a directory listing): \
                 sort it where the build emits these items"
            }
            Cause::MetadataOnly => {
                "only names or custom sections differ: look for the tool that writes them \
                 (its version, or its inputs' paths)"
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitKind {
    Module,
    Component,
}

impl UnitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Module => "module",
            UnitKind::Component => "component",
        }
    }
}

/// One nested module or component on the way to a difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitRef {
    pub kind: UnitKind,
    /// Index in the parent's module or component index space.
    pub index: u32,
    /// The name the parent gives it (export, instance or component-name entry),
    /// or its own name section's name; `None` when nothing names it.
    pub name: Option<String>,
}

/// Where a difference is: the nested units from the top, then the section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub units: Vec<UnitRef>,
    /// `code`, `data`, `custom "producers"`, `export`, …
    pub section: String,
}

impl Location {
    /// `component[1] "zlib" › module[0] "fixture_a.wasm"`, or `top level`.
    pub fn unit_path(&self) -> String {
        if self.units.is_empty() {
            return "top level".into();
        }
        self.units
            .iter()
            .map(|u| match &u.name {
                Some(n) => format!("{}[{}] \"{n}\"", u.kind.as_str(), u.index),
                None => format!("{}[{}]", u.kind.as_str(), u.index),
            })
            .collect::<Vec<_>>()
            .join(" › ")
    }

    /// The unit path and the section: `module[0] › code`.
    pub fn describe(&self) -> String {
        format!("{} › {}", self.unit_path(), self.section)
    }
}

/// A range of bytes that differs inside a segment or section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ByteRange {
    /// Offset from the start of A's segment (or section payload).
    pub offset: u64,
    /// The same place in B (differs from `offset` after an insertion).
    pub offset_b: u64,
    pub len_a: u64,
    pub len_b: u64,
    pub file_offset_a: u64,
    pub file_offset_b: u64,
    /// Linear-memory address of the first differing byte, for active data segments.
    pub address: Option<u64>,
    /// The printable text around the difference on each side.
    pub context_a: String,
    pub context_b: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentDiff {
    pub index: u32,
    /// Where an active segment is placed in linear memory (`i32.const` offset).
    pub memory_offset: Option<u64>,
    /// B's placement, when it differs from A's.
    pub memory_offset_b: Option<u64>,
    pub len_a: u64,
    pub len_b: u64,
    pub ranges: Vec<ByteRange>,
    /// Differing ranges of this segment not listed (there can be thousands).
    pub more_ranges: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstrDiff {
    /// Position of the first differing instruction in the body (0-based).
    pub position: u32,
    pub a: String,
    pub b: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionDiff {
    /// Function index (imported functions counted first, as in the name section).
    pub index: u32,
    pub name: Option<String>,
    /// The other side's name when it differs.
    pub name_b: Option<String>,
    pub size_a: u64,
    pub size_b: u64,
    pub file_offset_a: u64,
    pub file_offset_b: u64,
    pub first_difference: Option<InstrDiff>,
    /// Same instructions; only constants (addresses, offsets) differ: typically the
    /// knock-on effect of data that moved.
    pub constants_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProducerChange {
    /// `language`, `processed-by` or `sdk`.
    pub field: String,
    pub name: String,
    /// `None` when only the other side lists this tool.
    pub version_a: Option<String>,
    pub version_b: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NameChange {
    /// `function 12`, `module`, `component 2`, …
    pub what: String,
    pub a: Option<String>,
    pub b: Option<String>,
}

/// What exactly differs at a location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Detail {
    FunctionBodies {
        count_a: u32,
        count_b: u32,
        /// Every differing function, listed or not.
        differing: usize,
        functions: Vec<FunctionDiff>,
        /// Named functions present on one side only (when the counts differ).
        only_in_a: Vec<String>,
        only_in_b: Vec<String>,
    },
    DataSegments {
        count_a: u32,
        count_b: u32,
        segments: Vec<SegmentDiff>,
    },
    /// A custom section's bytes.
    Bytes {
        size_a: u64,
        size_b: u64,
        ranges: Vec<ByteRange>,
        more_ranges: usize,
    },
    Producers {
        changes: Vec<ProducerChange>,
    },
    Names {
        changed: usize,
        examples: Vec<NameChange>,
    },
    /// Any other section, compared item by item.
    Items {
        count_a: u32,
        count_b: u32,
        differing: usize,
        first_differing: Option<u32>,
        /// Export/import names on one side only.
        only_in_a: Vec<String>,
        only_in_b: Vec<String>,
    },
    SectionOrder {
        a: Vec<String>,
        b: Vec<String>,
    },
    SectionPresence {
        only_in_a: Vec<String>,
        only_in_b: Vec<String>,
    },
    NestedUnits {
        unit_kind: UnitKind,
        count_a: u32,
        count_b: u32,
        only_in_a: Vec<String>,
        only_in_b: Vec<String>,
    },
    Encoding {
        a: String,
        b: String,
    },
}

/// One difference at its deepest location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub cause: Cause,
    pub location: Location,
    /// One line: what differs, with the evidence.
    pub summary: String,
    pub detail: Detail,
    /// The strings that support the cause on each side (paths, dates, versions).
    pub evidence_a: Vec<String>,
    pub evidence_b: Vec<String>,
    /// Only addresses differ (constants in code, pointers in data, global
    /// initialisers), and data elsewhere in the same unit changed length: this
    /// difference follows from that one and goes away with it.
    pub knock_on: bool,
}

/// One line per cause present, in `Cause` order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CauseSummary {
    pub cause: Cause,
    /// How many differences have this cause.
    pub count: usize,
    /// Every difference with this cause is a knock-on effect of another.
    pub knock_on: bool,
    /// `embedded path: /tmp/a vs /tmp/b in module[0] › data (+1 more)`.
    pub line: String,
    pub advice: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffReport {
    pub identical: bool,
    pub size_a: u64,
    pub size_b: u64,
    /// First differing byte, as `cmp` reports it (0-based).
    pub first_difference_offset: Option<u64>,
    pub causes: Vec<CauseSummary>,
    pub differences: Vec<Difference>,
}

impl DiffReport {
    pub(crate) fn new(a: &[u8], b: &[u8], mut differences: Vec<Difference>) -> DiffReport {
        // Root causes first, most explanatory first; file order within a cause.
        differences.sort_by_key(|d| (d.knock_on, d.cause));
        let first = first_mismatch(a, b).map(|o| o as u64);
        let causes = Cause::ALL
            .iter()
            .filter_map(|&cause| {
                let of: Vec<&Difference> =
                    differences.iter().filter(|d| d.cause == cause).collect();
                // Root differences first: a knock-on one is named only when
                // nothing else has this cause.
                let head = of.iter().find(|d| !d.knock_on).or(of.first())?;
                let more = if of.len() > 1 {
                    format!(" (+{} more)", of.len() - 1)
                } else {
                    String::new()
                };
                let all_knock_on = of.iter().all(|d| d.knock_on);
                let (label, advice) = if all_knock_on {
                    (
                        format!("{} (knock-on)", cause.label()),
                        "only addresses moved, because data changed length elsewhere in the same \
                         unit: fix the differences above and these disappear"
                            .to_string(),
                    )
                } else {
                    (cause.label().to_string(), cause.advice().to_string())
                };
                let line = if all_knock_on {
                    // Where addresses moved, grouped by unit: "code, global, data of module[0]".
                    let mut units: Vec<(String, Vec<String>)> = Vec::new();
                    for d in &of {
                        let unit = d.location.unit_path();
                        match units.iter_mut().find(|(u, _)| *u == unit) {
                            Some((_, sections)) => sections.push(d.location.section.clone()),
                            None => units.push((unit, vec![d.location.section.clone()])),
                        }
                    }
                    let places: Vec<String> = units
                        .iter()
                        .map(|(u, s)| format!("{} of {u}", s.join(", ")))
                        .collect();
                    format!("{label}: only addresses differ, in {}", places.join("; "))
                } else {
                    format!(
                        "{label}: {} in {}{more}",
                        head.summary,
                        head.location.describe()
                    )
                };
                Some(CauseSummary {
                    cause,
                    count: of.len(),
                    knock_on: all_knock_on,
                    line,
                    advice,
                })
            })
            .collect();
        DiffReport {
            identical: first.is_none(),
            size_a: a.len() as u64,
            size_b: b.len() as u64,
            first_difference_offset: first,
            causes,
            differences,
        }
    }

    /// The causes found, most explanatory first.
    pub fn cause_list(&self) -> Vec<Cause> {
        self.causes.iter().map(|c| c.cause).collect()
    }

    /// The summary lines, one per cause, for front ends that show only those.
    pub fn summary_lines(&self) -> Vec<String> {
        self.causes.iter().map(|c| c.line.clone()).collect()
    }
}

/// First differing byte, comparing in blocks so identical stretches go at memcmp
/// speed; a shorter file that is a prefix of the longer differs at its end.
pub(crate) fn first_mismatch(a: &[u8], b: &[u8]) -> Option<usize> {
    const BLOCK: usize = 64 * 1024;
    let n = a.len().min(b.len());
    let mut at = 0;
    while at < n {
        let end = (at + BLOCK).min(n);
        if a[at..end] != b[at..end] {
            let i = a[at..end]
                .iter()
                .zip(&b[at..end])
                .position(|(x, y)| x != y)
                .unwrap_or(0);
            return Some(at + i);
        }
        at = end;
    }
    (a.len() != b.len()).then_some(n)
}
