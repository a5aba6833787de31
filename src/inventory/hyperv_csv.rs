//! `Get-VM | Export-Csv` as rows: an optional `#TYPE ...` first line (Windows PowerShell 5.1
//! writes it unless `-NoTypeInformation`), a header, every field quoted, `,` or, with
//! `-UseCulture` in e.g. de-DE, `;` between fields. Values are `ToString()` text: enum names,
//! `True`/`False`, numbers; an empty field is a `$null` property.

use super::csv_spans::{field_spans, record_start};
use super::read::{Cell, Row};
use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile};
use serde_json::Value;
use std::collections::BTreeMap;
use std::ops::Range;

/// One CSV line: its values by lower-cased header, with their spans.
#[derive(Debug)]
pub struct CsvRow {
    line: u64,
    start: usize,
    fields: BTreeMap<String, (String, String, Range<usize>)>,
}

impl Row for CsvRow {
    fn cell(&self, key: &str) -> Option<Cell> {
        let (_, value, span) = self.fields.get(&key.to_ascii_lowercase())?;
        (!value.is_empty()).then(|| Cell {
            value: Value::String(value.clone()),
            span: span.clone(),
        })
    }
    fn path_of(&self, key: &str) -> String {
        let spelled = self
            .fields
            .get(&key.to_ascii_lowercase())
            .map_or(key, |(k, _, _)| k.as_str());
        format!("line {}, column {spelled}", self.line)
    }
    fn path(&self) -> String {
        format!("line {}", self.line)
    }
    fn head(&self) -> Range<usize> {
        self.start..self.start + 1
    }
}

/// Reads every data row; a malformed line is an error at its line and column.
pub fn rows(file: &SourceFile) -> Result<Vec<CsvRow>, Diagnostics> {
    read_rows(file, &mut Lines::new(&file.text))
}

/// The line numbers of offsets asked for in increasing order, counting each byte of the text
/// once: numbering every row from the start of the file made reading quadratic (100,000
/// rows took over a minute).
struct Lines<'t> {
    text: &'t [u8],
    /// The offset counted up to, and the line it is on (1-based).
    at: usize,
    line: u64,
    /// How many bytes were looked at in all, which stays within the text's length.
    scanned: usize,
}

impl<'t> Lines<'t> {
    fn new(text: &'t str) -> Self {
        Lines {
            text: text.as_bytes(),
            at: 0,
            line: 1,
            scanned: 0,
        }
    }

    /// The line of `offset`. Offsets come in increasing order; an earlier one is counted again
    /// from the start, which is right, only slower.
    fn line_of(&mut self, offset: usize) -> u64 {
        let offset = offset.min(self.text.len());
        if offset < self.at {
            self.at = 0;
            self.line = 1;
        }
        let part = &self.text[self.at..offset];
        self.line += part.iter().filter(|b| **b == b'\n').count() as u64;
        self.scanned += part.len();
        self.at = offset;
        self.line
    }
}

fn read_rows(file: &SourceFile, lines: &mut Lines) -> Result<Vec<CsvRow>, Diagnostics> {
    let text = file.text.as_str();
    let delimiter = delimiter(text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .comment(Some(b'#'))
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(csv_error(file, &e).into()),
    };
    let mut out = Vec::new();
    let mut diags = Diagnostics::default();
    for result in reader.records() {
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                diags.push(csv_error(file, &e));
                continue;
            }
        };
        let Some(pos) = record.position() else {
            continue;
        };
        let start = record_start(text, pos.byte());
        let spans = field_spans(text, start, delimiter);
        let mut fields = BTreeMap::new();
        for (i, (header, value)) in headers.iter().zip(record.iter()).enumerate() {
            let span = spans.get(i).cloned().unwrap_or(start..start + 1);
            fields.insert(
                header.to_ascii_lowercase(),
                (header.to_string(), value.to_string(), span),
            );
        }
        out.push(CsvRow {
            line: lines.line_of(start),
            start,
            fields,
        });
    }
    diags.into_result(out)
}

/// `;` when the header has more of them than commas (outside quotes), else `,`.
fn delimiter(text: &str) -> u8 {
    let header = text
        .lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    let (mut commas, mut semis, mut quoted) = (0, 0, false);
    for c in header.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => commas += 1,
            ';' if !quoted => semis += 1,
            _ => {}
        }
    }
    if semis > commas { b';' } else { b',' }
}

fn csv_error(file: &SourceFile, e: &csv::Error) -> SourceDiag {
    let offset = e
        .position()
        .map_or(0, |p| record_start(&file.text, p.byte()));
    let msg = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("this line has {len} fields, but the header has {expected_len}"),
        csv::ErrorKind::Utf8 { err, .. } => format!("not valid text: {err}"),
        _ => e.to_string(),
    };
    SourceDiag::at(
        Code::InventorySyntax,
        format!("{}: not valid CSV: {msg}", file.name),
        file,
        offset..offset + 1,
        "in this line",
    )
    .with_help("export with Get-VM | Select-Object ... | Export-Csv -NoTypeInformation")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_separator_outside_quotes() {
        assert_eq!(delimiter("#TYPE x\n\"a;b\",\"c\"\n"), b',');
        assert_eq!(delimiter("\"a\";\"b\";\"c\"\n"), b';');
    }

    #[test]
    fn field_spans_cover_the_quoted_text() {
        let text = "\"Name\",\"State\"\r\n\"A,1\",\"Off\"\r\n";
        let rows = rows(&SourceFile::new("x.csv", text)).unwrap();
        let cell = rows[0].cell("state").unwrap();
        assert_eq!(&text[cell.span], "\"Off\"");
        assert_eq!(rows[0].cell("NAME").unwrap().value, "A,1");
        assert_eq!(rows[0].path_of("state"), "line 2, column State");
    }

    #[test]
    fn numbering_rows_reads_the_text_once() {
        // 20,000 rows: numbering each from the start of the file looks at ~200 million bytes.
        let mut text = String::from(
            "#TYPE Selected.Microsoft.HyperV.PowerShell.VirtualMachine\r\n\"Name\",\"State\"\r\n",
        );
        for i in 0..20_000 {
            text.push_str(&format!("\"vm{i}\",\"Off\"\r\n"));
        }
        let file = SourceFile::new("big.csv", text);
        let mut lines = Lines::new(&file.text);
        let rows = read_rows(&file, &mut lines).unwrap();
        assert_eq!(rows.len(), 20_000);
        assert_eq!(rows[0].path(), "line 3");
        assert_eq!(rows[19_999].path(), "line 20002");
        for (i, row) in rows.iter().enumerate().step_by(997) {
            let (line, _) = crate::diag::line_col(&file.text, row.start);
            assert_eq!(row.line, line as u64, "row {i}");
        }
        assert!(
            lines.scanned <= file.text.len(),
            "{} bytes looked at for a text of {}",
            lines.scanned,
            file.text.len()
        );
    }

    #[test]
    fn line_numbers_of_lf_and_crlf_files() {
        for end in ["\n", "\r\n"] {
            let text = ["\"Name\",\"State\"", "\"A\",\"Off\"", "", "\"B\",\"Off\""].join(end) + end;
            let rows = rows(&SourceFile::new("x.csv", text)).unwrap();
            let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
            assert_eq!(lines, [2, 4], "{end:?}");
        }
    }

    #[test]
    fn ragged_line_is_located() {
        let text = "\"Name\",\"State\"\n\"A\",\"Off\"\n\"B\"\n";
        let err = rows(&SourceFile::new("x.csv", text)).unwrap_err();
        assert_eq!(err.0[0].line_col(), Some((3, 1)));
        assert!(
            err.0[0].message.contains("1 fields"),
            "{}",
            err.0[0].message
        );
    }
}
