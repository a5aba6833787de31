//! Typed reads of export values, shared by the JSON and CSV readers.
//!
//! A [`Row`] is one exported object (a JSON object or a CSV line); a [`Cell`] is one of its
//! values with its span. PowerShell writes the same property as a JSON number, a JSON string or
//! CSV text depending on the cmdlet, so the reads here accept each spelling (`8192`, `"8192"`;
//! `true`, `"True"`). [`Ctx`] collects every problem of a file so that all are reported at once.

use super::record::Record;
use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile};
use serde_json::Value;
use std::ops::Range;

/// One value and where it is.
pub struct Cell {
    pub value: Value,
    pub span: Range<usize>,
}

/// One exported object.
pub trait Row {
    /// The value of `key` (any case); absent, `null` and empty CSV fields are `None`.
    fn cell(&self, key: &str) -> Option<Cell>;
    /// How to name `key` of this row in a message, e.g. `[3].Status` or `line 4, State`.
    fn path_of(&self, key: &str) -> String;
    /// How to name the row itself.
    fn path(&self) -> String;
    /// Where the row starts.
    fn head(&self) -> Range<usize>;
}

impl Row for Record<'_> {
    fn cell(&self, key: &str) -> Option<Cell> {
        self.get(key).map(|f| Cell {
            value: f.value(),
            span: f.range(),
        })
    }
    fn path_of(&self, key: &str) -> String {
        Record::path_of(self, key)
    }
    fn path(&self) -> String {
        if self.path.is_empty() {
            "the object".to_string()
        } else {
            self.path.clone()
        }
    }
    fn head(&self) -> Range<usize> {
        Record::head(self)
    }
}

/// The problems of one file, and the file they point into.
pub struct Ctx<'f> {
    pub file: &'f SourceFile,
    pub warnings: Vec<SourceDiag>,
    pub errors: Diagnostics,
}

impl<'f> Ctx<'f> {
    pub fn new(file: &'f SourceFile) -> Self {
        Ctx {
            file,
            warnings: Vec::new(),
            errors: Diagnostics::default(),
        }
    }

    /// A diagnostic about `what` (a path) at `span`.
    pub fn diag(&self, code: Code, what: &str, msg: &str, span: Range<usize>) -> SourceDiag {
        SourceDiag::at(
            code,
            format!("{}: {what}: {msg}", self.file.name),
            self.file,
            span,
            "here",
        )
    }

    pub fn error(&mut self, d: SourceDiag) {
        self.errors.push(d);
    }

    pub fn warn(&mut self, mut d: SourceDiag) {
        d.warning = true;
        self.warnings.push(d);
    }

    /// A required, non-empty name from the first of `keys` present; an error names them all.
    pub fn name(&mut self, row: &dyn Row, keys: &[&str], help: &str) -> Option<String> {
        for key in keys {
            if let Some(cell) = row.cell(key) {
                return match text(&cell.value) {
                    Some(s) if !s.trim().is_empty() => Some(s),
                    _ => {
                        let d = self.diag(
                            Code::InventoryField,
                            &row.path_of(key),
                            "expected a non-empty name",
                            cell.span,
                        );
                        self.error(d.with_help(help.to_string()));
                        None
                    }
                };
            }
        }
        let d = self.diag(
            Code::InventoryField,
            &row.path(),
            &format!("missing `{}`", keys.join("` or `")),
            row.head(),
        );
        self.error(d.with_help(help.to_string()));
        None
    }

    /// An optional text value (numbers are taken as their text).
    pub fn text(&mut self, row: &dyn Row, key: &str) -> Option<String> {
        let cell = row.cell(key)?;
        let t = match cell.value {
            Value::String(s) => Some(s),
            ref v => text(v),
        };
        if t.is_none() {
            let d = self.diag(
                Code::InventoryField,
                &row.path_of(key),
                "expected a text value",
                cell.span,
            );
            self.error(d);
        }
        t
    }

    /// An optional whole number from 0 up to `max`, from a JSON number or numeric text.
    pub fn count(&mut self, row: &dyn Row, key: &str, max: u64) -> Option<u64> {
        let cell = row.cell(key)?;
        let n = match &cell.value {
            Value::Number(n) => n.as_i64().map(i128::from).or(n.as_u64().map(i128::from)),
            Value::String(s) => s.trim().parse::<i128>().ok(),
            _ => None,
        };
        let msg = match n {
            Some(n) if (0..=max as i128).contains(&n) => return Some(n as u64),
            Some(n) if n < 0 => format!("{n} is negative; expected a whole number from 0"),
            Some(n) => format!("{n} is more than any real machine has (at most {max})"),
            None => "expected a whole number".to_string(),
        };
        let d = self.diag(Code::InventoryField, &row.path_of(key), &msg, cell.span);
        self.error(d);
        None
    }

    /// An optional flag: JSON `true`/`false` or the text `True`/`False` that Export-Csv writes.
    pub fn flag(&mut self, row: &dyn Row, key: &str) -> Option<bool> {
        let cell = row.cell(key)?;
        let b = match &cell.value {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            Value::Number(n) if n.as_u64() == Some(0) || n.as_u64() == Some(1) => {
                Some(n.as_u64() == Some(1))
            }
            _ => None,
        };
        if b.is_none() {
            let d = self.diag(
                Code::InventoryField,
                &row.path_of(key),
                "expected true or false",
                cell.span,
            );
            self.error(d);
        }
        b
    }

    pub fn finish<T>(self, value: T) -> Result<(T, Vec<SourceDiag>), Diagnostics> {
        let warnings = self.warnings;
        self.errors.into_result((value, warnings))
    }
}

/// A string, or a number's text; nothing else.
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Bytes to MiB, rounding down (a 72 GiB host reports a little less than 72 GiB).
pub fn bytes_to_mib(bytes: u64) -> u64 {
    bytes / (1024 * 1024)
}
