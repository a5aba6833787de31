//! JSON exports as records whose values know where they sit in the file.
//!
//! The exports are lists of flat objects with vendor key names, often with large nested parts
//! that preflight ignores. Each object is read as a map of borrowed [`RawValue`]s: unknown and
//! nested values are skipped without being built, and every value we do read keeps its byte
//! offset (a borrowed `RawValue` is a slice of the file's text), so a bad or unknown value is
//! reported at its own line and column. Keys are matched case-insensitively, as PowerShell's
//! own `ConvertFrom-Json` does.

use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile, offset_of};
use serde::de::{self, Deserialize, Deserializer};
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::ops::Range;

/// One JSON value of the file, with its span.
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    pub raw: &'a RawValue,
    pub span: (usize, usize),
}

impl<'a> Field<'a> {
    fn new(file: &SourceFile, raw: &'a RawValue) -> Self {
        let base = file.text.as_ptr() as usize;
        let at = (raw.get().as_ptr() as usize).wrapping_sub(base);
        // A borrowed RawValue is always a slice of the text; guard anyway.
        let start = if at <= file.text.len() { at } else { 0 };
        Field {
            raw,
            span: (start, start + raw.get().len()),
        }
    }

    pub fn range(&self) -> Range<usize> {
        self.span.0..self.span.1
    }

    /// The value, built; used for the small scalars we read.
    pub fn value(&self) -> Value {
        let raw = self.raw.get();
        // Most values are plain strings: no parser needed for those.
        if let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"'))
            && !inner.contains(['\\', '"'])
        {
            return Value::String(inner.to_string());
        }
        serde_json::from_str(raw).unwrap_or(Value::Null)
    }
}

/// One object of the export: its path (for messages) and its fields as the file has them.
///
/// A record has a dozen fields or so, so looking one up is a scan comparing without case,
/// and keys are borrowed from the file: nothing is allocated per field (a map of lower-cased
/// keys cost two strings per field and most of an SCVMM export's reading time).
#[derive(Debug)]
pub struct Record<'a> {
    pub path: String,
    pub span: (usize, usize),
    fields: Vec<(Cow<'a, str>, Field<'a>)>,
}

impl<'a> Record<'a> {
    /// The field named `key` (any case), unless absent or `null`.
    pub fn get(&self, key: &str) -> Option<Field<'a>> {
        let (_, f) = self.spelled(key)?;
        (f.raw.get() != "null").then_some(f)
    }

    /// The field named `key` in any case, with its key as spelled. Of keys differing only in
    /// case the greatest as spelled counts, and of a key written twice the last.
    fn spelled(&self, key: &str) -> Option<(&str, Field<'a>)> {
        let mut found: Option<(&str, Field<'a>)> = None;
        for (k, f) in &self.fields {
            if k.eq_ignore_ascii_case(key) && found.is_none_or(|(best, _)| k.as_ref() >= best) {
                found = Some((k, *f));
            }
        }
        found
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Its fields in file order, keys as spelled (`null` values included).
    pub fn fields(&self) -> impl Iterator<Item = (&str, Field<'a>)> + '_ {
        self.fields.iter().map(|(k, f)| (k.as_ref(), *f))
    }

    /// The path of a field, e.g. `[3].Status`, spelled as the file spells the key.
    pub fn path_of(&self, key: &str) -> String {
        let spelled = self.spelled(key).map_or(key, |(k, _)| k);
        if self.path.is_empty() {
            // A bare top-level object: the key alone names the field.
            spelled.to_string()
        } else {
            format!("{}.{spelled}", self.path)
        }
    }

    /// Where the object starts, for problems about the object as a whole.
    pub fn head(&self) -> Range<usize> {
        self.span.0..self.span.0 + 1
    }
}

/// Parses the whole file as JSON, reporting a syntax error at its line and column.
pub fn parse_top(file: &SourceFile) -> Result<Field<'_>, Diagnostics> {
    let text = file.text.as_str();
    if text.trim().is_empty() {
        return Err(SourceDiag::plain(
            Code::InventoryFormat,
            format!("{}: the export is empty", file.name),
        )
        .with_help("Windows PowerShell 5.1 writes nothing when the pipeline had no objects; check the cmdlet's filter")
        .into());
    }
    match serde_json::from_str::<&RawValue>(text) {
        Ok(raw) => Ok(Field::new(file, raw)),
        Err(e) => Err(syntax(file, &e).into()),
    }
}

/// A serde_json error located at its line and column.
pub fn syntax(file: &SourceFile, e: &serde_json::Error) -> SourceDiag {
    let offset = offset_of(&file.text, e.line(), e.column().max(1));
    let msg = e.to_string();
    let msg = msg.rfind(" at line ").map_or(msg.as_str(), |i| &msg[..i]);
    SourceDiag::at(
        Code::InventorySyntax,
        format!("{}: not valid JSON: {msg}", file.name),
        file,
        offset..offset + 1,
        "here",
    )
}

/// Reads a value that is an array of objects, a single bare object (what `ConvertTo-Json`
/// writes for one input object) or `null` (PowerShell 7 on empty input) as records.
pub fn records<'a>(
    file: &SourceFile,
    field: Field<'a>,
    path: &str,
) -> Result<Vec<Record<'a>>, Diagnostics> {
    let list = list(file, field, path)?;
    let mut out = Vec::with_capacity(list.len());
    let mut diags = Diagnostics::default();
    for i in 0..list.len() {
        match list.record(file, i) {
            Ok(r) => out.push(r),
            Err(d) => diags.extend(d),
        }
    }
    diags.into_result(out)
}

/// The items of a list value (as [`records`] takes it), each read as a record only when
/// asked for: converting a large export one record at a time holds one record's memory,
/// not a hundred thousand.
pub struct List<'a> {
    items: Vec<Field<'a>>,
    path: String,
    /// A single object written bare, not in an array: its path has no index.
    bare: bool,
}

impl<'a> List<'a> {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Item `i` as a record, or why it is not one.
    pub fn record(&self, file: &SourceFile, i: usize) -> Result<Record<'a>, Diagnostics> {
        let path = if self.bare {
            self.path.clone()
        } else {
            format!("{}[{i}]", self.path)
        };
        record(file, self.items[i], path)
    }
}

/// The items of a list value; an error when it is neither a list, an object nor `null`.
pub fn list<'a>(file: &SourceFile, field: Field<'a>, path: &str) -> Result<List<'a>, Diagnostics> {
    let text = field.raw.get();
    let mut list = List {
        items: Vec::new(),
        path: path.to_string(),
        bare: false,
    };
    if text == "null" {
        return Ok(list);
    }
    if text.starts_with('{') {
        list.items.push(field);
        list.bare = true;
        return Ok(list);
    }
    let items: Vec<&'a RawValue> = serde_json::from_str(text).map_err(|_| {
        SourceDiag::at(
            Code::InventoryField,
            format!("{}: {}: expected a list of objects", file.name, root(path)),
            file,
            field.span.0..field.span.0 + 1,
            "not an array or object",
        )
    })?;
    list.items = items.into_iter().map(|raw| Field::new(file, raw)).collect();
    Ok(list)
}

fn root(path: &str) -> &str {
    if path.is_empty() {
        "the top level"
    } else {
        path
    }
}

/// Reads one object as a record; anything else is an error at the value.
pub fn record<'a>(
    file: &SourceFile,
    field: Field<'a>,
    path: String,
) -> Result<Record<'a>, Diagnostics> {
    let map: Fields<'a> = match serde_json::from_str(field.raw.get()) {
        Ok(m) => m,
        Err(_) => {
            return Err(SourceDiag::at(
                Code::InventoryField,
                format!("{}: {}: expected an object", file.name, root(&path)),
                file,
                field.span.0..field.span.1.min(field.span.0 + 1),
                "not an object",
            )
            .into());
        }
    };
    let fields = map
        .0
        .into_iter()
        .map(|(k, raw)| (k, Field::new(file, raw)))
        .collect();
    Ok(Record {
        path,
        span: field.span,
        fields,
    })
}

/// An object's members in file order, keys borrowed unless they hold escapes.
struct Fields<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Fields<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Key<'a>(Cow<'a, str>);
        impl<'de> Deserialize<'de> for Key<'de> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct Visit;
                impl<'de> de::Visitor<'de> for Visit {
                    type Value = Key<'de>;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str("a key")
                    }
                    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                        Ok(Key(Cow::Borrowed(s)))
                    }
                    fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                        Ok(Key(Cow::Owned(s.to_string())))
                    }
                }
                d.deserialize_str(Visit)
            }
        }
        struct Visit;
        impl<'de> de::Visitor<'de> for Visit {
            type Value = Fields<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Fields<'de>, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(8).min(64));
                while let Some((Key(k), v)) = map.next_entry::<Key<'de>, &'de RawValue>()? {
                    fields.push((k, v));
                }
                Ok(Fields(fields))
            }
        }
        d.deserialize_map(Visit)
    }
}

pub use crate::model::is_type_name;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_know_their_offsets() {
        let file = SourceFile::new("x.json", "[{\"Name\": \"A\",\n \"status\": 3}]");
        let top = parse_top(&file).unwrap();
        let recs = records(&file, top, "").unwrap();
        let status = recs[0].get("Status").unwrap();
        assert_eq!(&file.text[status.range()], "3");
        assert_eq!(file.line_col(status.span.0), (2, 12));
        assert_eq!(recs[0].path_of("STATUS"), "[0].status");
    }

    #[test]
    fn keys_differing_in_case_or_repeated_resolve_as_a_map_did() {
        // The greatest spelling counts ("name" > "Name"), and of a repeated key the last.
        let file = SourceFile::new(
            "x.json",
            r#"{"name": 1, "Name": 2, "b": 3, "B\u0041": 4, "b": 5}"#,
        );
        let rec = record(&file, parse_top(&file).unwrap(), String::new()).unwrap();
        assert_eq!(rec.get("NAME").unwrap().raw.get(), "1");
        assert_eq!(
            rec.path_of("NAME"),
            "name",
            "a bare object's field is named by its key"
        );
        assert_eq!(rec.get("b").unwrap().raw.get(), "5");
        assert_eq!(
            rec.get("ba").unwrap().raw.get(),
            "4",
            "an escaped key is read too"
        );
        assert!(rec.get("c").is_none());
    }

    #[test]
    fn values_are_built_as_serde_builds_them() {
        for raw in [
            r#""a b""#,
            r#""a\"b""#,
            r#""\u00e9""#,
            r#""""#,
            "3",
            "-1.5",
            "true",
            "null",
            "[1]",
            r#"{"a":1}"#,
        ] {
            let file = SourceFile::new("x.json", format!("{{\"k\": {raw}}}"));
            let rec = record(&file, parse_top(&file).unwrap(), String::new()).unwrap();
            let built = rec.fields[0].1.value();
            assert_eq!(built, serde_json::from_str::<Value>(raw).unwrap(), "{raw}");
        }
    }

    #[test]
    fn bare_object_and_null_are_lists() {
        let file = SourceFile::new("x.json", "{\"Name\": null}");
        let recs = records(&file, parse_top(&file).unwrap(), "").unwrap();
        assert_eq!(recs.len(), 1);
        assert!(!recs[0].has("Name"));
        let file = SourceFile::new("x.json", "null");
        assert!(
            records(&file, parse_top(&file).unwrap(), "")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn non_objects_and_bad_json_are_located() {
        let file = SourceFile::new("x.json", "[{\"a\": 1},\n 5]");
        let err = records(&file, parse_top(&file).unwrap(), "vms").unwrap_err();
        assert!(err.0[0].message.contains("vms[1]"), "{}", err.0[0].message);
        assert_eq!(err.0[0].line_col(), Some((2, 2)));
        let file = SourceFile::new("x.json", "[{\"a\": 1,}]");
        let err = parse_top(&file).unwrap_err();
        assert_eq!(err.0[0].code, Code::InventorySyntax);
    }

    #[test]
    fn recognises_type_names_only() {
        assert!(is_type_name(
            "Microsoft.SystemCenter.VirtualMachineManager.Host"
        ));
        assert!(is_type_name(
            "System.Collections.Generic.List`1[System.String]"
        ));
        assert!(!is_type_name("HV01.contoso.local"));
        assert!(!is_type_name("Microsoft.local"));
        assert!(!is_type_name("System Center"));
    }
}
