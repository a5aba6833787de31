//! What a diagnostic shows of its file: the lines around each label, cut to a short window
//! where a line is long (exports written on one line: `pvesh … --output-format json`,
//! `ConvertTo-Json -Compress`), with control characters drawn as visible symbols.
//!
//! miette's renderer would otherwise echo the whole line (130 KB of stderr for one warning),
//! panic past column 65,535 (a format width limit), and scan the file from its start for every
//! label. The excerpt hands it only the few hundred bytes it shows, and says itself which line
//! and column (of the real file) each piece starts at.

use super::SourceFile;
use super::terminal::picture;
use miette::{LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};
use std::ops::Range;

/// Lines around a label are shown whole while the piece stays under this many bytes.
const WHOLE_LINES: usize = 1024;
/// On a long line, bytes shown on each side of the label.
const SIDE: usize = 60;
/// On a long line, the most of a label's own bytes shown.
const LABEL: usize = 120;

/// A diagnostic's excerpts, in their own coordinates, with the labels moved into them.
#[derive(Debug, Clone)]
pub struct Excerpt {
    name: String,
    text: String,
    pieces: Vec<Piece>,
    pub labels: Vec<LabeledSpan>,
}

/// One contiguous region of the file, at `range` of the excerpt's text.
#[derive(Debug, Clone)]
struct Piece {
    range: Range<usize>,
    /// 0-based line and character column, in the file, of the piece's first byte.
    line: usize,
    column: usize,
}

impl Excerpt {
    pub fn new(file: &SourceFile, labels: &[LabeledSpan]) -> Excerpt {
        let text = file.text.as_str();
        // Each label's span (clamped to the file) and the region of the file shown for it.
        let spans: Vec<(Range<usize>, Range<usize>)> = labels
            .iter()
            .map(|l| {
                let start = super::index::floor_boundary(text, l.offset());
                let end = super::index::ceil_boundary(text, l.offset().saturating_add(l.len()))
                    .max(start);
                let (span, shown) = region(file, start..end);
                let s = span.start.clamp(shown.start, shown.end);
                (s..span.end.clamp(s, shown.end), shown)
            })
            .collect();
        // Regions that overlap or touch become one piece.
        let mut order: Vec<usize> = (0..spans.len()).collect();
        order.sort_by_key(|i| spans[*i].1.start);
        let mut merged: Vec<Range<usize>> = Vec::new();
        for i in &order {
            let r = spans[*i].1.clone();
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        let mut out = String::new();
        let mut pieces = Vec::with_capacity(merged.len());
        for r in &merged {
            let (line, column) = file.position(r.start);
            let start = out.len();
            out.extend(text[r.clone()].chars().map(picture_keeping_breaks(text, r)));
            pieces.push(Piece {
                range: start..out.len(),
                line,
                column,
            });
        }
        let moved = labels
            .iter()
            .zip(&spans)
            .map(|(l, (span, shown))| {
                let p = merged
                    .iter()
                    .position(|r| r.start <= shown.start && shown.end <= r.end)
                    .unwrap_or(0);
                let (r, piece) = (&merged[p], &pieces[p]);
                let at = |o: usize| piece.range.start + shown_len(text, r.start..o);
                let start = at(span.start);
                let moved = SourceSpan::from(start..at(span.end));
                if l.primary() {
                    LabeledSpan::new_primary_with_span(
                        l.label().map(|t| super::escape_controls(t).into_owned()),
                        moved,
                    )
                } else {
                    LabeledSpan::new_with_span(
                        l.label().map(|t| super::escape_controls(t).into_owned()),
                        moved,
                    )
                }
            })
            .collect();
        Excerpt {
            name: super::escape_controls(&file.name).into_owned(),
            text: out,
            pieces,
            labels: moved,
        }
    }
}

/// The part of the file shown for a label at `span`, and the span cut to fit it.
fn region(file: &SourceFile, span: Range<usize>) -> (Range<usize>, Range<usize>) {
    let text = file.text.as_str();
    let first = file.line_of(span.start);
    let last = file.line_of(span.end.saturating_sub(1).max(span.start));
    let own = file.line_range(first).start..file.line_range(last).end;
    let around =
        file.line_range(first.saturating_sub(1)).start..file.line_range(last + 1).end.max(own.end);
    if around.len() <= WHOLE_LINES {
        return (span, around);
    }
    if own.len() <= WHOLE_LINES {
        return (span, own);
    }
    // A long line: a window around the start of the label, on the label's first line.
    let line = file.line_range(first);
    let end = span
        .end
        .min(span.start + LABEL)
        .min(line.end.max(span.start));
    let end = super::index::ceil_boundary(text, end).max(span.start);
    let from = super::index::floor_boundary(text, span.start.saturating_sub(SIDE).max(line.start));
    let to = super::index::ceil_boundary(text, (end + SIDE).min(line.end)).max(end);
    (span.start..end, from.min(span.start)..to)
}

/// The length in the excerpt of `r` of the file: each character is drawn as one character.
fn shown_len(text: &str, r: Range<usize>) -> usize {
    text[r.clone()]
        .chars()
        .map(picture_keeping_breaks(text, &r))
        .map(char::len_utf8)
        .sum()
}

/// Control characters as symbols, except the line breaks the renderer splits lines at: `\n`,
/// and `\r` right before one (a lone `\r` is drawn, as the file's line count ignores it).
fn picture_keeping_breaks(text: &str, r: &Range<usize>) -> impl FnMut(char) -> char {
    let bytes = text.as_bytes();
    let mut at = r.start;
    move |c| {
        let here = at;
        at += c.len_utf8();
        match c {
            '\n' => c,
            '\r' if bytes.get(here + 1) == Some(&b'\n') => c,
            c => picture(c),
        }
    }
}

impl Excerpt {
    fn piece(&self, span: &SourceSpan) -> Option<&Piece> {
        let (start, end) = (span.offset(), span.offset() + span.len());
        self.pieces
            .iter()
            .find(|p| p.range.start <= start && end <= p.range.end)
    }
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let piece = self.piece(span).ok_or(MietteError::OutOfBounds)?;
        // Spans come from this excerpt's own labels; anything else is out of bounds, never a
        // panic while an error is being reported.
        let slice = |r: Range<usize>| self.text.get(r).ok_or(MietteError::OutOfBounds);
        let shown = slice(piece.range.clone())?;
        let lines = shown.matches('\n').count();
        if context_lines_before == 0 && context_lines_after == 0 {
            // The renderer asks for the label itself to print its line and column.
            let before = slice(piece.range.start..span.offset())?;
            let (line, column) = match before.rfind('\n') {
                None => (piece.line, piece.column + before.chars().count()),
                Some(i) => (
                    piece.line + before.matches('\n').count(),
                    before[i + 1..].chars().count(),
                ),
            };
            let data = slice(span.offset()..span.offset() + span.len())?;
            return Ok(Box::new(MietteSpanContents::new_named(
                self.name.clone(),
                data.as_bytes(),
                *span,
                line,
                column,
                data.matches('\n').count(),
            )));
        }
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            shown.as_bytes(),
            SourceSpan::from(piece.range.clone()),
            piece.line,
            piece.column,
            lines,
        )))
    }
}
