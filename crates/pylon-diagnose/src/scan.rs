//! The single-artifact scan: what can be said about a build without a reference
//! to compare with: machine paths and timestamps in its data, and the tools the
//! producers sections name.

use serde::Serialize;

use crate::producers::{producers_of, Producer};
use crate::report::{Location, UnitKind, UnitRef};
use crate::text;
use crate::walk::{parse_unit, Unit};
use crate::Side;

/// Findings listed per kind; the counts past this are in `more_*`.
const MAX_FINDINGS: usize = 50;

#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Directories of this machine to look for besides the well-known ones
    /// (`/home/`, `/tmp/`, …): the checkout, HOME, CARGO_HOME.
    pub extra_path_prefixes: Vec<String>,
    /// The `SOURCE_DATE_EPOCH` the build ran with: a timestamp equal to it is
    /// pinned, not a leak.
    pub source_date_epoch: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub text: String,
    /// `module[0] › data` style location of the first occurrence.
    pub location: String,
    pub file_offset: u64,
    /// How many times this text occurs.
    pub occurrences: usize,
    /// A timestamp equal to SOURCE_DATE_EPOCH (reproducible by construction).
    pub pinned: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitProducers {
    pub unit: String,
    pub producers: Vec<Producer>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Findings {
    pub paths: Vec<Finding>,
    pub more_paths: usize,
    pub timestamps: Vec<Finding>,
    pub more_timestamps: usize,
    /// Producers of every unit that has a producers section, deduplicated.
    pub producers: Vec<UnitProducers>,
    /// Set when the bytes could not be parsed as wasm; the raw bytes were scanned.
    pub parse_error: Option<String>,
}

impl Findings {
    /// Timestamps that are not the pinned SOURCE_DATE_EPOCH.
    pub fn unpinned_timestamps(&self) -> impl Iterator<Item = &Finding> {
        self.timestamps.iter().filter(|t| !t.pinned)
    }

    /// Every (name, version) of tool named anywhere, e.g. ("rustc", "1.95.0 (…)").
    pub fn tools(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for u in &self.producers {
            for p in &u.producers {
                let t = (p.name.clone(), p.version.clone());
                if !out.contains(&t) {
                    out.push(t);
                }
            }
        }
        out
    }
}

/// Scans one artifact with the default options.
pub fn scan_artifact(bytes: &[u8]) -> Findings {
    scan_artifact_with(bytes, &ScanOptions::default())
}

pub fn scan_artifact_with(bytes: &[u8], opts: &ScanOptions) -> Findings {
    let mut f = Findings::default();
    match crate::walk::check_magic(Side::A, bytes)
        .and_then(|_| parse_unit(Side::A, bytes, 0..bytes.len()))
    {
        Ok(unit) => {
            if let Err(e) = scan_unit(bytes, &unit, &[], opts, &mut f) {
                f.parse_error = Some(e.reason());
            }
        }
        Err(e) => {
            f.parse_error = Some(e.reason());
            scan_bytes(bytes, 0, "(whole file)", opts, true, &mut f);
        }
    }
    f
}

fn scan_unit(
    file: &[u8],
    unit: &Unit<'_>,
    path: &[UnitRef],
    opts: &ScanOptions,
    f: &mut Findings,
) -> Result<(), crate::DiffError> {
    let here = Location {
        units: path.to_vec(),
        section: String::new(),
    }
    .unit_path();
    let names = unit.child_names();
    let (mut modules, mut components) = (0usize, 0usize);
    for s in &unit.sections {
        if let Some(kind) = s.nested {
            let range = s.offset as usize..s.offset as usize + s.data.len();
            let child = parse_unit(Side::A, file, range)?;
            let (name, index) = match kind {
                UnitKind::Module => {
                    modules += 1;
                    (
                        names.modules.get(modules - 1).cloned().flatten(),
                        names
                            .module_index
                            .get(modules - 1)
                            .copied()
                            .unwrap_or(modules as u32 - 1),
                    )
                }
                UnitKind::Component => {
                    components += 1;
                    (
                        names.components.get(components - 1).cloned().flatten(),
                        names
                            .component_index
                            .get(components - 1)
                            .copied()
                            .unwrap_or(components as u32 - 1),
                    )
                }
            };
            let mut child_path = path.to_vec();
            child_path.push(UnitRef {
                kind,
                index,
                name: name.or_else(|| child.own_name()),
            });
            scan_unit(file, &child, &child_path, opts, f)?;
            continue;
        }
        if s.custom_name == Some("producers") {
            let producers = producers_of(s.data, s.offset);
            if !f.producers.iter().any(|u| u.producers == producers) {
                f.producers.push(UnitProducers {
                    unit: here.clone(),
                    producers,
                });
            }
            continue;
        }
        // Instruction bytes are not text; scanning them only finds noise.
        if unit.kind == UnitKind::Module && s.id == 10 && s.custom_name.is_none() {
            continue;
        }
        let label = format!("{here} › {}", s.label(unit.kind));
        // Symbol names carry hashes and counters: ten digits there are a mangled
        // name's, never a clock's.
        let names_only = s.custom_name == Some("name") || s.custom_name == Some("component-name");
        scan_bytes(s.data, s.offset, &label, opts, !names_only, f);
    }
    Ok(())
}

fn record(
    list: &mut Vec<Finding>,
    more: &mut usize,
    text: String,
    location: &str,
    offset: u64,
    pinned: bool,
) {
    if let Some(existing) = list.iter_mut().find(|x| x.text == text) {
        existing.occurrences += 1;
        return;
    }
    if list.len() >= MAX_FINDINGS {
        *more += 1;
        return;
    }
    list.push(Finding {
        text,
        location: location.to_string(),
        file_offset: offset,
        occurrences: 1,
        pinned,
    });
}

fn scan_bytes(
    bytes: &[u8],
    offset: u64,
    location: &str,
    opts: &ScanOptions,
    timestamps: bool,
    f: &mut Findings,
) {
    for (at, path) in text::find_machine_paths(bytes, &opts.extra_path_prefixes) {
        record(
            &mut f.paths,
            &mut f.more_paths,
            path,
            location,
            offset + at as u64,
            false,
        );
    }
    if !timestamps {
        return;
    }
    let mut stamps = text::find_timestamps(bytes);
    // A bare ten-digit number is a build time only if it reads as one: a date when
    // something could have been built with this toolchain, not any 32-bit constant.
    stamps.extend(
        text::find_decimal_epochs(bytes)
            .into_iter()
            .filter(|(_, s)| s.parse::<u64>().is_ok_and(text::is_plausible_build_time)),
    );
    for (at, stamp) in stamps {
        let pinned = opts
            .source_date_epoch
            .is_some_and(|e| matches_epoch(&stamp, e));
        record(
            &mut f.timestamps,
            &mut f.more_timestamps,
            stamp,
            location,
            offset + at as u64,
            pinned,
        );
    }
}

/// Whether a found date/time string is the given epoch in one of the formats
/// `text::find_timestamps` recognises.
fn matches_epoch(stamp: &str, epoch: u64) -> bool {
    if stamp == epoch.to_string() {
        return true;
    }
    let iso = text::format_epoch(epoch); // 1980-01-01T00:00:00Z
    let (date, time) = (&iso[..10], &iso[11..19]);
    let (y, m, d) = (&iso[..4], &iso[5..7], &iso[8..10]);
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .get(m.parse::<usize>().unwrap_or(1).saturating_sub(1))
    .copied()
    .unwrap_or("Jan");
    let day: u32 = d.parse().unwrap_or(1);
    stamp.starts_with(date)
        || stamp == time
        || stamp == format!("{month} {day:>2} {y}")
        || stamp == format!("{month} {d} {y}")
        || stamp == format!("{d} {month} {y}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_epoch_formats() {
        let e = 315_532_800; // 1980-01-01T00:00:00Z
        for s in [
            "1980-01-01",
            "1980-01-01T00:00:00Z",
            "Jan  1 1980",
            "Jan 01 1980",
            "01 Jan 1980",
            "00:00:00",
            "315532800",
        ] {
            assert!(matches_epoch(s, e), "{s}");
        }
        assert!(!matches_epoch("2024-05-01", e));
    }

    #[test]
    fn constants_and_shallow_tmp_names_are_not_findings() {
        // 2003 and 2098 as epochs; a file name directly under /tmp (the stdlib's own
        // examples, e.g. "/tmp/myimport.zip") is a string the program uses.
        let f = scan_artifact(
            b"x 1070000000 y 4070157133 z /tmp/myimport.zip /tmp/myimport.zip/mydirectory",
        );
        assert!(f.timestamps.is_empty(), "{:?}", f.timestamps);
        assert!(f.paths.is_empty(), "{:?}", f.paths);
        // A build directory under /tmp is deep, or names a source file.
        let f = scan_artifact(b"a /tmp/pylon-x1/caps/zlib/src b /tmp/build1/lib.rs c 1714564800");
        let paths: Vec<&str> = f.paths.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(paths, ["/tmp/pylon-x1/caps/zlib/src", "/tmp/build1/lib.rs"]);
        assert_eq!(f.timestamps[0].text, "1714564800");
    }

    #[test]
    fn garbage_is_scanned_raw() {
        let f = scan_artifact(b"not wasm but /home/u/project/src/main.rs and 2024-05-01");
        assert!(f.parse_error.is_some());
        assert_eq!(f.paths[0].text, "/home/u/project/src/main.rs");
        assert_eq!(f.timestamps[0].text, "2024-05-01");
    }
}
