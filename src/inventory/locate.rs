//! Finding where a value sits in a file's text, for diagnostics about data that serde has
//! already accepted (a duplicate id, say).

use std::collections::{HashMap, HashSet};
use std::ops::Range;

/// The span of the `nth` (0-based) JSON or TOML string `"value"` that follows `key`.
pub fn string_value(text: &str, key: &str, value: &str, nth: usize) -> Option<Range<usize>> {
    let needle = format!("\"{value}\"");
    let mut seen = 0;
    let mut from = 0;
    while let Some(rel) = text[from..].find(&needle) {
        let at = from + rel;
        let before = text[..at].trim_end();
        if let Some(before) = before.strip_suffix([':', '=']) {
            let before = before.trim_end();
            if before.ends_with(&format!("\"{key}\"")) || before.ends_with(key) {
                if seen == nth {
                    return Some(at..at + needle.len());
                }
                seen += 1;
            }
        }
        from = at + needle.len();
    }
    None
}

/// For each of `values`, the spans of its first `n` JSON or TOML string values that follow
/// `key`, as [`string_value`] finds them one at a time, in a single pass over `text`: asking
/// [`string_value`] for each of thousands of values read the text thousands of times.
pub fn string_values<'v>(
    text: &str,
    key: &str,
    values: &HashSet<&'v str>,
    n: usize,
) -> HashMap<&'v str, Vec<Range<usize>>> {
    let mut found: HashMap<&'v str, Vec<Range<usize>>> = HashMap::with_capacity(values.len());
    if values.is_empty() || n == 0 {
        return found;
    }
    let quoted_key = format!("\"{key}\"");
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(rel) = memchr_quote(&bytes[at..]) {
        let start = at + rel;
        // The closing quote: the next one not escaped by a backslash.
        let mut end = start + 1;
        while end < bytes.len() && bytes[end] != b'"' {
            end += if bytes[end] == b'\\' { 2 } else { 1 };
        }
        if end >= bytes.len() {
            break;
        }
        let inner = &text[start + 1..end];
        if let Some(&value) = values.get(inner) {
            let before = text[..start].trim_end();
            if let Some(before) = before.strip_suffix([':', '=']) {
                let before = before.trim_end();
                if before.ends_with(&quoted_key) || before.ends_with(key) {
                    let spans = found.entry(value).or_default();
                    if spans.len() < n {
                        spans.push(start..end + 1);
                    }
                }
            }
        }
        at = end + 1;
    }
    found
}

fn memchr_quote(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|b| *b == b'"')
}

/// The JSON token that ends just before `offset` (serde_json reports errors after the value it
/// rejected): a string with its quotes, or a bare number/word. Empty when there is none.
pub fn token_before(text: &str, offset: usize) -> Range<usize> {
    let bytes = text.as_bytes();
    let mut end = offset.min(bytes.len());
    while end > 0 && bytes[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    if end == 0 {
        return offset..offset;
    }
    if bytes[end - 1] == b'"' {
        let mut start = end - 1;
        while start > 0 {
            start -= 1;
            if bytes[start] == b'"' && (start == 0 || bytes[start - 1] != b'\\') {
                return start..end;
            }
        }
        return offset..offset;
    }
    let mut start = end;
    while start > 0 && !b" \t\r\n:,[{}]".contains(&bytes[start - 1]) {
        start -= 1;
    }
    if start == end {
        offset..offset
    } else {
        start..end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_nth_value_of_a_key() {
        let text = r#"[{"id": "a", "name": "a"}, {"id":"a"}]"#;
        assert_eq!(string_value(text, "id", "a", 0), Some(8..11));
        assert_eq!(string_value(text, "id", "a", 1), Some(33..36));
        assert_eq!(string_value(text, "id", "a", 2), None);
    }

    #[test]
    fn all_values_in_one_pass_agree_with_one_at_a_time() {
        let text = "{\"vms\": [{\"name\": \"a\", \"note\": \"a \\\"b\\\" c\", \"id\": \"b\"},\n {\"name\":\"b\"}, {\"name\" : \"a\"},\n{\"name\": \"a\"}]}\nname = \"b\"\n";
        let values: HashSet<&str> = ["a", "b", "zz"].into_iter().collect();
        let found = string_values(text, "name", &values, 2);
        for v in ["a", "b"] {
            let one_at_a_time: Vec<_> = (0..2)
                .filter_map(|i| string_value(text, "name", v, i))
                .collect();
            assert_eq!(found[v], one_at_a_time, "{v}");
        }
        assert_eq!(found["a"].len(), 2, "at most n");
        assert!(!found.contains_key("zz"));
        // `"b"` as the id's value or inside another string is not a name.
        assert_eq!(&text[found["b"][0].clone()], "\"b\"");
        assert_eq!(found["b"].len(), 2);
    }

    #[test]
    fn token_before_an_error_position() {
        let text = r#"{"a": -4}, "b": "x y" }"#;
        assert_eq!(&text[token_before(text, 8)], "-4");
        assert_eq!(&text[token_before(text, 21)], "\"x y\"");
        assert_eq!(token_before(text, 0), 0..0);
    }
}
