//! Finding where a value sits in a file's text, for diagnostics about data that serde has
//! already accepted (a duplicate id, say).

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
    fn token_before_an_error_position() {
        let text = r#"{"a": -4}, "b": "x y" }"#;
        assert_eq!(&text[token_before(text, 8)], "-4");
        assert_eq!(&text[token_before(text, 21)], "\"x y\"");
        assert_eq!(token_before(text, 0), 0..0);
    }
}
