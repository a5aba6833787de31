//! Text that reaches a terminal: control characters from the inputs (an ESC in a VM name could
//! recolour, retitle or rewrite the user's terminal) are shown, never sent.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` would act on a terminal instead of being shown: C0 and C1 controls and DEL.
fn is_control(c: char) -> bool {
    c.is_control()
}

/// `s` with every control character but line feed and tab written as `\u{1b}` (as Rust's
/// `escape_debug` writes it); borrowed when there is none.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| is_control(c) && c != '\n' && c != '\t') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_control(c) && c != '\n' && c != '\t' {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `s` on one line: every control character, line feed and tab included, escaped. For table
/// cells, where a line break would break the layout.
pub fn escape_controls_inline(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if is_control(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// One character drawn in place of a control character in a source excerpt, so the excerpt
/// keeps one character per character of the file and its columns stay right: the Unicode
/// control pictures (`␛` for ESC), and `�` for C1 controls, which have none.
pub fn picture(c: char) -> char {
    match c as u32 {
        0x09 => c,
        n @ 0x00..=0x1f => char::from_u32(0x2400 + n).unwrap_or('\u{fffd}'),
        0x7f => '\u{2421}',
        0x80..=0x9f => '\u{fffd}',
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_shown_not_sent() {
        assert_eq!(escape_controls("vm\u{1b}[31mred"), "vm\\u{1b}[31mred");
        assert_eq!(escape_controls("a\u{9b}b\u{7f}"), "a\\u{9b}b\\u{7f}");
        assert_eq!(escape_controls("two\nlines\tok"), "two\nlines\tok");
        assert!(matches!(escape_controls("plain ✓"), Cow::Borrowed(_)));
        assert_eq!(escape_controls_inline("a\nb\u{7}"), "a\\nb\\u{7}");
        assert_eq!(picture('\u{1b}'), '␛');
        assert_eq!(picture('\u{7f}'), '␡');
        assert_eq!(picture('x'), 'x');
    }
}
