//! Reading a spanned TOML table key by key, recording every problem instead of stopping.

use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile, did_you_mean};
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

/// A table being validated: what it is called in messages, and the keys it may hold.
pub(crate) struct TableReader<'a, 'i> {
    pub file: &'a SourceFile,
    pub table: &'a DeTable<'i>,
    pub span: Range<usize>,
    pub what: &'a str,
}

impl<'a, 'i> TableReader<'a, 'i> {
    pub fn new(
        file: &'a SourceFile,
        value: &'a Spanned<DeValue<'i>>,
        what: &'a str,
        diags: &mut Diagnostics,
    ) -> Option<Self> {
        match value.get_ref() {
            DeValue::Table(table) => Some(TableReader {
                file,
                table,
                span: value.span(),
                what,
            }),
            other => {
                diags.push(type_error(file, value.span(), what, "a table", other));
                None
            }
        }
    }

    /// Reports every key not in `allowed`, listing the valid keys and the closest one.
    pub fn deny_unknown(&self, allowed: &[&str], diags: &mut Diagnostics) {
        for (key, _) in self.table.iter() {
            let name = key.get_ref().as_ref();
            if allowed.contains(&name) {
                continue;
            }
            let mut d = SourceDiag::at(
                Code::PolicyUnknownKey,
                format!("unknown key `{name}` in {}", self.what),
                self.file,
                key.span(),
                "not a known key",
            );
            let valid = allowed.join(", ");
            d = match did_you_mean(name, allowed.iter().copied()) {
                Some(best) => d.with_help(format!("did you mean `{best}`? valid keys: {valid}")),
                None => d.with_help(format!("valid keys: {valid}")),
            };
            diags.push(d);
        }
    }

    pub fn get(&self, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
        self.table.get(key)
    }

    /// Reports a missing required key, pointing at the table.
    pub fn missing(&self, key: &str, diags: &mut Diagnostics) {
        let start = self.span.start;
        let header_end = self.file.text[start..self.span.end.min(self.file.text.len())]
            .find('\n')
            .map_or(self.span.end, |i| start + i);
        diags.push(SourceDiag::at(
            Code::PolicyMissingKey,
            format!("{} has no `{key}`", self.what),
            self.file,
            start..header_end,
            format!("`{key}` is required here"),
        ));
    }

    pub fn string(&self, key: &str, diags: &mut Diagnostics) -> Option<Spanned<String>> {
        let v = self.get(key)?;
        match v.get_ref() {
            DeValue::String(s) => Some(Spanned::new(v.span(), s.to_string())),
            other => {
                diags.push(type_error(
                    self.file,
                    v.span(),
                    &format!("`{key}`"),
                    "a string",
                    other,
                ));
                None
            }
        }
    }

    pub fn required_string(&self, key: &str, diags: &mut Diagnostics) -> Option<Spanned<String>> {
        if self.get(key).is_none() {
            self.missing(key, diags);
            return None;
        }
        self.string(key, diags)
    }

    pub fn boolean(&self, key: &str, diags: &mut Diagnostics) -> Option<Spanned<bool>> {
        let v = self.get(key)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some(Spanned::new(v.span(), *b)),
            other => {
                diags.push(type_error(
                    self.file,
                    v.span(),
                    &format!("`{key}`"),
                    "true or false",
                    other,
                ));
                None
            }
        }
    }

    /// A non-negative integer no larger than `max`.
    pub fn count(&self, key: &str, max: u64, diags: &mut Diagnostics) -> Option<Spanned<u64>> {
        let v = self.get(key)?;
        let parsed = match v.get_ref() {
            DeValue::Integer(i) => {
                i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()).ok()
            }
            other => {
                diags.push(type_error(
                    self.file,
                    v.span(),
                    &format!("`{key}`"),
                    "a whole number",
                    other,
                ));
                return None;
            }
        };
        match parsed {
            Some(n) if n >= 0 && (n as u64) <= max => Some(Spanned::new(v.span(), n as u64)),
            _ => {
                diags.push(SourceDiag::at(
                    Code::PolicyValue,
                    format!("`{key}` must be a whole number from 0 to {max}"),
                    self.file,
                    v.span(),
                    "out of range",
                ));
                None
            }
        }
    }

    /// A number (integer or float) within `range`.
    pub fn number(
        &self,
        key: &str,
        min: f64,
        max: f64,
        diags: &mut Diagnostics,
    ) -> Option<Spanned<f64>> {
        let v = self.get(key)?;
        let parsed: Option<f64> = match v.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(&i.as_str().replace('_', ""), i.radix())
                .ok()
                .map(|n| n as f64),
            DeValue::Float(f) => f.as_str().replace('_', "").parse().ok(),
            other => {
                diags.push(type_error(
                    self.file,
                    v.span(),
                    &format!("`{key}`"),
                    "a number",
                    other,
                ));
                return None;
            }
        };
        match parsed {
            Some(n) if n.is_finite() && n >= min && n <= max => Some(Spanned::new(v.span(), n)),
            _ => {
                diags.push(SourceDiag::at(
                    Code::PolicyValue,
                    format!("`{key}` must be a number from {min} to {max}"),
                    self.file,
                    v.span(),
                    "out of range",
                ));
                None
            }
        }
    }

    /// A string that must be one of `words`.
    pub fn word<T>(
        &self,
        key: &str,
        words: &[&str],
        parse: impl Fn(&str) -> Option<T>,
        diags: &mut Diagnostics,
    ) -> Option<Spanned<T>> {
        let s = self.string(key, diags)?;
        word_value(self.file, key, &s, words, parse, diags)
    }

    /// A list of strings, each one of `words`.
    pub fn words<T>(
        &self,
        key: &str,
        words: &[&str],
        parse: impl Fn(&str) -> Option<T>,
        diags: &mut Diagnostics,
    ) -> Option<Spanned<Vec<T>>> {
        let items = self.strings(key, diags)?;
        let mut out = Vec::new();
        let mut ok = true;
        for s in items.get_ref() {
            match word_value(self.file, key, s, words, &parse, diags) {
                Some(v) => out.push(v.into_inner()),
                None => ok = false,
            }
        }
        ok.then(|| Spanned::new(items.span(), out))
    }

    /// A list of strings, each with its span.
    pub fn strings(
        &self,
        key: &str,
        diags: &mut Diagnostics,
    ) -> Option<Spanned<Vec<Spanned<String>>>> {
        let v = self.get(key)?;
        let DeValue::Array(arr) = v.get_ref() else {
            diags.push(type_error(
                self.file,
                v.span(),
                &format!("`{key}`"),
                "a list of strings",
                v.get_ref(),
            ));
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for item in array_items(arr) {
            match item.get_ref() {
                DeValue::String(s) => out.push(Spanned::new(item.span(), s.to_string())),
                other => {
                    diags.push(type_error(
                        self.file,
                        item.span(),
                        &format!("an item of `{key}`"),
                        "a string",
                        other,
                    ));
                    ok = false;
                }
            }
        }
        ok.then(|| Spanned::new(v.span(), out))
    }
}

pub(crate) fn array_items<'a, 'i>(
    arr: &'a DeArray<'i>,
) -> impl Iterator<Item = &'a Spanned<DeValue<'i>>> {
    arr.iter()
}

fn word_value<T>(
    file: &SourceFile,
    key: &str,
    s: &Spanned<String>,
    words: &[&str],
    parse: impl Fn(&str) -> Option<T>,
    diags: &mut Diagnostics,
) -> Option<Spanned<T>> {
    if let Some(v) = parse(s.get_ref()) {
        return Some(Spanned::new(s.span(), v));
    }
    let list = words
        .iter()
        .map(|w| format!("`{w}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut d = SourceDiag::at(
        Code::PolicyValue,
        format!("`{}` is not a valid value for `{key}`", s.get_ref()),
        file,
        s.span(),
        format!("expected one of {list}"),
    );
    if let Some(best) = did_you_mean(s.get_ref(), words.iter().copied()) {
        d = d.with_help(format!("did you mean `{best}`?"));
    }
    diags.push(d);
    None
}

pub(crate) fn type_error(
    file: &SourceFile,
    span: Range<usize>,
    what: &str,
    expected: &str,
    found: &DeValue<'_>,
) -> SourceDiag {
    SourceDiag::at(
        Code::PolicyType,
        format!("{what} must be {expected}, not {}", found.type_str()),
        file,
        span,
        format!("expected {expected}"),
    )
}

/// The span of a string value's content (inside the quotes), when the source text is the
/// value verbatim (no escapes); else the whole value. Used to offset errors inside strings.
pub(crate) fn content_offset(file: &SourceFile, span: &Range<usize>, value: &str) -> Option<usize> {
    let raw = file.text.get(span.clone())?;
    for quote in ["'''", "\"\"\"", "'", "\""] {
        if raw.len() >= 2 * quote.len() && raw.starts_with(quote) && raw.ends_with(quote) {
            let inner = &raw[quote.len()..raw.len() - quote.len()];
            if inner == value {
                return Some(span.start + quote.len());
            }
        }
    }
    None
}
