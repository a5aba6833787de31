//! Bytes to text: UTF-8 (with or without BOM) and UTF-16 LE/BE with BOM, as Windows
//! PowerShell 5.1's `>` and `Out-File` write them. CRLF is left to the parsers (JSON, TOML
//! and CSV all accept it).

use crate::diag::{Code, Diagnostics, SourceDiag};

/// Decodes an inventory file's bytes; invalid text is an error naming the byte offset.
pub fn decode(name: &str, bytes: &[u8]) -> Result<String, Diagnostics> {
    let (encoding, bom_len) = match encoding_rs::Encoding::for_bom(bytes) {
        Some((enc, len)) => (enc, len),
        None => (encoding_rs::UTF_8, 0),
    };
    let body = &bytes[bom_len..];
    if encoding == encoding_rs::UTF_8 {
        return match std::str::from_utf8(body) {
            Ok(s) => Ok(s.to_string()),
            Err(e) => Err(SourceDiag::plain(
                Code::InventoryEncoding,
                format!(
                    "{name}: not valid UTF-8 at byte offset {} (and no UTF-16 byte-order mark)",
                    bom_len + e.valid_up_to()
                ),
            )
            .with_help("save the export as UTF-8, or as UTF-16 with a byte-order mark (PowerShell's Out-File and > do)")
            .into()),
        };
    }
    match encoding.decode_without_bom_handling_and_without_replacement(body) {
        Some(text) => Ok(text.into_owned()),
        None => {
            let offset = first_bad_utf16(body, encoding == encoding_rs::UTF_16BE);
            Err(SourceDiag::plain(
                Code::InventoryEncoding,
                format!(
                    "{name}: not valid {} at byte offset {}",
                    encoding.name(),
                    bom_len + offset
                ),
            )
            .into())
        }
    }
}

/// The offset of the first unpaired surrogate or odd trailing byte in UTF-16 data.
fn first_bad_utf16(body: &[u8], big_endian: bool) -> usize {
    let units = body.chunks(2).map(|c| match c {
        [a, b] if big_endian => Some(u16::from_be_bytes([*a, *b])),
        [a, b] => Some(u16::from_le_bytes([*a, *b])),
        _ => None,
    });
    let mut pending_high: Option<usize> = None;
    for (i, unit) in units.enumerate() {
        let Some(u) = unit else { return i * 2 };
        match u {
            0xD800..=0xDBFF => {
                if let Some(at) = pending_high {
                    return at;
                }
                pending_high = Some(i * 2);
            }
            0xDC00..=0xDFFF => {
                if pending_high.take().is_none() {
                    return i * 2;
                }
            }
            _ => {
                if let Some(at) = pending_high {
                    return at;
                }
            }
        }
    }
    pending_high.unwrap_or(body.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bom_variants() {
        assert_eq!(decode("x", b"\xEF\xBB\xBF{}").unwrap(), "{}");
        assert_eq!(decode("x", b"\xFF\xFE{\0}\0").unwrap(), "{}");
        assert_eq!(decode("x", b"\xFE\xFF\0{\0}").unwrap(), "{}");
        assert_eq!(decode("x", b"{}").unwrap(), "{}");
    }

    #[test]
    fn names_the_offset_of_bad_bytes() {
        let err = decode("x", b"{\"a\": \xFF}").unwrap_err();
        assert!(
            err.0[0].message.contains("offset 6"),
            "{}",
            err.0[0].message
        );
        let err = decode("x", b"\xFF\xFE{\0\x00\xD8").unwrap_err();
        assert!(
            err.0[0].message.contains("offset 4"),
            "{}",
            err.0[0].message
        );
    }
}
