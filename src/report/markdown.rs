//! `--format markdown`: the report to paste into a change ticket (GitHub-flavoured Markdown).
//!
//! Renders the neutral document of [`super::doc`]. Every value from the inventory or policy is
//! escaped, so a VM named `a|b` or `<script>` stays one table cell of plain text.

use super::doc::{self, Block, Inline};
use super::{Report, Reporter};
use crate::diag::escape_controls_inline;
use std::io::{self, Write};

pub struct Markdown;

impl Reporter for Markdown {
    fn write(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(render(&doc::build(report)).as_bytes())
    }
}

fn render(d: &doc::Doc) -> String {
    let mut s = format!("# {}\n", escape(&d.title));
    for b in &d.lead {
        s.push('\n');
        block(&mut s, b);
    }
    for sec in &d.sections {
        s.push_str(&format!("\n## {}\n", escape(sec.heading)));
        for b in &sec.blocks {
            s.push('\n');
            block(&mut s, b);
        }
    }
    s
}

fn block(s: &mut String, b: &Block) {
    match b {
        Block::Para(parts) => {
            s.push_str(&inlines(parts, false));
            s.push('\n');
        }
        Block::List(items) => {
            for item in items {
                s.push_str("- ");
                s.push_str(&inlines(item, false));
                s.push('\n');
            }
        }
        Block::Table { header, rows } => {
            s.push_str("| ");
            s.push_str(
                &header
                    .iter()
                    .map(|h| escape(h))
                    .collect::<Vec<_>>()
                    .join(" | "),
            );
            s.push_str(" |\n|");
            s.push_str(&"---|".repeat(header.len()));
            s.push('\n');
            for row in rows {
                s.push_str("| ");
                let cells: Vec<String> = row
                    .iter()
                    .map(|c| inlines(std::slice::from_ref(c), true))
                    .collect();
                s.push_str(&cells.join(" | "));
                s.push_str(" |\n");
            }
        }
    }
}

fn inlines(parts: &[Inline], in_table: bool) -> String {
    parts
        .iter()
        .map(|p| match p {
            Inline::Text(t) => escape(t),
            Inline::Strong(t) => format!("**{}**", escape(t)),
            Inline::Code(t) => code(t, in_table),
        })
        .collect()
}

/// Escapes text for an inline context: Markdown's specials get a backslash, line breaks become
/// spaces (a newline would end a table row), so the value reads as the literal text it is.
/// Other control characters (an ESC in a VM name) are written as `\u{1b}`, so a report
/// shown in a terminal cannot drive it.
///
/// GFM also turns bare `http://…`, `www.…` and `name@domain` into links, escapes or not: the
/// `:` of `://` is escaped, as is the `.` of `www.`, and an `@` is followed by `&#8203;` (a
/// zero-width space, the one break that stops an e-mail autolink), so a VM named
/// `http://evil.example/x` shows as text, not as a link to click.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ':' if chars.clone().take(2).eq(['/', '/']) => out.push_str("\\:"),
            '.' if out.len() >= 3
                && out
                    .get(out.len() - 3..)
                    .is_some_and(|w| w.eq_ignore_ascii_case("www")) =>
            {
                out.push_str("\\.")
            }
            '@' => out.push_str("@&#8203;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '&' | '~' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => out.push(' '),
            c if c.is_control() => {
                out.push_str(&escape_controls_inline(c.encode_utf8(&mut [0; 4])))
            }
            _ => out.push(c),
        }
    }
    out
}

/// A code span that survives backticks inside it (a longer fence) and, in a table, pipes
/// (GFM splits cells on `|` even inside code spans, unless it is escaped).
fn code(text: &str, in_table: bool) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect();
    let flat = escape_controls_inline(&flat).into_owned();
    let flat = if in_table {
        flat.replace('|', "\\|")
    } else {
        flat
    };
    let longest = flat.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if flat.starts_with('`') || flat.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{flat}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specials_are_escaped_and_lines_joined() {
        assert_eq!(escape("a|b*c_d`e<f>"), r"a\|b\*c\_d\`e\<f\>");
        assert_eq!(escape("x\ny"), "x y");
        assert_eq!(escape("[l](http://x)"), r"\[l\](http\://x)");
        assert_eq!(escape("vm\u{1b}[2J\u{7}"), r"vm\u{1b}\[2J\u{7}");
        assert_eq!(code("vm\u{1b}]0;x", false), r"`vm\u{1b}]0;x`");
    }

    #[test]
    fn autolinks_are_broken() {
        assert_eq!(escape("http://evil.example/x"), r"http\://evil.example/x");
        assert_eq!(escape("WWW.evil.example"), r"WWW\.evil.example");
        assert_eq!(escape("a@b.example"), "a@&#8203;b.example");
        // A colon or a dot elsewhere stays as it is: times and FQDNs read plainly.
        assert_eq!(escape("17:00 hv01.corp"), "17:00 hv01.corp");
    }

    #[test]
    fn code_spans_hold_backticks_and_pipes() {
        assert_eq!(code("a`b", false), "``a`b``");
        assert_eq!(code("`x", false), "`` `x ``");
        assert_eq!(code("a|b", true), r"`a\|b`");
    }
}
