//! Reading an inventory file into an inventory, digesting it meanwhile.
//!
//! A large native JSON file is read straight from disk a piece at a time and never held
//! whole (see `native::stream`); its digest is taken by a second thread reading the file
//! itself. Any other file is read whole: a UTF-8 file without a byte-order mark (the native
//! format, most exports) becomes the parser's text as it is, validated and taken over, not
//! copied, and the digest runs on a second thread over the same bytes.

use super::{Format, Parsed, detect, native, parse, parse_file};
use crate::diag::{Diagnostics, SourceFile};
use std::fs::File;
use std::io::{Read, Seek};

/// Native files from this size on are read a piece at a time.
const STREAM_FROM: u64 = 1 << 20;

/// Reads, parses and digests the inventory file at `path`: its SHA-256 (lowercase hex) and
/// what parsing found. An error only when the file cannot be read.
pub fn read_and_parse(
    path: &str,
    forced: Option<Format>,
) -> std::io::Result<(String, Result<Parsed, Diagnostics>)> {
    let mut file = File::open(path)?;
    let size = file.metadata()?.len();
    if size >= STREAM_FROM
        && let Some(read) = streamed(path, &file, size, forced)
    {
        return Ok(read);
    }
    // On Windows a positional read moves the file's cursor: start from the top again.
    file.seek(std::io::SeekFrom::Start(0))?;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.read_to_end(&mut bytes)?;
    Ok(parse_and_digest(
        path,
        bytes,
        forced,
        crate::digest::sha256_hex,
    ))
}

/// The native JSON file read a piece at a time, or `None` when it is not one or anything is
/// unusual (the caller then reads it whole, which also explains any problem).
fn streamed(
    path: &str,
    file: &File,
    size: u64,
    forced: Option<Format>,
) -> Option<(String, Result<Parsed, Diagnostics>)> {
    if !matches!(forced, None | Some(Format::Native)) {
        return None;
    }
    let mut head = vec![0u8; 8192];
    let n = read_at(file, &mut head, 0).ok()?;
    head.truncate(n);
    if encoding_rs::Encoding::for_bom(&head).is_some() {
        return None;
    }
    let valid = match std::str::from_utf8(&head) {
        Ok(text) => text,
        // Cut in the middle of a character: the part before it.
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
        Err(_) => return None,
    };
    if !valid.trim_start().starts_with('{') {
        return None;
    }
    if forced.is_none() && !matches!(detect(&SourceFile::new(path, valid)), Ok(Format::Native)) {
        return None;
    }
    let (digest, parsed) = both(
        || digest_file(file, size),
        || native::parse_streamed(file, size),
    );
    Some((digest?, Ok(parsed?)))
}

/// The SHA-256 of the file's `size` bytes, read in pieces.
fn digest_file(file: &File, size: u64) -> Option<String> {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut at = 0;
    while at < size {
        let n = read_at(file, &mut buf, at).ok()?;
        if n == 0 {
            return None;
        }
        hasher.update(&buf[..n]);
        at += n as u64;
    }
    Some(crate::digest::hex(&hasher.finalize()))
}

/// Reads at `offset` without moving a shared cursor, so that threads can read one file.
#[cfg(unix)]
pub(super) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
pub(super) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

#[cfg(not(any(unix, windows)))]
pub(super) fn read_at(_: &File, _: &mut [u8], _: u64) -> std::io::Result<usize> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Parses the file `name` from its `bytes`, and runs `digest` over those bytes in parallel.
pub fn parse_and_digest<R: Send>(
    name: &str,
    bytes: Vec<u8>,
    forced: Option<Format>,
    digest: impl FnOnce(&[u8]) -> R + Send,
) -> (R, Result<Parsed, Diagnostics>) {
    let binary = super::rvtools::is_zip(&bytes) || super::rvtools::is_ole(&bytes);
    let plain = if encoding_rs::Encoding::for_bom(&bytes).is_none() && !binary {
        String::from_utf8(bytes).map_err(|e| e.into_bytes())
    } else {
        Err(bytes)
    };
    match plain {
        Ok(text) => {
            // The text is the file's bytes unchanged, so digesting it digests the file.
            let file = SourceFile::new(name, text);
            let bytes = file.text.as_bytes();
            both(|| digest(bytes), || parse_file(&file, forced))
        }
        // A byte-order mark or invalid UTF-8: decode (and report) as `parse` does.
        Err(bytes) => both(|| digest(&bytes), || parse(name, &bytes, forced)),
    }
}

/// Runs `side` on a scoped thread and `main` on this one; a panic in either is re-raised.
fn both<A: Send, B>(side: impl FnOnce() -> A + Send, main: impl FnOnce() -> B) -> (A, B) {
    std::thread::scope(|s| {
        let side = s.spawn(side);
        let main = main();
        let side = side.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        (side, main)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NATIVE: &str = r#"{"vms":[{"name":"A","host":"H","state":"off"}]}"#;

    #[test]
    fn digests_the_raw_bytes_and_parses_like_parse() {
        let len = |b: &[u8]| b.len();
        let (n, parsed) = parse_and_digest("x", NATIVE.as_bytes().to_vec(), None, len);
        assert_eq!(n, NATIVE.len());
        let expected = parse("x", NATIVE.as_bytes(), None).unwrap().inventory;
        assert_eq!(parsed.unwrap().inventory, expected);

        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(NATIVE.as_bytes());
        let (n, parsed) = parse_and_digest("x", bom, None, len);
        assert_eq!(n, NATIVE.len() + 3, "the mark is part of the file digested");
        assert_eq!(parsed.unwrap().inventory, expected);
    }

    #[test]
    fn a_large_native_file_is_read_in_pieces_with_the_same_result() {
        let vms: Vec<String> = (0..9000)
            .map(|i| format!(r#"{{"name":"vm{i:05}","id":"{i:032x}","host":"h{}","state":"running","memory_mb":1024,"tags":["a","b"]}}"#, i % 9))
            .collect();
        let text = format!(
            r#"{{"hosts":[{{"name":"h0","memory_mb":4096}}],"vms":[{}]}}"#,
            vms.join(",\n")
        );
        assert!(text.len() as u64 >= STREAM_FROM);
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, text.as_bytes()).unwrap();
        let path = file.path().to_str().unwrap();
        let size = text.len() as u64;
        let (digest, parsed) = streamed(path, file.as_file(), size, None).expect("read in pieces");
        assert_eq!(digest, crate::digest::sha256_hex(text.as_bytes()));
        let expected = parse("x", text.as_bytes(), None).unwrap().inventory;
        assert_eq!(parsed.unwrap().inventory, expected);
        // What is not a native JSON file is read whole.
        let mut bom = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut bom, format!("\u{feff}{text}").as_bytes()).unwrap();
        assert!(streamed(path, bom.as_file(), size + 3, None).is_none());
        assert!(streamed(path, file.as_file(), size, Some(Format::Scvmm)).is_none());
        let (_, whole) = read_and_parse(path, None).unwrap();
        assert_eq!(whole.unwrap().inventory, expected);
    }

    #[test]
    fn bad_text_is_reported_as_by_parse() {
        let bad = b"{\"a\": \xFF}".to_vec();
        let (_, parsed) = parse_and_digest("x", bad, None, |_| ());
        let err = parsed.unwrap_err();
        assert!(
            err.0[0].message.contains("offset 6"),
            "{}",
            err.0[0].message
        );
    }
}
