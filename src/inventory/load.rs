//! Reading an inventory file into an inventory, and the digest of the bytes judged.
//!
//! A large native JSON file is read straight from disk a piece at a time and never held
//! whole (see `native::stream`); its digest is taken of the pieces as they are parsed. Any
//! other file is read whole, sequentially, as any Unix tool reads it: so is anything that is
//! not a regular file (a pipe, `/dev/stdin`, `<(...)`, a FIFO), which cannot be read at
//! positions. A UTF-8 file without a byte-order mark (the native format, most exports)
//! becomes the parser's text as it is, validated and taken over, not copied, and the digest
//! runs on a second thread over those same bytes.
//!
//! What is read whole is bounded ([`WHOLE_MAX`], [`UNSIZED_MAX`]), and the buffer is reserved
//! with `try_reserve`, so that `/dev/zero` or a file larger than memory is an error naming
//! the file rather than a process killed for want of memory.

use super::{Format, Parsed, detect, native, parse, parse_file};
use crate::diag::{Diagnostics, SourceFile};
use std::fs::File;
use std::io::{Read, Seek};

/// Native files from this size on are read a piece at a time.
const STREAM_FROM: u64 = 1 << 20;

/// The most read whole from one regular file: 4 GiB, some 25 million VMs in the native
/// format, more than any export the other readers could hold in memory. A larger file is
/// refused from its size, before anything is read.
const WHOLE_MAX: u64 = 4 << 30;

/// The most read from what has no size (a pipe, a device): 1 GiB, some 6 million VMs in the
/// native format. Each byte is held until the end, so `/dev/zero` costs this much memory
/// before it is refused.
const UNSIZED_MAX: u64 = 1 << 30;

/// Reads, parses and digests the inventory file at `path`: the SHA-256 (lowercase hex) of
/// the bytes parsed, and what parsing found. An error only when the file cannot be read.
pub fn read_and_parse(
    path: &str,
    forced: Option<Format>,
) -> std::io::Result<(String, Result<Parsed, Diagnostics>)> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    let bytes = if meta.is_file() {
        let size = meta.len();
        if size >= STREAM_FROM
            && let Some(read) = streamed(path, &file, size, forced)
        {
            return Ok(read);
        }
        // On Windows a positional read moves the file's cursor: start from the top again.
        file.seek(std::io::SeekFrom::Start(0))?;
        read_whole(&mut file, size, WHOLE_MAX)?
    } else {
        read_whole(&mut file, 0, UNSIZED_MAX)?
    };
    Ok(parse_and_digest(
        path,
        bytes,
        forced,
        crate::digest::sha256_hex,
    ))
}

/// Reads the file at `path` whole, within the bounds [`read_and_parse`] keeps: for the
/// readers that take several files together (RVTools' tabs, PowerCLI's cmdlets).
pub(super) fn read_bounded(path: &str) -> std::io::Result<Vec<u8>> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_file() {
        read_whole(&mut file, meta.len(), WHOLE_MAX)
    } else {
        read_whole(&mut file, 0, UNSIZED_MAX)
    }
}

/// Reads `source` to its end: at most `max` bytes, into a buffer reserved for `expected`
/// (the file's size, when it has one) without aborting when there is no memory for it.
fn read_whole(source: &mut impl Read, expected: u64, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind};
    let too_large = || {
        Error::new(
            ErrorKind::FileTooLarge,
            format!(
                "it holds more than {}, the most preflight reads from one inventory; split the export",
                size_text(max)
            ),
        )
    };
    let no_memory = |size: u64| {
        Error::new(
            ErrorKind::OutOfMemory,
            format!(
                "there is not enough memory to read {} whole",
                size_text(size)
            ),
        )
    };
    if expected > max {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    let want = usize::try_from(expected).map_err(|_| no_memory(expected))?;
    bytes
        .try_reserve_exact(want)
        .map_err(|_| no_memory(expected))?;
    // `read_to_end` grows the buffer with `try_reserve` too, and says so when it cannot.
    let limit = max.saturating_add(1);
    match source.take(limit).read_to_end(&mut bytes) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::OutOfMemory => {
            return Err(no_memory(bytes.len() as u64));
        }
        Err(e) => return Err(e),
    }
    if bytes.len() as u64 > max {
        return Err(too_large());
    }
    Ok(bytes)
}

/// A size in bytes as people say it: `4 GiB`, `512 MiB`, `300 bytes`.
fn size_text(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / f64::from(1u32 << 30)),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1u32 << 20)),
        b => format!("{b} bytes"),
    }
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
    // The bytes the format is recognised from when the file is read whole.
    let mut head = vec![0u8; detect::WINDOW];
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
    if forced.is_none()
        && !matches!(
            detect::detect(&SourceFile::new(path, valid)),
            Ok(Format::Native)
        )
    {
        return None;
    }
    let (parsed, digest) = native::parse_streamed(file, size)?;
    Some((crate::digest::hex(&digest), Ok(parsed)))
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
            let (parsed, digest) = crate::par::join(|| parse_file(&file, forced), || digest(bytes));
            (digest, parsed)
        }
        // A byte-order mark or invalid UTF-8: decode (and report) as `parse` does.
        Err(bytes) => {
            let (parsed, digest) =
                crate::par::join(|| parse(name, &bytes, forced), || digest(&bytes));
            (digest, parsed)
        }
    }
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
    fn both_ways_of_reading_recognise_a_file_alike() {
        // A key past the first 8 KiB but within the first 8,192 characters: whether the file
        // is read in pieces (a large one) or whole (a small one, or one with a byte-order
        // mark), it is recognised from the same bytes.
        let long = "é".repeat(4500);
        let vms: Vec<String> = (0..150)
            .map(|i| format!(r#"{{"name":"vm{i}{long}","host":"H","state":"off","HostName":"H"}}"#))
            .collect();
        let text = format!(r#"{{"vms":[{}]}}"#, vms.join(","));
        assert!(text.len() as u64 >= STREAM_FROM);
        assert!(text.find("HostName").unwrap() > detect::WINDOW);
        assert!(text.chars().position(|c| c == 'H').unwrap() < 8192);
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, text.as_bytes()).unwrap();
        let (_, read) = read_and_parse(file.path().to_str().unwrap(), None).unwrap();
        assert_eq!(read.unwrap().format, Format::Native);
        let whole = parse("x", text.as_bytes(), None).unwrap();
        assert_eq!(whole.format, Format::Native);
    }

    #[test]
    #[cfg(unix)]
    fn an_endless_source_is_read_to_a_bound() {
        let mut zero = File::open("/dev/zero").unwrap();
        let err = read_whole(&mut zero, 0, 1 << 20).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::FileTooLarge);
        assert!(err.to_string().contains("more than 1.0 MiB"), "{err}");
        // Up to the bound is fine, and a stated size over it is refused before reading.
        let mut short = std::io::Read::take(File::open("/dev/zero").unwrap(), 1 << 20);
        assert_eq!(read_whole(&mut short, 0, 1 << 20).unwrap().len(), 1 << 20);
        let err = read_whole(&mut std::io::empty(), 1 << 21, 1 << 20).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::FileTooLarge);
    }

    #[test]
    fn a_size_beyond_memory_is_an_error_not_an_abort() {
        let err = read_whole(&mut std::io::empty(), 1 << 60, u64::MAX).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::OutOfMemory);
        assert!(err.to_string().contains("not enough memory"), "{err}");
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
