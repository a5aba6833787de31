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
}
