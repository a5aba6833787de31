//! Where each line of a file starts, worked out once per file: a line and column then cost a
//! binary search, not a scan from the start of the file, so thousands of diagnostics on one
//! file (a policy with 20,000 mistakes, `rules` on 10,000 rules) stay linear in its size.

use std::ops::Range;

/// Bytes between two character-count checkpoints: a column on a long line (a one-line
/// `pvesh` export) counts at most this many bytes.
const CHECKPOINT: usize = 4096;

#[derive(Debug)]
pub struct LineIndex {
    /// The byte offset where each line starts; the first is 0.
    starts: Vec<u32>,
    /// How many characters come before byte `k * CHECKPOINT`.
    chars: Vec<u32>,
}

#[cfg(test)]
thread_local! {
    /// How many indexes this thread has built: tests pin "once per file".
    pub static BUILT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl LineIndex {
    /// The index of `text`, or `None` past 4 GiB, where offsets no longer fit the compact
    /// form (callers then count from the start, as without an index).
    pub fn new(text: &str) -> Option<LineIndex> {
        if u32::try_from(text.len()).is_err() {
            return None;
        }
        #[cfg(test)]
        BUILT.with(|b| b.set(b.get() + 1));
        let bytes = text.as_bytes();
        let mut starts = vec![0u32];
        // Offsets fit u32: checked above.
        starts.extend(
            bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| (i + 1) as u32),
        );
        let mut chars = Vec::with_capacity(bytes.len() / CHECKPOINT + 1);
        let mut count = 0u32;
        for chunk in bytes.chunks(CHECKPOINT) {
            chars.push(count);
            count += count_chars(chunk) as u32;
        }
        chars.push(count);
        Some(LineIndex { starts, chars })
    }

    /// The 0-based line holding byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts
            .partition_point(|s| *s as usize <= offset)
            .saturating_sub(1)
    }

    /// The bytes of 0-based line `line`, without its line break (`\n` or `\r\n`).
    pub fn line_range(&self, text: &str, line: usize) -> Range<usize> {
        let start = self.starts.get(line).map_or(text.len(), |s| *s as usize);
        let mut end = self
            .starts
            .get(line + 1)
            .map_or(text.len(), |s| *s as usize - 1);
        if end > start && text.as_bytes().get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        start..end.max(start)
    }

    /// How many characters come before byte `offset` (a character boundary) of `text`.
    fn chars_before(&self, text: &str, offset: usize) -> usize {
        let k = offset / CHECKPOINT;
        let base = self.chars.get(k).map_or(0, |c| *c as usize);
        let from = (k * CHECKPOINT).min(offset);
        base + count_chars(&text.as_bytes()[from..offset])
    }

    /// `(line, column)`, both 0-based, of byte `offset`; the column counts characters.
    pub fn position(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = floor_boundary(text, offset);
        let line = self.line_of(offset);
        let start = self.starts[line] as usize;
        let column = if offset - start <= CHECKPOINT {
            count_chars(&text.as_bytes()[start..offset])
        } else {
            self.chars_before(text, offset) - self.chars_before(text, start)
        };
        (line, column)
    }
}

fn is_continuation(b: u8) -> bool {
    (b as i8) < -0x40
}

/// The characters in `bytes`: those that are not UTF-8 continuation bytes.
fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| !is_continuation(**b)).count()
}

/// The nearest character boundary at or before `offset`, within `text`.
pub fn floor_boundary(text: &str, offset: usize) -> usize {
    text.floor_char_boundary(offset.min(text.len()))
}

/// The nearest character boundary at or after `offset`, within `text`.
pub fn ceil_boundary(text: &str, offset: usize) -> usize {
    text.ceil_char_boundary(offset.min(text.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_match_a_plain_count() {
        let mut text = String::new();
        for i in 0..3000 {
            text.push_str(&format!("é{i}\r\nline ✓ {i}\n"));
        }
        text.push_str(&"x".repeat(10_000));
        let index = LineIndex::new(&text).unwrap();
        for offset in (0..text.len())
            .step_by(37)
            .filter(|o| text.is_char_boundary(*o))
        {
            let before = &text[..offset];
            let line = before.matches('\n').count();
            let start = before.rfind('\n').map_or(0, |i| i + 1);
            let column = before[start..].chars().count();
            assert_eq!(index.position(&text, offset), (line, column), "at {offset}");
        }
        let last = index.line_of(text.len());
        assert_eq!(index.line_range(&text, last).len(), 10_000);
        assert_eq!(index.line_range(&text, 0), 0.."é0".len());
    }
}
