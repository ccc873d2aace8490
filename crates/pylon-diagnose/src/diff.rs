//! Comparing two artifacts level by level and naming the cause of each difference.
//!
//! A difference is reported at the deepest level that explains it: when only a
//! nested component differs, its parent's component section is not reported; the
//! walk descends and reports the nested unit's differing sections instead.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;

use wasmparser::{BinaryReader, DataKind, Operator};

use crate::producers::{producers_of, Producer};
use crate::report::*;
use crate::text;
use crate::walk::{item_names, item_ranges, parse_unit, ChildNames, Section, Unit};
use crate::{DiffError, Side};

/// How many functions, segments and ranges are listed per difference; the
/// counts are always complete.
const MAX_LISTED: usize = 20;
/// Differing bytes closer than this are one range (a path differs in several
/// characters with equal ones between).
const MERGE_GAP: usize = 16;
/// Printable context shown around a differing range, each way.
const CONTEXT: usize = 48;
/// Differing ranges of one segment or section that get a cause; the rest are
/// counted. Thousands of moved pointers are classified in well under a millisecond.
const MAX_CLASSIFIED: usize = 4096;

struct Walker<'a> {
    a: &'a [u8],
    b: &'a [u8],
    out: Vec<Difference>,
}

pub(crate) fn diff(a: &[u8], b: &[u8]) -> Result<Vec<Difference>, DiffError> {
    let ua = parse_unit(Side::A, a, 0..a.len())?;
    let ub = parse_unit(Side::B, b, 0..b.len())?;
    let mut w = Walker {
        a,
        b,
        out: Vec::new(),
    };
    w.units(&ua, &ub, &[])?;
    Ok(w.out)
}

/// A section's position among the sections of the same kind, so the third
/// `type` section of A is compared with the third of B.
type Key = (u8, Option<String>, usize);

fn keyed<'a>(unit: &Unit<'a>) -> Vec<(Key, Section<'a>)> {
    let mut seen: HashMap<(u8, Option<String>), usize> = HashMap::new();
    unit.sections
        .iter()
        .map(|s| {
            let base = (s.id, s.custom_name.map(str::to_string));
            let n = seen.entry(base.clone()).or_insert(0);
            let key = (base.0, base.1, *n);
            *n += 1;
            (key, s.clone())
        })
        .collect()
}

fn key_label(unit: UnitKind, key: &Key, s: &Section<'_>) -> String {
    let label = s.label(unit);
    if key.2 > 0 {
        format!("{label} #{}", key.2 + 1)
    } else {
        label
    }
}

/// Where a difference is: the unit path and the section.
fn location(path: &[UnitRef], section: &str) -> Location {
    Location {
        units: path.to_vec(),
        section: section.to_string(),
    }
}

/// One side's names and index-space indices of the nested units of one kind.
struct NestedNames<'n> {
    kind: UnitKind,
    names: &'n [Option<String>],
    index: &'n [u32],
}

impl<'n> NestedNames<'n> {
    fn of(names: &'n ChildNames, kind: UnitKind) -> Self {
        match kind {
            UnitKind::Module => NestedNames {
                kind,
                names: &names.modules,
                index: &names.module_index,
            },
            UnitKind::Component => NestedNames {
                kind,
                names: &names.components,
                index: &names.component_index,
            },
        }
    }

    fn name(&self, i: usize) -> Option<String> {
        self.names.get(i).cloned().flatten()
    }

    fn index(&self, i: usize) -> u32 {
        self.index.get(i).copied().unwrap_or(i as u32)
    }

    /// Whether all `n` units have a name, each a different one.
    fn all_named(&self, n: usize) -> bool {
        let set: HashSet<&String> = self.names.iter().flatten().collect();
        self.names.len() == n && self.names.iter().all(Option::is_some) && set.len() == n
    }

    fn describe(&self, i: usize) -> String {
        match self.name(i) {
            Some(n) => format!("{}[{}] \"{n}\"", self.kind.as_str(), self.index(i)),
            None => format!("{}[{}]", self.kind.as_str(), self.index(i)),
        }
    }
}

/// Pairs the nested units of one kind: by name when their counts differ and every
/// one on both sides has a distinct name, else by position; `None` for a unit on
/// one side only.
fn pair_nested(
    count_a: usize,
    count_b: usize,
    na: &NestedNames<'_>,
    nb: &NestedNames<'_>,
) -> Vec<(Option<usize>, Option<usize>)> {
    if count_a != count_b && na.all_named(count_a) && nb.all_named(count_b) {
        let mut pairs: Vec<(Option<usize>, Option<usize>)> = Vec::new();
        for (i, name) in na.names.iter().enumerate() {
            pairs.push((Some(i), nb.names.iter().position(|n| n == name)));
        }
        for (j, name) in nb.names.iter().enumerate() {
            if !na.names.contains(name) {
                pairs.push((None, Some(j)));
            }
        }
        pairs
    } else {
        (0..count_a.max(count_b))
            .map(|i| ((i < count_a).then_some(i), (i < count_b).then_some(i)))
            .collect()
    }
}

impl<'a> Walker<'a> {
    fn push(
        &mut self,
        cause: Cause,
        location: Location,
        summary: String,
        detail: Detail,
        evidence: (Vec<String>, Vec<String>),
    ) {
        self.out.push(Difference {
            cause,
            location,
            summary,
            detail,
            evidence_a: evidence.0,
            evidence_b: evidence.1,
            knock_on: false,
        });
    }

    /// Marks the difference just pushed as possibly a knock-on effect; `units`
    /// confirms or clears it once the whole unit has been compared.
    fn mark_knock_on_candidate(&mut self) {
        if let Some(d) = self.out.last_mut() {
            d.knock_on = true;
        }
    }

    fn units(&mut self, ua: &Unit<'a>, ub: &Unit<'a>, path: &[UnitRef]) -> Result<(), DiffError> {
        if ua.bytes == ub.bytes {
            return Ok(());
        }
        if ua.kind != ub.kind {
            self.push(
                Cause::CodeData,
                location(path, "header"),
                format!("a {} vs a {}", ua.kind.as_str(), ub.kind.as_str()),
                Detail::Encoding {
                    a: ua.kind.as_str().into(),
                    b: ub.kind.as_str().into(),
                },
                (vec![], vec![]),
            );
            return Ok(());
        }
        let ka = keyed(ua);
        let kb = keyed(ub);
        self.section_layout(ua.kind, &ka, &kb, path);
        let first_of_unit = self.out.len();
        self.sections(ua, ub, &ka, &kb, path)?;
        self.settle_knock_ons(first_of_unit);
        self.nested(ua, ub, &ka, &kb, path)
    }

    /// Sections present on one side only, and the same sections in another order.
    fn section_layout(
        &mut self,
        kind: UnitKind,
        ka: &[(Key, Section<'a>)],
        kb: &[(Key, Section<'a>)],
        path: &[UnitRef],
    ) {
        // Nested units are matched separately (by name when both sides name them
        // all), so they are left out of the section-order comparison.
        let plain = |v: &[(Key, Section<'a>)]| -> Vec<Key> {
            v.iter()
                .filter(|(_, s)| s.nested.is_none())
                .map(|(k, _)| k.clone())
                .collect()
        };
        let (order_a, order_b) = (plain(ka), plain(kb));
        let set_a: HashSet<&Key> = order_a.iter().collect();
        let set_b: HashSet<&Key> = order_b.iter().collect();
        let label_of = |v: &[(Key, Section<'a>)], k: &Key| {
            v.iter()
                .find(|(kk, _)| kk == k)
                .map(|(kk, s)| key_label(kind, kk, s))
                .unwrap_or_default()
        };
        let only_a: Vec<&Key> = order_a.iter().filter(|k| !set_b.contains(k)).collect();
        let only_b: Vec<&Key> = order_b.iter().filter(|k| !set_a.contains(k)).collect();
        if !only_a.is_empty() || !only_b.is_empty() {
            let la: Vec<String> = only_a.iter().map(|k| label_of(ka, k)).collect();
            let lb: Vec<String> = only_b.iter().map(|k| label_of(kb, k)).collect();
            // Sections that are all custom (and not producers) are metadata.
            let all_custom = only_a.iter().chain(&only_b).all(|k| k.0 == 0);
            let toolchain = only_a
                .iter()
                .chain(&only_b)
                .any(|k| matches!(k.1.as_deref(), Some("producers" | "target_features")));
            let cause = if toolchain {
                Cause::Toolchain
            } else if all_custom {
                Cause::MetadataOnly
            } else {
                Cause::CodeData
            };
            let mut parts = Vec::new();
            if !la.is_empty() {
                parts.push(format!("only in A: {}", la.join(", ")));
            }
            if !lb.is_empty() {
                parts.push(format!("only in B: {}", lb.join(", ")));
            }
            self.push(
                cause,
                location(path, "sections"),
                format!("sections present on one side: {}", parts.join("; ")),
                Detail::SectionPresence {
                    only_in_a: la,
                    only_in_b: lb,
                },
                (vec![], vec![]),
            );
        }
        let common_a: Vec<&Key> = order_a.iter().filter(|k| set_b.contains(k)).collect();
        let common_b: Vec<&Key> = order_b.iter().filter(|k| set_a.contains(k)).collect();
        if common_a != common_b {
            let la: Vec<String> = common_a.iter().map(|k| label_of(ka, k)).collect();
            let lb: Vec<String> = common_b.iter().map(|k| label_of(kb, k)).collect();
            self.push(
                Cause::Ordering,
                location(path, "sections"),
                format!(
                    "the same sections in another order: [{}] vs [{}]",
                    la.join(", "),
                    lb.join(", ")
                ),
                Detail::SectionOrder { a: la, b: lb },
                (vec![], vec![]),
            );
        }
    }

    /// Compares each section both sides have (nested units aside) by what it holds.
    fn sections(
        &mut self,
        ua: &Unit<'a>,
        ub: &Unit<'a>,
        ka: &[(Key, Section<'a>)],
        kb: &[(Key, Section<'a>)],
        path: &[UnitRef],
    ) -> Result<(), DiffError> {
        let kind = ua.kind;
        let sections_b: HashMap<&Key, &Section<'a>> = kb.iter().map(|(k, s)| (k, s)).collect();
        for (key, sa) in ka {
            if sa.nested.is_some() {
                continue;
            }
            let Some(sb) = sections_b.get(key) else {
                continue;
            };
            if sa.data == sb.data {
                continue;
            }
            let label = key_label(kind, key, sa);
            let at = location(path, &label);
            match (kind, sa.id, sa.custom_name) {
                (UnitKind::Module, 10, None) => self.code(ua, sa, ub, sb, at)?,
                (UnitKind::Module, 11, None) => self.data(sa, sb, at)?,
                (_, 0, Some("producers")) => self.producers(sa, sb, at),
                (_, 0, Some("name" | "component-name")) => self.names(kind, sa, sb, at),
                (_, 0, Some(name)) => self.custom(name, sa, sb, at),
                _ => self.items(kind, sa, sb, at),
            }
        }
        Ok(())
    }

    /// Confirms or clears the knock-on candidates pushed since `first_of_unit`.
    fn settle_knock_ons(&mut self, first_of_unit: usize) {
        // Addresses only move when some data changed length; without such a
        // change, "only constants differ" is a real difference of its own.
        let shifted = self.out[first_of_unit..].iter().any(|d| {
            !d.knock_on
                && matches!(&d.detail, Detail::DataSegments { segments, .. }
                    if segments.iter().any(|s| s.len_a != s.len_b))
        });
        if !shifted {
            for d in &mut self.out[first_of_unit..] {
                d.knock_on = false;
            }
        }
    }

    /// Pairs nested units (by name when every one on both sides has a distinct
    /// name, else by position) and descends into those that differ.
    fn nested(
        &mut self,
        ua: &Unit<'a>,
        ub: &Unit<'a>,
        ka: &[(Key, Section<'a>)],
        kb: &[(Key, Section<'a>)],
        path: &[UnitRef],
    ) -> Result<(), DiffError> {
        let names_a = ua.child_names();
        let names_b = ub.child_names();
        for unit_kind in [UnitKind::Module, UnitKind::Component] {
            let list = |v: &[(Key, Section<'a>)]| -> Vec<Section<'a>> {
                v.iter()
                    .filter(|(_, s)| s.nested == Some(unit_kind))
                    .map(|(_, s)| s.clone())
                    .collect()
            };
            let (la, lb) = (list(ka), list(kb));
            if la.is_empty() && lb.is_empty() {
                continue;
            }
            let na = NestedNames::of(&names_a, unit_kind);
            let nb = NestedNames::of(&names_b, unit_kind);
            let pairs = pair_nested(la.len(), lb.len(), &na, &nb);
            self.nested_presence(la.len(), lb.len(), &pairs, &na, &nb, path);
            for (i, j) in pairs {
                let (Some(i), Some(j)) = (i, j) else { continue };
                let (sa, sb) = (&la[i], &lb[j]);
                if sa.data == sb.data {
                    continue;
                }
                let ra = sa.offset as usize..sa.offset as usize + sa.data.len();
                let rb = sb.offset as usize..sb.offset as usize + sb.data.len();
                let child_a = parse_unit(Side::A, self.a, ra)?;
                let child_b = parse_unit(Side::B, self.b, rb)?;
                let name = na
                    .name(i)
                    .or_else(|| nb.name(j))
                    .or_else(|| child_a.own_name())
                    .or_else(|| child_b.own_name());
                let mut child_path = path.to_vec();
                child_path.push(UnitRef {
                    kind: unit_kind,
                    index: na.index(i),
                    name,
                });
                self.units(&child_a, &child_b, &child_path)?;
            }
        }
        Ok(())
    }

    /// Nested units of one kind that are on one side only.
    fn nested_presence(
        &mut self,
        count_a: usize,
        count_b: usize,
        pairs: &[(Option<usize>, Option<usize>)],
        na: &NestedNames<'_>,
        nb: &NestedNames<'_>,
        path: &[UnitRef],
    ) {
        let unit_kind = na.kind;
        let only_a: Vec<String> = pairs
            .iter()
            .filter_map(|p| match p {
                (Some(i), None) => Some(na.describe(*i)),
                _ => None,
            })
            .collect();
        let only_b: Vec<String> = pairs
            .iter()
            .filter_map(|p| match p {
                (None, Some(j)) => Some(nb.describe(*j)),
                _ => None,
            })
            .collect();
        if only_a.is_empty() && only_b.is_empty() {
            return;
        }
        self.push(
            Cause::CodeData,
            location(path, &format!("{} sections", unit_kind.as_str())),
            format!(
                "{} nested {}s vs {}{}{}",
                count_a,
                unit_kind.as_str(),
                count_b,
                if only_a.is_empty() {
                    String::new()
                } else {
                    format!("; only in A: {}", only_a.join(", "))
                },
                if only_b.is_empty() {
                    String::new()
                } else {
                    format!("; only in B: {}", only_b.join(", "))
                },
            ),
            Detail::NestedUnits {
                unit_kind,
                count_a: count_a as u32,
                count_b: count_b as u32,
                only_in_a: only_a,
                only_in_b: only_b,
            },
            (vec![], vec![]),
        );
    }

    fn code(
        &mut self,
        ua: &Unit<'a>,
        sa: &Section<'a>,
        ub: &Unit<'a>,
        sb: &Section<'a>,
        location: Location,
    ) -> Result<(), DiffError> {
        let bodies_a = bodies(Side::A, sa)?;
        let bodies_b = bodies(Side::B, sb)?;
        let (names_a, names_b) = (ua.function_names(), ub.function_names());
        let side_a = CodeSide {
            bodies: &bodies_a,
            imported: ua.imported_functions(),
            names: &names_a,
        };
        let side_b = CodeSide {
            bodies: &bodies_b,
            imported: ub.imported_functions(),
            names: &names_b,
        };
        let (count_a, count_b) = (bodies_a.len() as u32, bodies_b.len() as u32);
        let FunctionPairs {
            pairs,
            only_a,
            only_b,
        } = pair_functions(&side_a, &side_b);
        let differing: Vec<(usize, usize)> = pairs
            .iter()
            .copied()
            .filter(|&(i, j)| bodies_a[i].1 != bodies_b[j].1)
            .collect();

        // Ordering: every body is still there, just at another position.
        if count_a == count_b && differing.len() > 1 && same_bodies(&bodies_a, &bodies_b) {
            self.reordered_functions(location, count_a, differing.len());
            return Ok(());
        }

        let functions = function_diffs(&side_a, &side_b, &differing);
        if differing.is_empty() && only_a.is_empty() && only_b.is_empty() && count_a == count_b {
            // The bodies are equal but the section bytes are not: an encoding
            // difference (e.g. padded LEB128 sizes), which does not change code.
            self.push(
                Cause::MetadataOnly,
                location,
                "same function bodies, differently encoded section".into(),
                Detail::FunctionBodies {
                    count_a,
                    count_b,
                    differing: 0,
                    functions,
                    only_in_a: only_a,
                    only_in_b: only_b,
                },
                (vec![], vec![]),
            );
            return Ok(());
        }
        // Whether every differing body (listed or not) differs only in constants.
        let all_constants = functions.iter().all(|f| f.constants_only)
            && differing.iter().skip(MAX_LISTED).all(|&(i, j)| {
                let ((ra, ba), (rb, bb)) = (&bodies_a[i], &bodies_b[j]);
                compare_ops(ra.start as u64, ba, rb.start as u64, bb).1
            });
        let knock_on = all_constants && count_a == count_b && !differing.is_empty();
        let summary = code_summary(
            (count_a, count_b),
            (only_a.len(), only_b.len()),
            differing.len(),
            &functions,
            knock_on,
        );
        self.push(
            Cause::CodeData,
            location,
            summary,
            Detail::FunctionBodies {
                count_a,
                count_b,
                differing: differing.len(),
                functions,
                only_in_a: only_a,
                only_in_b: only_b,
            },
            (vec![], vec![]),
        );
        if knock_on {
            self.mark_knock_on_candidate();
        }
        Ok(())
    }

    /// The same function bodies, `moved` of them at other positions.
    fn reordered_functions(&mut self, location: Location, count: u32, moved: usize) {
        self.push(
            Cause::Ordering,
            location,
            format!("the same {count} function bodies in another order ({moved} moved)"),
            Detail::FunctionBodies {
                count_a: count,
                count_b: count,
                differing: moved,
                functions: Vec::new(),
                only_in_a: Vec::new(),
                only_in_b: Vec::new(),
            },
            (vec![], vec![]),
        );
    }

    fn data(
        &mut self,
        sa: &Section<'a>,
        sb: &Section<'a>,
        location: Location,
    ) -> Result<(), DiffError> {
        let segs_a = segments(Side::A, sa)?;
        let segs_b = segments(Side::B, sb)?;
        let (count_a, count_b) = (segs_a.len() as u32, segs_b.len() as u32);
        let mut groups = group_segment_differences(&segs_a, &segs_b);
        if count_a != count_b {
            groups.entry((Cause::CodeData, false)).or_default();
        }
        for ((cause, knock_on), (segments, ev_a, ev_b)) in groups {
            let summary = data_summary(
                (count_a, count_b),
                cause,
                knock_on,
                &segments,
                (&ev_a, &ev_b),
            );
            self.push(
                cause,
                location.clone(),
                summary,
                Detail::DataSegments {
                    count_a,
                    count_b,
                    segments,
                },
                (ev_a, ev_b),
            );
            if knock_on {
                self.mark_knock_on_candidate();
            }
        }
        Ok(())
    }

    fn producers(&mut self, sa: &Section<'a>, sb: &Section<'a>, location: Location) {
        let pa = producers_of(sa.data, sa.offset);
        let pb = producers_of(sb.data, sb.offset);
        let mut changes = Vec::new();
        let key = |p: &Producer| (p.field.clone(), p.name.clone());
        let map_b: HashMap<(String, String), &Producer> = pb.iter().map(|p| (key(p), p)).collect();
        let map_a: HashMap<(String, String), &Producer> = pa.iter().map(|p| (key(p), p)).collect();
        for p in &pa {
            let other = map_b.get(&key(p));
            if other.map(|o| &o.version) != Some(&p.version) {
                changes.push(ProducerChange {
                    field: p.field.clone(),
                    name: p.name.clone(),
                    version_a: Some(p.version.clone()),
                    version_b: other.map(|o| o.version.clone()),
                });
            }
        }
        for p in &pb {
            if !map_a.contains_key(&key(p)) {
                changes.push(ProducerChange {
                    field: p.field.clone(),
                    name: p.name.clone(),
                    version_a: None,
                    version_b: Some(p.version.clone()),
                });
            }
        }
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(absent)".into());
        let ev_a: Vec<String> = changes
            .iter()
            .map(|c| format!("{} {}", c.name, show(&c.version_a)))
            .collect();
        let ev_b: Vec<String> = changes
            .iter()
            .map(|c| format!("{} {}", c.name, show(&c.version_b)))
            .collect();
        let summary = if changes.is_empty() {
            "same tools, differently encoded producers section".to_string()
        } else {
            changes
                .iter()
                .map(|c| {
                    format!(
                        "{} {}: {} vs {}",
                        c.field,
                        c.name,
                        show(&c.version_a),
                        show(&c.version_b)
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        let cause = if changes.is_empty() {
            Cause::MetadataOnly
        } else {
            Cause::Toolchain
        };
        self.push(
            cause,
            location,
            summary,
            Detail::Producers { changes },
            (ev_a, ev_b),
        );
    }

    fn names(&mut self, kind: UnitKind, sa: &Section<'a>, sb: &Section<'a>, location: Location) {
        let na = crate::names::all_names(kind, sa);
        let nb = crate::names::all_names(kind, sb);
        let mut examples = Vec::new();
        let mut changed = 0;
        let keys: std::collections::BTreeSet<&String> = na.keys().chain(nb.keys()).collect();
        let mut texts_a = Vec::new();
        let mut texts_b = Vec::new();
        for k in keys {
            let (a, b) = (na.get(k), nb.get(k));
            if a != b {
                changed += 1;
                if let Some(a) = a {
                    texts_a.push(a.clone());
                }
                if let Some(b) = b {
                    texts_b.push(b.clone());
                }
                if examples.len() < MAX_LISTED {
                    examples.push(NameChange {
                        what: k.clone(),
                        a: a.cloned(),
                        b: b.cloned(),
                    });
                }
            }
        }
        // A name that embeds a build path or time is that leak, not just metadata.
        let (cause, ev_a, ev_b) = classify_texts(&texts_a.join("\n"), &texts_b.join("\n"));
        let cause = cause.unwrap_or(Cause::MetadataOnly);
        let mut summary = if changed == 0 {
            "same names, differently encoded name section".to_string()
        } else {
            let first = &examples[0];
            format!(
                "{changed} name{} differ (first: {} {:?} vs {:?})",
                if changed == 1 { "" } else { "s" },
                first.what,
                first.a.as_deref().unwrap_or("(none)"),
                first.b.as_deref().unwrap_or("(none)")
            )
        };
        if !ev_a.is_empty() || !ev_b.is_empty() {
            summary = format!(
                "{} vs {}; {summary}",
                evidence_text(&ev_a),
                evidence_text(&ev_b)
            );
        }
        self.push(
            cause,
            location,
            summary,
            Detail::Names { changed, examples },
            (ev_a, ev_b),
        );
    }

    fn custom(&mut self, name: &str, sa: &Section<'a>, sb: &Section<'a>, location: Location) {
        let (windows, total) = differing_windows(sa.data, sb.data, MAX_LISTED);
        type Group = (Vec<ByteRange>, Vec<String>, Vec<String>);
        let mut by_cause: BTreeMap<Cause, Group> = BTreeMap::new();
        for w in &windows {
            let (cause, ev_a, ev_b) = classify_window(sa.data, sb.data, w);
            // target_features decides what instructions the compiler may use: a
            // toolchain setting, whatever the bytes look like.
            let cause = match (cause, name) {
                (Cause::CodeData, "target_features") => Cause::Toolchain,
                (Cause::CodeData, _) => Cause::MetadataOnly,
                (c, _) => c,
            };
            let entry = by_cause.entry(cause).or_default();
            entry
                .0
                .push(byte_range(sa.data, sb.data, w, sa.offset, sb.offset, None));
            push_unique(&mut entry.1, ev_a);
            push_unique(&mut entry.2, ev_b);
        }
        let more = total - windows.len();
        for (cause, (ranges, ev_a, ev_b)) in by_cause {
            let r = &ranges[0];
            let mut summary = format!(
                "{} vs {} bytes, {} differing range{} (first at +{:#x}: {:?} vs {:?})",
                sa.data.len(),
                sb.data.len(),
                ranges.len(),
                if ranges.len() == 1 { "" } else { "s" },
                r.offset,
                r.context_a,
                r.context_b
            );
            if !ev_a.is_empty() || !ev_b.is_empty() {
                summary = format!(
                    "{} vs {}; {summary}",
                    evidence_text(&ev_a),
                    evidence_text(&ev_b)
                );
            }
            self.push(
                cause,
                location.clone(),
                summary,
                Detail::Bytes {
                    size_a: sa.data.len() as u64,
                    size_b: sb.data.len() as u64,
                    ranges,
                    more_ranges: more,
                },
                (ev_a, ev_b),
            );
        }
    }

    fn items(&mut self, kind: UnitKind, sa: &Section<'a>, sb: &Section<'a>, location: Location) {
        let (ia, ib) = (item_ranges(kind, sa), item_ranges(kind, sb));
        let (Some(ia), Some(ib)) = (ia, ib) else {
            // A section without items (start) or one we cannot split: report bytes.
            self.unsplit_bytes(sa, sb, location);
            return;
        };
        let items_a: Vec<&[u8]> = ia.iter().map(|r| &sa.data[r.clone()]).collect();
        let items_b: Vec<&[u8]> = ib.iter().map(|r| &sb.data[r.clone()]).collect();
        let (count_a, count_b) = (items_a.len() as u32, items_b.len() as u32);
        let differing = items_a.iter().zip(&items_b).filter(|(a, b)| a != b).count()
            + items_a.len().abs_diff(items_b.len());
        let first_differing = items_a
            .iter()
            .zip(&items_b)
            .position(|(a, b)| a != b)
            .or_else(|| (count_a != count_b).then_some(items_a.len().min(items_b.len())))
            .map(|p| p as u32);
        let mut sorted_a = items_a.clone();
        let mut sorted_b = items_b.clone();
        sorted_a.sort_unstable();
        sorted_b.sort_unstable();
        let (names_a, names_b) = (item_names(kind, sa), item_names(kind, sb));
        let (mut only_a, mut only_b) = (Vec::new(), Vec::new());
        if let (Some(na), Some(nb)) = (&names_a, &names_b) {
            only_a = na.iter().filter(|n| !nb.contains(n)).cloned().collect();
            only_b = nb.iter().filter(|n| !na.contains(n)).cloned().collect();
        }
        let detail = Detail::Items {
            count_a,
            count_b,
            differing,
            first_differing,
            only_in_a: only_a.clone(),
            only_in_b: only_b.clone(),
        };
        if sorted_a == sorted_b && differing > 0 {
            self.push(
                Cause::Ordering,
                location,
                format!(
                    "the same {count_a} items in another order (first moved: item {})",
                    first_differing.unwrap_or(0)
                ),
                detail,
                (vec![], vec![]),
            );
            return;
        }
        // Changed items whose text carries a path or time (e.g. an export named
        // after the build directory) are that leak.
        let (cause, ev_a, ev_b) = classify_texts(
            &changed_items_text(&items_a, &items_b),
            &changed_items_text(&items_b, &items_a),
        );
        let knock_on = cause.is_none()
            && kind == UnitKind::Module
            && sa.id == 6
            && globals_differ_in_constants(sa, sb);
        let mut summary = format!("{differing} of {count_a} vs {count_b} items differ");
        if let Some(f) = first_differing {
            summary.push_str(&format!(" (first: item {f})"));
        }
        for (side, only) in [("A", &only_a), ("B", &only_b)] {
            if !only.is_empty() {
                summary.push_str(&format!(
                    "; only in {side}: {}",
                    only.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
        if knock_on {
            summary.push_str(" (only constant initialisers differ)");
        }
        self.push(
            cause.unwrap_or(Cause::CodeData),
            location,
            summary,
            detail,
            (ev_a, ev_b),
        );
        if knock_on {
            self.mark_knock_on_candidate();
        }
    }

    /// A section that cannot be split into items: where its bytes differ.
    fn unsplit_bytes(&mut self, sa: &Section<'a>, sb: &Section<'a>, location: Location) {
        let (windows, _) = differing_windows(sa.data, sb.data, MAX_LISTED);
        let ranges = windows
            .iter()
            .map(|w| byte_range(sa.data, sb.data, w, sa.offset, sb.offset, None))
            .collect();
        self.push(
            Cause::CodeData,
            location,
            format!("{} vs {} bytes", sa.data.len(), sb.data.len()),
            Detail::Bytes {
                size_a: sa.data.len() as u64,
                size_b: sb.data.len() as u64,
                ranges,
                more_ranges: 0,
            },
            (vec![], vec![]),
        );
    }
}

/// The items of one side that the other does not have, as text.
fn changed_items_text(items: &[&[u8]], other: &[&[u8]]) -> String {
    items
        .iter()
        .filter(|i| !other.contains(i))
        .map(|i| text::show_bytes(i))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One side's code section: its bodies, and what names them.
struct CodeSide<'s, 'a> {
    bodies: &'s [Body<'a>],
    /// Imported functions come first in the index space: body `i` is function
    /// `imported + i`.
    imported: u32,
    names: &'s HashMap<u32, String>,
}

impl CodeSide<'_, '_> {
    fn index(&self, i: usize) -> u32 {
        self.imported + i as u32
    }

    fn name(&self, i: usize) -> Option<&String> {
        self.names.get(&self.index(i))
    }
}

/// Function bodies paired across the two sides, and those left over on each.
struct FunctionPairs {
    pairs: Vec<(usize, usize)>,
    only_a: Vec<String>,
    only_b: Vec<String>,
}

/// Same count: pairs by position. Otherwise by name when the name section allows
/// (inlining adds and removes functions), else by position.
fn pair_functions(a: &CodeSide<'_, '_>, b: &CodeSide<'_, '_>) -> FunctionPairs {
    let (len_a, len_b) = (a.bodies.len(), b.bodies.len());
    let mut only_a = Vec::new();
    let mut only_b = Vec::new();
    if len_a == len_b || a.names.is_empty() || b.names.is_empty() {
        let pairs = (0..len_a.min(len_b)).map(|i| (i, i)).collect();
        return FunctionPairs {
            pairs,
            only_a,
            only_b,
        };
    }
    let mut pairs = Vec::new();
    let by_name_b: HashMap<&str, usize> = (0..len_b)
        .filter_map(|j| b.name(j).map(|n| (n.as_str(), j)))
        .collect();
    let mut matched_b = HashSet::new();
    for i in 0..len_a {
        match a.name(i) {
            Some(n) => match by_name_b.get(n.as_str()) {
                Some(&j) => {
                    pairs.push((i, j));
                    matched_b.insert(j);
                }
                None => only_a.push(n.clone()),
            },
            None => only_a.push(format!("#{}", a.index(i))),
        }
    }
    for j in 0..len_b {
        if !matched_b.contains(&j) {
            only_b.push(
                b.name(j)
                    .cloned()
                    .unwrap_or_else(|| format!("#{}", b.index(j))),
            );
        }
    }
    FunctionPairs {
        pairs,
        only_a,
        only_b,
    }
}

/// The same bodies on both sides, in whatever order.
fn same_bodies(a: &[Body<'_>], b: &[Body<'_>]) -> bool {
    let mut sorted_a: Vec<&[u8]> = a.iter().map(|b| b.1).collect();
    let mut sorted_b: Vec<&[u8]> = b.iter().map(|b| b.1).collect();
    sorted_a.sort_unstable();
    sorted_b.sort_unstable();
    sorted_a == sorted_b
}

/// The first [`MAX_LISTED`] differing functions, each with where its instructions
/// first differ.
fn function_diffs(
    a: &CodeSide<'_, '_>,
    b: &CodeSide<'_, '_>,
    differing: &[(usize, usize)],
) -> Vec<FunctionDiff> {
    let mut functions = Vec::new();
    for &(i, j) in differing.iter().take(MAX_LISTED) {
        let (ra, ba) = &a.bodies[i];
        let (rb, bb) = &b.bodies[j];
        let index = a.index(i);
        let name = a.names.get(&index).cloned();
        let other = b.name(j).cloned();
        let (first_difference, constants_only) =
            compare_ops(ra.start as u64, ba, rb.start as u64, bb);
        functions.push(FunctionDiff {
            index,
            name_b: if other != name { other } else { None },
            name,
            size_a: ba.len() as u64,
            size_b: bb.len() as u64,
            file_offset_a: ra.start as u64,
            file_offset_b: rb.start as u64,
            first_difference,
            constants_only,
        });
    }
    functions
}

/// The summary of a code section whose bodies differ: counts, the first functions,
/// and whether only constants differ.
fn code_summary(
    (count_a, count_b): (u32, u32),
    (only_a, only_b): (usize, usize),
    differing: usize,
    functions: &[FunctionDiff],
    knock_on: bool,
) -> String {
    let listed: Vec<String> = functions.iter().take(3).map(describe_function).collect();
    let mut summary = if count_a == count_b {
        format!("{differing} of {count_a} function bodies differ")
    } else {
        format!(
            "{count_a} vs {count_b} functions ({only_a} only in A, {only_b} only in B), {differing} common bodies differ"
        )
    };
    if !listed.is_empty() {
        summary.push_str(&format!(
            ": {}{}",
            listed.join(", "),
            if differing > listed.len() {
                ", …"
            } else {
                ""
            }
        ));
    }
    if knock_on {
        summary.push_str(" (only constants differ)");
    }
    summary
}

/// The differing ranges of data segments with one cause, and the evidence.
type SegmentGroup = (Vec<SegmentDiff>, Vec<String>, Vec<String>);

/// Per (cause, knock-on): the differing ranges of each segment, and evidence.
fn group_segment_differences(
    segs_a: &[Segment<'_>],
    segs_b: &[Segment<'_>],
) -> BTreeMap<(Cause, bool), SegmentGroup> {
    // The linear-memory span of the data, to recognise pointers into it.
    let span = segs_a
        .iter()
        .chain(segs_b)
        .filter_map(|s| Some((s.memory_offset?, s.memory_offset? + s.data.len() as u64)))
        .fold(None, |acc: Option<(u64, u64)>, (lo, hi)| {
            Some(acc.map_or((lo, hi), |(l, h)| (l.min(lo), h.max(hi))))
        });
    let mut groups: BTreeMap<(Cause, bool), SegmentGroup> = BTreeMap::new();
    for (index, (a, b)) in segs_a.iter().zip(segs_b).enumerate() {
        let moved = a.memory_offset != b.memory_offset;
        if a.data != b.data {
            classify_segment(index as u32, a, b, span, &mut groups);
        } else if moved {
            // Same bytes placed elsewhere: an earlier segment changed length.
            groups
                .entry((Cause::CodeData, true))
                .or_default()
                .0
                .push(SegmentDiff {
                    index: index as u32,
                    memory_offset: a.memory_offset,
                    memory_offset_b: b.memory_offset,
                    len_a: a.data.len() as u64,
                    len_b: b.data.len() as u64,
                    ranges: Vec::new(),
                    more_ranges: 0,
                });
        }
    }
    groups
}

/// Classifies each differing range of one segment pair into `groups`.
fn classify_segment(
    index: u32,
    a: &Segment<'_>,
    b: &Segment<'_>,
    span: Option<(u64, u64)>,
    groups: &mut BTreeMap<(Cause, bool), SegmentGroup>,
) {
    let moved = a.memory_offset != b.memory_offset;
    let (windows, total) = differing_windows(a.data, b.data, MAX_CLASSIFIED);
    let mut per_group: BTreeMap<(Cause, bool), (Vec<ByteRange>, usize)> = BTreeMap::new();
    for w in &windows {
        let (cause, ev_a, ev_b) = classify_window(a.data, b.data, w);
        let knock_on = cause == Cause::CodeData
            && (moved_pointers(a, b, w, span) || padding(a.data, b.data, w));
        let entry = per_group.entry((cause, knock_on)).or_default();
        if entry.0.len() < MAX_LISTED {
            entry.0.push(byte_range(
                a.data,
                b.data,
                w,
                a.file_offset,
                b.file_offset,
                a.memory_offset,
            ));
        } else {
            entry.1 += 1;
        }
        let group = groups.entry((cause, knock_on)).or_default();
        push_unique(&mut group.1, ev_a);
        push_unique(&mut group.2, ev_b);
    }
    // Ranges past the classification limit are counted as content.
    if total > windows.len() {
        per_group.entry((Cause::CodeData, false)).or_default().1 += total - windows.len();
    }
    for (key, (ranges, more_ranges)) in per_group {
        groups.entry(key).or_default().0.push(SegmentDiff {
            index,
            memory_offset: a.memory_offset,
            memory_offset_b: if moved { b.memory_offset } else { None },
            len_a: a.data.len() as u64,
            len_b: b.data.len() as u64,
            ranges,
            more_ranges,
        });
    }
}

/// The summary of one group of differing data ranges.
fn data_summary(
    (count_a, count_b): (u32, u32),
    cause: Cause,
    knock_on: bool,
    segments: &[SegmentDiff],
    (ev_a, ev_b): (&[String], &[String]),
) -> String {
    let ranges: usize = segments
        .iter()
        .map(|s| s.ranges.len() + s.more_ranges)
        .sum();
    let mut parts = Vec::new();
    if count_a != count_b && cause == Cause::CodeData && !knock_on {
        parts.push(format!("{count_a} vs {count_b} data segments"));
    }
    if let Some(r) = segments
        .first()
        .and_then(|s| s.ranges.first().map(|r| (s, r)))
    {
        let (first, r) = r;
        parts.push(format!(
            "{ranges} differing range{} in {} segment{} (first: segment {} at +{:#x}{}, {} vs {} bytes{})",
            if ranges == 1 { "" } else { "s" },
            segments.len(),
            if segments.len() == 1 { "" } else { "s" },
            first.index,
            r.offset,
            r.address.map(|a| format!(", address {a:#x}")).unwrap_or_default(),
            r.len_a,
            r.len_b,
            if knock_on { "; only pointers into the data differ" } else { "" },
        ));
    }
    let mut summary = parts.join("; ");
    if !ev_a.is_empty() || !ev_b.is_empty() {
        summary = format!(
            "{} vs {}; {summary}",
            evidence_text(ev_a),
            evidence_text(ev_b)
        );
    }
    summary
}

/// Same globals, where those that differ are integer constants of the same
/// type on both sides (the stack pointer, heap base and data end move with data).
fn globals_differ_in_constants(sa: &Section<'_>, sb: &Section<'_>) -> bool {
    fn read<'a>(s: &Section<'a>) -> Option<Vec<wasmparser::Global<'a>>> {
        wasmparser::GlobalSectionReader::new(BinaryReader::new(s.data, s.offset))
            .ok()?
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
            .ok()
    }
    let (Some(ga), Some(gb)) = (read(sa), read(sb)) else {
        return false;
    };
    let constant = |g: &wasmparser::Global<'_>| -> Option<i64> {
        let mut ops = g.init_expr.get_operators_reader();
        let value = match ops.read().ok()? {
            Operator::I32Const { value } => i64::from(value),
            Operator::I64Const { value } => value,
            _ => return None,
        };
        matches!(ops.read().ok()?, Operator::End).then_some(value)
    };
    ga.len() == gb.len()
        && ga.iter().zip(&gb).all(|(a, b)| {
            a.ty == b.ty
                && (a.init_expr == b.init_expr || (constant(a).is_some() && constant(b).is_some()))
        })
}

fn describe_function(f: &FunctionDiff) -> String {
    match &f.name {
        Some(n) => format!("#{} `{n}`", f.index),
        None => format!("#{}", f.index),
    }
}

fn evidence_text(ev: &[String]) -> String {
    match ev.len() {
        0 => "(none)".into(),
        1..=2 => ev.join(", "),
        n => format!("{}, {} (+{} more)", ev[0], ev[1], n - 2),
    }
}

fn push_unique(into: &mut Vec<String>, items: Vec<String>) {
    for i in items {
        if !into.contains(&i) {
            into.push(i);
        }
    }
}

/// Function bodies of a code section: (file range, bytes incl. locals).
type Body<'a> = (Range<usize>, &'a [u8]);

fn bodies<'a>(side: Side, s: &Section<'a>) -> Result<Vec<Body<'a>>, DiffError> {
    let reader = wasmparser::CodeSectionReader::new(BinaryReader::new(s.data, s.offset))
        .map_err(|e| crate::walk_error(side, e))?;
    let mut out = Vec::with_capacity(reader.count() as usize);
    for body in reader {
        let body = body.map_err(|e| crate::walk_error(side, e))?;
        let r = body.range();
        out.push((r.start as usize..r.end as usize, body.as_bytes()));
    }
    Ok(out)
}

struct Segment<'a> {
    data: &'a [u8],
    file_offset: u64,
    memory_offset: Option<u64>,
}

fn segments<'a>(side: Side, s: &Section<'a>) -> Result<Vec<Segment<'a>>, DiffError> {
    let reader = wasmparser::DataSectionReader::new(BinaryReader::new(s.data, s.offset))
        .map_err(|e| crate::walk_error(side, e))?;
    let mut out = Vec::new();
    for seg in reader {
        let seg = seg.map_err(|e| crate::walk_error(side, e))?;
        let memory_offset = match &seg.kind {
            DataKind::Active { offset_expr, .. } => {
                let mut ops = offset_expr.get_operators_reader();
                match ops.read() {
                    Ok(Operator::I32Const { value }) => Some(u64::from(value as u32)),
                    Ok(Operator::I64Const { value }) => Some(value as u64),
                    _ => None,
                }
            }
            DataKind::Passive => None,
        };
        // `seg.data` is a subslice of the section: its file offset follows.
        let file_offset = s.offset + (seg.data.as_ptr() as usize - s.data.as_ptr() as usize) as u64;
        out.push(Segment {
            data: seg.data,
            file_offset,
            memory_offset,
        });
    }
    Ok(out)
}

/// A differing stretch: `a[start_a..end_a]` vs `b[start_b..end_b]`.
#[derive(Debug, Clone)]
struct Window {
    start_a: usize,
    end_a: usize,
    start_b: usize,
    end_b: usize,
}

/// Equal bytes needed to consider two streams back in step after a difference.
const RESYNC: usize = 8;
/// How far past a difference to look for the streams to get back in step.
const RESYNC_SEARCH: usize = 512;

/// Length of the common prefix of two slices, a block at a time so equal
/// megabytes cost a memcmp.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 4096;
    let n = a.len().min(b.len());
    let mut at = 0;
    while at < n {
        let end = (at + BLOCK).min(n);
        if a[at..end] != b[at..end] {
            return at
                + a[at..end]
                    .iter()
                    .zip(&b[at..end])
                    .take_while(|(x, y)| x == y)
                    .count();
        }
        at = end;
    }
    n
}

/// The nearest point after a mismatch at (`i`, `j`) where both streams agree
/// for `RESYNC` bytes: same shift first (a substitution, e.g. a changed
/// pointer), then any shift within the search distance (an insertion, e.g. a
/// longer path), nearest first.
fn resync(a: &[u8], b: &[u8], i: usize, j: usize) -> Option<(usize, usize)> {
    let agree = |x: usize, y: usize| {
        x + RESYNC <= a.len() && y + RESYNC <= b.len() && a[x..x + RESYNC] == b[y..y + RESYNC]
    };
    // The streams end together: as good as agreeing.
    let ends = |x: usize, y: usize| x == a.len() && y == b.len();
    for d in 1..=RESYNC_SEARCH {
        if agree(i + d, j + d) || ends(i + d, j + d) {
            return Some((i + d, j + d));
        }
    }
    for t in 1..=2 * RESYNC_SEARCH {
        for x in t.saturating_sub(RESYNC_SEARCH)..=t.min(RESYNC_SEARCH) {
            let y = t - x;
            if (i + x <= a.len() && j + y <= b.len()) && (agree(i + x, j + y) || ends(i + x, j + y))
            {
                return Some((i + x, j + y));
            }
        }
    }
    None
}

/// Differing stretches of two byte strings, walking both in step and getting
/// back in step after each difference, so a path that grew by eight bytes is
/// one window and the pointers after it are windows of their own. Windows closer
/// than `MERGE_GAP` are merged (a path differs in several characters with equal
/// ones between). Returns the first `limit` windows and the total count.
fn differing_windows(a: &[u8], b: &[u8], limit: usize) -> (Vec<Window>, usize) {
    let mut windows: Vec<Window> = Vec::new();
    let mut total = 0;
    let mut current: Option<Window> = None;
    let (mut i, mut j) = (0, 0);
    loop {
        let n = common_prefix(&a[i..], &b[j..]);
        i += n;
        j += n;
        if i == a.len() && j == b.len() {
            break;
        }
        let (ni, nj) = resync(a, b, i, j).unwrap_or((a.len(), b.len()));
        let w = Window {
            start_a: i,
            end_a: ni,
            start_b: j,
            end_b: nj,
        };
        current = match current {
            Some(mut c) if w.start_a <= c.end_a + MERGE_GAP && w.start_b <= c.end_b + MERGE_GAP => {
                c.end_a = w.end_a;
                c.end_b = w.end_b;
                Some(c)
            }
            Some(c) => {
                total += 1;
                if windows.len() < limit {
                    windows.push(c);
                }
                Some(w)
            }
            None => Some(w),
        };
        i = ni;
        j = nj;
    }
    if let Some(c) = current {
        total += 1;
        if windows.len() < limit {
            windows.push(c);
        }
    }
    (windows, total)
}

fn byte_range(
    a: &[u8],
    b: &[u8],
    w: &Window,
    file_a: u64,
    file_b: u64,
    memory: Option<u64>,
) -> ByteRange {
    let ctx = |bytes: &[u8], start: usize, end: usize| {
        let (s, e) = text::printable_context(bytes, start, end.max(start + 1), CONTEXT);
        text::show_bytes(&bytes[s.min(bytes.len())..e.min(bytes.len())])
    };
    ByteRange {
        offset: w.start_a as u64,
        offset_b: w.start_b as u64,
        len_a: (w.end_a - w.start_a) as u64,
        len_b: (w.end_b - w.start_b) as u64,
        file_offset_a: file_a + w.start_a as u64,
        file_offset_b: file_b + w.start_b as u64,
        address: memory.map(|m| m + w.start_a as u64),
        context_a: ctx(a, w.start_a, w.end_a),
        context_b: ctx(b, w.start_b, w.end_b),
    }
}

/// Every differing 4-byte word of the window is, on both sides, an address
/// inside the data's memory span: pointers that moved with the data.
fn moved_pointers(a: &Segment<'_>, b: &Segment<'_>, w: &Window, span: Option<(u64, u64)>) -> bool {
    let (Some((lo, hi)), Some(base_a), Some(base_b)) = (span, a.memory_offset, b.memory_offset)
    else {
        return false;
    };
    if w.end_a - w.start_a != w.end_b - w.start_b {
        return false;
    }
    // Words are aligned in memory, not in the segment: start at the aligned
    // address at or before the window on each side.
    let back_a = ((base_a + w.start_a as u64) % 4) as usize;
    let back_b = ((base_b + w.start_b as u64) % 4) as usize;
    if back_a != back_b || w.start_a < back_a || w.start_b < back_b {
        return false;
    }
    let (mut x, mut y) = (w.start_a - back_a, w.start_b - back_b);
    while x < w.end_a {
        let (Some(wa), Some(wb)) = (a.data.get(x..x + 4), b.data.get(y..y + 4)) else {
            return false;
        };
        if wa != wb {
            let va = u64::from(u32::from_le_bytes([wa[0], wa[1], wa[2], wa[3]]));
            let vb = u64::from(u32::from_le_bytes([wb[0], wb[1], wb[2], wb[3]]));
            // Up to the end of the span: a pointer may point just past an object.
            if !(lo..=hi).contains(&va) || !(lo..=hi).contains(&vb) {
                return false;
            }
        }
        x += 4;
        y += 4;
    }
    true
}

/// Zero bytes inserted or removed: alignment padding that grew or shrank
/// because something before it changed length.
fn padding(a: &[u8], b: &[u8], w: &Window) -> bool {
    let (xa, xb) = (&a[w.start_a..w.end_a], &b[w.start_b..w.end_b]);
    xa.len() != xb.len() && xa.iter().chain(xb).all(|&c| c == 0)
}

/// Names the cause of one differing window from the text around it on both
/// sides: differing absolute paths, then date/time strings, then binary
/// epoch-like integers; anything else is content.
/// Two differing paths as found in packed string data, each up to where the
/// bytes stop being path characters, and how far into each the difference goes.
/// What follows the difference is the same on both sides: either the paths' own
/// common ending, or the next string glued on ("/x/short" + "index in range").
/// The tail is dropped unless it belongs to the paths: it goes on into further
/// directories, or the two last names are one name and its extension differing
/// only in what comes after the shared letters ("/x/home" vs "/y/home-elsewhere"
/// differ up to the last 'e' of "home"), in which case as much of it is kept as
/// leaves one name a prefix of the other.
fn trim_glued_tail(a: &str, cut_a: usize, b: &str, cut_b: usize) -> (String, String) {
    let (tail_a, tail_b) = (&a[cut_a..], &b[cut_b..]);
    if tail_a != tail_b || tail_a.contains(['/', '\\']) {
        return (a.to_string(), b.to_string());
    }
    let last_name = |p: &str| p.rsplit(['/', '\\']).next().unwrap_or(p).to_string();
    let keep = (1..=tail_a.len())
        .rev()
        .filter(|&k| tail_a.is_char_boundary(k))
        .find(|&k| {
            let (na, nb) = (last_name(&a[..cut_a + k]), last_name(&b[..cut_b + k]));
            na != nb && (na.starts_with(&nb) || nb.starts_with(&na))
        })
        .unwrap_or(0);
    (a[..cut_a + keep].to_string(), b[..cut_b + keep].to_string())
}

fn classify_window(a: &[u8], b: &[u8], w: &Window) -> (Cause, Vec<String>, Vec<String>) {
    let around = |bytes: &[u8], start: usize, end: usize| {
        text::printable_context(bytes, start, end.max(start + 1), 4096)
    };
    let (sa, ea) = around(a, w.start_a, w.end_a);
    let (sb, eb) = around(b, w.start_b, w.end_b);
    // Only strings that overlap the differing bytes count: a path or date next
    // to a difference, equal on both sides, explains nothing. Each comes with how
    // far into it the difference reaches.
    let overlapping = |found: Vec<(usize, String)>,
                       base: usize,
                       start: usize,
                       end: usize|
     -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = Vec::new();
        for (at, s) in found {
            let (from, to) = (base + at, base + at + s.len());
            if from > end || to < start || (from == end && end > start) {
                continue;
            }
            if !out.iter().any(|(x, _)| *x == s) {
                let differs_up_to = (end - from).min(s.len());
                out.push((s, differs_up_to));
            }
        }
        out
    };
    let strings = |v: Vec<(String, usize)>| v.into_iter().map(|(s, _)| s).collect::<Vec<_>>();
    let (ta, tb) = (&a[sa..ea], &b[sb..eb]);
    let pa = overlapping(text::find_any_paths(ta), sa, w.start_a, w.end_a);
    let pb = overlapping(text::find_any_paths(tb), sb, w.start_b, w.end_b);
    if let ([(path_a, cut_a)], [(path_b, cut_b)]) = (pa.as_slice(), pb.as_slice()) {
        let (a, b) = trim_glued_tail(path_a, *cut_a, path_b, *cut_b);
        return (Cause::EmbeddedPath, vec![a], vec![b]);
    }
    if !pa.is_empty() || !pb.is_empty() {
        return (Cause::EmbeddedPath, strings(pa), strings(pb));
    }
    let stamps = |t: &[u8]| {
        let mut v = text::find_timestamps(t);
        v.extend(text::find_decimal_epochs(t));
        v
    };
    let ta_ = strings(overlapping(stamps(ta), sa, w.start_a, w.end_a));
    let tb_ = strings(overlapping(stamps(tb), sb, w.start_b, w.end_b));
    if !ta_.is_empty() || !tb_.is_empty() {
        return (Cause::Timestamp, ta_, tb_);
    }
    // Binary time: a 4- or 8-byte little-endian integer covering the window that
    // reads as a date between 2000 and 2100 on both sides.
    let len = w.end_a - w.start_a;
    // Letters of a string read as an integer can fall in any range ("Trac" vs
    // "trac" read as dates in 2022): a difference inside running text on both sides
    // is not a binary clock.
    let printable =
        |run: Option<&[u8]>| run.is_some_and(|run| run.iter().all(|c| (0x20..0x7f).contains(c)));
    let in_text = |bytes: &[u8], start: usize, end: usize| {
        printable(bytes.get(start..end))
            && (printable(bytes.get(start.saturating_sub(4)..start))
                || printable(bytes.get(end..end + 4)))
    };
    let text_both = in_text(a, w.start_a, w.end_a) && in_text(b, w.start_b, w.end_b);
    if len == w.end_b - w.start_b && len <= 8 && !text_both {
        for width in [4usize, 8] {
            for back in 0..width {
                let (Some(xa), Some(xb)) =
                    (w.start_a.checked_sub(back), w.start_b.checked_sub(back))
                else {
                    continue;
                };
                if back + len > width {
                    continue;
                }
                let read = |bytes: &[u8], at: usize| {
                    let mut buf = [0u8; 8];
                    buf[..width].copy_from_slice(bytes.get(at..at + width)?);
                    Some(u64::from_le_bytes(buf))
                };
                let (Some(va), Some(vb)) = (read(a, xa), read(b, xb)) else {
                    continue;
                };

                if text::is_epoch_like(va)
                    && text::is_epoch_like(vb)
                    && va.abs_diff(vb) < 366 * 86_400
                {
                    return (
                        Cause::Timestamp,
                        vec![format!("{va} ({})", text::format_epoch(va))],
                        vec![format!("{vb} ({})", text::format_epoch(vb))],
                    );
                }
            }
        }
    }
    (Cause::CodeData, vec![], vec![])
}

/// Cause from two texts that differ: a path or timestamp found on one side and
/// not on the other (a string equal on both sides explains nothing).
fn classify_texts(ta: &str, tb: &str) -> (Option<Cause>, Vec<String>, Vec<String>) {
    let differing = |xa: Vec<String>, xb: Vec<String>| -> (Vec<String>, Vec<String>) {
        let a: Vec<String> = xa.iter().filter(|x| !xb.contains(x)).cloned().collect();
        let b: Vec<String> = xb.iter().filter(|x| !xa.contains(x)).cloned().collect();
        (a, b)
    };
    let paths = |t: &str| -> Vec<String> {
        text::find_any_paths(t.as_bytes())
            .into_iter()
            .map(|(_, p)| p)
            .collect()
    };
    let (pa, pb) = differing(paths(ta), paths(tb));
    if !pa.is_empty() || !pb.is_empty() {
        return (Some(Cause::EmbeddedPath), pa, pb);
    }
    let stamps = |t: &str| -> Vec<String> {
        let mut v: Vec<String> = text::find_timestamps(t.as_bytes())
            .into_iter()
            .map(|(_, s)| s)
            .collect();
        v.extend(
            text::find_decimal_epochs(t.as_bytes())
                .into_iter()
                .map(|(_, s)| s),
        );
        v
    };
    let (sa, sb) = differing(stamps(ta), stamps(tb));
    if !sa.is_empty() || !sb.is_empty() {
        return (Some(Cause::Timestamp), sa, sb);
    }
    (None, vec![], vec![])
}

/// The first differing instruction of two bodies, and whether they differ only
/// in constants (same operators, other immediates for consts and memory offsets).
fn compare_ops(off_a: u64, a: &[u8], off_b: u64, b: &[u8]) -> (Option<InstrDiff>, bool) {
    let fa = wasmparser::FunctionBody::new(BinaryReader::new(a, off_a));
    let fb = wasmparser::FunctionBody::new(BinaryReader::new(b, off_b));
    let locals = |f: &wasmparser::FunctionBody<'_>| -> Option<Vec<(u32, wasmparser::ValType)>> {
        f.get_locals_reader()
            .ok()?
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
            .ok()
    };
    let same_locals = locals(&fa) == locals(&fb);
    let (Ok(mut ra), Ok(mut rb)) = (fa.get_operators_reader(), fb.get_operators_reader()) else {
        return (None, false);
    };
    let mut first = None;
    let mut constants_only = same_locals;
    let mut position = 0u32;
    loop {
        let (ea, eb) = (ra.eof(), rb.eof());
        if ea || eb {
            if ea != eb {
                constants_only = false;
                if first.is_none() {
                    let show = |r: &mut wasmparser::OperatorsReader<'_>, end: bool| {
                        if end {
                            "(end of body)".to_string()
                        } else {
                            r.read()
                                .map(|o| format!("{o:?}"))
                                .unwrap_or_else(|e| e.to_string())
                        }
                    };
                    first = Some(InstrDiff {
                        position,
                        a: show(&mut ra, ea),
                        b: show(&mut rb, eb),
                    });
                }
            }
            break;
        }
        let (Ok(oa), Ok(ob)) = (ra.read(), rb.read()) else {
            return (first, false);
        };
        if oa != ob {
            if !same_shape(&oa, &ob) {
                constants_only = false;
            }
            if first.is_none() {
                first = Some(InstrDiff {
                    position,
                    a: format!("{oa:?}"),
                    b: format!("{ob:?}"),
                });
            }
            if !constants_only {
                break;
            }
        }
        position += 1;
    }
    let constants_only = constants_only && first.is_some();
    (first, constants_only)
}

/// Same operator with other constant immediates (or memory offsets).
fn same_shape(a: &Operator<'_>, b: &Operator<'_>) -> bool {
    use Operator::*;
    match (a, b) {
        (I32Const { .. }, I32Const { .. }) | (I64Const { .. }, I64Const { .. }) => true,
        _ => {
            // Loads and stores: equal apart from the memarg offset.
            let strip = |s: String| -> String {
                match s.find("offset: ") {
                    Some(i) => {
                        let rest = &s[i + 8..];
                        let end = rest
                            .find(|c: char| !c.is_ascii_digit())
                            .unwrap_or(rest.len());
                        format!("{}{}", &s[..i], &rest[end..])
                    }
                    None => s,
                }
            };
            let (da, db) = (format!("{a:?}"), format!("{b:?}"));
            da.contains("memarg") && strip(da) == strip(db)
        }
    }
}

#[cfg(test)]
mod tests {
    //! Causes that two builds on one machine cannot produce (another rustc), or
    //! that need a precise injection, on modules made with wasm-encoder.

    use wasm_encoder::*;

    use crate::{diff_wasm, Cause, Detail};

    struct Spec<'a> {
        producers: &'a [(&'a str, &'a str, &'a str)],
        exports: &'a [&'a str],
        data: &'a [u8],
        func_name: &'a str,
        custom: &'a [(&'a str, &'a [u8])],
    }

    impl Default for Spec<'_> {
        fn default() -> Self {
            Spec {
                producers: &[("processed-by", "rustc", "1.95.0 (59807616e 2026-04-14)")],
                exports: &["a", "b"],
                data: b"hello\0world",
                func_name: "f",
                custom: &[],
            }
        }
    }

    fn module(spec: &Spec<'_>) -> Vec<u8> {
        let mut m = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], [ValType::I32]);
        m.section(&types);
        let mut funcs = FunctionSection::new();
        funcs.function(0);
        m.section(&funcs);
        let mut mem = MemorySection::new();
        mem.memory(MemoryType {
            minimum: 1,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        m.section(&mem);
        let mut exports = ExportSection::new();
        for e in spec.exports {
            exports.export(e, ExportKind::Func, 0);
        }
        m.section(&exports);
        let mut code = CodeSection::new();
        let mut f = Function::new([]);
        f.instructions().i32_const(1024).end();
        code.function(&f);
        m.section(&code);
        let mut data = DataSection::new();
        data.active(0, &ConstExpr::i32_const(1024), spec.data.iter().copied());
        m.section(&data);
        for (name, bytes) in spec.custom {
            m.section(&CustomSection {
                name: (*name).into(),
                data: (*bytes).into(),
            });
        }
        let mut names = NameSection::new();
        let mut fnames = NameMap::new();
        fnames.append(0, spec.func_name);
        names.functions(&fnames);
        m.section(&names);
        let mut producers = ProducersSection::new();
        for (field, name, version) in spec.producers {
            let mut f = ProducersField::new();
            f.value(name, version);
            producers.field(field, &f);
        }
        m.section(&producers);
        m.finish()
    }

    #[test]
    fn toolchain_prints_both_versions() {
        let a = module(&Spec::default());
        let b = module(&Spec {
            producers: &[("processed-by", "rustc", "1.94.1 (e408947bf 2026-03-25)")],
            ..Spec::default()
        });
        let r = diff_wasm(&a, &b).unwrap();
        assert_eq!(r.cause_list(), [Cause::Toolchain]);
        let line = &r.causes[0].line;
        assert!(
            line.contains("rustc: 1.95.0 (59807616e 2026-04-14) vs 1.94.1 (e408947bf 2026-03-25)"),
            "{line}"
        );
        assert_eq!(r.differences[0].location.section, "custom \"producers\"");
        let Detail::Producers { changes } = &r.differences[0].detail else {
            panic!()
        };
        assert_eq!(
            changes[0].version_b.as_deref(),
            Some("1.94.1 (e408947bf 2026-03-25)")
        );
    }

    #[test]
    fn reordered_exports_are_ordering() {
        let a = module(&Spec::default());
        let b = module(&Spec {
            exports: &["b", "a"],
            ..Spec::default()
        });
        let r = diff_wasm(&a, &b).unwrap();
        assert_eq!(r.cause_list(), [Cause::Ordering], "{:#?}", r.differences);
        assert_eq!(r.differences[0].location.section, "export");
    }

    #[test]
    fn renamed_function_is_metadata_only() {
        let a = module(&Spec::default());
        let b = module(&Spec {
            func_name: "g",
            ..Spec::default()
        });
        let r = diff_wasm(&a, &b).unwrap();
        assert_eq!(r.cause_list(), [Cause::MetadataOnly]);
        assert!(
            r.causes[0].line.contains("function 0 \"f\" vs \"g\""),
            "{}",
            r.causes[0].line
        );
    }

    #[test]
    fn binary_epoch_in_data_is_a_timestamp() {
        let mut da = b"t=".to_vec();
        da.extend_from_slice(&1_714_564_800u32.to_le_bytes());
        let mut db = b"t=".to_vec();
        db.extend_from_slice(&1_714_564_861u32.to_le_bytes());
        let r = diff_wasm(
            &module(&Spec {
                data: &da,
                ..Spec::default()
            }),
            &module(&Spec {
                data: &db,
                ..Spec::default()
            }),
        )
        .unwrap();
        assert_eq!(r.cause_list(), [Cause::Timestamp], "{:#?}", r.differences);
        assert_eq!(
            r.differences[0].evidence_a,
            ["1714564800 (2024-05-01T12:00:00Z)"]
        );
    }

    #[test]
    fn changed_content_is_code_data_and_custom_sections_are_metadata() {
        let a = module(&Spec {
            custom: &[("pylon-notes", b"v1")],
            ..Spec::default()
        });
        let b = module(&Spec {
            data: b"hello\0WORLD",
            custom: &[("pylon-notes", b"v2")],
            ..Spec::default()
        });
        let r = diff_wasm(&a, &b).unwrap();
        assert_eq!(
            r.cause_list(),
            [Cause::CodeData, Cause::MetadataOnly],
            "{:#?}",
            r.differences
        );
        let data = &r.differences[0];
        let Detail::DataSegments { segments, .. } = &data.detail else {
            panic!()
        };
        assert_eq!(
            (segments[0].ranges[0].offset, segments[0].ranges[0].address),
            (6, Some(1030))
        );
        assert_eq!(r.differences[1].location.section, "custom \"pylon-notes\"");
    }

    #[test]
    fn unparseable_inputs_are_errors_naming_the_side() {
        let a = module(&Spec::default());
        let e = diff_wasm(&a, b"#!/bin/sh\n").unwrap_err();
        assert_eq!(e.side(), crate::Side::B);
        assert!(e.to_string().contains("not a WebAssembly binary"), "{e}");
        let e = diff_wasm(&a[..a.len() - 5], &a).unwrap_err();
        assert_eq!(e.side(), crate::Side::A);
        assert!(matches!(e, crate::DiffError::Malformed { .. }), "{e}");
        // Identical but truncated is still an error, not "identical".
        assert!(diff_wasm(&a[..20], &a[..20]).is_err());
    }

    #[test]
    fn glued_tails_are_dropped_and_a_names_own_ending_is_kept() {
        let t = |a: &str, ca, b: &str, cb| crate::diff::trim_glued_tail(a, ca, b, cb);
        // The next string glued on: dropped.
        assert_eq!(
            t("/t/shortindex", 8, "/t/a-longer/checkout-dirindex", 24),
            ("/t/short".into(), "/t/a-longer/checkout-dir".into())
        );
        // The differing bytes stop one letter short of the end of "home": the
        // shared 'e' is the name's own, the glued "index" is not.
        assert_eq!(
            t("/t/u/homeindex", 8, "/t/scratch/home-elsewhereindex", 24),
            ("/t/u/home".into(), "/t/scratch/home-elsewhere".into())
        );
        // A tail that goes on into directories belongs to the paths.
        assert_eq!(t("/a/hom/x", 6, "/b/home-elsewher/x", 16).0, "/a/hom/x");
    }
}
