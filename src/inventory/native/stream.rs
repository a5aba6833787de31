//! Reading a large native JSON inventory straight from its file, a piece at a time.
//!
//! Holding a whole provider-scale file (150 MB for a million VMs) next to the VMs read from
//! it doubled the memory a run needs. Here the file is read in pieces of a mebibyte with
//! positional reads, and each VM is read by serde_json from the piece it lies in, so the text
//! is never whole in memory. The second half of the `vms` array is read meanwhile on another
//! thread, from a guessed start that the first thread must confirm by arriving exactly there
//! between two elements.
//!
//! The digest is taken of the bytes parsed, as they are parsed: each thread hashes the text
//! it has read past. The first thread's hash covers the file up to the second half; it then
//! reads the second half again into its hash and into a hash of its own, which must equal
//! the second thread's hash of what it parsed there. A file that changed meanwhile gives up.
//!
//! This is the happy path only: anything unusual (a syntax error, a member twice, text
//! after the end, a read error, a file that changed) returns `None`, and the file is then
//! read whole and parsed the ordinary way, which also words and locates the problem.
//!
//! One difference is known: each VM is parsed as a document of its own, so serde_json's
//! nesting limit (128) counts from the VM, not from the file; a VM nested 127 levels deep
//! in an unknown member is read here where the ordinary parse refuses it.

use super::{RawInventory, RawVm};
use crate::inventory::load::read_at;
use crate::model::Vm;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::fs::File;

/// The size of a piece. An element larger than this (a VM with a huge unknown member) grows
/// the piece until it fits.
pub(super) const PIECE: usize = 1 << 20;

/// VMs are kept in blocks of this many while reading the second half, so that joining them
/// to the first half never holds a second copy of the whole half.
const BLOCK: usize = 1 << 16;

/// Reads the native JSON inventory in `file` (`size` bytes) in pieces of `piece` bytes
/// ([`PIECE`] in use; small in tests and fuzzing, to cut values everywhere) and the SHA-256 of
/// the bytes parsed (the whole file), or returns `None`.
pub(super) fn read_in(file: &File, size: u64, piece: usize) -> Option<(RawInventory, [u8; 32])> {
    let (first, second) = crate::par::join(
        || first_half(file, size, piece),
        || second_half(file, size, piece),
    );
    let (mut top, mut vms, stop) = first?;
    if let FirstStop::Guess(guess) = stop {
        let second = second?;
        if second.start != guess {
            return None;
        }
        // The bytes the second thread parsed, into the file's digest.
        top.reader.hash_again(second.end, second.hash)?;
        vms.reserve(second.blocks.iter().map(Vec::len).sum());
        // Block by block, each freed once copied: never a second copy of the half.
        for block in second.blocks {
            vms.extend(block);
        }
        top.members(true)?;
    }
    let digest = top.reader.digest(size)?;
    let mut inventory = top.finish()?;
    inventory.vms = vms;
    Some((inventory, digest))
}

/// How the first thread's reading of the array ended.
enum FirstStop {
    /// At the second half's guessed start (a file offset): the rest is the second thread's.
    Guess(u64),
    /// At the end of the object, with the whole file read.
    Done,
}

/// The top level as the first thread reads it: members other than `vms`, kept as written.
struct TopLevel<'f> {
    reader: Reader<'f>,
    rest: Vec<(String, Box<RawValue>)>,
}

impl TopLevel<'_> {
    /// Reads members up to the `vms` array, leaving the reader after its `[`; or, when
    /// `after_vms` (the reader just past the array's `]`), to the end of the file.
    fn members(&mut self, after_vms: bool) -> Option<()> {
        if after_vms {
            match self.reader.next_non_ws()? {
                b',' => {}
                b'}' => return self.end_of_file(),
                _ => return None,
            }
        }
        loop {
            self.reader.skip_ws()?;
            let key: String = self.reader.value()?;
            if self.reader.next_non_ws()? != b':' {
                return None;
            }
            self.reader.skip_ws()?;
            if key == "vms" {
                // A second `vms` is for the ordinary parse to refuse.
                if after_vms || self.reader.next_non_ws()? != b'[' {
                    return None;
                }
                return Some(());
            }
            let raw: Box<RawValue> = self.reader.value()?;
            self.rest.push((key, raw));
            match self.reader.next_non_ws()? {
                b',' => {}
                b'}' if after_vms => return self.end_of_file(),
                _ => return None,
            }
        }
    }

    /// Only whitespace after the object's `}`.
    fn end_of_file(&mut self) -> Option<()> {
        (self.reader.skip_ws().is_none() && self.reader.at_end()).then_some(())
    }

    /// The members other than `vms`, read by serde as one object (defaults, duplicates).
    fn finish(self) -> Option<RawInventory> {
        let mut object = String::from("{");
        for (i, (key, raw)) in self.rest.iter().enumerate() {
            if i > 0 {
                object.push(',');
            }
            object.push_str(&serde_json::to_string(key).ok()?);
            object.push(':');
            object.push_str(raw.get());
        }
        object.push('}');
        serde_json::from_str(&object).ok()
    }
}

/// The first thread: the top level up to the array, then elements up to the second half's
/// guessed start, or to the array's end and the end of the object.
fn first_half(file: &File, size: u64, piece: usize) -> Option<(TopLevel<'_>, Vec<Vm>, FirstStop)> {
    let mut top = TopLevel {
        reader: Reader::new(file, size, 0, piece),
        rest: Vec::new(),
    };
    if top.reader.next_non_ws()? != b'{' {
        return None;
    }
    top.members(false)?;
    let guess = guess_at(file, size);
    let mut vms = Vec::new();
    top.reader.skip_ws()?;
    if top.reader.peek()? == b']' {
        top.reader.take();
        top.members(true)?;
        return Some((top, vms, FirstStop::Done));
    }
    loop {
        let vm: RawVm = top.reader.value()?;
        vms.push(vm.into_model());
        match top.reader.next_non_ws()? {
            b',' => top.reader.skip_ws()?,
            b']' => {
                top.members(true)?;
                return Some((top, vms, FirstStop::Done));
            }
            _ => return None,
        }
        let at = top.reader.offset();
        if guess == Some(at) {
            return Some((top, vms, FirstStop::Guess(at)));
        }
    }
}

/// What the second thread read: the VMs from `start` (its guessed start) to the array's
/// end, in blocks; `end`, the offset after the `]`; and the SHA-256 of the bytes in between.
struct SecondHalf {
    start: u64,
    blocks: Vec<Vec<Vm>>,
    end: u64,
    hash: [u8; 32],
}

/// The second thread: from the guessed start to the array's end.
fn second_half(file: &File, size: u64, piece: usize) -> Option<SecondHalf> {
    let guess = guess_at(file, size)?;
    let mut reader = Reader::new(file, size, guess, piece);
    let mut blocks: Vec<Vec<Vm>> = vec![Vec::with_capacity(BLOCK)];
    loop {
        let vm: RawVm = reader.value()?;
        let block = match blocks.last_mut() {
            Some(b) if b.len() < BLOCK => b,
            _ => {
                blocks.push(Vec::with_capacity(BLOCK));
                blocks.last_mut()?
            }
        };
        block.push(vm.into_model());
        match reader.next_non_ws()? {
            b',' => reader.skip_ws()?,
            b']' => {
                let end = reader.offset();
                let hash = reader.digest(end)?;
                return Some(SecondHalf {
                    start: guess,
                    blocks,
                    end,
                    hash,
                });
            }
            _ => return None,
        }
    }
}

/// A guess at where an element near the middle of the file begins: a `{` whose preceding
/// non-blank characters are `}` and `,`. Both threads compute the same guess.
fn guess_at(file: &File, size: u64) -> Option<u64> {
    let from = size / 2;
    let mut window = vec![0u8; 1 << 16];
    let n = read_at(file, &mut window, from).ok()?;
    let bytes = &window[..n];
    let mut at = 0;
    while at < bytes.len() {
        let open = at + bytes[at..].iter().position(|&b| b == b'{')?;
        let before = bytes[..open].iter().rev().position(|b| !is_ws(*b));
        let comma = before.map(|k| open - 1 - k);
        if let Some(comma) = comma.filter(|&c| bytes[c] == b',') {
            let after = bytes[..comma].iter().rev().position(|b| !is_ws(*b));
            if after.is_some_and(|k| bytes[comma - 1 - k] == b'}') {
                return Some(from + open as u64);
            }
        }
        at = open + 1;
    }
    None
}

/// A window on the file: `text[at..]` is the file's text from offset `pos + at`.
///
/// The window is text, checked as UTF-8 once as it is read, so that serde_json reads it as
/// `str` and does not check each string again (a twentieth of the run's time).
struct Reader<'f> {
    file: &'f File,
    size: u64,
    /// The file offset of `text[0]`.
    pos: u64,
    text: String,
    at: usize,
    /// How much to read at a time.
    piece: usize,
    /// Bytes read but not yet text: a character cut at the end of a read.
    cut: Vec<u8>,
    /// Read into here, then checked and appended to `text`.
    scratch: Vec<u8>,
    /// The bytes read past so far (from the offset the reader started at).
    hasher: Sha256,
    /// The file offset up to which `hasher` has the bytes.
    hashed_to: u64,
}

impl<'f> Reader<'f> {
    fn new(file: &'f File, size: u64, offset: u64, piece: usize) -> Self {
        let piece = piece.max(1);
        Reader {
            file,
            size,
            pos: offset,
            text: String::with_capacity(piece + 4),
            at: 0,
            piece,
            cut: Vec::new(),
            scratch: vec![0; piece + 4],
            hasher: Sha256::new(),
            hashed_to: offset,
        }
    }

    /// Hashes the text read past and drops it.
    fn consume(&mut self) {
        self.hasher.update(&self.text.as_bytes()[..self.at]);
        self.text.drain(..self.at);
        self.pos += self.at as u64;
        self.hashed_to = self.pos;
        self.at = 0;
    }

    /// The SHA-256 of the bytes read past, which must end at `end`.
    fn digest(&mut self, end: u64) -> Option<[u8; 32]> {
        self.consume();
        (self.hashed_to == end).then(|| self.hasher.clone().finalize().into())
    }

    /// Hashes the file from here up to `end` (what the other thread parsed), reading it
    /// again, and goes on from there; `None` unless those bytes hash to `theirs`, the other
    /// thread's hash of what it parsed (the file changed meanwhile).
    fn hash_again(&mut self, end: u64, theirs: [u8; 32]) -> Option<()> {
        self.consume();
        let mut again = Sha256::new();
        let mut at = self.hashed_to;
        while at < end {
            let want = usize::try_from(end - at)
                .unwrap_or(usize::MAX)
                .min(self.scratch.len());
            let n = read_at(self.file, &mut self.scratch[..want], at).ok()?;
            if n == 0 {
                return None;
            }
            self.hasher.update(&self.scratch[..n]);
            again.update(&self.scratch[..n]);
            at += n as u64;
        }
        if <[u8; 32]>::from(again.finalize()) != theirs {
            return None;
        }
        self.hashed_to = end;
        self.seek(end);
        Some(())
    }

    /// The file offset of the next byte.
    fn offset(&self) -> u64 {
        self.pos + self.at as u64
    }

    /// Goes on reading at `offset`, which must be where the hash is (see [`Self::hash_again`]).
    fn seek(&mut self, offset: u64) {
        self.pos = offset;
        self.at = 0;
        self.text.clear();
        self.cut.clear();
    }

    fn at_end(&self) -> bool {
        self.offset() >= self.size
    }

    /// Reads more of the file after what is buffered, keeping the unread text; false at the
    /// end of the file, on a read error or on bytes that are not UTF-8 (all of which end the
    /// fast path).
    fn more(&mut self) -> bool {
        self.consume();
        let next = self.pos + (self.text.len() + self.cut.len()) as u64;
        if next >= self.size {
            return false;
        }
        let kept = self.cut.len();
        self.scratch[..kept].copy_from_slice(&self.cut);
        let n = match read_at(self.file, &mut self.scratch[kept..kept + self.piece], next) {
            Ok(0) | Err(_) => return false,
            Ok(n) => n,
        };
        let bytes = &self.scratch[..kept + n];
        let valid = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            // A character cut by the end of the read: the rest comes with the next one.
            Err(e) if e.error_len().is_none() => {
                match std::str::from_utf8(&bytes[..e.valid_up_to()]) {
                    Ok(text) => text,
                    Err(_) => return false,
                }
            }
            Err(_) => return false,
        };
        self.text.push_str(valid);
        self.cut = bytes[valid.len()..].to_vec();
        true
    }

    fn peek(&mut self) -> Option<u8> {
        if self.at == self.text.len() && !self.more() {
            return None;
        }
        Some(self.text.as_bytes()[self.at])
    }

    fn take(&mut self) {
        self.at += 1;
    }

    /// Skips JSON whitespace; `None` at the end of the file.
    fn skip_ws(&mut self) -> Option<()> {
        loop {
            let bytes = self.text.as_bytes();
            while self.at < bytes.len() && is_ws(bytes[self.at]) {
                self.at += 1;
            }
            if self.at < bytes.len() {
                return Some(());
            }
            if !self.more() {
                return None;
            }
        }
    }

    /// The next byte that is not whitespace, consumed.
    fn next_non_ws(&mut self) -> Option<u8> {
        self.skip_ws()?;
        let b = self.text.as_bytes()[self.at];
        self.at += 1;
        Some(b)
    }

    /// One JSON value read by serde_json, reading more of the file while it is cut short.
    fn value<T: DeserializeOwned>(&mut self) -> Option<T> {
        loop {
            let rest = self.text.get(self.at..)?;
            let mut values = serde_json::Deserializer::from_str(rest).into_iter::<T>();
            match values.next() {
                Some(Ok(value)) => {
                    let end = self.at + values.byte_offset();
                    // A number cut at the end of the window reads as a shorter number: read
                    // on, unless the file ends there too.
                    if end == self.text.len() && self.offset_after_text() < self.size {
                        if !self.more() {
                            return None;
                        }
                        continue;
                    }
                    self.at = end;
                    return Some(value);
                }
                Some(Err(e)) if e.is_eof() => {
                    if !self.more() {
                        return None;
                    }
                }
                None => {
                    if !self.more() {
                        return None;
                    }
                }
                Some(Err(_)) => return None,
            }
        }
    }

    /// The file offset just after the text read so far.
    fn offset_after_text(&self) -> u64 {
        self.pos + (self.text.len() + self.cut.len()) as u64
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// The same inventory, read the ordinary way and here, in pieces of `piece` bytes.
    fn both_ways(text: &str, piece: usize) -> (Option<Vec<Vm>>, Option<Vec<Vm>>) {
        let ordinary = serde_json::from_str::<RawInventory>(text)
            .ok()
            .map(|r| r.vms);
        let mut file = tempfile::tempfile().expect("a temporary file");
        file.write_all(text.as_bytes()).expect("written");
        let streamed = read_in(&file, text.len() as u64, piece).map(|(r, digest)| {
            // Whatever the piece size and however the halves fell, the digest is the file's.
            assert_eq!(
                crate::digest::hex(&digest),
                crate::digest::sha256_hex(text.as_bytes())
            );
            r.vms
        });
        (ordinary, streamed)
    }

    fn vms(n: usize, name: impl Fn(usize) -> String) -> String {
        let items: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#"{{"name":{},"host":"h{}","state":"running","memory_mb":{}}}"#,
                    serde_json::to_string(&name(i)).unwrap(),
                    i % 3,
                    i + 1
                )
            })
            .collect();
        items.join(",\n ")
    }

    #[test]
    fn reads_what_serde_reads_whatever_the_middle_looks_like() {
        // Names that look like the place between two elements, around the middle.
        let tricky = |i: usize| {
            if i.is_multiple_of(2) {
                format!("vm{i} }}, {{\"name\": \"x\"")
            } else {
                format!("vm{i}")
            }
        };
        for n in [1, 2, 3, 10, 101] {
            let text = format!(
                r#"{{"collected_at":"2026-11-25T16:00:00Z","hosts":[{{"name":"h0"}}],"vms":[{}],"extra":{{"vms":1}}}}"#,
                vms(n, tricky)
            );
            for piece in [1, 7, 64, 1 << 20] {
                let (ordinary, streamed) = both_ways(&text, piece);
                assert!(ordinary.is_some());
                assert_eq!(streamed, ordinary, "{n} VMs in pieces of {piece}");
            }
        }
    }

    #[test]
    fn the_second_half_is_used_when_the_guess_is_right() {
        let text = format!(r#"{{"vms":[{}]}}"#, vms(1000, |i| format!("vm{i}")));
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        let size = text.len() as u64;
        let SecondHalf {
            start,
            blocks,
            end,
            hash,
        } = second_half(&file, size, 4096).expect("the second half reads");
        assert_eq!(Some(start), guess_at(&file, size));
        let parsed = &text.as_bytes()[start as usize..end as usize];
        assert_eq!(hash, <[u8; 32]>::from(Sha256::digest(parsed)));
        assert!(blocks.iter().map(Vec::len).sum::<usize>() > 100);
        let (ordinary, streamed) = both_ways(&text, 4096);
        assert_eq!(streamed.as_ref().map(Vec::len), Some(1000));
        assert_eq!(streamed, ordinary);
    }

    #[test]
    fn unusual_files_are_left_to_the_ordinary_parse() {
        for text in [
            r#"{"vms":[],"vms":[]}"#,
            r#"{"vms":[{"name":"a","host":"h","state":"off"},]}"#,
            r#"{"vms":[{"name":"a","host":"h","state":"off"}]} x"#,
            "{\"vms\":[{\"name\":\"a\",\"host\":\"h\",\"state\":\"off\"}]}\0\0\0",
            r#"{"vms":[{"name":"a","host":"h","state":"off"}]}{"vms":[]}"#,
            "{\"vms\":[]}\n{\"vms\":[]}\n",
            r#"{"hosts":[]}"#,
            r#"{"vms":[{"name":"","host":"h","state":"off"}]}"#,
            r#"{"platform":"nope","vms":[]}"#,
            r#"{"hosts":1,"hosts":2,"vms":[]}"#,
            r#"{"vms":[]"#,
            r#"["vms"]"#,
            "",
        ] {
            for piece in [3, 1 << 20] {
                let (_, streamed) = both_ways(text, piece);
                assert!(streamed.is_none(), "{text}");
            }
        }
        let (ordinary, streamed) = both_ways(r#" { "v\u006ds" : [ ] , "n" : 12345 } "#, 2);
        assert_eq!(streamed, ordinary);
        assert_eq!(streamed, Some(Vec::new()));
    }

    #[test]
    #[cfg(unix)]
    fn a_file_changed_under_the_second_half_gives_up() {
        let text = format!(r#"{{"vms":[{}]}}"#, vms(1000, |i| format!("vm{i}")));
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        let size = text.len() as u64;
        let SecondHalf {
            start, end, hash, ..
        } = second_half(&file, size, 4096).unwrap();
        // The second half changes after the second thread parsed it, before the first
        // thread hashes it: the bytes hashed would not be the bytes parsed.
        let at = text[start as usize..].find("vm9").unwrap() as u64 + start;
        std::os::unix::fs::FileExt::write_at(&file, b"VM", at).unwrap();
        let (mut top, _, stop) = first_half(&file, size, 4096).unwrap();
        assert!(matches!(stop, FirstStop::Guess(g) if g == start));
        assert!(top.reader.hash_again(end, hash).is_none());
        // Read again from the start, the changed file reads, with its own digest.
        let mut changed = vec![0u8; text.len()];
        std::os::unix::fs::FileExt::read_exact_at(&file, &mut changed, 0).unwrap();
        let (read, digest) = read_in(&file, size, 4096).unwrap();
        assert_eq!(
            crate::digest::hex(&digest),
            crate::digest::sha256_hex(&changed)
        );
        assert!(read.vms.iter().any(|vm| vm.name.starts_with("VM9")));
    }

    proptest::proptest! {
        /// Whatever the whitespace, member order, names (including ones that look like the
        /// gap between two elements) and piece size, the two ways read the same VMs, and this
        /// way reads nothing that the ordinary way refuses.
        #[test]
        fn agrees_with_serde(
            names in proptest::collection::vec(proptest::sample::select(vec![
                "a", "}, {", "},{\"name\":\"b\",\"host\":\"h\",\"state\":\"off\"},{",
                "\\\"}\\", "\\u007d,\\u007b", "é", "",
            ]), 0..40),
            gaps in proptest::collection::vec(proptest::sample::select(vec!["", " ", "\n", "\r\n\t"]), 8),
            vms_first in proptest::bool::ANY,
            broken in proptest::option::of(0usize..400),
            piece in proptest::sample::select(vec![1usize, 5, 33, 4096]),
        ) {
            let g = |i: usize| gaps[i % gaps.len()];
            let items: Vec<String> = names.iter().enumerate().map(|(i, n)| {
                format!(
                    "{{{a}\"name\"{b}:{c}\"{n}{i}\",\"host\":\"h\"{d},{e}\"state\":\"off\",\"memory_mb\":{i}{f}}}",
                    a = g(i), b = g(i + 1), c = g(i + 2), d = g(i + 3), e = g(i + 4), f = g(i + 5),
                )
            }).collect();
            let vms = format!("\"vms\"{}:{}[{}{}]", g(0), g(1), g(2), items.join(&format!("{},{}", g(3), g(4))));
            let hosts = format!("\"hosts\":[{}{{\"name\":\"h\",\"memory_mb\":123456}}]", g(5));
            let mut text = if vms_first {
                format!("{}{{{vms},{}{hosts}}}{}", g(6), g(7), g(1))
            } else {
                format!("{{{hosts},{vms}{}}}", g(7))
            };
            if let Some(at) = broken {
                // Damage one byte: both ways must still agree on whether it reads.
                let at = at % text.len();
                if text.is_char_boundary(at) && text.is_char_boundary(at + 1) {
                    text.replace_range(at..at + 1, "}");
                }
            }
            let (ordinary, streamed) = both_ways(&text, piece);
            if ordinary.is_none() {
                proptest::prop_assert!(streamed.is_none(), "read what serde refuses: {}", text);
            } else if streamed.is_some() {
                proptest::prop_assert_eq!(streamed, ordinary);
            } else {
                proptest::prop_assert!(broken.is_some(), "gave up on a good file: {}", text);
            }
        }
    }
}
