//! Where a CSV record and its fields stand in the text: the csv crate gives a record's byte
//! offset, and diagnostics point at the field.

use std::ops::Range;

/// The offset of a record's first field. The csv crate counts a CRLF's `\n` as the start of
/// the next record, so skip line ends (the line number is that of the offset past them).
pub(crate) fn record_start(text: &str, byte: u64) -> usize {
    let mut at = (byte as usize).min(text.len());
    while matches!(text.as_bytes().get(at), Some(b'\r' | b'\n')) {
        at += 1;
    }
    at
}

/// The spans of a record's fields in the text, quotes included, found by scanning from the
/// record's start (the csv crate gives the record's offset but not its fields').
pub(crate) fn field_spans(text: &str, start: usize, delimiter: u8) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let (mut field_start, mut quoted, mut i) = (start, false, start);
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && b == delimiter {
            spans.push(field_start..i);
            field_start = i + 1;
        } else if !quoted && (b == b'\n' || b == b'\r') {
            break;
        }
        i += 1;
    }
    spans.push(field_start..i);
    spans
}
