//! The strict TOML checker shared by the manifest and the CPython profiles: every
//! problem is collected as a [`Diagnostic`] with `file:line:column` and the field's
//! dotted name, unknown keys are errors (a misspelled key must never be ignored), and
//! a missing or mistyped value names what was expected. Each file format's own checker
//! wraps a [`StrictToml`] (through `Deref`) and adds its fields' rules.

use std::ops::Range;

use toml_edit::{Item, Table, Value};

use crate::Diagnostic;

pub struct StrictToml<'a> {
    text: &'a str,
    pub diagnostics: Vec<Diagnostic>,
}

impl<'a> StrictToml<'a> {
    pub fn new(text: &'a str) -> Self {
        StrictToml {
            text,
            diagnostics: Vec::new(),
        }
    }

    /// 1-based line and column of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let d = Diagnostic::at(self.text, offset, "", "");
        (d.line, d.column)
    }

    pub fn report(&mut self, span: Range<usize>, field: &str, message: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::at(self.text, span.start, field, message));
    }

    /// Reports every key not in `allowed`, as `owner.key`.
    pub fn unknown_keys<'t>(
        &mut self,
        keys: impl IntoIterator<Item = (&'t str, Range<usize>)>,
        allowed: &[&str],
        owner: &str,
    ) {
        for (key, span) in keys {
            if !allowed.contains(&key) {
                let field = if owner.is_empty() {
                    key.to_string()
                } else {
                    format!("{owner}.{key}")
                };
                self.report(
                    span,
                    &field,
                    format!("unknown key (expected one of: {})", allowed.join(", ")),
                );
            }
        }
    }

    /// A table's keys with their spans, for [`Self::unknown_keys`].
    pub fn table_keys(table: &Table) -> Vec<(&str, Range<usize>)> {
        table
            .iter()
            .map(|(k, _)| (k, table.key(k).and_then(|k| k.span()).unwrap_or(0..0)))
            .collect()
    }

    /// A required field; reports it as `owner.key` when missing.
    pub fn required<'t>(&mut self, table: &'t Table, key: &str, owner: &str) -> Option<&'t Item> {
        let item = table.get(key);
        if item.is_none() {
            self.report(
                table.span().unwrap_or(0..0),
                &format!("{owner}.{key}"),
                "missing required field",
            );
        }
        item
    }

    /// A string value; reports any other type.
    pub fn string<'t>(&mut self, item: &'t Item, field: &str) -> Option<&'t str> {
        match item.as_str() {
            Some(s) => Some(s),
            None => {
                self.report(
                    span_of(item),
                    field,
                    format!("expected a string, found {}", item.type_name()),
                );
                None
            }
        }
    }
}

pub fn span_of(item: &Item) -> Range<usize> {
    item.span().unwrap_or(0..0)
}

pub fn value_span(value: &Value) -> Range<usize> {
    value.span().unwrap_or(0..0)
}
