//! Fuzzes the whole read path: the bytes go to a file, which is read as `preflight` reads an
//! inventory (detection, decoding, every reader), and read again by the native piece reader
//! with small pieces, so that small inputs take the path large ones take. Where the piece
//! reader accepts a file, it must agree with the whole-file read: the same inventory, and the
//! digest of exactly these bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use preflight::inventory::{Format, parse, read_and_parse, read_native_in_pieces};
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    let Some((&piece, bytes)) = data.split_first() else {
        return;
    };
    let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
    file.write_all(bytes).expect("writing the input");
    file.flush().expect("flushing the input");
    let path = file
        .path()
        .to_str()
        .expect("a UTF-8 temporary path")
        .to_string();

    let (digest, parsed) = read_and_parse(&path, None).expect("the file reads");
    assert_eq!(digest, preflight::digest::sha256_hex(bytes));
    if let Err(diags) = &parsed {
        preflight_fuzz::render(diags);
    }

    let handle = std::fs::File::open(&path).expect("the file opens");
    let piece = 1 + usize::from(piece) * 16;
    if let Some((streamed, digest)) = read_native_in_pieces(&handle, bytes.len() as u64, piece) {
        assert_eq!(
            preflight::digest::hex(&digest),
            preflight::digest::sha256_hex(bytes)
        );
        let whole = parse("whole", bytes, Some(Format::Native))
            .expect("what the piece reader accepts, the whole-file read accepts");
        assert_eq!(streamed.inventory, whole.inventory);
    }
});
