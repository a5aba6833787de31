//! Reading a file's bytes into an inventory without copying them, digesting them meanwhile.
//!
//! A UTF-8 file without a byte-order mark (the native format, most exports) becomes the
//! parser's text as it is: the buffer is validated and taken over, not copied. The digest the
//! decision record needs runs on a second thread while the first parses, over the same bytes.

use super::{Format, Parsed, parse, parse_file};
use crate::diag::{Diagnostics, SourceFile};

/// Parses the file `name` from its `bytes`, and runs `digest` over those bytes in parallel.
pub fn parse_and_digest<R: Send>(
    name: &str,
    bytes: Vec<u8>,
    forced: Option<Format>,
    digest: impl FnOnce(&[u8]) -> R + Send,
) -> (R, Result<Parsed, Diagnostics>) {
    let plain = if encoding_rs::Encoding::for_bom(&bytes).is_none() {
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
