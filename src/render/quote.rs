//! Writing inventory data into scripts as inert text.
//!
//! Every name that reaches a script (VM, host, id, note) came from an export someone else
//! controls, so it is only ever written as a single-quoted literal, where neither shell expands
//! anything, or as comment text with every line-breaking or invisible character spelled out.
//! NUL cannot be written in either language; it is refused before anything is rendered.

/// The characters PowerShell's tokenizer takes for a single quote: `'` and its typographic
/// look-alikes (U+2018, U+2019, U+201A, U+201B). Inside a single-quoted string any of them
/// ends the string unless doubled, so each is doubled.
pub const PS_SINGLE_QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

/// A PowerShell single-quoted (verbatim) string whose value is exactly `s`.
///
/// No `$`, backtick or `@` is special there; only quote characters are, and doubling one
/// yields it once. The caller never writes a quote character right after the literal.
pub fn ps_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if PS_SINGLE_QUOTES.contains(&c) {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// A bash single-quoted word whose value is exactly `s`: a `'` inside closes the quote, adds
/// an escaped quote and reopens (`'\''`). Nothing else is special inside single quotes.
pub fn sh_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Text safe on a `#` comment line in both languages: control characters (a newline would end
/// the comment and start code), Unicode line separators and the bidirectional overrides that
/// make text read differently than it runs are written as `\u{XXXX}`; a backslash is doubled
/// so the escape cannot be forged.
pub fn comment_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\\' {
            out.push_str("\\\\");
        } else if needs_escape_in_comment(c) {
            out.push_str(&format!("\\u{{{:04X}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn needs_escape_in_comment(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}'             // line and paragraph separators
            | '\u{200E}' | '\u{200F}' | '\u{061C}' // direction marks
            | '\u{202A}'..='\u{202E}'           // embeddings and overrides
            | '\u{2066}'..='\u{2069}'           // isolates
            | '\u{FEFF}' // zero-width no-break space (a BOM mid-file)
        )
}

/// Whether a value can be written at all: neither language can hold NUL in a string.
pub fn writable(s: &str) -> bool {
    !s.contains('\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powershell_doubles_every_quote_kind() {
        assert_eq!(ps_literal("a'b"), "'a''b'");
        assert_eq!(ps_literal("‘x’"), "'‘‘x’’'");
        assert_eq!(ps_literal("‚‛"), "'‚‚‛‛'");
        assert_eq!(ps_literal("$env:PATH `n @(1)"), "'$env:PATH `n @(1)'");
        assert_eq!(ps_literal(""), "''");
    }

    #[test]
    fn bash_closes_and_reopens_around_a_quote() {
        assert_eq!(sh_literal("x'; touch p; '"), r"'x'\''; touch p; '\'''");
        assert_eq!(sh_literal("$(id) `id` ${x}"), "'$(id) `id` ${x}'");
        assert_eq!(sh_literal("a\nb"), "'a\nb'");
    }

    #[test]
    fn comments_cannot_be_broken_out_of() {
        assert_eq!(comment_text("a\nb\r"), "a\\u{000A}b\\u{000D}");
        assert_eq!(comment_text("x\u{202E}y"), "x\\u{202E}y");
        assert_eq!(comment_text(r"\u{000A}"), r"\\u{000A}");
        assert_eq!(comment_text("é 🦀 $(x)"), "é 🦀 $(x)");
        assert!(!comment_text("\u{2028}\u{85}").contains(['\u{2028}', '\u{85}']));
    }

    #[test]
    fn nul_is_not_writable() {
        assert!(!writable("a\0b"));
        assert!(writable("a\nb"));
    }
}
